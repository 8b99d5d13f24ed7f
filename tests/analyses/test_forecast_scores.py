"""Forecast scores against hand-computed values."""

import math

import numpy as np

from hybridwatch.analyses.forecast_scores import brier, log_loss, reliability, score_forecasts, skill


def test_brier_and_log_loss_by_hand():
    p, y = np.array([0.9, 0.2, 0.5]), np.array([1, 0, 1])
    assert brier(p, y) == (0.01 + 0.04 + 0.25) / 3
    assert math.isclose(log_loss(p, y), -(math.log(0.9) + math.log(0.8) + math.log(0.5)) / 3)
    assert skill(0.05, 0.1) == 0.5 and math.isnan(skill(0.1, 0.0))


def test_reliability_bins_count_and_average():
    rows = reliability(np.array([0.05, 0.07, 0.55, 0.58, 0.95]), np.array([0, 1, 1, 1, 1]))
    assert [r["n"] for r in rows] == [2, 0, 0, 0, 0, 2, 0, 0, 0, 1]
    assert rows[0]["observed_rate"] == 0.5 and math.isclose(rows[5]["mean_forecast"], 0.565)


def test_perfect_forecasts_have_full_skill_and_climatology_has_none():
    rng = np.random.default_rng(0)
    y = (rng.random(4000) < 0.3).astype(float)
    origin = np.repeat(np.arange(400), 10)
    clim = np.full(y.size, 0.3)
    perfect = score_forecasts(y, y, clim, np.roll(y, 1), origin)
    assert perfect.skill == 1.0 and perfect.demonstrated
    none = score_forecasts(clim, y, clim, np.roll(y, 1), origin)
    assert none.skill == 0.0 and not none.demonstrated
    assert "adds nothing" in none.verdict()


def test_skill_over_too_few_outcomes_is_not_demonstrated():
    """Perfect forecasts at two origins: a bootstrap over two origins is no evidence."""
    y = np.array([1, 1, 1, 0, 1, 1, 0, 1], float)
    few = score_forecasts(y, y, np.full(8, 0.5), np.zeros(8), np.repeat([0, 1], 4))
    assert few.skill == 1.0 and not few.enough_outcomes and not few.demonstrated
    assert few.verdict().startswith("Too few past outcomes to show skill: 6 of 8 past outcomes")
    assert few.to_dict()["n_positive"] == 6 and few.to_dict()["demonstrated"] is False
