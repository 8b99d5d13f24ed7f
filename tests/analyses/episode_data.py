"""Generated daily counts for the episode tests: a bursty background and planted episodes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

START = np.datetime64("2023-01-02")  # a Monday


@dataclass(frozen=True)
class Planted:
    start: int  # day index
    end: int    # day index, inclusive
    targets: frozenset[int]
    domains: frozenset[int]


def background(rng: np.random.Generator, n_days: int, n_targets: int,
               n_domains: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts (T, G, D), dates and the true rates of a bursty, weekly, seasonal background.

    Rate = base (0.1–30/day) × weekend dip × seasonal wave × trend × bursts; bursts arrive about
    every 90 days per series, multiply the rate by 1.5–2.5 for ~2.5 days (Hawkes-like clusters);
    counts are negative binomial (size 5) around the rate, so even calm days are overdispersed.
    """
    t = np.arange(n_days)
    shape = (n_targets, n_domains)
    base = np.clip(rng.lognormal(np.log(3.0), 1.0, size=shape), 0.1, 30.0)
    weekly = np.where((t % 7)[:, None, None] >= 5, rng.uniform(0.3, 1.0, size=shape), 1.0)
    season = 1 + rng.uniform(0.1, 0.4, size=shape) * np.sin(
        2 * np.pi * t[:, None, None] / 365.25 + rng.uniform(0, 2 * np.pi, size=shape))
    trend = np.exp(rng.uniform(-0.3, 0.3, size=shape) * t[:, None, None] / 365)
    bursts = np.ones((n_days, *shape))
    for (g, d), n_bursts in np.ndenumerate(rng.poisson(n_days / 90, size=shape)):
        for _ in range(n_bursts):
            first = rng.integers(n_days)
            bursts[first:first + rng.geometric(0.4), g, d] *= rng.uniform(1.5, 2.5)
    rate = base * weekly * season * trend * bursts
    size = 5.0
    counts = rng.negative_binomial(size, size / (size + rate))
    return counts, START + t, rate


def plant(rng: np.random.Generator, counts: np.ndarray, rate: np.ndarray, *, n_single: int,
          n_cross: int, strength: float,
          cross_pool: tuple[int, ...] | None = None) -> tuple[np.ndarray, list[Planted]]:
    """Add episodes: 3–4 domains of one target, or 3–4 domains spread over 2–3 targets (from
    ``cross_pool``, default all), elevated together for 2–5 days by ``strength`` × their rate
    (at least 5 extra events a day)."""
    n_days, n_targets, n_domains = counts.shape
    counts = counts.copy()
    planted: list[Planted] = []
    for i in range(n_single + n_cross):
        while True:
            start = int(rng.integers(20, n_days - 25))
            if all(abs(start - p.start) > 30 for p in planted):
                break
        length = int(rng.integers(2, 6))
        if i < n_single:
            target = int(rng.integers(n_targets))
            domains = rng.choice(n_domains, size=int(rng.integers(3, 5)), replace=False)
            cells = [(target, int(d)) for d in domains]
        else:
            pool = np.array(cross_pool if cross_pool is not None else range(n_targets))
            targets = rng.choice(pool, size=int(rng.integers(2, min(3, len(pool)) + 1)),
                                 replace=False)
            domains = rng.choice(n_domains, size=int(rng.integers(3, 5)), replace=False)
            cells = [(int(targets[j % len(targets)]), int(d)) for j, d in enumerate(domains)]
        days = slice(start, start + length)
        for g, d in cells:
            counts[days, g, d] += rng.poisson(np.maximum(strength * rate[days, g, d], 5.0))
        planted.append(Planted(start, start + length - 1, frozenset(g for g, _ in cells),
                               frozenset(d for _, d in cells)))
    return counts, planted
