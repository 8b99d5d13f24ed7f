"""The shift null of ``all_pairs`` by FFT: the coincidence counts of every pair under every
circular shift at once, instead of two matrix products per shift.

Under a circular shift by ``k`` days, a pair's precursor count at lag τ is one value of a
circular cross-correlation: ``Σ_v counted_τ[v, a] · back[(v - τ - k) mod T, b]`` (``counted_τ``:
the A-events the lag counts, ``back``: B dilated backwards by the window), i.e. the correlation
``c`` at ``m = (k + τ) mod T``. A longer lag counts the same A-events but a few right after a
series' first event (``counted_τ ⊆ counted_τmin``): one correlation of ``counted_τmin`` serves
every lag, less those few events' terms, summed directly. The trigger count before the edge
rule is the correlation of A dilated forwards with B's events at the same ``m``, again one for
every lag. So all shifts and lags cost two correlations per pair, each an FFT product of
length ``N ≥ 2T`` (B repeated twice, so the circular shift is a plain correlation); the
B-events the edge rule drops at the end of each shifted series are subtracted per shift as in
``_PairsEngine.counts``. The correlations are rounded to integers: float32 FFTs err by about
``1e-6 · T`` at most, far from 0.5, so the counts are the exact integers the matrix products
give, and the rates, p-values and q-values are the same as one product per shift (a test
checks it against that reference).

Work is done for a few A-series at a time (``A_CHUNK``), so memory stays near
``A_CHUNK × S × N`` complex numbers whatever the number of series.
"""

from __future__ import annotations

import os

import numpy as np
import scipy.fft

#: A-series whose correlations with every B-series are computed together.
A_CHUNK = 4


