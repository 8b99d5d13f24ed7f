"""The quantified assessment on a store: risk per target in PHIA words, with confidence from the
backtest and the data, drivers, and links to the stored evidence.

Inputs are the store's hostile events (counts per day × target × domain) and the stored results
of earlier analyses — episodes (the outcome and a feature), coincidences (evidence), the
convergence index (a feature) — which this module reads and never recomputes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from hybridwatch.analyses.forecast_scores import ForecastScores
from hybridwatch.analyses.risk import Forecast, RiskParameters, RiskResult, TargetRisk, assess_risk
from hybridwatch.errors import SelectorError
from hybridwatch.model.countries import country_name
from hybridwatch.model.domains import DOMAINS
from hybridwatch.model.hostility import HOSTILE_SQL
from hybridwatch.model.phia import phia_term
from hybridwatch.model.tlp import levels_readable_at, most_restricted
from hybridwatch.store import EventStore
from hybridwatch.store.findings_store import FindingItem, latest_run, save_run

MAX_MODEL_TARGETS = 30   # the model is pooled over the busiest targets (and the requested ones)
CAUTION = (
    "These probabilities describe hostile activity as open sources record it, not intent. "
    "Coverage follows media attention, attribution in the sources is often uncertain, and a "
    "coincidence beyond chance is not proof of a common command. Read each judgement with its "
    "confidence and the backtest beside it; where the backtest shows no skill, the number is the "
    "base rate and is no reason to act. Over-reaction to a single indicator is itself a risk."
)


def _hostile_counts(store: EventStore, targets: list[str] | None, *, by: str = "domain",
                    modelled: list[str] | None = None, dates: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Hostile events per day × target × ``by`` (domain or target_sector). The modelled targets
    are the busiest ``MAX_MODEL_TARGETS`` plus the requested ones, unless given."""
    rows = store.con.execute(f"""
        SELECT CAST(occurred_at AS DATE), target_iso3, {by}, count(*) FROM events
        WHERE target_iso3 IS NOT NULL AND {by} IS NOT NULL AND {HOSTILE_SQL}
        GROUP BY ALL""").fetchall()
    if not rows:
        if by != "domain":
            return np.zeros((0, 0, 0), np.int64), np.zeros(0, "datetime64[D]"), [], []
        raise SelectorError("no hostile events with a target in the store: nothing to assess")
    day = np.array([r[0] for r in rows], dtype="datetime64[D]")
    target = np.array([r[1] for r in rows], dtype=object)
    kind = np.array([r[2] for r in rows], dtype=object)
    n = np.array([r[3] for r in rows])
    if modelled is None:
        totals: dict[str, int] = {}
        for t, k in zip(target, n):
            totals[t] = totals.get(t, 0) + int(k)
        modelled = sorted(totals, key=lambda t: -totals[t])[:MAX_MODEL_TARGETS]
        for t in targets or ():
            if t not in totals:
                raise SelectorError(f"--targets: no hostile events against {t} in the store")
            if t not in modelled:
                modelled.append(t)
    kinds = ([d for d in DOMAINS if d in set(kind)] if by == "domain"
             else sorted(set(kind)))
    if dates is None:
        dates = np.arange(day.min(), day.max() + 1)
    counts = np.zeros((dates.size, len(modelled), len(kinds)), np.int64)
    t_index, k_index = {t: i for i, t in enumerate(modelled)}, {d: i for i, d in enumerate(kinds)}
    keep = np.array([t in t_index for t in target]) & (day >= dates[0]) & (day <= dates[-1])
    np.add.at(counts, ((day[keep] - dates[0]).astype(int), [t_index[t] for t in target[keep]],
                       [k_index[d] for d in kind[keep]]), n[keep])
    return counts, dates, modelled, kinds


def _episode_starts(episodes, dates: np.ndarray, targets: list[str]) -> np.ndarray:
    starts = np.zeros((dates.size, len(targets)), bool)
    for episode in episodes.items if episodes else ():
        day = (np.datetime64(episode["start"]) - dates[0]).astype(int)
        for target in episode["targets"]:
            if target in targets and 0 <= day < dates.size:
                starts[day, targets.index(target)] = True
    return starts


