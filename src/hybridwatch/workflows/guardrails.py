"""Guardrails on judgements, applied before an assessment is recorded or shown.

* **No judgement without cited evidence.** A target for which no evidence at or below the
  evidence TLP can be cited gets no judgement at all (it is listed as such, with the reason).
* **Base-rate wording when the backtest shows no skill.** Where the model's backtest skill is
  not demonstrated, a judgement speaks of the base rate only: its probability, interval and PHIA
  term are the base rate's (with its count, "3 of 128"), and the model's own figure is kept
  beside it (``model_probability``) but is not worded as a judgement.

(The third guardrail — no private individuals named as actors — lives where actors are labelled
for outputs: ``model.actors``.)
"""

from __future__ import annotations

from typing import Any

from hybridwatch.model.phia import phia_term

#: Width of the base rate's interval (Jeffreys, like the model's 90% interval).
BASE_RATE_INTERVAL = 0.9


def has_cited_evidence(item: dict[str, Any]) -> bool:
    return bool(item.get("evidence"))


def no_evidence_reason(item: dict[str, Any], evidence_tlp: str) -> dict[str, Any]:
    """Why a target gets no judgement, for the run summary and the warnings."""
    restricted = item.get("restricted_evidence") or 0
    return {"target": item["target"], "name": item.get("name"),
            "reason": f"no evidence at or below TLP:{evidence_tlp.upper()} could be cited"
                      + (f" ({restricted} more restricted item(s) were not cited)"
                         if restricted else "")}


def base_rate_interval(positives: int, n: int) -> tuple[float, float]:
    """Jeffreys interval of a rate of ``positives`` in ``n`` (0–1 when nothing is known)."""
    if n <= 0:
        return 0.0, 1.0
    from scipy.stats import beta

    tail = (1 - BASE_RATE_INTERVAL) / 2
    low = 0.0 if positives == 0 else float(beta.ppf(tail, positives + 0.5, n - positives + 0.5))
    high = 1.0 if positives == n else float(beta.ppf(1 - tail, positives + 0.5,
                                                     n - positives + 0.5))
    return low, high


def _base_rate(scores: dict[str, Any], fallback: float) -> tuple[float, int, int]:
    n = int(scores.get("n_forecasts") or 0)
    k = int(scores.get("n_positive") or 0)
    return (k / n if n else float(fallback)), k, n


def base_rate_judgement(item: dict[str, Any], scores: dict[str, Any], *, horizon_days: int,
                        fallback_rate: float) -> dict[str, Any]:
    """The judgement in base-rate words when ``scores`` (the outcome's backtest) show no
    demonstrated skill; unchanged (marked ``wording: model``) when they do."""
    if scores.get("demonstrated"):
        return {**item, "wording": "model"}
    rate, k, n = _base_rate(scores, fallback_rate)
    low, high = base_rate_interval(k, n) if n else (rate, rate)
    judgement = phia_term(min(max(rate, 0.0), 1.0))
    name = item.get("name") or item["target"]
    if n:
        counted = (f"in the backtest, {k:,} of {n:,} past forecasts of this outcome over the "
                   f"modelled targets came true ({rate:.1%}), and the model did no better than "
                   f"that rate (Brier skill {_signed(scores.get('skill'))}, 90% interval "
                   f"{_signed(scores.get('skill_low'))} to {_signed(scores.get('skill_high'))})")
    else:
        counted = ("no forecast of the model could be checked against a past outcome, so the "
                   f"figure is the base rate ({rate:.1%})")
    statement = (f"Base rate only: {counted}. No likelihood beyond this base rate is judged "
                 f"for {name} in the next {horizon_days} days.")
    return {**item, "wording": "base rate",
            "model_probability": item["probability"], "model_low": item["low"],
            "model_high": item["high"], "model_phia_term": item.get("phia_term"),
            "probability": rate, "low": low, "high": high,
            "phia_term": judgement.term, "phia_phrase": judgement.phrase(),
            "in_gap": judgement.in_gap, "statement": statement,
            "base_rate_words": scores.get("base_rate_words") or f"{k} of {n}"}


def base_rate_domains(domains: dict[str, dict[str, Any]], scores: dict[str, Any],
                      fallback_rate: float) -> dict[str, dict[str, Any]]:
    """Per-domain (or per-sector) forecasts in base-rate terms when their backtest shows no
    skill: the same rule as the headline judgement."""
    if scores.get("demonstrated"):
        return {k: {**v, "wording": "model"} for k, v in domains.items()}
    rate, k, n = _base_rate(scores, fallback_rate)
    low, high = base_rate_interval(k, n) if n else (rate, rate)
    judgement = phia_term(min(max(rate, 0.0), 1.0))
    return {name: {**v, "wording": "base rate", "model_probability": v["probability"],
                   "probability": rate, "low": low, "high": high,
                   "phia_term": judgement.term, "phia_phrase": judgement.phrase(),
                   "in_gap": judgement.in_gap} for name, v in domains.items()}


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"
