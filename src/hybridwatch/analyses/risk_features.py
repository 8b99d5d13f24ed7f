"""Features and outcomes of the risk model at forecast origins, computed in columns.

Everything a forecast issued at origin day ``t`` uses is known at the end of day ``t``: windows
are read from cumulative sums ``cs`` with ``cs[i] = Σ counts[:i]``, so the sum over days
``[a, b)`` is ``cs[b] − cs[a]``. Outcomes look at ``(t, t + H]`` and exist only where that window
is inside the data.

**Bounded history.** A feature at origin ``t`` reads at most the baseline before it
(``(t − baseline, t]``) and an outcome the horizon after it, so the daily counts never need to
exist as one dense matrix over the whole span: they are kept as columns of non-empty cells
(:class:`DailyCells`, sized by the events), and :func:`iter_origin_features` densifies one slice
of ``baseline + chunk + horizon`` days per chunk of origins. Memory then follows the events and
the baseline, not the distance from the oldest record to the newest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

EPISODE_FEATURES = ("activity", "activity_7d", "breadth", "recent_episodes", "convergence")
ELEVATED_FEATURES = ("own_activity", "activity", "activity_7d", "breadth", "recent_episodes",
                     "convergence")
#: Each feature in plain words (what a larger value means), for drivers, the model card and docs.
FEATURE_MEANINGS = {
    "own_activity": "hostile events in this domain against the target in the last 30 days, "
                    "against the domain's own past year",
    "activity": "hostile events against the target in the last 30 days, against its own "
                "past year",
    "activity_7d": "hostile events against the target in the last 7 days, against its own "
                   "past year",
    "breadth": "the share of the target's domains whose last 30 days were above their "
               "usual level (the upper quarter of the past year's 30-day windows)",
    "recent_episodes": "significant multi-domain episodes against the target in the past year",
    "convergence": "the Russia–China convergence index of the last complete month (−1 … +1, "
                   "0 = typical of its own past two years)",
}
SHORT_DAYS = 7  # the last week separately: a campaign that began days ago shows there first
_QUANTILE_BYTES = 16 * 2**20  # the baseline windows np.quantile sorts at once (≈ 16 MB)


@dataclass(frozen=True)
class OriginFeatures:
    """Features and outcomes for origins ``origins`` (day indices), targets × domains."""

    origins: np.ndarray              # (O,) day index of each origin
    episode_x: np.ndarray            # (O, K, len(EPISODE_FEATURES))
    elevated_x: np.ndarray           # (O, K, D, len(ELEVATED_FEATURES))
    eligible: np.ndarray             # (O, K, D) series with enough baseline events to forecast
    episode_y: np.ndarray            # (O, K) float: 1/0, NaN where the future is unknown
    elevated_y: np.ndarray           # (O, K, D) float: 1/0, NaN where unknown
    episode_persistence: np.ndarray  # (O, K) the outcome of the window that just ended
    elevated_persistence: np.ndarray  # (O, K, D)
    recent_counts: np.ndarray        # (O, K, D) events in the recent window (evidence)
    thresholds: np.ndarray           # (O, K, D) the count above which the next window is elevated
    elevated_climatology: np.ndarray  # (O, K, D) share of the baseline's windows above it


@dataclass(frozen=True)
class DailyCells:
    """Daily counts in columns: one row per (day, series) cell with events, sorted by day.

    ``shape`` is the dense shape ``(n_days, *series)`` the cells stand for (e.g. days × targets
    × domains); ``series`` is the flat (C-order) index into ``shape[1:]``.
    """

    day: np.ndarray       # (N,) int64 day index from the grid's first day, ascending
    series: np.ndarray    # (N,) int64 flat series index
    count: np.ndarray     # (N,) float64
    shape: tuple[int, ...]

    @classmethod
    def from_columns(cls, day: np.ndarray, index: tuple[np.ndarray, ...], count: np.ndarray,
                     shape: tuple[int, ...]) -> DailyCells:
        """Cells from columns: ``index`` holds one integer column per series axis."""
        day = np.asarray(day, np.int64)
        series = (np.ravel_multi_index(tuple(np.asarray(i, np.int64) for i in index), shape[1:])
                  if len(shape) > 1 else np.zeros(day.size, np.int64))
        order = np.argsort(day, kind="stable")
        return cls(day[order], series[order], np.asarray(count, float)[order], tuple(shape))

    @classmethod
    def from_dense(cls, dense: np.ndarray) -> DailyCells:
        flat = np.asarray(dense).reshape(dense.shape[0], -1)
        day, series = np.nonzero(flat)
        return cls(day.astype(np.int64), series.astype(np.int64),
                   flat[day, series].astype(float), tuple(dense.shape))

    def dense(self, start: int, stop: int) -> np.ndarray:
        """The dense float counts of days ``[start, stop)``: ``(stop − start, *series)``."""
        lo, hi = np.searchsorted(self.day, [start, stop])
        out = np.zeros((stop - start, int(np.prod(self.shape[1:], dtype=np.int64))))
        np.add.at(out, (self.day[lo:hi] - start, self.series[lo:hi]), self.count[lo:hi])
        return out.reshape((stop - start,) + self.shape[1:])

    def events_between(self, start: int, stop: int) -> float:
        lo, hi = np.searchsorted(self.day, [start, stop])
        return float(self.count[lo:hi].sum())

    def first_day(self, axis_size: int) -> np.ndarray:
        """Per index of the first series axis (e.g. target), the first day with a cell; -1 if
        none."""
        first = np.full(axis_size, np.iinfo(np.int64).max)
        per_axis = int(np.prod(self.shape[2:], dtype=np.int64))
        np.minimum.at(first, self.series // per_axis, self.day)
        return np.where(first == np.iinfo(np.int64).max, -1, first)


def _window(cs: np.ndarray, end: np.ndarray, length: int) -> np.ndarray:
    """Sums over the ``length`` days ending with day ``end`` (inclusive)."""
    return cs[end + 1] - cs[np.maximum(end + 1 - length, 0)]


def _window_quantile(cs: np.ndarray, origins: np.ndarray, window: int, baseline: int,
                     q: float) -> tuple[np.ndarray, np.ndarray]:
    """Per origin and series, the q-quantile of the ``window``-day sums lying inside the
    baseline before the origin's last ``window`` days (which the recent features read), and the
    share of those windows above it (below 1 − q where counts tie at the quantile)."""
    rolling = cs[window:] - cs[:-window]            # rolling[i]: days [i, i + window)
    out = np.empty((origins.size,) + cs.shape[1:])
    share = np.empty_like(out)
    offsets = np.arange(baseline - 2 * window + 1)  # windows in [t-baseline+1, t-window]
    per_origin = 8 * offsets.size * int(np.prod(cs.shape[1:], dtype=np.int64))
    step = max(1, _QUANTILE_BYTES // max(per_origin, 1))   # origins per np.quantile call
    for start in range(0, origins.size, step):
        chunk = origins[start:start + step]
        first = np.maximum(chunk - baseline + 1, 0)
        index = first[:, None] + offsets[None, :]
        index = np.minimum(index, np.maximum(chunk - 2 * window + 1, 0)[:, None])
        values = rolling[index]
        quantile = np.quantile(values, q, axis=1)
        out[start:start + step] = quantile
        share[start:start + step] = (values > quantile[:, None]).mean(axis=1)
    return out, share


def origin_features(counts: np.ndarray, episode_starts: np.ndarray, convergence: np.ndarray,
                    origins: np.ndarray, *, horizon_days: int, recent_days: int,
                    baseline_days: int, elevated_quantile: float, min_baseline_events: int
                    ) -> OriginFeatures:
    """Features at each origin from counts ``(T, K, D)``, episode starts ``(T, K)`` and a daily
    convergence index ``(T,)`` (NaN where unknown: it then contributes 0, the typical value)."""
    n_days = counts.shape[0]
    cs = np.concatenate([np.zeros((1,) + counts.shape[1:]), np.cumsum(counts, axis=0)])
    ep = np.concatenate([np.zeros((1, episode_starts.shape[1])),
                         np.cumsum(episode_starts, axis=0)])
    t = origins
    recent = _window(cs, t, recent_days)                            # (O, K, D)
    base = _window(cs, t, baseline_days)
    expected = base * recent_days / baseline_days
    own_activity = np.log1p(recent) - np.log1p(expected)
    activity = np.log1p(recent.sum(-1)) - np.log1p(expected.sum(-1))
    activity_7d = np.log1p(_window(cs, t, SHORT_DAYS).sum(-1)) \
        - np.log1p(base.sum(-1) * SHORT_DAYS / baseline_days)
    breadth_threshold, _ = _window_quantile(cs, t, recent_days, baseline_days, 0.75)
    eligible = base >= min_baseline_events
    with np.errstate(invalid="ignore"):
        breadth = np.where(eligible.any(-1),
                           ((recent > breadth_threshold) & eligible).sum(-1)
                           / np.maximum(eligible.sum(-1), 1), 0.0)
    recent_episodes = np.log1p(_window(ep, t, baseline_days))
    conv = np.nan_to_num(convergence[t], nan=0.0)
    per_target = [activity, activity_7d, breadth, recent_episodes,
                  np.broadcast_to(conv[:, None], activity.shape)]
    episode_x = np.stack(per_target, axis=-1)
    elevated_x = np.stack([own_activity] + [np.broadcast_to(v[..., None], own_activity.shape)
                                            for v in per_target], axis=-1)
    thresholds, exceed_share = _window_quantile(cs, t, horizon_days, baseline_days,
                                                elevated_quantile)
    known = (t + horizon_days) < n_days
    future_end = np.minimum(t + horizon_days, n_days - 1)
    future = _window(cs, future_end, horizon_days)
    elevated_y = np.where(known[:, None, None], (future > thresholds).astype(float), np.nan)
    episode_future = _window(ep, future_end, horizon_days)
    episode_y = np.where(known[:, None], (episode_future > 0).astype(float), np.nan)
    past = _window(cs, t, horizon_days)
    return OriginFeatures(
        origins=t, episode_x=episode_x, elevated_x=elevated_x, eligible=eligible,
        episode_y=episode_y, elevated_y=elevated_y,
        episode_persistence=(_window(ep, t, horizon_days) > 0).astype(float),
        elevated_persistence=(past > thresholds).astype(float),
        recent_counts=recent, thresholds=thresholds, elevated_climatology=exceed_share)


def origin_chunk_size(*, baseline_days: int, step_days: int) -> int:
    """Origins per chunk: about one baseline of origins, so a slice spans ≈ 2 baselines + H."""
    return max(1, baseline_days // max(1, step_days))


def iter_origin_features(counts: DailyCells, episode_starts: DailyCells, convergence: np.ndarray,
                         origins: np.ndarray, *, horizon_days: int, recent_days: int,
                         baseline_days: int, elevated_quantile: float, min_baseline_events: int,
                         origins_per_chunk: int
                         ) -> Iterator[tuple[int, int, np.ndarray, OriginFeatures]]:
    """:func:`origin_features` chunk by chunk over a bounded slice of days.

    Yields ``(slice start, slice stop, positions of the chunk's origins in origins,
    features)``; the features' ``origins`` are relative to the slice start. A chunk's slice is
    ``[first origin − baseline + 1, last origin + H]`` (clipped to the data), exactly the days
    its features and outcomes read, so every number equals the one computed on the whole span.
    Chunks without any event in their slice are skipped when series need baseline events to
    be forecast (they would give no forecast); the chunk holding the last origin never is.
    """
    n_days = counts.shape[0]
    origins = np.asarray(origins, np.int64)
    for first in range(0, origins.size, max(1, origins_per_chunk)):
        positions = np.arange(first, min(first + origins_per_chunk, origins.size))
        chunk = origins[positions]
        start = int(max(0, chunk[0] - baseline_days + 1))
        stop = int(min(n_days, chunk[-1] + horizon_days + 1))
        if (min_baseline_events > 0 and positions[-1] != origins.size - 1
                and counts.events_between(start, int(chunk[-1]) + 1) == 0):
            continue
        yield start, stop, positions, origin_features(
            counts.dense(start, stop), episode_starts.dense(start, stop),
            np.asarray(convergence, float)[start:stop], chunk - start,
            horizon_days=horizon_days, recent_days=recent_days, baseline_days=baseline_days,
            elevated_quantile=elevated_quantile, min_baseline_events=min_baseline_events)
