"""Scores of probability forecasts of binary outcomes: Brier score, log loss, reliability, skill.

Skill is ``1 − score / reference score`` (DOMAIN.md): 0 means no better than the reference
(climatology: the base rate; persistence: what happened in the last known window), negative
means worse. Its uncertainty comes from a moving-block bootstrap over forecast *origins*: all
forecasts issued on one day move together (they share that day's information), and blocks of
consecutive origins move together because their horizons overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hybridwatch.model.json_values import json_value
from hybridwatch.model.results import AnalysisResult

EPS = 1e-6  # log loss clips probabilities to [EPS, 1 − EPS]
#: Skill below this is not worth acting on even when it is statistically above zero.
MIN_USEFUL_SKILL = 0.02
#: Fewest positive and negative outcomes, and forecast origins (about three months of weekly
#: origins), before skill can count as demonstrated: a bootstrap over a handful of origins or
#: outcomes gives a narrow interval that means nothing.
MIN_DEMONSTRATION = {"positives": 10, "negatives": 10, "origins": 13}


def brier(probability: np.ndarray, outcome: np.ndarray) -> float:
    """Mean squared error of the forecast probabilities (0 best, 1 worst)."""
    p, y = np.asarray(probability, float), np.asarray(outcome, float)
    return float(np.mean((p - y) ** 2)) if p.size else float("nan")


def log_loss(probability: np.ndarray, outcome: np.ndarray) -> float:
    """Mean negative log-likelihood in nats, probabilities clipped to [1e-6, 1 − 1e-6]."""
    p = np.clip(np.asarray(probability, float), EPS, 1 - EPS)
    y = np.asarray(outcome, float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))) if p.size else float("nan")


def skill(score: float, reference: float) -> float:
    """1 − score / reference; NaN when the reference is perfect (0) or missing."""
    if not reference or reference != reference:
        return float("nan")
    return 1.0 - score / reference


def reliability(probability: np.ndarray, outcome: np.ndarray, *, n_bins: int = 10
                ) -> list[dict[str, Any]]:
    """The reliability (calibration) curve over equal-width bins of the forecast probability:
    per bin its forecasts, their mean, and the observed frequency of the outcome."""
    p, y = np.asarray(probability, float), np.asarray(outcome, float)
    edges = np.linspace(0, 1, n_bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        in_bin = index == b
        n = int(in_bin.sum())
        rows.append({"bin_low": float(edges[b]), "bin_high": float(edges[b + 1]), "n": n,
                     "mean_forecast": float(p[in_bin].mean()) if n else None,
                     "observed_rate": float(y[in_bin].mean()) if n else None})
    return rows


@dataclass(frozen=True, eq=False)
class ForecastScores(AnalysisResult):
    """How a set of forecasts did against the outcomes and two reference forecasts."""

    n_forecasts: int
    n_origins: int
    base_rate: float
    brier: float
    brier_climatology: float
    brier_persistence: float
    log_loss: float
    log_loss_climatology: float
    skill: float                      # Brier skill against climatology
    skill_low: float                  # 90% bootstrap interval over origins
    skill_high: float
    skill_persistence: float          # Brier skill against persistence
    reliability: tuple[dict[str, Any], ...]

    @property
    def n_positive(self) -> int:
        """How many of the scored forecasts' outcomes were positive."""
        return int(round(self.base_rate * self.n_forecasts)) if self.n_forecasts else 0

    def base_rate_words(self) -> str:
        """The base rate with its count ("3 of 128 past outcomes, 2.3%"): a rate alone hides
        how little it may rest on, and "0.0%" beside non-zero judgements misleads."""
        if not self.n_forecasts:
            return "no past outcome known"
        share = self.n_positive / self.n_forecasts
        return (f"{self.n_positive:,} of {self.n_forecasts:,} past outcomes positive"
                + (f", {share:.1%}" if self.n_positive else ""))

    @property
    def enough_outcomes(self) -> bool:
        """Whether the backtest holds enough outcomes and origins to show skill at all
        (``MIN_DEMONSTRATION``)."""
        return (self.n_positive >= MIN_DEMONSTRATION["positives"]
                and self.n_forecasts - self.n_positive >= MIN_DEMONSTRATION["negatives"]
                and self.n_origins >= MIN_DEMONSTRATION["origins"])

    @property
    def demonstrated(self) -> bool:
        """Skill whose whole 90% interval is above zero and which is large enough to matter
        (``MIN_USEFUL_SKILL``), over enough outcomes (``enough_outcomes``)."""
        return (self.enough_outcomes and self.skill_low == self.skill_low
                and self.skill_low > 0 and self.skill >= MIN_USEFUL_SKILL)

    def verdict(self) -> str:
        """The backtest in plain words, as the assessment reports it beside every judgement."""
        if self.n_forecasts == 0:
            return ("No forecast could be checked: the history is too short, or too few past "
                    "outcomes were positive to fit a model; the number given is the base rate.")
        if not self.enough_outcomes:
            return (f"Too few past outcomes to show skill: {self.base_rate_words()} over "
                    f"{self.n_origins:,} forecast origins (at least "
                    f"{MIN_DEMONSTRATION['positives']} positive, "
                    f"{MIN_DEMONSTRATION['negatives']} negative and "
                    f"{MIN_DEMONSTRATION['origins']} origins are needed). The model adds "
                    "nothing demonstrable over the base rate; treat its probabilities as the "
                    "base rate, not as a warning.")
        if not self.demonstrated:
            return (f"The model adds nothing demonstrable over the base rate: its Brier skill "
                    f"against climatology is {self.skill:+.2f} (90% interval "
                    f"{self.skill_low:+.2f} to {self.skill_high:+.2f}) over "
                    f"{self.n_forecasts:,} past forecasts. Treat its probabilities as the "
                    f"base rate ({self.base_rate_words()}), not as a warning.")
        return (f"The model beat the base rate in the backtest: Brier skill {self.skill:+.2f} "
                f"(90% interval {self.skill_low:+.2f} to {self.skill_high:+.2f}) against "
                f"climatology and {self.skill_persistence:+.2f} against persistence, over "
                f"{self.n_forecasts:,} past forecasts.")

    def to_dict(self) -> dict[str, Any]:
        clean = json_value
        return {"n_forecasts": self.n_forecasts, "n_origins": self.n_origins,
                "n_positive": self.n_positive, "base_rate": clean(self.base_rate),
                "base_rate_words": self.base_rate_words(), "brier": clean(self.brier),
                "brier_climatology": clean(self.brier_climatology),
                "brier_persistence": clean(self.brier_persistence),
                "log_loss": clean(self.log_loss),
                "log_loss_climatology": clean(self.log_loss_climatology),
                "skill": clean(self.skill), "skill_low": clean(self.skill_low),
                "skill_high": clean(self.skill_high),
                "skill_persistence": clean(self.skill_persistence),
                "reliability": list(self.reliability), "demonstrated": self.demonstrated,
                "verdict": self.verdict()}


