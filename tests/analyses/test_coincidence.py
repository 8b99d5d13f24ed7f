"""Event coincidence analysis: rates equal pyunicorn's, analytic p-values are exact and calibrated."""

from __future__ import annotations

import itertools
import json
import warnings

import numpy as np
import pytest

from hybridwatch.analyses.coincidence import (
    CoincidenceResult,
    all_pairs,
    analytic_p_values,
    coincidence_rates,
    coincidence_test,
)
from hybridwatch.analyses.coincidence_pairs import PairsResult, _PairsEngine


@pytest.fixture(scope="module")
def EventSeries():
    return pytest.importorskip("pyunicorn.eventseries").EventSeries


def _random_pair(rng, n_days):
    pa, pb = rng.uniform(0.02, 0.4, 2)
    return (rng.random(n_days) < pa).astype(int), (rng.random(n_days) < pb).astype(int)


def test_rates_equal_pyunicorn_on_random_series(EventSeries):
    rng = np.random.default_rng(7)
    compared = 0
    for _ in range(120):
        a, b = _random_pair(rng, int(rng.integers(15, 400)))
        if a.sum() < 2 or b.sum() < 2:
            continue
        for window, lag in itertools.product((0, 1, 3, 7), (0, 1, 2, 5)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pyunicorn divides 0/0 on tiny series
                ref = EventSeries.event_coincidence_analysis(a, b, window, lag=lag)[:2]
            ours = coincidence_rates(a, b, window_days=window, lag_days=lag)
            for theirs, mine in zip(ref, ours[:2]):
                assert (np.isnan(theirs) and np.isnan(mine)) or np.float32(mine) == theirs
            compared += 1
    assert compared > 1500


def test_matrix_engine_equals_single_pair_rates_also_when_shifted():
    rng = np.random.default_rng(3)
    events = rng.random((400, 5)) < 0.1
    lags = (0, 1, 4)
    engine = _PairsEngine(events, 2, lags)
    for shift in (0, 35, 217):
        rates = engine.rates(*engine.shifted(shift))
        rolled = np.roll(events, shift, axis=0)
        for (li, lag), a, b in itertools.product(enumerate(lags), range(5), range(5)):
            if a != b:
                ref = coincidence_rates(events[:, a], rolled[:, b], window_days=2, lag_days=lag)
                assert rates[0, li, a, b] == pytest.approx(ref.precursor_rate, nan_ok=True)
                assert rates[1, li, a, b] == pytest.approx(ref.trigger_rate, nan_ok=True)


def test_all_pairs_p_values_equal_single_pair_test_with_exhaustive_shifts():
    rng = np.random.default_rng(4)
    events = rng.random((600, 4)) < 0.08
    pairs = all_pairs(events, list("wxyz"), window_days=2, lags=(0, 1), n_surrogates=1000,
                      null="shift", random_state=1)
    for i in range(len(pairs.a_index)):
        a, b = events[:, pairs.a_index[i]], events[:, pairs.b_index[i]]
        single = coincidence_test(a, b, window_days=2, lags=(0, 1), n_surrogates=1000,
                                  null="shift")
        lag = next(r for r in single.per_lag if r.lag_days == pairs.best_lag_days[i])
        assert pairs.p_precursor[i] == pytest.approx(lag.p_precursor)
        assert pairs.p_trigger[i] == pytest.approx(lag.p_trigger)
        assert pairs.precursor_rate[i] == pytest.approx(lag.precursor_rate)


def _brute_force_mid_p(a: np.ndarray, n_b: int, window: int):
    """Enumerate every B on len(a) days, weighted as Bernoulli(n_b / T) days: exact null of the
    precursor count of A. Returns (observed-count -> mid-p) as a function."""
    n_days = a.size
    q = n_b / n_days
    configs = ((np.arange(2 ** n_days)[:, None] >> np.arange(n_days)) & 1).astype(bool)
    weight = q ** configs.sum(1) * (1 - q) ** (n_days - configs.sum(1))
    days_a = np.flatnonzero(a)
    counted = days_a[days_a > days_a[0] + window]  # the edge rule at lag 0
    cum = np.concatenate([np.zeros((len(configs), 1), int), configs.cumsum(1)], axis=1)
    counts = ((cum[:, counted + 1] - cum[:, counted - window]) > 0).sum(1)
    return lambda k: weight[counts > k].sum() + 0.5 * weight[counts == k].sum()


def test_analytic_p_equals_exact_enumeration_when_windows_are_disjoint():
    n_days, window = 16, 2
    a = np.zeros(n_days, bool)
    a[[1, 5, 9, 13]] = True  # counted A-days 5, 9, 13: windows [3,5], [7,9], [11,13] disjoint
    exact = _brute_force_mid_p(a, n_b=4, window=window)
    for k in range(4):
        ours, _ = analytic_p_values(k, 3, 0, 1, n_a=4, n_b=4, n_days=n_days, window_days=window)
        assert float(ours) == pytest.approx(exact(k), abs=1e-12)


def test_analytic_p_close_to_simulation_when_windows_overlap():
    """With randomly placed A-days some windows overlap: the binomial is then an approximation
    (slightly anti-conservative in the far tail); here it stays within 0.03 of 200k placements."""
    rng = np.random.default_rng(11)
    n_days, window, n_b = 200, 3, 16
    days_a = np.flatnonzero(rng.random(n_days) < 0.08)
    counted = days_a[days_a > days_a[0] + window]
    assert np.any(np.diff(counted) <= window)  # some windows do overlap
    b_sims = rng.random((200_000, n_days)) < n_b / n_days
    cum = np.concatenate([np.zeros((len(b_sims), 1), int), b_sims.cumsum(1)], axis=1)
    counts = ((cum[:, counted + 1] - cum[:, counted - window]) > 0).sum(1)
    for k in range(2, 10):
        sim = np.mean(counts > k) + 0.5 * np.mean(counts == k)
        ours, _ = analytic_p_values(k, counted.size, 0, 1, n_a=days_a.size, n_b=n_b,
                                    n_days=n_days, window_days=window)
        assert float(ours) == pytest.approx(sim, abs=0.03)


def test_analytic_false_positive_rate_is_nominal_and_pyunicorn_over_rejects(EventSeries):
    rng = np.random.default_rng(0)
    ours, theirs = [], []
    for _ in range(600):
        a, b = rng.random(730) < 0.06, rng.random(730) < 0.08
        result = coincidence_test(a, b, window_days=3, lags=(0,), null="poisson")
        ours.append(result.per_lag[0].p_precursor)
        es = EventSeries(np.column_stack([a, b]).astype(int), taumax=3, lag=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            significance = es.event_analysis_significance(method="ECA", surrogate="analytic",
                                                          window_type="advanced")
        theirs.append(significance[0, 1])  # pyunicorn returns 1 - p
    assert 0.03 <= np.mean(np.asarray(ours) <= 0.05) <= 0.07
    assert np.mean(np.asarray(theirs) > 0.95) > 0.07


def test_planted_coupling_is_found_at_the_right_lag_with_evidence():
    rng = np.random.default_rng(5)
    b = rng.random(1500) < 0.05
    a = rng.random(1500) < 0.03
    a[np.flatnonzero(b)[rng.random(b.sum()) < 0.5] + 2] = True  # A follows B by 2 days
    result = coincidence_test(a, b, window_days=0, lags=(0, 1, 2, 3), random_state=2)
    assert result.best_lag_days == 2 and result.p_value < 0.01
    lag2 = result.per_lag[2]
    assert np.all(np.subtract(lag2.precursor_a_days, lag2.precursor_b_days) == 2)
    assert lag2.k_precursor == round(lag2.precursor_rate * lag2.n_precursor)
    independent = coincidence_test(rng.random(1500) < 0.05, b, window_days=0, random_state=2)
    assert independent.p_value > 0.01


def test_degenerate_input_gives_nan_and_warning():
    empty = coincidence_test(np.zeros(100, bool), np.ones(100, bool), window_days=3)
    assert np.isnan(empty.p_value) and "no events in a" in empty.warnings[0]
    short = coincidence_test(np.ones(20, bool), np.ones(20, bool), window_days=3)
    assert np.isnan(short.p_value) and "too short" in short.warnings[0]
    with pytest.raises(ValueError, match="same days"):
        coincidence_test(np.ones(20, bool), np.ones(21, bool))
    with pytest.raises(ValueError, match="unknown null"):
        coincidence_test(np.ones(20, bool), np.ones(20, bool), null="magic")


def test_results_round_trip_through_json():
    rng = np.random.default_rng(9)
    a, b = rng.random(300) < 0.1, rng.random(300) < 0.1
    result = coincidence_test(a, b, null="shuffle", n_surrogates=50, random_state=3)
    again = CoincidenceResult.from_dict(json.loads(json.dumps(result.to_dict(), allow_nan=False)))
    assert again == result
    pairs = all_pairs(np.column_stack([a, b, np.zeros(300, bool)]), ["a", "b", "none"],
                      window_days=3, null="poisson")
    data = json.loads(json.dumps(pairs.to_dict(), allow_nan=False))
    back = PairsResult.from_dict(data)
    assert back.to_dict() == pairs.to_dict()
    assert "series 'none' has no events" in back.warnings
