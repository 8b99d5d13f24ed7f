"""The quantified assessment on a store: risk per target in PHIA words, with confidence from the
backtest and the data, drivers, and links to the stored evidence.

Inputs are the store's hostile events (counts per day × target × domain) and the stored results
of earlier analyses — episodes (the outcome and a feature), coincidences (evidence), the
convergence index (a feature) — which this module reads and never recomputes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import numpy as np

from hybridwatch.analyses.forecast_scores import ForecastScores
from hybridwatch.analyses.risk_features import FEATURE_MEANINGS, DailyCells
from hybridwatch.analyses.risk import Forecast, RiskParameters, RiskResult, TargetRisk, assess_risk
from hybridwatch.analyses.tasks import TaskMap
from hybridwatch.errors import SelectorError
from hybridwatch.model.countries import country_name
from hybridwatch.model.domains import DOMAINS
from hybridwatch.model.hostility import HOSTILE_SQL
from hybridwatch.model.hostility import describe as describe_counted
from hybridwatch.model.phia import phia_term
from hybridwatch.model.phrasing import count, country_phrase
from hybridwatch.model.tlp import levels_readable_at, most_restricted
from hybridwatch.store import EventStore
from hybridwatch.store.event_queries import daily_target_counts, latest_hostile_events_against
from hybridwatch.store.findings_store import latest_run
from hybridwatch.workflows.as_of import default_as_of, explicit_as_of, parse_as_of
from hybridwatch.workflows.recording import record as record_run, report_of
from hybridwatch.workflows import guardrails
from hybridwatch.workflows.model_card import training_data

MAX_MODEL_TARGETS = 30   # the model is pooled over the busiest targets (and the requested ones)
CAUTION = (
    "These probabilities describe hostile activity as open sources record it, not intent. "
    "Coverage follows media attention, attribution in the sources is often uncertain, and a "
    "coincidence beyond chance is not proof of a common command. Read each judgement with its "
    "confidence and the backtest beside it; where the backtest shows no skill, the number is the "
    "base rate and is no reason to act. Over-reaction to a single indicator is itself a risk."
)


def _hostile_counts(store: EventStore, targets: list[str] | None, *, as_of: date,
                    by: str = "domain", modelled: list[str] | None = None,
                    dates: np.ndarray | None = None, include_cooperative: bool = False
                    ) -> tuple[DailyCells, np.ndarray, list[str], list[str]]:
    """Hostile events (all events with ``include_cooperative``) per day × target × ``by``
    (domain or target_sector) up to ``as_of``, as columns of non-empty cells (memory follows
    the events, not the date span). The modelled targets are the busiest ``MAX_MODEL_TARGETS``
    plus the requested ones, unless given."""
    import pyarrow.compute as pc

    counted = "TRUE" if include_cooperative else HOSTILE_SQL
    what = "events" if include_cooperative else "hostile events"
    table = daily_target_counts(store, by=by, counted_sql=counted,
                                before=as_of + timedelta(days=1))
    if table.num_rows == 0:
        if by != "domain":
            return (DailyCells.from_columns(np.zeros(0), (np.zeros(0), np.zeros(0)), np.zeros(0),
                                            (0, 0, 0)), np.zeros(0, "datetime64[D]"), [], [])
        raise SelectorError(f"no {what} with a target on or before {as_of}: "
                            "nothing to assess")
    day = table["day"].to_numpy().astype("datetime64[D]")
    n = table["n"].to_numpy()
    target = pc.dictionary_encode(table["target"]).combine_chunks()
    kind = pc.dictionary_encode(table["kind"]).combine_chunks()
    target_names = target.dictionary.to_pylist()
    totals = np.bincount(target.indices.to_numpy(), weights=n, minlength=len(target_names))
    if modelled is None:
        # busiest first, ties by name: the same store always models the same targets
        modelled = sorted(target_names, key=lambda t: (-totals[target_names.index(t)], t)
                          )[:MAX_MODEL_TARGETS]
        for t in targets or ():
            if t not in target_names:
                raise SelectorError(f"--targets: no {what} against {t} in the store "
                                    f"on or before {as_of}")
            if t not in modelled:
                modelled.append(t)
    kind_names = kind.dictionary.to_pylist()
    kinds = ([d for d in DOMAINS if d in set(kind_names)] if by == "domain"
             else sorted(kind_names))
    if dates is None:
        dates = np.arange(day.min(), np.datetime64(as_of, "D") + 1)
    t_lookup = np.array([modelled.index(t) if t in modelled else -1 for t in target_names])
    k_lookup = np.array([kinds.index(k) for k in kind_names])
    t_index, k_index = t_lookup[target.indices.to_numpy()], k_lookup[kind.indices.to_numpy()]
    keep = (t_index >= 0) & (day >= dates[0]) & (day <= dates[-1])
    cells = DailyCells.from_columns((day[keep] - dates[0]).astype(np.int64),
                                    (t_index[keep], k_index[keep]), n[keep],
                                    (dates.size, len(modelled), len(kinds)))
    return cells, dates, modelled, kinds


def _episode_starts(episodes, dates: np.ndarray, targets: list[str]) -> DailyCells:
    """Days on which a stored episode against each target started (once per day and target)."""
    starts = set()
    for episode in episodes.items if episodes else ():
        day = int((np.datetime64(episode["start"], "D") - dates[0]).astype(int))
        for target in episode["targets"]:
            if target in targets and 0 <= day < dates.size:
                starts.add((day, targets.index(target)))
    day, target = (np.array(v, np.int64) for v in zip(*sorted(starts))) if starts else \
        (np.zeros(0, np.int64), np.zeros(0, np.int64))
    return DailyCells.from_columns(day, (target,), np.ones(day.size),
                                   (dates.size, len(targets)))


def _daily_convergence(convergence, dates: np.ndarray) -> np.ndarray | None:
    """A month's index is known once the month is over: each day gets the last complete month's."""
    if convergence is None:
        return None
    by_month = {np.datetime64(p["period"], "M"): p["index"] for p in convergence.items
                if p.get("index") is not None}
    previous = dates.astype("datetime64[M]") - 1
    return np.array([by_month.get(m, np.nan) for m in previous], float)


def driver_words(drivers, coefficients: dict[str, float]) -> list[dict[str, Any]]:
    """Each driver with what it measures and the direction of its push in plain words."""
    out = []
    for d in drivers:
        coefficient = coefficients.get(d["name"], 0.0)
        # contribution = coefficient × standardised value: its sign over the coefficient's is
        # whether the feature is above or below its mean over the training forecasts
        above = d["contribution"] * coefficient > 0 if coefficient else None
        level = {True: "above", False: "below", None: "at"}[above]
        push = ("raises" if d["contribution"] > 0.005 else
                "lowers" if d["contribution"] < -0.005 else "hardly changes")
        out.append({**d, "meaning": FEATURE_MEANINGS.get(d["name"], d["name"]),
                    "words": f"{FEATURE_MEANINGS.get(d['name'], d['name'])}: {level} its usual "
                             f"level across the modelled targets, which {push} the probability "
                             f"({d['contribution']:+.2f} on the log-odds scale)"})
    return out


def judgement_confidence(scores: ForecastScores, risk: TargetRisk, params: RiskParameters,
                         forecast: Forecast) -> tuple[str, list[str]]:
    """Confidence from the backtest skill and the target's data coverage, with the reasons."""
    reasons = []
    if not forecast.fitted:
        return "low", ["too few past outcomes to fit the model: the number is the base rate"]
    if not scores.demonstrated:
        level = "low"
        reasons.append("the backtest shows no demonstrable skill over the base rate")
    elif scores.skill_low >= 0.05 and scores.skill >= 0.1:
        level = "high"
    else:
        level = "moderate"
        reasons.append(f"modest backtest skill ({scores.skill:+.2f})")
    if risk.history_days < params.baseline_days + params.horizon_days or risk.active_domains < 2:
        reasons.append(f"thin data on this target ({risk.history_days} days of history, "
                       f"{count(risk.active_domains, 'domain')} with enough events)")
        level = {"high": "moderate", "moderate": "low"}.get(level, level)
    return level, reasons