def _block_counts(n: int, block: int, n_bootstrap: int, random_state: int | None) -> np.ndarray:
    """(n_bootstrap × n) how often each origin is drawn by a circular moving-block bootstrap."""
    rng = np.random.default_rng(random_state)
    n_blocks = -(-n // block)
    starts = rng.integers(0, n, size=(n_bootstrap, n_blocks))
    drawn = (starts[:, :, None] + np.arange(block)).reshape(n_bootstrap, -1)[:, :n] % n
    return np.apply_along_axis(np.bincount, 1, drawn, minlength=n)


def score_forecasts(probability: np.ndarray, outcome: np.ndarray, climatology: np.ndarray,
                    persistence: np.ndarray, origin: np.ndarray, *, block_origins: int = 8,
                    n_bootstrap: int = 500, random_state: int | None = 0) -> ForecastScores:
    """Score forecasts against outcomes and both references; ``origin`` groups the forecasts
    issued together, and ``block_origins`` consecutive origins form one bootstrap block (set it
    to cover at least one forecast horizon)."""
    p, y = np.asarray(probability, float), np.asarray(outcome, float)
    clim, pers = np.asarray(climatology, float), np.asarray(persistence, float)
    parameters = {"block_origins": block_origins, "n_bootstrap": n_bootstrap,
                  "random_state": random_state}
    if p.size == 0:
        nan = float("nan")
        return ForecastScores(0, 0, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, (),
                              parameters=parameters)
    origins, group = np.unique(np.asarray(origin), return_inverse=True)
    # per-origin sums let the bootstrap resample origins without touching every forecast
    sq_model = np.bincount(group, (p - y) ** 2)
    sq_clim = np.bincount(group, (clim - y) ** 2)
    counts = _block_counts(origins.size, max(1, block_origins), n_bootstrap, random_state)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = 1 - (counts @ sq_model) / (counts @ sq_clim)
    boot = boot[np.isfinite(boot)]
    low, high = (np.percentile(boot, [5, 95]) if boot.size else (np.nan, np.nan))
    b, b_clim, b_pers = brier(p, y), brier(clim, y), brier(pers, y)
    return ForecastScores(
        n_forecasts=int(p.size), n_origins=int(origins.size), base_rate=float(y.mean()),
        brier=b, brier_climatology=b_clim, brier_persistence=b_pers,
        log_loss=log_loss(p, y), log_loss_climatology=log_loss(clim, y),
        skill=skill(b, b_clim), skill_low=float(low), skill_high=float(high),
        skill_persistence=skill(b, b_pers), reliability=tuple(reliability(p, y)),
        parameters=parameters)
