"""The risk model's model card (Mitchell et al., 2019), built from the stored assessment run.

Sections: model details, intended use, out-of-scope uses, the data the model was fitted on
(sources with their data statements, windows, counts per target and domain, read from the
store), features with the sign of each coefficient in plain words, backtest metrics per outcome
(Brier score, skill with its interval, reliability by bin), known failure modes and the date of
the last evaluation. Every number comes from the stored assessment (the backtest the briefing
quotes) or from the store's events up to its ``as_of``; nothing is refitted here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hybridwatch import __version__
from hybridwatch.analyses.forecast_scores import MIN_USEFUL_SKILL
from hybridwatch.analyses.risk_features import FEATURE_MEANINGS
from hybridwatch.errors import SelectorError
from hybridwatch.model.countries import country_name
from hybridwatch.model.data_statements import load_data_statements, statement_for
from hybridwatch.model.domains import DOMAINS
from hybridwatch.model.hostility import HOSTILE_SQL
from hybridwatch.model.hostility import describe as describe_counted
from hybridwatch.store import EventStore
from hybridwatch.store.event_queries import training_counts
from hybridwatch.store.findings_store import FindingRun, latest_run

#: |coefficient| below this (logit per standard deviation) is called "almost no effect".
NEGLIGIBLE_COEFFICIENT = 0.05

INTENDED_USE = (
    "Give analysts a calibrated base line for how likely hostile multi-domain activity against "
    "a country is in the next weeks, as open sources record it, with the evidence behind it.",
    "Rank targets and domains for analyst attention and say plainly when the data show no "
    "more than the base rate.",
    "Support, not replace, an analyst's judgement: every number is shown with its confidence, "
    "its drivers, its evidence and the backtest beside it.",
)
OUT_OF_SCOPE = (
    "Targeting, profiling or monitoring individuals: the model works on countries, domains and "
    "sectors; person names in evidence titles are never turned into entities or actors.",
    "Automated action of any kind (blocking, sanctions, alerts that trigger responses) without "
    "an analyst's review.",
    "Attribution: a probability of hostile activity against a target says nothing about who "
    "is responsible; coincidences beyond chance are not proof of a common command.",
    "Forecasts for targets, domains or periods outside the data it was fitted on, or horizons "
    "other than the one backtested.",
    "Reading probabilities as warnings where the backtest shows no skill: they are then the "
    "base rate.",
)
OUTCOME_WORDS = {
    "episode": "at least one significant hostile multi-domain episode starts against the "
               "target",
    "elevated": "more hostile events against the target in a domain than in 90% of the "
                "past year's windows of the same length",
    "elevated_sector": "more hostile events against one of the target's sectors than in 90% "
                       "of the past year's windows",
    "pooled": "both outcomes together",
}
_FEATURE_OUTCOMES = {"episode": "an episode", "elevated": "elevated activity in a domain"}


def model_card(store: EventStore, *, run: FindingRun | None = None,
               data_statements: str | None = None, from_store: bool = True) -> dict[str, Any]:
    """The model card of the stored assessment (``run``, default the latest one).

    The data the model read are recorded with the run; for a run stored before they were, they
    are read from the store's events up to its ``as_of`` — unless ``from_store`` is False (a
    STIX export: its note must depend on the run alone), when the card says they were not
    recorded."""
    run = run or latest_run(store, "assessment")
    if run is None:
        raise SelectorError("no stored assessment: run `hybridwatch assess` (or `hybridwatch "
                            "demo`) first; the model card describes its backtest")
    summary = run.summary
    as_of = date.fromisoformat(summary["as_of"])
    params = summary.get("parameters", {})
    include_cooperative = summary.get("counted", "hostile events") != "hostile events"
    modelled = list(summary.get("modelled_targets") or [])
    statements = load_data_statements(data_statements)
    # the run records the data it read; runs stored before it did are described from the store
    data = summary.get("training_data")
    withheld = "summary_withheld" in summary    # read below the clearance of what it counts
    if data is None:
        data = training_data(store, modelled, as_of, include_cooperative) \
            if from_store and not withheld else _unrecorded(modelled, as_of)
        if withheld:  # never recounted from the store: it would count what the reader may not see
            data["withheld"] = True
    data = {**data, "sources": [{**s, "statement": _statement(statements, s["source"])}
                                for s in data["sources"]]}
    metrics = {name: _metrics(scores) for name, scores in
               (summary.get("backtest", {}).get("by_outcome") or {}).items()}
    features = _features(summary.get("models") or {})
    episode = metrics.get("episode")
    card = {
        "model": {
            "name": "hybridwatch risk model",
            "version": __version__,
            "type": "pooled L2-regularised logistic regressions on lagged features, isotonic "
                    "recalibration once enough out-of-sample forecasts exist "
                    "(analyses/risk.py, docs/assessment.md)",
            "outcomes": {k: OUTCOME_WORDS[k] for k in ("episode", "elevated")},
            "horizon_days": summary.get("horizon_days", params.get("horizon_days")),
            "counted": describe_counted(include_cooperative),
            "parameters": params,
        },
        "intended_use": list(INTENDED_USE),
        "out_of_scope": list(OUT_OF_SCOPE),
        "training_data": {**data, "fits": {k: {"n_train": m.get("n_train"),
                                               "n_positive": m.get("n_positive"),
                                               "fitted": "coefficients" in m}
                                           for k, m in (summary.get("models") or {}).items()}},
        "features": features,
        "metrics": metrics,
        "skill_shown": bool(episode and episode["demonstrated"]),
        "evaluation": {"run_id": run.run_id, "evaluated_at": run.created_at.isoformat() + "Z",
                       "as_of": summary["as_of"],
                       "as_of_method": (summary.get("as_of_choice") or {}).get("method")},
    }
    card["failure_modes"] = _failure_modes(card)
    return card


def _statement(statements, source: str) -> dict[str, Any] | None:
    statement = statement_for(statements, source)
    return statement.to_dict() if statement else None


def training_data(store: EventStore, modelled: list[str], as_of: date,
                  include_cooperative: bool) -> dict[str, Any]:
    """Sources, window and counts per target × domain of the events the model read (recorded
    with the assessment run, so its model card survives a STIX round trip)."""
    counted = "TRUE" if include_cooperative else HOSTILE_SQL
    rows, first = training_counts(store, counted_sql=counted, before=as_of + timedelta(days=1),
                                  targets=modelled)
    by_target: dict[str, dict[str, int]] = {t: {} for t in modelled}
    sources: dict[str, dict[str, Any]] = {}
    for target, domain, source, n, lo, hi in rows:
        by_target[target][domain] = by_target[target].get(domain, 0) + n
        entry = sources.setdefault(source, {"source": source, "events": 0, "first": lo,
                                            "last": hi, "targets": set()})
        entry["events"] += n
        entry["first"], entry["last"] = min(entry["first"], lo), max(entry["last"], hi)
        entry["targets"].add(target)
    domains = [d for d in DOMAINS if any(d in counts for counts in by_target.values())]
    out_sources = [{**entry, "first": str(entry["first"]), "last": str(entry["last"]),
                    "targets": sorted(entry["targets"])}
                   for entry in sorted(sources.values(), key=lambda e: (-e["events"],
                                                                         e["source"]))]
    return {
        "as_of": as_of.isoformat(),
        "window": {"first": str(first) if first else None, "last": as_of.isoformat()},
        "modelled_targets": modelled,
        "sources": out_sources,
        "domains": domains,
        "by_target": [{"target": t, "name": country_name(t),
                       "events": sum(by_target[t].values()),
                       "by_domain": {d: by_target[t].get(d, 0) for d in domains}}
                      for t in modelled],
        "events": sum(e["events"] for e in out_sources),
    }


def _unrecorded(modelled: list[str], as_of: date) -> dict[str, Any]:
    return {"as_of": as_of.isoformat(), "window": {"first": None, "last": as_of.isoformat()},
            "modelled_targets": modelled, "sources": [], "domains": [],
            "by_target": [{"target": t, "name": country_name(t), "events": 0, "by_domain": {}}
                          for t in modelled],
            "events": 0, "recorded": False}


def _metrics(scores: dict[str, Any]) -> dict[str, Any]:
    keep = ("n_forecasts", "n_origins", "n_positive", "base_rate", "base_rate_words", "brier",
            "brier_climatology", "brier_persistence", "skill", "skill_low", "skill_high",
            "skill_persistence", "log_loss", "log_loss_climatology", "verdict", "origins")
    out = {k: scores.get(k) for k in keep}
    low, skill = scores.get("skill_low"), scores.get("skill")
    out["demonstrated"] = bool(scores.get("demonstrated", low is not None and skill is not None
                                          and low > 0 and skill >= MIN_USEFUL_SKILL))
    out["reliability"] = [row for row in scores.get("reliability") or () if row["n"]]
    return out


def sign_words(feature: str, outcome: str, coefficient: float,
               interval: list[float] | None = None) -> str:
    """The sign of one coefficient in plain words (with its 90% interval when known)."""
    what = _FEATURE_OUTCOMES.get(outcome, outcome)
    band = (f", 90% interval {interval[0]:+.2f} to {interval[1]:+.2f}" if interval else "")
    if abs(coefficient) < NEGLIGIBLE_COEFFICIENT:
        return f"makes almost no difference to the chance of {what} ({coefficient:+.2f}{band})"
    way = "raises" if coefficient > 0 else "lowers"
    words = (f"more of it {way} the chance of {what} ({coefficient:+.2f} on the log-odds scale "
             f"per standard deviation, the other features held fixed{band})")
    if interval and interval[0] <= 0 <= interval[1]:
        words += "; the data cannot tell this sign from zero"
    return words


def _settled_against(coefficient: float, interval: list[float] | None) -> bool:
    """A sign against the domain's expectation that the data can tell from zero."""
    if coefficient > -NEGLIGIBLE_COEFFICIENT:
        return False
    return interval is None or interval[1] < 0