def _evidence(store: EventStore, target: str, episodes, coincidences, ceiling: str,
              as_of: date, limit: int = 5) -> tuple[list[dict[str, Any]], str, int]:
    """Stored episodes and significant coincidences involving the target, and its latest hostile
    events, up to ``as_of`` (episodes starting and events dated on or before it) — only those at or below the ``ceiling`` TLP level (restricted records still count in
    the numbers, they are not cited); with the most restricted TLP cited and how many
    restricted items were left uncited."""
    allowed = levels_readable_at(ceiling)
    evidence, tlps, restricted = [], [], 0
    own = sorted((e for e in (episodes.items if episodes else ())
                  if target in e["targets"] and str(e["start"])[:10] <= as_of.isoformat()),
                 key=lambda e: e["start"], reverse=True)
    restricted += sum(e["tlp"] not in allowed for e in own)
    for episode in [e for e in own if e["tlp"] in allowed][:limit]:
        evidence.append({"kind": "episode", "finding_id": episode["finding_id"],
                         "date": episode["start"], "label": f"{'+'.join(episode['domains'])} "
                         f"episode against {','.join(episode['targets'])} "
                         f"(p={episode['p_value']:.3g})"})
        tlps.append(episode["tlp"])
    for pair in (p for p in (coincidences.items if coincidences else ())
                 if p.get("significant") and f"target={target}" in f"{p['a']} {p['b']}"):
        if pair["tlp"] not in allowed:
            restricted += 1
            continue
        evidence.append({"kind": "coincidence", "finding_id": pair["finding_id"],
                         "label": f"{pair['b']} → {pair['a']} (lag {pair['best_lag_days']}d, "
                                  f"q={pair['q_value']:.3g})"})
        tlps.append(pair["tlp"])
    rows = latest_hostile_events_against(store, target, levels=allowed,
                                         before=as_of + timedelta(days=1), limit=limit)
    for event_id, day, domain, label, url, tlp in rows:
        evidence.append({"kind": "event", "event_id": event_id, "date": str(day),
                         "domain": domain, "label": label, "url": url})
        tlps.append(tlp)
    return evidence, most_restricted(tlps), restricted


