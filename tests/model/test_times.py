"""Date parsing: every spelling sources use, to naive UTC with the right precision."""

from datetime import datetime

import pytest

from hybridwatch.model.times import parse_time


@pytest.mark.parametrize("text, expected", [
    ("2021-02-18T10:00:00Z", (datetime(2021, 2, 18, 10), "second")),
    ("2024-01-01T08:05:00+03:00", (datetime(2024, 1, 1, 5, 5), "second")),   # to UTC
    ("2024-01-01 08:05", (datetime(2024, 1, 1, 8, 5), "minute")),
    ("2022-02-28", (datetime(2022, 2, 28), "day")),
    ("20191024143000", (datetime(2019, 10, 24, 14, 30), "second")),
    ("1646064800", (datetime(2022, 2, 28, 16, 13, 20), "second")),          # epoch seconds
    ("Apr 17, 2022", (datetime(2022, 4, 17), "day")),
    ("2020", (datetime(2020, 1, 1), "year")),
])
def test_spellings(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["2024-01-01T25:05:00", "31/02/2024", "", "yesterday"])
def test_not_dates_raise(text):
    with pytest.raises(ValueError):
        parse_time(text)


def test_explicit_formats_restrict_parsing():
    assert parse_time("05-03-2022", formats=("%d-%m-%Y",)) == (datetime(2022, 3, 5), "day")
    with pytest.raises(ValueError):
        parse_time("2022-03-05T10:00:00", formats=("%d-%m-%Y",))