def _daily_convergence(convergence, dates: np.ndarray) -> np.ndarray | None:
    """A month's index is known once the month is over: each day gets the last complete month's."""
    if convergence is None:
        return None
    by_month = {np.datetime64(p["period"], "M"): p["index"] for p in convergence.items
                if p.get("index") is not None}
    previous = dates.astype("datetime64[M]") - 1
    return np.array([by_month.get(m, np.nan) for m in previous], float)


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
                       f"{risk.active_domains} domain(s) with enough events)")
        level = {"high": "moderate", "moderate": "low"}.get(level, level)
    return level, reasons


def _evidence(store: EventStore, target: str, episodes, coincidences, ceiling: str,
              limit: int = 5) -> tuple[list[dict[str, Any]], str, int]:
    """Stored episodes and significant coincidences involving the target, and its latest hostile
    events — only those at or below the ``ceiling`` TLP level (restricted records still count in
    the numbers, they are not cited); with the most restricted TLP cited and how many
    restricted items were left uncited."""
    allowed = levels_readable_at(ceiling)
    evidence, tlps, restricted = [], [], 0
    own = sorted((e for e in (episodes.items if episodes else ()) if target in e["targets"]),
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
    rows = store.con.execute(f"""
        SELECT event_id, CAST(occurred_at AS DATE), domain,
               coalesce(title, domain || ' event' || coalesce(' by ' || actor_iso3, '')
                        || ' (' || coalesce(source_name, source) || ')'),
               source_url, coalesce(tlp, 'clear')
        FROM events WHERE target_iso3 = ? AND {HOSTILE_SQL}
          AND coalesce(tlp, 'clear') IN (SELECT unnest(?))
        ORDER BY occurred_at DESC LIMIT ?""", [target, list(allowed), limit]).fetchall()
    for event_id, day, domain, title, url, tlp in rows:
        evidence.append({"kind": "event", "event_id": event_id, "date": str(day),
                         "label": title, "url": url})
        tlps.append(tlp)
    return evidence, most_restricted(tlps), restricted


def _phia(p: float) -> dict[str, Any]:
    judgement = phia_term(min(max(p, 0.0), 1.0))
    return {"phia_term": judgement.term, "phia_phrase": judgement.phrase(),
            "in_gap": judgement.in_gap}


def _target_item(store, risk: TargetRisk, result: RiskResult, episodes, coincidences,
                 evidence_tlp: str) -> tuple[dict[str, Any], str]:
    params = result.parameters
    forecast = risk.episode
    confidence, reasons = judgement_confidence(result.backtest["episode"], risk, params, forecast)
    evidence, tlp, restricted = _evidence(store, risk.target, episodes, coincidences,
                                          evidence_tlp)
    words = _phia(forecast.probability)
    name = country_name(risk.target)
    statement = (f"It is {words['phia_phrase']} that {name} faces at least one significant "
                 f"hostile multi-domain episode in the next {params.horizon_days} days "
                 f"({forecast.probability:.0%}; {forecast.low:.0%}–{forecast.high:.0%}), "
                 f"{confidence} confidence.")
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
            "outcome": f"at least one significant hostile multi-domain episode in the next "
                       f"{params.horizon_days} days",
            "probability": forecast.probability, "low": forecast.low, "high": forecast.high,
            **words, "confidence": confidence, "confidence_reasons": reasons,
            "statement": statement, "drivers": list(forecast.drivers), "evidence": evidence,
            "restricted_evidence": restricted, "domains": domains,
            "recent_counts": risk.recent_counts,
            "history_days": risk.history_days, "model_fitted": forecast.fitted}
    return item, tlp


