"""Features and outcomes of the risk model at forecast origins, computed in columns.

Everything a forecast issued at origin day ``t`` uses is known at the end of day ``t``: windows
are read from cumulative sums ``cs`` with ``cs[i] = Σ counts[:i]``, so the sum over days
``[a, b)`` is ``cs[b] − cs[a]``. Outcomes look at ``(t, t + H]`` and exist only where that window
is inside the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPISODE_FEATURES = ("activity", "activity_7d", "breadth", "recent_episodes", "convergence")
ELEVATED_FEATURES = ("own_activity", "activity", "activity_7d", "breadth", "recent_episodes",
                     "convergence")
SHORT_DAYS = 7  # the last week separately: a campaign that began days ago shows there first
_QUANTILE_CHUNK = 16  # origins per np.quantile call: bounds memory on 5 years × 30 targets


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
    for start in range(0, origins.size, _QUANTILE_CHUNK):
        chunk = origins[start:start + _QUANTILE_CHUNK]
        first = np.maximum(chunk - baseline + 1, 0)
        index = first[:, None] + offsets[None, :]
        index = np.minimum(index, np.maximum(chunk - 2 * window + 1, 0)[:, None])
        values = rolling[index]
        quantile = np.quantile(values, q, axis=1)
        out[start:start + _QUANTILE_CHUNK] = quantile
        share[start:start + _QUANTILE_CHUNK] = (values > quantile[:, None]).mean(axis=1)
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
