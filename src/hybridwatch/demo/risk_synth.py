"""Generated target × domain activity with a known generating process, for testing and
benchmarking the risk model: a hidden "campaign" regime per target raises its hostile activity
and makes episodes likely, and lasts long enough that the recent past predicts the next month.
With ``predictable=False`` every day is drawn independently of every other: the past says
nothing about the future, and an honest model must show no skill.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SynthActivity:
    counts: np.ndarray          # (days, targets, domains) hostile events
    episode_starts: np.ndarray  # (days, targets) bool
    campaign: np.ndarray        # (days, targets) bool: the hidden regime
    dates: np.ndarray           # datetime64[D]
    targets: list[str]
    domains: list[str]


def synth_activity(*, n_days: int = 1825, n_targets: int = 20, n_domains: int = 6,
                   predictable: bool = True, random_state: int | None = 0,
                   start: str = "2020-01-01") -> SynthActivity:
    rng = np.random.default_rng(random_state)
    rates = rng.gamma(2.0, 0.6, size=(n_targets, n_domains))          # events a day
    campaign = np.zeros((n_days, n_targets), bool)
    if predictable:
        state = np.zeros(n_targets, bool)
        for day in range(n_days):                                    # two-state Markov chain
            flip = rng.random(n_targets) < np.where(state, 1 / 45, 1 / 150)
            state = state ^ flip
            campaign[day] = state
        lift = 1.0 + 2.0 * campaign[:, :, None] * (rng.random((1, n_targets, n_domains)) < 0.7)
        start_p = np.where(campaign, 0.03, 0.001)
    else:
        lift = np.ones((1, n_targets, n_domains))
        start_p = np.full((n_days, n_targets), 0.006)
    counts = rng.poisson(np.broadcast_to(rates[None] * lift, (n_days, n_targets, n_domains)))
    episode_starts = rng.random((n_days, n_targets)) < start_p
    dates = np.datetime64(start, "D") + np.arange(n_days)
    return SynthActivity(counts, episode_starts, campaign, dates,
                         [f"T{k:02d}" for k in range(n_targets)],
                         [f"d{d}" for d in range(n_domains)])
