"""Selectors on the "where" dimension (``where=TWN``) and on theatres (``theatre="Taiwan
Strait"``): parsing, and the series they build on a store whose events are written here."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridwatch.analyses.selectors import parse_grid, parse_selector
from hybridwatch.analyses.series import daily_series
from hybridwatch.errors import SelectorError
from hybridwatch.store import EventStore
from hybridwatch.workflows.coordination import coincide
from hybridwatch.workflows.evidence import located_events


def test_parsing_keeps_quoted_names_and_upper_cases_codes() -> None:
    selector = parse_selector('theatre="Taiwan Strait" domain=military where=twn')
    assert selector.as_mapping() == {"theatre": ("Taiwan Strait",), "domain": ("military",),
                                     "wheres": ("TWN",)}
    assert selector.located
    assert selector.label == 'theatre="Taiwan Strait" domain=military where=TWN'
    assert parse_selector(selector.label) == selector
    assert [s.label for s in parse_grid('theatre="Black Sea","Sea of Azov" domain=military')] \
        == ['theatre="Black Sea" domain=military', 'theatre="Sea of Azov" domain=military']
    assert not parse_selector("domain=cyber target=DEU").located
    with pytest.raises(SelectorError, match="unbalanced"):
        parse_selector('theatre="Taiwan Strait')


@pytest.fixture()
def store(tmp_path: Path):
    rows = [  # day, domain, target, location country, lat, lon
        ("2024-01-01", "military", None, None, 24.0, 119.5),   # Strait, by coordinates only
        ("2024-01-01", "military", "TWN", None, 24.0, 119.5),  # in the Strait, aimed at Taiwan
        ("2024-01-02", "military", None, "TWN", 25.0, 121.5),  # Taipei
        ("2024-01-02", "cyber", "TWN", None, None, None),
        ("2024-01-03", "military", None, None, 43.0, 35.0),    # Black Sea
        ("2024-01-04", "military", "DEU", None, None, None),
    ]
    with EventStore(tmp_path / "s.duckdb") as opened:
        opened._con.executemany(
            "INSERT INTO events (event_id, source, source_record_id, occurred_at, "
            "occurred_precision, domain, target_iso3s, location_iso3, lat, lon) "
            "VALUES (?, 'test', ?, ?, 'day', ?, list_filter([?::VARCHAR], lambda x: x IS NOT "
            "NULL), ?, ?, ?)",
            [(str(i), str(i), *row) for i, row in enumerate(rows)])
        yield opened


def _counts(store: EventStore, text: str) -> list[int]:
    selectors = parse_grid(text)
    matrix = daily_series(located_events(store, selectors), selectors)
    return matrix.counts.sum(axis=0).tolist()


def test_where_and_theatre_select_the_right_events(store: EventStore) -> None:
    assert _counts(store, "where=TWN") == [3]                 # two targets, one location
    assert _counts(store, 'where="Taiwan Strait"') == [1]     # the one without target
    assert _counts(store, 'theatre="Taiwan Strait"') == [2]   # every event in the Strait
    assert _counts(store, 'theatre="taiwan strait" domain=military') == [2]
    assert _counts(store, 'theatre="Black Sea","Taiwan Strait"') == [1, 2]
    assert _counts(store, "where=TWN,DEU domain=military") == [2, 1]


def test_unknown_theatres_are_refused_with_the_known_names(store: EventStore) -> None:
    with pytest.raises(SelectorError, match="unknown theatre 'Taiwan Straits'.*Taiwan Strait"):
        _counts(store, 'theatre="Taiwan Straits"')
    with pytest.raises(SelectorError, match="write the theatre as 'Taiwan Strait'"):
        _counts(store, 'where="taiwan strait"')


def test_coincide_runs_on_theatre_series(store: EventStore) -> None:
    report = coincide(store, 'theatre="Taiwan Strait"', "where=TWN domain=cyber",
                      n_surrogates=19, random_state=1).to_dict()
    assert report["a"] == 'theatre="Taiwan Strait"' and report["n_a"] >= 1