def _features(models: dict[str, Any]) -> list[dict[str, Any]]:
    """Each feature: what it measures, the sign the domain expects (more activity, breadth,
    episodes or convergence: more risk) and, per fitted outcome, its coefficient in words."""
    names = [n for n in FEATURE_MEANINGS if any(n in (m.get("coefficients") or {})
                                                for m in models.values())]
    out = []
    for name in names:
        per_outcome = {}
        for outcome, model in models.items():
            coefficient = (model.get("coefficients") or {}).get(name)
            if coefficient is None:
                continue
            univariate = (model.get("univariate") or {}).get(name)
            interval = (model.get("coefficient_intervals") or {}).get(name)
            per_outcome[outcome] = {
                "coefficient": coefficient, "interval": interval,
                "words": sign_words(name, outcome, coefficient, interval),
                "agrees_with_domain": coefficient > -NEGLIGIBLE_COEFFICIENT,
                "against_domain_settled": _settled_against(coefficient, interval),
                "univariate_correlation": univariate,
                "collinear": (model.get("collinear") or {}).get(name)}
        out.append({"name": name, "meaning": FEATURE_MEANINGS[name], "expected_sign": "+",
                    "outcomes": per_outcome})
    return out


def _failure_modes(card: dict[str, Any]) -> list[dict[str, str]]:
    """The known failure modes, general and as these data show them."""
    data = card["training_data"]
    modes = [
        {"mode": "coverage bias",
         "detail": "The model sees what sources record, not what happens: media attention, "
                   "collection priorities and reporting delays change the counts. "
                   + " ".join(f"{s['source']}: {s['statement']['biases'][0]}"
                              for s in data["sources"] if s["statement"])},
        {"mode": "attribution uncertainty",
         "detail": "Actors and targets are as the sources code or attribute them; attribution "
                   "of cyber and information operations is often delayed, disputed or absent, "
                   "and machine-coded actors (GDELT) are often wrong."},
    ]
    thin = [t["target"] for t in data["by_target"] if data.get("recorded", True)
            and sum(1 for n in t["by_domain"].values() if n >= 10) < 2]
    modes.append({"mode": "thin evidence",
                  "detail": "Targets with few events, or events in fewer than two domains, get "
                            "wide intervals and lower confidence; a judgement without cited "
                            "evidence is not made."
                            + (f" Here: {', '.join(thin)} have fewer than two domains with 10 "
                               "or more events." if thin else "")})
    if data.get("recorded") is False:
        modes.append({"mode": "training data not recorded",
                      "detail": "The assessment run does not record the data it read (it "
                                "predates that, or came from a partner's export): sources, "
                                "window and counts cannot be described here."})
    undocumented = [s["source"] for s in data["sources"] if not s["statement"]]
    if undocumented:
        modes.append({"mode": "undocumented sources",
                      "detail": f"No data statement for {', '.join(undocumented)}: add one "
                                "(--data-statements FILE) before relying on their counts."})
    for name, metrics in card["metrics"].items():
        if name == "pooled":
            continue
        if not metrics["n_forecasts"]:
            modes.append({"mode": f"no backtest ({name})",
                          "detail": "No forecast could be checked; numbers are base rates."})
        elif not metrics["demonstrated"]:
            modes.append({"mode": f"no demonstrated skill ({name})",
                          "detail": f"{metrics['verdict']} Judgements use base-rate wording."})
        if metrics["n_forecasts"] and (metrics["n_positive"] or 0) < 30:
            modes.append({"mode": f"few positive outcomes ({name})",
                          "detail": f"The backtest holds {metrics['base_rate_words']}: fewer "
                                    "than 30 positives cannot show calibration or skill "
                                    "reliably."})
    for feature in card["features"]:
        for outcome, f in feature["outcomes"].items():
            if not f["agrees_with_domain"]:
                partner = f["collinear"] or {}
                settled = ("" if f.get("against_domain_settled", True) else
                           " The interval includes zero: read it as no effect, not as a "
                           "reversed one.")
                modes.append({"mode": f"counter-intuitive driver ({feature['name']}, {outcome})",
                              "detail": f"On these data, {f['words']}, against what the domain "
                                        f"expects.{settled} Alone it correlates "
                                        f"{_signed(f['univariate_correlation'])} with the "
                                        "outcome; its closest partner is "
                                        f"{partner.get('feature', 'none')} (r = "
                                        f"{_signed(partner.get('correlation'))}). See "
                                        "docs/assessment.md, 'Signs of the drivers'."})
    return modes


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"
