"""The risk model against data with a known generating process (hidden campaign regimes that
persist, so the past predicts the next month) and against data whose future is independent of
its past."""

import numpy as np
import pytest

from hybridwatch.analyses.risk import assess_risk
from hybridwatch.analyses.risk_features import (
    DailyCells, iter_origin_features, origin_chunk_size, origin_features,
)
from hybridwatch.demo.risk_synth import synth_activity
from hybridwatch.workflows.assessment import judgement_confidence


def _run(predictable: bool, seed: int):
    data = synth_activity(predictable=predictable, random_state=seed)
    return data, assess_risk(data.counts, data.episode_starts, dates=data.dates,
                             targets=data.targets, domains=data.domains)


@pytest.fixture(scope="module")
def predictable():
    return _run(True, 2)


@pytest.fixture(scope="module")
def independent():
    return _run(False, 2)


def test_forecasts_of_a_known_process_are_calibrated_and_beat_climatology(predictable):
    _, result = predictable
    elevated = result.backtest["elevated"]
    assert elevated.n_forecasts > 10_000
    for row in elevated.reliability:
        if row["n"] >= 30:
            assert abs(row["mean_forecast"] - row["observed_rate"]) <= 0.1, row
    for outcome in ("episode", "elevated"):
        scores = result.backtest[outcome]
        assert scores.demonstrated and scores.skill > 0.05, (outcome, scores.skill)
        assert scores.brier < scores.brier_climatology


def test_no_skill_when_the_future_is_independent_of_the_past(independent):
    data, result = independent
    for outcome in ("episode", "elevated"):
        scores = result.backtest[outcome]
        assert abs(scores.skill) < 0.03, (outcome, scores.skill)
        assert not scores.demonstrated
        assert "adds nothing demonstrable over the base rate" in scores.verdict()
    risk = result.targets[0]
    level, reasons = judgement_confidence(result.backtest["episode"], risk, result.parameters,
                                          risk.episode)
    assert level == "low" and "no demonstrable skill" in reasons[0]


def test_drivers_add_up_to_the_forecast_and_intervals_contain_it(predictable):
    data, result = predictable
    for risk in result.targets:
        f = risk.episode
        assert f.low <= f.probability <= f.high
        assert {d["name"] for d in f.drivers} == {"activity", "activity_7d", "breadth",
                                                  "recent_episodes", "convergence"}


def test_features_use_only_the_past():
    """Features at an origin are the same whether or not later days exist; outcomes are the
    same once their horizon is inside the data, and unknown (NaN) otherwise."""
    data = synth_activity(predictable=True, random_state=3, n_days=900, n_targets=8)
    cut = 700
    origins = np.arange(400, cut, 9)
    kwargs = dict(horizon_days=30, recent_days=30, baseline_days=365, elevated_quantile=0.9,
                  min_baseline_events=10)
    conv = np.linspace(-1, 1, 900)
    full = origin_features(data.counts.astype(float), data.episode_starts.astype(float), conv,
                           origins, **kwargs)
    early = origin_features(data.counts[:cut].astype(float),
                            data.episode_starts[:cut].astype(float), conv[:cut], origins,
                            **kwargs)
    np.testing.assert_array_equal(full.elevated_x, early.elevated_x)
    np.testing.assert_array_equal(full.episode_x, early.episode_x)
    known = origins + 30 < cut
    np.testing.assert_array_equal(full.elevated_y[known], early.elevated_y[known])
    assert np.isnan(early.elevated_y[~known]).all() and not np.isnan(full.elevated_y).any()


def test_too_short_a_history_says_so():
    data = synth_activity(n_days=200, n_targets=3)
    result = assess_risk(data.counts, data.episode_starts, dates=data.dates,
                         targets=data.targets, domains=data.domains)
    assert any("only 200 days" in w for w in result.warnings)
    assert result.backtest["elevated"].n_forecasts == 0
    assert not result.targets[0].episode.fitted