def _phia(p: float) -> dict[str, Any]:
    judgement = phia_term(min(max(p, 0.0), 1.0))
    return {"phia_term": judgement.term, "phia_phrase": judgement.phrase(),
            "phia_band": judgement.band_text(), "in_gap": judgement.in_gap}


def _target_item(store, risk: TargetRisk, result: RiskResult, episodes, coincidences,
                 evidence_tlp: str, episode_words: str) -> tuple[dict[str, Any], str]:
    params = result.parameters
    forecast = risk.episode
    confidence, reasons = judgement_confidence(result.backtest["episode"], risk, params, forecast)
    evidence, tlp, restricted = _evidence(store, risk.target, episodes, coincidences,
                                          evidence_tlp, date.fromisoformat(result.as_of))
    words = _phia(forecast.probability)
    name = country_name(risk.target)
    judgement = phia_term(min(max(forecast.probability, 0.0), 1.0))
    statement = judgement.sentence(
        f"{country_phrase(name)} faces at least one significant {episode_words} in the next "
        f"{params.horizon_days} days ({forecast.probability:.0%}; "
        f"{forecast.low:.0%}–{forecast.high:.0%}), {confidence} confidence.")
    if not forecast.fitted:
        statement += " There is too little history to fit the model: this is the base rate."
    elif confidence == "low" and not result.backtest["episode"].demonstrated:
        statement += " The model adds nothing demonstrable over the base rate."
    domains = {}
    for domain, f in risk.elevated.items():
        d_conf, _ = judgement_confidence(result.backtest["elevated"], risk, params, f)
        domains[domain] = {"probability": f.probability, "low": f.low, "high": f.high,
                           **_phia(f.probability), "confidence": d_conf,
                           "recent_count": risk.recent_counts.get(domain, 0)}
    item = {"target": risk.target, "name": name,
            "outcome": f"at least one significant {episode_words} in the next "
                       f"{params.horizon_days} days",
            "probability": forecast.probability, "low": forecast.low, "high": forecast.high,
            **words, "confidence": confidence, "confidence_reasons": reasons,
            "statement": statement, "drivers": driver_words(forecast.drivers,
                                     result.models["episode"].get("coefficients") or {}), "evidence": evidence,
            "restricted_evidence": restricted, "domains": domains,
            "recent_counts": risk.recent_counts,
            "history_days": risk.history_days, "model_fitted": forecast.fitted}
    return item, tlp


