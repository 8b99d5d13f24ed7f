"""False discovery rate control for many tests (Benjamini–Hochberg)."""

from __future__ import annotations

import numpy as np


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini–Hochberg q-values (adjusted p-values), same shape as ``p_values``.

    ``q_(i) = min_{j >= i} m p_(j) / j`` over the sorted p-values, capped at 1; a test is a discovery
    at FDR level alpha when ``q <= alpha``. NaN p-values (tests that could not be run) stay NaN and
    do not count in ``m``. Valid under independence and positive dependence (PRDS) of the tests.
    """
    p = np.asarray(p_values, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    q = np.full(p.shape, np.nan)
    finite = ~np.isnan(p)
    m = int(finite.sum())
    if m == 0:
        return q
    values = p[finite]
    order = np.argsort(values, kind="stable")
    scaled = values[order] * m / np.arange(1, m + 1)
    # running minimum from the largest p-value down makes q monotone in p
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = adjusted
    q[finite] = out
    return q