def _sector_risk(store: EventStore, modelled: list[str], dates: np.ndarray,
                 params: RiskParameters, random_state: int | None) -> RiskResult | None:
    """Elevated-count forecasts per targeted sector where the data name sectors (its own pooled
    model and backtest: sector series are sparser than domains)."""
    counts, _, _, sectors = _hostile_counts(store, None, by="target_sector", modelled=modelled,
                                            dates=dates)
    if not sectors:
        return None
    return assess_risk(counts, np.zeros(counts.shape[:2], bool), dates=dates, targets=modelled,
                       domains=sectors, parameters=params, random_state=random_state)


def _sector_forecasts(sectors: RiskResult, k: int, risk: TargetRisk) -> dict[str, Any]:
    scores = sectors.backtest["elevated"]
    out = {}
    for sector, f in sectors.targets[k].elevated.items():
        confidence, _ = judgement_confidence(scores, sectors.targets[k], sectors.parameters, f)
        out[sector] = {"probability": f.probability, "low": f.low, "high": f.high,
                       **_phia(f.probability), "confidence": confidence,
                       "recent_count": sectors.targets[k].recent_counts.get(sector, 0)}
    return out


def run_assessment(store: EventStore, *, targets: list[str] | None = None,
                   horizon_days: int = 30, step_days: int = 7, random_state: int | None = 0,
                   evidence_tlp: str = "amber", record: bool = True) -> dict[str, Any]:
    """Assess risk per target (all modelled targets by default) and record the findings.

    Each judgement cites evidence up to ``evidence_tlp`` only and takes the most restricted TLP
    it cites, so a judgement can be released at that level: more restricted records count in
    the numbers (an aggregate) but are not cited (``restricted_evidence`` says how many were
    left out). Set ``evidence_tlp="red"`` to cite everything.

    Returns the JSON contract: ``targets`` (each with target, probability, low, high,
    phia_term, confidence, drivers, evidence …) and ``backtest`` (brier, brier_climatology,
    skill, n_forecasts … for the headline outcome, plus ``by_outcome``).
    """
    counts, dates, modelled, domains = _hostile_counts(store, targets)
    episodes = latest_run(store, "episodes")
    coincidences = latest_run(store, "coincidences")
    convergence = latest_run(store, "convergence")
    notes = []
    if episodes is None:
        notes.append("no stored episodes: the episode outcome has no positives; run "
                     "`hybridwatch episodes` first")
    if convergence is None:
        notes.append("no stored convergence index: run `hybridwatch convergence` to use it")
    params = RiskParameters(horizon_days=horizon_days, step_days=step_days)
    result = assess_risk(counts, _episode_starts(episodes, dates, modelled), dates=dates,
                         targets=modelled, domains=domains,
                         convergence=_daily_convergence(convergence, dates), parameters=params,
                         random_state=random_state)
    result = replace(result, warnings=tuple(notes) + result.warnings)
    sectors = _sector_risk(store, modelled, dates, params, random_state)
    wanted = targets or modelled
    items = []
    for k, risk in enumerate(result.targets):
        if risk.target in wanted:
            item, tlp = _target_item(store, risk, result, episodes, coincidences, evidence_tlp)
            if sectors is not None:
                item["sectors"] = _sector_forecasts(sectors, k, risk)
            items.append((item, tlp))
    items.sort(key=lambda pair: -pair[0]["probability"])
    episode_scores = result.backtest["episode"].to_dict()
    summary = {"horizon_days": horizon_days, "as_of": result.as_of,
               "backtest": {**episode_scores, "outcome": "episode",
                            "by_outcome": {k: v.to_dict() for k, v in result.backtest.items()}
                              | ({"elevated_sector": sectors.backtest["elevated"].to_dict()}
                                 if sectors is not None else {})},
               "caution": CAUTION, "models": result.models, "modelled_targets": modelled,
               "evidence_tlp": evidence_tlp,
               "parameters": {**result.to_dict()["parameters"], "random_state": random_state},
               "warnings": list(result.warnings)}
    if record:
        save_run(store, "assessment", summary,
                 [FindingItem(item["target"], item, tlp) for item, tlp in items])
    return {**summary, "targets": [item for item, _ in items]}