def _sector_risk(store: EventStore, modelled: list[str], dates: np.ndarray, as_of: date,
                 params: RiskParameters, random_state: int | None,
                 include_cooperative: bool = False) -> RiskResult | None:
    """Elevated-count forecasts per targeted sector where the data name sectors (its own pooled
    model and backtest: sector series are sparser than domains)."""
    counts, _, _, sectors = _hostile_counts(store, None, as_of=as_of, by="target_sector",
                                            modelled=modelled, dates=dates,
                                            include_cooperative=include_cooperative)
    if not sectors:
        return None
    no_episodes = _episode_starts(None, dates, modelled)
    return assess_risk(counts, no_episodes, dates=dates, targets=modelled, domains=sectors,
                       parameters=params, random_state=random_state,
                       map_tasks=_engine_tasks(store))


def _engine_tasks(store: EventStore) -> TaskMap | None:
    """The backtest's refits as Spark tasks on that engine (the same numbers), else here."""
    if store.engine == "spark":
        from hybridwatch.store.spark import map_tasks

        return map_tasks
    return None


def _sector_forecasts(sectors: RiskResult, k: int, risk: TargetRisk) -> dict[str, Any]:
    scores = sectors.backtest["elevated"]
    out = {}
    for sector, f in sectors.targets[k].elevated.items():
        confidence, _ = judgement_confidence(scores, sectors.targets[k], sectors.parameters, f)
        out[sector] = {"probability": f.probability, "low": f.low, "high": f.high,
                       **_phia(f.probability), "confidence": confidence,
                       "recent_count": sectors.targets[k].recent_counts.get(sector, 0)}
    return out


def episode_words(episodes, include_cooperative: bool) -> tuple[str, list[str]]:
    """How to name the episode outcome: "hostile" only when the stored episodes counted hostile
    events alone and the assessment does too; with a warning when they disagree."""
    # runs stored before the hostility rule have no include_cooperative: they counted everything
    stored_cooperative = bool(episodes and (episodes.summary.get("parameters") or {})
                              .get("include_cooperative", True))
    notes = []
    if stored_cooperative and not include_cooperative:
        notes.append("the stored episodes counted cooperative events too (episodes "
                     "--include-cooperative, or a run older than the hostility rule): the episode "
                     "outcome is not called hostile; rerun `hybridwatch episodes` without it")
    if include_cooperative or stored_cooperative:
        return "multi-domain episode (hostile and cooperative events)", notes
    return "hostile multi-domain episode", notes


def _guarded(item: dict[str, Any], result: RiskResult, sectors: RiskResult | None,
             episode_scores: dict[str, Any]) -> dict[str, Any]:
    """The judgement and its domain and sector forecasts in base-rate words where their
    backtest shows no skill (``guardrails``)."""
    item = guardrails.base_rate_judgement(
        item, episode_scores, horizon_days=result.parameters.horizon_days,
        fallback_rate=result.models["episode"]["base_rate"])
    item["domains"] = guardrails.base_rate_domains(
        item["domains"], result.backtest["elevated"].to_dict(),
        result.models["elevated"]["base_rate"])
    if sectors is not None and "sectors" in item:
        item["sectors"] = guardrails.base_rate_domains(
            item["sectors"], sectors.backtest["elevated"].to_dict(),
            sectors.models["elevated"]["base_rate"])
    return item


def _by_outcome(result: RiskResult, sectors: RiskResult | None) -> dict[str, Any]:
    """Backtest scores per outcome, each with the first and last origin it scored."""
    out = {}
    for name, source, kind in [(k, result, k) for k in result.backtest] + \
            ([("elevated_sector", sectors, "elevated")] if sectors is not None else []):
        window = source.backtest_origins.get(kind)
        out[name] = {**source.backtest[kind].to_dict(),
                     "origins": {"first": window[0], "last": window[1]} if window else None}
    return out


