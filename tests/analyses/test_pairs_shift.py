"""The shift null's FFT path (``analyses.pairs_shift``) gives exactly what one pair of matrix
products per shift gives (the reference path of ``coincidence_pairs``), and the surrogates
shared among threads give exactly the serial counts."""

from __future__ import annotations

import numpy as np
import pytest

from hybridwatch.analyses import coincidence_pairs as cp
from hybridwatch.analyses import surrogates as surr
from hybridwatch.analyses.pairs_shift import ShiftCounts, monte_carlo_shifts


def _events() -> np.ndarray:
    events = surr.simulate_bursty_events(420, 7, random_state=3)
    events[:, 2] = False                  # no events
    events[:, 3] = False
    events[417:, 3] = True                # events only at the very end (the edge rule)
    events[:5, 4] = True                  # a burst at the start (early events, lag masks)
    return events


@pytest.mark.parametrize("window, lags", [(0, (0,)), (2, (0, 1, 3)), (3, (2, 5)), (0, (1, 4))])
def test_fft_counts_equal_one_product_per_shift(window, lags):
    engine = cp._PairsEngine(_events(), window, lags)
    shifts = surr.admissible_shifts(engine.n_days, surr.min_shift_days(window, max(lags)))
    fast = ShiftCounts(engine, shifts)
    for rows in (slice(0, 4), slice(4, 7)):
        rates = fast.rates(rows)
        for n, k in enumerate(shifts):
            reference = engine.rates(*engine.shifted(int(k)))[:, :, rows]
            np.testing.assert_array_equal(rates[n], reference)


@pytest.mark.parametrize("n_surrogates", [20, 1000])
def test_fft_monte_carlo_equals_the_reference_path(n_surrogates):
    window, lags = 2, (0, 1, 3)
    engine = cp._PairsEngine(_events(), window, lags)
    observed = engine.rates(*engine.shifted(0))
    min_shift = surr.min_shift_days(window, max(lags))
    reference = cp._monte_carlo(engine, observed, cp._surrogate_batches(
        engine, "shift", n_surrogates, min_shift, np.random.default_rng(11)))
    rng = np.random.default_rng(11)
    shifts = surr.draw_shifts(engine.n_days, n_surrogates, min_shift, rng)
    pilot = rng.choice(shifts, size=min(cp.N_PILOT, shifts.size), replace=False)
    fast = monte_carlo_shifts(engine, observed, pilot, shifts)
    for got, want in zip(fast, reference):
        np.testing.assert_array_equal(got, want)
    admissible = surr.admissible_shifts(engine.n_days, min_shift).size
    assert fast[3] == min(n_surrogates, admissible)  # every shift once when asked for more


@pytest.mark.parametrize("null", ["block", "strata"])
def test_surrogates_shared_among_threads_give_the_serial_counts(monkeypatch, null):
    engine = cp._PairsEngine(_events(), 2, (0, 1))
    observed = engine.rates(*engine.shifted(0))
    min_shift = surr.min_shift_days(2, 1)

    def run(threads: int):
        monkeypatch.setattr(cp, "_blas_threads", lambda: threads)
        return cp._monte_carlo(engine, observed, cp._surrogate_batches(
            engine, null, 150, min_shift, np.random.default_rng(5)))

    serial, shared = run(1), run(3)
    for got, want in zip(shared, serial):
        np.testing.assert_array_equal(got, want)
    assert shared[3] == 150
