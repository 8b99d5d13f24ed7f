"""Coverage on real public data (../shared/data): EUvsDisinfo case dates and the 2022 Chinese
state-media headline scrape, whose stray old "most read" headlines must not stretch a window."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date

import numpy as np
import pytest

from hybridwatch.analyses.coverage import source_coverage
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file


def _coverage(name: str, per_day: Counter) -> object:
    days = np.array(sorted(per_day), dtype="datetime64[D]")
    return source_coverage(name, days, [per_day[str(d)] for d in days])


@pytest.fixture(scope="module")
def euvsdisinfo_days(shared_data) -> Counter:
    with open(shared_data / "euvsdisinfo_cknabs" / "posts.csv", newline="",
              encoding="utf-8") as handle:
        return Counter(row["date"][:10] for row in csv.DictReader(handle))


def test_euvsdisinfo_dense_span_and_its_early_strays(euvsdisinfo_days):
    c = _coverage("euvsdisinfo", euvsdisinfo_days)
    assert (c.first, c.last) == (date(2015, 1, 6), date(2021, 2, 18))
    assert c.dense_last == date(2021, 2, 18)
    # the database logged a handful of cases before it reported daily (late 2015)
    assert date(2015, 6, 1) <= c.dense_first <= date(2015, 12, 31)
    early = sum(n for d, n in euvsdisinfo_days.items() if d < c.dense_first.isoformat())
    assert c.n_outliers == early and early / c.records < 0.01


def test_headline_outlets_ignore_their_old_most_read_items(shared_data):
    per_outlet: dict[str, Counter] = {}
    with open(shared_data / "cn_state_media_headlines_2022" / "headlines_all.csv", newline="",
              encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["published"]:
                per_outlet.setdefault(row["outlet"], Counter())[row["published"][:10]] += 1
    for outlet, per_day in per_outlet.items():
        c = _coverage(outlet, per_day)
        before_2022 = sum(n for d, n in per_day.items() if d < "2022-01-01")
        assert c.dense_first >= date(2022, 1, 1), outlet
        assert c.dense_last >= date(2022, 9, 1), outlet
        assert c.n_outliers >= before_2022 and c.n_outliers / c.records < 0.01, outlet


def test_source_days_of_a_real_file_match_the_csv(shared_data, tmp_path, euvsdisinfo_days):
    with EventStore(tmp_path / "real.duckdb") as store:
        ingest_file(store, shared_data / "euvsdisinfo_cknabs" / "posts.csv")
        table = store.source_days()
    got = {str(d): n for d, n in zip(table["day"].to_pylist(), table["records"].to_pylist())}
    assert got == dict(euvsdisinfo_days)
