"""Coverage rules on generated reporting shapes: strays are outliers, growth is not."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from hybridwatch.analyses.coverage import SourceCoverage, source_coverage, weekly_cycle
from coverage_data import (
    combine, growing_reports, scattered, steady, weekly_batches,
)

SEEDS = range(6)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_1982_record_in_a_2010s_list_is_an_outlier(seed):
    rng = np.random.default_rng(seed)
    days, records = combine(steady(rng, "2010-01-01", "2019-12-31", 0.4),
                            (np.array(["1982-05-01"], "datetime64[D]"), np.array([1])))
    c = source_coverage("cyber_list", days, records)
    assert c.first == date(1982, 5, 1)
    assert date(2010, 1, 1) <= c.dense_first <= date(2010, 1, 15)
    assert c.outliers == ((date(1982, 5, 1), date(1982, 5, 1), 1),)
    assert c.n_outliers == 1 and c.dense_last >= date(2019, 12, 15)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_mistyped_future_date_does_not_stretch_the_end(seed):
    rng = np.random.default_rng(seed)
    days, records = combine(weekly_batches(rng, "2015-01-01", "2021-02-18"),
                            (np.array(["2025-03-01"], "datetime64[D]"), np.array([1])))
    c = source_coverage("euvsdisinfo", days, records)
    assert c.last == date(2025, 3, 1)
    assert date(2021, 2, 10) <= c.dense_last <= date(2021, 2, 18)
    assert c.outliers == ((date(2025, 3, 1), date(2025, 3, 1), 1),)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_mistyped_date_months_after_the_end_is_an_outlier_too(seed):
    # within a year of the list's end: same segment, cut as a sparse edge
    rng = np.random.default_rng(seed)
    days, records = combine(weekly_batches(rng, "2015-01-01", "2021-02-18"),
                            (np.array(["2021-09-03"], "datetime64[D]"), np.array([1])))
    c = source_coverage("euvsdisinfo", days, records)
    assert c.dense_last <= date(2021, 2, 18) and c.n_outliers == 1


@pytest.mark.parametrize("seed", SEEDS)
def test_scattered_old_headlines_before_a_2022_corpus_are_outliers(seed):
    rng = np.random.default_rng(seed)
    core = steady(rng, "2022-03-01", "2022-09-15", 200.0)
    old = scattered(rng, "2019-01-01", "2022-02-27", 336)
    days, records = combine(core, old)
    c = source_coverage("headlines", days, records)
    assert date(2022, 3, 1) <= c.dense_first <= date(2022, 3, 3)
    assert c.dense_last == date(2022, 9, 15)
    assert c.n_outliers == 336
    assert c.n_outliers / c.records < 0.01


@pytest.mark.parametrize("seed", SEEDS)
def test_growing_stix_reporting_is_not_trimmed(seed):
    rng = np.random.default_rng(seed)
    days, records = growing_reports(rng)
    c = source_coverage("stix", days, records)
    assert (c.dense_first, c.dense_last) == (c.first, c.last)
    assert c.n_outliers == 0 and c.outliers == ()


@pytest.mark.parametrize("seed", SEEDS)
def test_a_very_sparse_source_keeps_everything(seed):
    # 40 campaigns over 20 years: nothing to call an outlier
    rng = np.random.default_rng(seed)
    days, records = scattered(rng, "2000-01-01", "2019-12-31", 40)
    c = source_coverage("campaigns", days, records)
    assert c.n_outliers == 0


def test_weekly_batches_show_a_cycle_and_daily_reporting_does_not():
    rng = np.random.default_rng(7)
    c = source_coverage("euvsdisinfo", *weekly_batches(rng, weekday=3))
    assert c.weekly_cycle is not None and c.weekly_cycle[0] == "Thursday"
    assert c.weekly_cycle[1] > 0.8
    daily = source_coverage("gdelt", *steady(rng, "2020-01-01", "2020-12-31", 50.0))
    assert daily.weekly_cycle is None
    assert weekly_cycle(np.array(["2020-01-02"], "datetime64[D]"), [5]) is None  # too few


def test_gaps_inside_the_dense_span():
    rng = np.random.default_rng(3)
    days, records = combine(steady(rng, "2020-01-01", "2020-05-31", 5.0),
                            steady(rng, "2020-08-01", "2020-12-31", 5.0))
    c = source_coverage("feed", days, records)
    assert len(c.gaps) == 1
    start, end = c.gaps[0]
    assert date(2020, 5, 25) <= start <= date(2020, 6, 1) and date(2020, 7, 31) <= end
    assert c.to_dict()["gaps"][0]["days"] == (end - start).days + 1


def test_weekends_are_not_gaps_and_the_dict_round_trips():
    rng = np.random.default_rng(4)
    c = source_coverage("euvsdisinfo", *weekly_batches(rng, off_day_rate=0.0))
    assert c.gaps == ()
    assert SourceCoverage.from_dict(c.to_dict()) == c


def test_no_records_is_an_error():
    with pytest.raises(ValueError, match="no records"):
        source_coverage("empty", np.array([], "datetime64[D]"), [])