def run_assessment(store: EventStore, *, targets: list[str] | None = None,
                   horizon_days: int = 30, step_days: int = 7, random_state: int | None = 0,
                   evidence_tlp: str = "amber", as_of: date | str | None = None,
                   record: bool = True, include_cooperative: bool = False) -> dict[str, Any]:
    """Assess risk per target (all modelled targets by default) as of one day, and record the
    findings.

    ``as_of`` (a date or ``YYYY-MM-DD``) is the forecast origin: only events, episodes and
    evidence dated on or before it are read, as if the assessment ran that day. By default it
    is the last day the sources cover densely (:func:`default_as_of`), so a stray record dated
    far beyond them does not move it (a warning names such records); ``as_of_choice`` in the
    result says how the day was chosen.

    Each judgement cites evidence up to ``evidence_tlp`` only and takes the most restricted TLP
    it cites, so a judgement can be released at that level: more restricted records count in
    the numbers (an aggregate) but are not cited (``restricted_evidence`` says how many were
    left out). Set ``evidence_tlp="red"`` to cite everything.

    Returns the JSON contract: ``targets`` (each with target, probability, low, high,
    phia_term, confidence, drivers, evidence …) and ``backtest`` (brier, brier_climatology,
    skill, n_forecasts … for the headline outcome, plus ``by_outcome``).
    """
    day = parse_as_of(as_of)
    chosen = explicit_as_of(store, day) if day else default_as_of(store)
    counts, dates, modelled, domains = _hostile_counts(store, targets, as_of=chosen.day,
                                                       include_cooperative=include_cooperative)
    episodes = latest_run(store, "episodes")
    coincidences = latest_run(store, "coincidences")
    convergence = latest_run(store, "convergence")
    notes = [chosen.warning()] if chosen.warning() else []
    if episodes is None:
        notes.append("no stored episodes: the episode outcome has no positives; run "
                     "`hybridwatch episodes` first")
    if convergence is None:
        notes.append("no stored convergence index: run `hybridwatch convergence` to use it")
    words, word_notes = episode_words(episodes, include_cooperative)
    notes += word_notes
    params = RiskParameters(horizon_days=horizon_days, step_days=step_days)
    result = assess_risk(counts, _episode_starts(episodes, dates, modelled), dates=dates,
                         targets=modelled, domains=domains,
                         convergence=_daily_convergence(convergence, dates), parameters=params,
                         random_state=random_state, map_tasks=_engine_tasks(store))
    result = replace(result, warnings=tuple(notes) + result.warnings)
    sectors = _sector_risk(store, modelled, dates, chosen.day, params, random_state,
                           include_cooperative)
    wanted = targets or modelled
    items, no_judgement = [], []
    episode_scores = result.backtest["episode"].to_dict()
    for k, risk in enumerate(result.targets):
        if risk.target in wanted:
            item, tlp = _target_item(store, risk, result, episodes, coincidences, evidence_tlp,
                                     words)
            if sectors is not None:
                item["sectors"] = _sector_forecasts(sectors, k, risk)
            if not guardrails.has_cited_evidence(item):
                no_judgement.append(guardrails.no_evidence_reason(item, evidence_tlp))
                continue
            items.append((_guarded(item, result, sectors, episode_scores), tlp))
    items.sort(key=lambda pair: -pair[0]["probability"])
    result = replace(result, warnings=result.warnings + tuple(
        f"no judgement for {entry['target']}: {entry['reason']}" for entry in no_judgement))
    summary = {"horizon_days": horizon_days, "as_of": result.as_of,
               "as_of_choice": chosen.to_dict(),
               "backtest": {**episode_scores, "outcome": "episode",
                            "by_outcome": _by_outcome(result, sectors)},
               "caution": CAUTION if not include_cooperative else CAUTION.replace(
                   "hostile activity", "activity (hostile and cooperative)"),
               "counted": describe_counted(include_cooperative),
               "models": result.models, "modelled_targets": modelled,
               "training_data": training_data(store, modelled, chosen.day,
                                              include_cooperative),
               "evidence_tlp": evidence_tlp, "no_judgement": no_judgement,
               "parameters": {**result.to_dict()["parameters"], "random_state": random_state},
               "warnings": list(result.warnings)}
    run_id = record_run(store, report_of(
        "assessment", {**summary, "targets": [item for item, _ in items]},
        [tlp for _, tlp in items])).run_id if record else None
    return {**summary, "targets": [item for item, _ in items], "run_id": run_id}
