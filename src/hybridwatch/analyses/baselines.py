"""Expected daily event counts per series, robust to bursts, weekday cycles, seasons and trends.

Works on a ``(T days, G targets, D domains)`` count array; every ``(target, domain)`` column is one
series. The expected count of day ``t`` is

    expected[t] = level[t] × weekday_factor[weekday(t)]

* ``weekday_factor`` — the series' share of events on each weekday relative to an even spread,
  shrunk towards 1 with ``prior_events`` pseudo-events so sparse series do not get wild factors.
* ``level[t]`` — a centred rolling mean of the weekday-adjusted counts over the days
  ``gap_days ≤ |t' − t| ≤ gap_days + half_span_days`` (so ~56 reference days for the default
  half span of 28; one-sided at the ends of the data). Leaving out the ``gap_days − 1`` days on
  each side means that for any scan window of at most ``gap_days`` days, no day in the window
  contributes to the expectation of any day in the window: an episode cannot hide itself by
  inflating its own baseline. Centring (rather than a trailing mean) follows trends and seasons
  without lag.
* Robustness to bursts: a first pass computes the rolling mean, each count is capped at
  ``mean + 3·sqrt(mean) + 2`` (a generous Poisson upper bound), and the second pass averages the
  capped counts. A burst a few weeks away therefore raises the baseline only slightly. A median
  was rejected because it is 0 for any series with fewer than one event every other day.
* A floor of half an event per reference span keeps ``expected > 0`` for empty stretches.

Everything is cumulative sums over time: O(T·G·D) time and memory, no Python loops over series.
"""

from __future__ import annotations

import numpy as np

#: Monday = 0; 1970-01-01 (day 0 of datetime64[D]) was a Thursday.
_EPOCH_WEEKDAY = 3


def weekdays(dates: np.ndarray) -> np.ndarray:
    """Weekday (Monday = 0) of each ``datetime64[D]`` date."""
    days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
    return (days + _EPOCH_WEEKDAY) % 7


def weekday_factors(counts: np.ndarray, weekday: np.ndarray, *,
                    prior_events: float = 14.0) -> np.ndarray:
    """Multiplicative weekday factors, shape ``(7, G, D)``, averaging 1 over the observed days."""
    counts = np.asarray(counts, dtype=np.float64)
    days_per_weekday = np.bincount(weekday, minlength=7).astype(np.float64)        # (7,)
    per_weekday = np.stack([counts[weekday == k].sum(axis=0) for k in range(7)])   # (7, G, D)
    rate = counts.sum(axis=0) / max(len(weekday), 1)                              # (G, D)
    expected_share = days_per_weekday[:, None, None] * rate                       # (7, G, D)
    # Pseudo-events spread evenly over the week pull sparse series towards a flat week.
    pseudo = prior_events / 7.0
    factors = (per_weekday + pseudo) / (expected_share + pseudo)
    mean_factor = (factors * days_per_weekday[:, None, None]).sum(axis=0) / max(len(weekday), 1)
    return factors / np.where(mean_factor > 0, mean_factor, 1.0)


def _reference_mean(values: np.ndarray, *, gap_days: int,
                    half_span_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` over ``gap ≤ |t' − t| ≤ gap + half_span`` for every ``t``; and the number
    of reference days used (at least 1 so callers can divide)."""
    n_days = values.shape[0]
    cumulative = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])
    t = np.arange(n_days)

    def span_sum(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first = np.clip(first, 0, n_days)
        last = np.clip(last, 0, n_days)          # exclusive
        last = np.maximum(last, first)
        return cumulative[last] - cumulative[first], (last - first).astype(np.float64)

    before, n_before = span_sum(t - gap_days - half_span_days, t - gap_days + 1)
    after, n_after = span_sum(t + gap_days, t + gap_days + half_span_days + 1)
    n_ref = n_before + n_after
    total = before + after
    shape = (n_days,) + (1,) * (values.ndim - 1)
    no_reference = n_ref == 0
    if no_reference.any():
        # Series shorter than the gap: fall back to the whole-series mean.
        total[no_reference] = values.mean(axis=0) * 1.0
        n_ref = np.where(no_reference, 1.0, n_ref)
    return total / n_ref.reshape(shape), n_ref


def expected_counts(counts: np.ndarray, dates: np.ndarray, *, gap_days: int = 7,
                    half_span_days: int = 28, prior_events: float = 14.0) -> np.ndarray:
    """Expected count of every ``(day, target, domain)`` cell, same shape as ``counts`` (float64).

    ``gap_days`` should be at least the longest scan window (see the module docstring).
    """
    counts = np.asarray(counts, dtype=np.float64)
    weekday = weekdays(dates)
    factors = weekday_factors(counts, weekday, prior_events=prior_events)[weekday]  # (T, G, D)
    adjusted = counts / factors
    first_pass, _ = _reference_mean(adjusted, gap_days=gap_days, half_span_days=half_span_days)
    cap = first_pass + 3.0 * np.sqrt(first_pass) + 2.0
    level, n_ref = _reference_mean(np.minimum(adjusted, cap), gap_days=gap_days,
                                   half_span_days=half_span_days)
    floor = 0.5 / n_ref.reshape((-1,) + (1,) * (counts.ndim - 1))
    return np.maximum(level, floor) * factors
