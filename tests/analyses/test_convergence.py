"""The convergence index: rank scores by hand, missing components, and a planted rise."""

import numpy as np

from hybridwatch.analyses.convergence import ComponentSeries, convergence_index, rank_scores


def test_rank_scores_by_hand():
    values = np.array([1, 2, 3, 4, 5, 6, 3.5, np.nan, 10])
    scores = rank_scores(values, baseline_months=6, min_baseline_months=5)
    assert np.isnan(scores[:5]).all()                       # too little baseline: missing
    assert scores[5] == 1.0                                 # 6 is above 1 … 5
    assert scores[6] == 2 * (3 + 0) / 6 - 1                 # 3.5 is above 1, 2, 3 of 1 … 6
    assert np.isnan(scores[7])                              # no data that month
    assert scores[8] == 1.0                                 # above the five values it has


def test_ties_count_half():
    scores = rank_scores(np.zeros(8), baseline_months=6, min_baseline_months=6)
    assert scores[6] == 0.0 and scores[7] == 0.0


def test_missing_components_are_null_reweighted_and_lower_confidence():
    months = [f"2024-{m:02d}" for m in range(1, 13)] + [f"2025-{m:02d}" for m in range(1, 13)]
    rng = np.random.default_rng(0)
    rising = np.r_[rng.normal(0, 1, 18), 5, 6, 7, 8, 9, 10]
    gappy = np.r_[rng.normal(0, 1, 20), np.nan, np.nan, np.nan, np.nan]
    result = convergence_index(months, [
        ComponentSeries("cooperative_interaction", rising),
        ComponentSeries("narrative_alignment", gappy),
        ComponentSeries("operational_cooccurrence", np.full(24, np.nan)),
        ComponentSeries("technology_transfer", rising + 1)])
    periods = result.periods()
    last = periods[-1]
    assert last["components"]["narrative_alignment"] is None
    assert last["components"]["operational_cooccurrence"] is None
    assert set(last["coverage"]) == {"cooperative_interaction", "technology_transfer"}
    assert last["index"] == 1.0                      # the two with data are above every month
    assert last["confidence"] == "low"               # 45% of the weight has data
    full = periods[19]
    assert full["confidence"] != "low" and full["index"] is not None
    assert any("operational_cooccurrence" in w for w in result.warnings)


def test_bootstrap_band_contains_the_index():
    months = [str(m) for m in np.arange(np.datetime64("2023-01"), np.datetime64("2025-01"))]
    rng = np.random.default_rng(1)
    values = rng.normal(0, 1, 24)
    draws = values + rng.normal(0, 0.3, (200, 24))
    result = convergence_index(months, [ComponentSeries("cooperative_interaction", values, draws)])
    ok = ~np.isnan(result.index)
    assert (result.low[ok] <= result.index[ok] + 1e-9).all()
    assert (result.high[ok] >= result.index[ok] - 1e-9).all()
