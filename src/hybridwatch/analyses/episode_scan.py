"""The scan statistic of multi-domain episodes and its null distributions.

Per domain series, a negative-binomial log-likelihood ratio scores each window's excess over its
expected count (dispersion estimated from the series' own windows); a window's statistic is the
``k``-th largest domain score (k = min_domains), per target or per target group. The null
maxima come from week-aligned circular shifts of the domain scores or from Poisson draws of the
expected counts; family-wise p-values compare a window with the maxima over the whole scan.
Split from ``episodes`` so the search and the statistics can be read apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: a window needs at least this many events in a domain to count as elevated
MIN_COUNT = 2
#: share of windows left out when estimating a series' dispersion
TRIM_SHARE = 0.01


def _nb_size(observed: np.ndarray, expected: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """Negative-binomial size ``r`` of every series' window sums (variance = E + E²/r).

    Moment estimate over the T windows of one length that touch no removed cell (an accepted
    episode); of those, the top ``TRIM_SHARE`` of squared residuals are left out too, so an
    episode does not widen its own noise band. Estimating it per window length captures bursts
    that last several days (autocorrelation), not just daily noise.
    """
    excess = (observed - expected) ** 2 - expected
    n_usable = (~removed).sum(axis=0)
    # Removed windows sort first (−inf), so the cut is the (1 − trim) quantile of the rest.
    ranked = np.sort(np.where(removed, -np.inf, excess), axis=0)
    position = removed.sum(axis=0) + np.ceil((1 - TRIM_SHARE) * n_usable).astype(int) - 1
    cut = np.take_along_axis(ranked, np.clip(position, 0, len(excess) - 1)[None], axis=0)[0]
    keep = ~removed & (excess <= cut)
    n_kept = np.maximum(keep.sum(axis=0), 1)
    mean_excess = (excess * keep).sum(axis=0) / n_kept
    mean_square = (expected ** 2 * keep).sum(axis=0) / n_kept
    inverse = np.maximum(mean_excess, 0.0) / np.maximum(mean_square, 1e-12)
    return 1.0 / np.maximum(inverse, 1e-9)


def _nb_llr(observed: np.ndarray, expected: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Expectation-based negative-binomial LLR (→ Poisson as size → ∞); 0 unless elevated."""
    elevated = (observed > expected) & (observed >= MIN_COUNT)
    obs = np.where(elevated, observed, 1.0)
    exp = np.where(elevated, expected, 1.0)
    llr = obs * np.log(obs / exp) - (obs + size) * np.log((obs + size) / (exp + size))
    return np.where(elevated, llr, 0.0)


def domain_scores(counts: np.ndarray, expected: np.ndarray, scanned: np.ndarray,
            max_window_days: int, removed: np.ndarray | None = None) -> np.ndarray:
    """NB LLR of circular windows, shape ``(W, D, T, G)`` float32: window of w+1 days from day t.

    Windows touching a ``removed`` cell score 0 and are left out of the dispersion estimate.
    Domains come first because every statistic reduces over them (see ``_kth_largest``)."""
    n_days, n_targets, n_domains = counts.shape
    removed = np.zeros(counts.shape, dtype=bool) if removed is None else removed
    scores = np.empty((max_window_days, n_domains, n_days, n_targets), dtype=np.float32)
    window_obs = np.zeros(counts.shape)
    window_exp = np.zeros(counts.shape)
    window_removed = np.zeros(counts.shape, dtype=bool)
    for w in range(max_window_days):
        # Circular sums so every series has T windows of each length: a shifted surrogate then
        # reads the same windows in a different order and keeps its score distribution.
        window_obs += np.roll(counts, -w, axis=0)
        window_exp += np.roll(expected, -w, axis=0)
        window_removed |= np.roll(removed, -w, axis=0)
        size = _nb_size(window_obs, window_exp, window_removed)
        llr = _nb_llr(window_obs, window_exp, size) * (scanned & ~window_removed)
        scores[w] = llr.transpose(2, 0, 1)
    return scores


