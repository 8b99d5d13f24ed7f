"""The actor-convergence index: several monthly components, each scored against its own rolling
baseline, combined with documented weights, with a bootstrap band and its coverage.

**Score of a component in a month**: the mid-rank of the month's value among the same
component's values in the ``baseline_months`` before it, mapped to [−1, 1] (−1: below every
baseline month, 0: typical, +1: above every one). Rank scores are distribution-free, so a count
of rare joint episodes and a share of shared narratives land on one scale, and a burst of media
volume cannot dominate. With fewer than ``min_baseline_months`` baseline months the score is
missing, not zero.

**Index**: the weighted mean of the scores that exist that month (weights re-normalised over
them). Missing components lower the month's confidence and are listed; they are never zero.

**Band**: each component may carry bootstrap draws of its monthly value (e.g. days resampled
within the month); draws are scored against the same baseline and combined like the point
values; the band is their 5–95% percentile range. Components without draws count as fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hybridwatch.model.json_values import json_value
from hybridwatch.model.results import AnalysisResult

#: Default weights (documented in docs/assessment.md): interaction and narratives are the most
#: direct signs of alignment; operational co-occurrence is rare but telling; trade data are
#: monthly, late and partial.
DEFAULT_WEIGHTS = {"cooperative_interaction": 0.30, "narrative_alignment": 0.30,
                   "operational_cooccurrence": 0.25, "technology_transfer": 0.15}


@dataclass(frozen=True)
class ComponentSeries:
    """One component's monthly values (NaN: no data that month) and optional bootstrap draws
    ``(n_draws, months)``."""

    name: str
    values: np.ndarray
    draws: np.ndarray | None = None
    description: str = ""


@dataclass(frozen=True, eq=False)
class ConvergenceResult(AnalysisResult):
    months: tuple[str, ...]
    index: np.ndarray
    low: np.ndarray
    high: np.ndarray
    scores: dict[str, np.ndarray]           # component → monthly score in [−1, 1] or NaN
    values: dict[str, np.ndarray]           # component → monthly raw value or NaN
    weights: dict[str, float]
    confidence: tuple[str, ...]
    descriptions: dict[str, str] = field(default_factory=dict)

    def periods(self) -> list[dict[str, Any]]:
        """The JSON contract: one dict per month (values to 4 decimals, NaN as null)."""
        clean = lambda v: json_value(round(float(v), 4))  # noqa: E731
        out = []
        for m, month in enumerate(self.months):
            components = {name: clean(score[m]) for name, score in self.scores.items()}
            out.append({"period": month, "index": clean(self.index[m]),
                        "low": clean(self.low[m]), "high": clean(self.high[m]),
                        "components": components,
                        "raw": {name: clean(v[m]) for name, v in self.values.items()},
                        "coverage": [n for n, v in components.items() if v is not None],
                        "confidence": self.confidence[m]})
        return out


def rank_scores(values: np.ndarray, *, baseline_months: int, min_baseline_months: int,
                candidates: np.ndarray | None = None) -> np.ndarray:
    """Mid-rank of each month's value (or of ``candidates[..., m]``) among the non-missing
    values of the ``baseline_months`` before it, on [−1, 1]; NaN without enough baseline."""
    values = np.asarray(values, float)
    probe = values if candidates is None else np.asarray(candidates, float)
    out = np.full(probe.shape, np.nan)
    for m in range(values.size):
        base = values[max(0, m - baseline_months):m]
        base = base[~np.isnan(base)]
        if base.size < min_baseline_months:
            continue
        x = probe[..., m]
        below = (base[None, :] < np.atleast_1d(x)[..., None]).sum(-1)
        ties = (base[None, :] == np.atleast_1d(x)[..., None]).sum(-1)
        score = 2 * (below + 0.5 * ties) / base.size - 1
        out[..., m] = np.where(np.isnan(x), np.nan, score.reshape(np.shape(x)))
    return out


def _confidence(weight_share: float, band_width: float) -> str:
    if weight_share != weight_share or weight_share < 0.5:
        return "low"
    if weight_share >= 0.85 and band_width == band_width and band_width <= 0.5:
        return "high"
    return "moderate"


def convergence_index(months: list[str], components: list[ComponentSeries], *,
                      weights: dict[str, float] | None = None, baseline_months: int = 24,
                      min_baseline_months: int = 6) -> ConvergenceResult:
    """Combine the components into the monthly index (see the module docstring)."""
    weights = dict(weights or DEFAULT_WEIGHTS)
    unknown = [c.name for c in components if c.name not in weights]
    if unknown:
        raise ValueError(f"no weight for component(s) {', '.join(unknown)}")
    n = len(months)
    scores, draw_scores = {}, {}
    for c in components:
        scores[c.name] = rank_scores(c.values, baseline_months=baseline_months,
                                     min_baseline_months=min_baseline_months)
        if c.draws is not None:
            draw_scores[c.name] = rank_scores(c.values, baseline_months=baseline_months,
                                              min_baseline_months=min_baseline_months,
                                              candidates=c.draws)
    w = np.array([weights[c.name] for c in components])
    s = np.vstack([scores[c.name] for c in components]) if components else np.zeros((0, n))
    have = ~np.isnan(s)
    total = (w[:, None] * have).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        index = np.where(total > 0, (w[:, None] * np.nan_to_num(s)).sum(0) / total, np.nan)
    n_draws = max((d.shape[0] for d in draw_scores.values()), default=0)
    if n_draws:
        stacked = np.stack([draw_scores.get(c.name, np.broadcast_to(scores[c.name],
                                                                   (n_draws, n)))
                            for c in components])              # (C, draws, months)
        d_have = ~np.isnan(stacked)
        d_total = (w[:, None, None] * d_have).sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            d_index = np.where(d_total > 0, (w[:, None, None] * np.nan_to_num(stacked)).sum(0)
                               / d_total, np.nan)
        low, high = np.nanpercentile(np.where(np.isnan(index), 0, d_index), [5, 95], axis=0) \
            if n else (np.zeros(0), np.zeros(0))
        low, high = np.where(np.isnan(index), np.nan, low), np.where(np.isnan(index), np.nan, high)
    else:
        low, high = index.copy(), index.copy()
    share = total / w.sum() if w.size else np.zeros(n)
    notes = []
    empty = [c.name for c in components if np.isnan(c.values).all()]
    if empty:
        notes.append(f"no data at all for: {', '.join(empty)} (the index uses the others)")
    return ConvergenceResult(
        months=tuple(months), index=index, low=low, high=high, scores=scores,
        values={c.name: np.asarray(c.values, float) for c in components},
        weights={c.name: weights[c.name] for c in components},
        confidence=tuple(_confidence(share[m], high[m] - low[m]) for m in range(n)),
        parameters={"baseline_months": baseline_months,
                    "min_baseline_months": min_baseline_months, "n_draws": n_draws},
        descriptions={c.name: c.description for c in components}, warnings=tuple(notes))