def test_features_come_from_a_bounded_window_whatever_the_span():
    """Ten quiet years and one stray record before 900 days of data: every chunk of origins
    reads a slice no longer than its baseline, its origins and one horizon, and the features
    and outcomes are those computed on the whole span at once."""
    data = synth_activity(predictable=True, random_state=4, n_days=900, n_targets=5)
    pad = 3650
    counts = np.concatenate([np.zeros((pad,) + data.counts.shape[1:]), data.counts])
    counts[0, 2, 1] = 1                                         # the stray record
    starts = np.concatenate([np.zeros((pad, data.counts.shape[1])), data.episode_starts])
    conv = np.linspace(-1, 1, counts.shape[0])
    kwargs = dict(horizon_days=30, recent_days=30, baseline_days=365, elevated_quantile=0.9,
                  min_baseline_events=10)
    origins = np.arange(364, counts.shape[0], 7)
    per_chunk = origin_chunk_size(baseline_days=365, step_days=7)
    bound = 365 + (per_chunk - 1) * 7 + 30
    dense = origin_features(counts, starts, conv, origins, **kwargs)
    seen = []
    for start, stop, positions, chunk in iter_origin_features(
            DailyCells.from_dense(counts), DailyCells.from_dense(starts), conv, origins,
            origins_per_chunk=per_chunk, **kwargs):
        assert stop - start <= bound
        np.testing.assert_array_equal(chunk.elevated_x, dense.elevated_x[positions])
        np.testing.assert_array_equal(chunk.episode_x, dense.episode_x[positions])
        np.testing.assert_array_equal(chunk.elevated_y, dense.elevated_y[positions])
        np.testing.assert_array_equal(chunk.eligible, dense.eligible[positions])
        seen.append(positions)
    seen = np.concatenate(seen)
    # the quiet decade is skipped: nothing there could be forecast
    skipped = np.setdiff1d(np.arange(origins.size), seen)
    assert skipped.size > 400 and not dense.eligible[skipped].any()
    assert seen[-1] == origins.size - 1


def test_a_stray_old_record_does_not_change_the_features_at_the_origin():
    """Features read the baseline before the origin only: a record 14 years earlier changes
    the fit (more origins to learn from) but not what the forecast is made of."""
    data = synth_activity(predictable=True, random_state=5, n_days=800, n_targets=4)
    pad = 5000
    counts = np.concatenate([np.zeros((pad,) + data.counts.shape[1:], int), data.counts])
    counts[0, 1, 0] = 1
    starts = np.concatenate([np.zeros((pad, 4), bool), data.episode_starts])
    dates = np.datetime64("2000-01-01") + np.arange(counts.shape[0])
    stray = assess_risk(counts, starts, dates=dates, targets=data.targets, domains=data.domains)
    clean = assess_risk(data.counts, data.episode_starts, dates=dates[pad:],
                        targets=data.targets, domains=data.domains)
    assert stray.as_of == clean.as_of
    values = lambda risk: {d["name"]: d["value"] for d in risk.episode.drivers}  # noqa: E731
    for a, b in zip(stray.targets, clean.targets):
        assert a.recent_counts == b.recent_counts
        assert values(a) == values(b) and values(a)
        assert set(a.elevated) == set(b.elevated)


def test_backtest_refits_run_as_independent_tasks_in_other_processes(predictable):
    """The refits are tasks (``map_tasks``, Spark's seam): run in worker processes — pickled
    there and back, in any order — they give the very backtest the serial run gives."""
    from concurrent.futures import ProcessPoolExecutor

    data, serial = predictable
    calls = []

    def in_processes(function, items):
        calls.append(len(items))
        with ProcessPoolExecutor(max_workers=2) as pool:
            return list(pool.map(function, items))

    tasked = assess_risk(data.counts, data.episode_starts, dates=data.dates,
                         targets=data.targets, domains=data.domains, map_tasks=in_processes)
    assert len(calls) == 2 and min(calls) > 10   # one map per outcome, one task per refit
    assert tasked.to_json() == serial.to_json()