def _kth_largest(values: np.ndarray, k: int) -> np.ndarray:
    """k-th largest along axis 0 (few domains): a running top-k, much faster than partition."""
    top = [np.full(values.shape[1:], -np.inf, dtype=values.dtype) for _ in range(k)]
    for row in values:
        for j in range(k):
            higher = np.maximum(top[j], row)
            row = np.minimum(top[j], row)
            top[j] = higher
    return top[-1]


def _window_stats(window_scores: np.ndarray, k: int,
                  groups: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(D, starts, G) scores → single-target stats (starts, G), cross-target stats (starts, Z)."""
    single = _kth_largest(window_scores, k)
    if not groups:
        return single, np.zeros((window_scores.shape[1], 0), dtype=window_scores.dtype)
    cross = [_kth_largest((window_scores if len(group) == window_scores.shape[2]
                           else window_scores[:, :, group]).max(axis=2), k) for group in groups]
    return single, np.stack(cross, axis=1)


def window_statistics(scores: np.ndarray, k: int, groups: list[np.ndarray]
                      ) -> dict[str, np.ndarray]:
    """Observed statistics: single (W, T, G), cross (W, T, Z); −inf for windows that wrap."""
    n_windows, _, n_days, n_targets = scores.shape
    single = np.full((n_windows, n_days, n_targets), -np.inf, dtype=np.float32)
    crossed = np.full((n_windows, n_days, len(groups)), -np.inf, dtype=np.float32)
    for w in range(n_windows):
        starts = n_days - w
        single[w, :starts], crossed[w, :starts] = _window_stats(scores[w, :, :starts], k, groups)
    return {"single": single, "cross": crossed} if groups else {"single": single}


def _null_maxima(scores_of: Any, n_windows: int, n_days: int, k: int,
                 groups: list[np.ndarray]) -> tuple[float, float]:
    best_single = best_cross = 0.0
    for w in range(n_windows):
        one, many = _window_stats(scores_of(w, n_days - w), k, groups)
        best_single = max(best_single, float(one.max()))
        best_cross = max(best_cross, float(many.max(initial=0.0)))
    return best_single, best_cross


def _as_null(maxima: np.ndarray, groups: list[np.ndarray]) -> dict[str, np.ndarray]:
    return {"single": maxima[:, 0], "cross": maxima[:, 1]} if groups else {"single": maxima[:, 0]}


def shift_null(scores: np.ndarray, k: int, groups: list[np.ndarray], n_surrogates: int,
                rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Null maxima from independent circular shifts (multiples of 7 days) of every series."""
    n_windows, n_domains, n_days, n_targets = scores.shape
    flat = scores.reshape(n_windows, -1)
    series_offset = (np.arange(n_domains)[:, None, None] * n_days * n_targets
                     + np.arange(n_targets)[None, None, :])
    day = np.arange(n_days)[None, :, None]
    maxima = np.zeros((n_surrogates, 2))
    for b in range(n_surrogates):
        shifts = 7 * rng.integers(1, max(n_days // 7, 2), size=(n_domains, 1, n_targets))
        index = ((day + shifts) % n_days) * n_targets + series_offset  # (D, T, G)

        def shifted(w: int, starts: int, index: np.ndarray = index) -> np.ndarray:
            return flat[w][index[:, :starts]]

        maxima[b] = _null_maxima(shifted, n_windows, n_days, k, groups)
    return _as_null(maxima, groups)


def poisson_null(expected: np.ndarray, scanned: np.ndarray, removed: np.ndarray,
                  max_window_days: int, k: int, groups: list[np.ndarray], n_surrogates: int,
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Null maxima from counts redrawn as Poisson(expected), baseline held fixed."""
    n_days = expected.shape[0]
    maxima = np.zeros((n_surrogates, 2))
    for b in range(n_surrogates):
        draw = rng.poisson(expected) * scanned
        scores = domain_scores(draw, expected, scanned, max_window_days, removed)
        maxima[b] = _null_maxima(lambda w, starts, scores=scores: scores[w, :, :starts],
                                 max_window_days, n_days, k, groups)
    return _as_null(maxima, groups)


# --- p-values and episodes ---------------------------------------------------------------------

def family_p(null_sorted: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``(1 + #{null ≥ value}) / (1 + B)``."""
    n = len(null_sorted)
    return (1 + n - np.searchsorted(null_sorted, values, side="left")) / (n + 1)