def _workers() -> int:
    """FFT threads: the BLAS/OpenMP thread setting when there is one, else every core."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


class ShiftCounts:
    """Rates of every pair under a set of circular shifts, chunk by chunk of A-series."""

    def __init__(self, engine, shifts: np.ndarray) -> None:  # noqa: D107
        self.engine, self.shifts = engine, np.asarray(shifts, dtype=np.int64)
        n_days = engine.n_days
        self.size = scipy.fft.next_fast_len(2 * n_days, real=True)
        self.workers = _workers()
        twice = lambda x: np.concatenate([x, x]).astype(np.float32)  # noqa: E731
        # the B side, shared by every chunk: spectra of the periodic extensions
        self.back_hat = scipy.fft.rfft(twice(engine.back), n=self.size, axis=0,
                                       workers=self.workers)
        self.events_hat = scipy.fft.rfft(twice(engine.events), n=self.size, axis=0,
                                         workers=self.workers)
        lags = np.asarray(engine.lags)
        # correlation index of (shift, lag): c[m] = r[T - m] with m = (k + τ) mod T
        self.index = n_days - (self.shifts[:, None] + lags[None, :]) % n_days  # (K, L)
        # the shifted series' last events and the edge rule's dropped days (per shift)
        before = engine.last_before[n_days - 1 - self.shifts]            # (K, S)
        last = np.where(before >= 0, before + self.shifts[:, None],
                        engine.last[None, :] + self.shifts[:, None] - n_days)
        self.last = np.where(engine.n_events[None, :] > 0, last, -1)
        # the lag that counts the most A-events; the others count those less a few early ones
        self.ref = int(np.argmin(engine.lags))
        self.early = [engine.counted[self.ref] & ~counted for counted in engine.counted]

    def _correlate(self, a_side: np.ndarray, b_hat: np.ndarray) -> np.ndarray:
        """r[a, b, j] = Σ_v a_side[v, a] · b2[v + j, b] for j in [0, N) (b2: B twice)."""
        a_hat = scipy.fft.rfft(a_side.astype(np.float32), n=self.size, axis=0,
                               workers=self.workers)
        product = np.conj(a_hat.T)[:, None, :] * b_hat.T[None, :, :]   # (A, S, F)
        return scipy.fft.irfft(product, n=self.size, axis=-1, workers=self.workers)

    def rates(self, rows: slice) -> np.ndarray:
        """(K, 2, L, A, S) rates of the A-series ``rows`` against every series, per shift."""
        engine, shifts = self.engine, self.shifts
        n_days, window, lags = engine.n_days, engine.window, engine.lags
        n_shifts, n_lags, n_b = shifts.size, len(lags), engine.n_series
        a_ids = np.arange(engine.n_series)[rows]
        prec = np.empty((n_shifts, n_lags, a_ids.size, n_b), dtype=np.float32)
        trig = np.empty_like(prec)
        trig_den = np.empty((n_shifts, n_lags, 1, n_b))
        forward = engine.forward[:, a_ids]
        r_trig = self._correlate(forward, self.events_hat)             # (A, S, N)
        r_prec = self._correlate(engine.counted[self.ref][:, a_ids], self.back_hat)
        b_cols = np.arange(n_b)
        for i, lag in enumerate(lags):
            at = self.index[:, i]
            prec[:, i] = np.moveaxis(np.rint(np.take(r_prec, at, axis=-1)), -1, 0)
            days, series = np.nonzero(self.early[i][:, a_ids])         # not counted at this lag
            if days.size:
                terms = engine.back[(days[:, None] - lag - shifts[None, :]) % n_days]  # (P,K,S)
                owner = (series[None, :] == np.arange(a_ids.size)[:, None]).astype(np.float32)
                prec[:, i] -= np.einsum("ap,pks->kas", owner, terms)
            counts = np.moveaxis(np.rint(np.take(r_trig, at, axis=-1)), -1, 0)  # (K, A, S)
            # the edge rule: B-events on the last span + 1 days of each shifted series
            span = lag + window if (lag or window) else -1
            idx = self.last[:, None, :] - np.arange(span + 1)[None, :, None]  # (K, D, S)
            safe = np.clip(idx, 0, None)
            tail = (engine.events[(safe - shifts[:, None, None]) % n_days, b_cols]
                    & (idx >= 0)).astype(np.float32)                    # (K, D, S)
            f_tail = forward[(safe + lag) % n_days]                     # (K, D, S, A)
            dropped = np.einsum("kdsa,kds->kas", f_tail.astype(np.float32), tail)
            trig[:, i] = counts.astype(np.float32) - dropped
            trig_den[:, i, 0] = engine.n_events[None, :] - tail.sum(axis=1)
        rates = np.empty((n_shifts, 2, n_lags, a_ids.size, n_b))
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(prec, engine.n_prec[None, :, a_ids, None], out=rates[:, 0])
            np.divide(trig, trig_den, out=rates[:, 1])
        return rates


def monte_carlo_shifts(engine, observed: np.ndarray, pilot: np.ndarray, shifts: np.ndarray):
    """``_monte_carlo`` of ``all_pairs`` for the shift null: the same pilot standardisation
    (accumulated in the pilot's order, so the same floating-point sums) and exceedance counts,
    computed for a chunk of A-series at a time from ``ShiftCounts``."""
    from hybridwatch.analyses.coincidence_pairs import _max_over_components

    counts = ShiftCounts(engine, shifts)
    position = {int(k): n for n, k in enumerate(counts.shifts)}
    pilot_at = [position[int(k)] for k in pilot]
    n_a = engine.n_series
    z_obs = np.empty(observed.shape)
    exceed_comp = np.zeros(observed.shape)
    exceed_pair = np.zeros(observed.shape[2:])
    max_obs = np.empty(observed.shape[2:])
    for start in range(0, n_a, A_CHUNK):
        rows = slice(start, min(start + A_CHUNK, n_a))
        rates = counts.rates(rows)                                     # (K, 2, L, A, S)
        obs = observed[:, :, rows]
        total, total_sq, count = (np.zeros(obs.shape) for _ in range(3))
        for k in pilot_at:
            r = rates[k]
            finite = np.isfinite(r)
            r = np.where(finite, r, 0.0)
            total += r
            total_sq += r * r
            count += finite
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
            sd = np.maximum(np.sqrt(np.maximum(total_sq / count - mean * mean, 0.0)), 1e-9)
            z_obs[:, :, rows] = z = (obs - mean) / sd
            max_obs[rows] = top = _max_over_components(z)
            exceed_comp[:, :, rows] = np.count_nonzero(rates >= obs[None], axis=0)
            z = np.subtract(rates, mean, out=rates)                    # rates no longer needed
            np.divide(z, sd, out=z)
            # the maximum over rates and lags, NaN ignored (-inf when all are NaN)
            surrogate_max = np.fmax.reduce(np.fmax.reduce(z, axis=1), axis=1)
            surrogate_max[np.isnan(surrogate_max)] = -np.inf
            exceed_pair[rows] = np.count_nonzero(surrogate_max >= top[None], axis=0)
    n_used = counts.shifts.size
    p_comp = np.where(np.isnan(observed), np.nan, (1 + exceed_comp) / (1 + n_used))
    p_pair = np.where(np.isfinite(max_obs), (1 + exceed_pair) / (1 + n_used), np.nan)
    return p_comp, z_obs, p_pair, n_used
