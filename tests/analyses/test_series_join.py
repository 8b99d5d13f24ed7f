"""Series of many selectors in one query (``analyses.series.series_counts``: the events joined
with a table of the selectors). Checked against counts made here in plain Python from the rows
written to the store, for selectors with and without an equality key (domain), several values,
prefixes, several targets and intensity sums."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from hybridwatch.analyses.selectors import Selector, parse_grid, parse_selector
from hybridwatch.analyses.series import daily_series, selector_table
from hybridwatch.store import EventStore

DOMAINS = ("cyber", "military", "diplomacy")
TARGETS = ("DEU", "POL", "TWN", "UKR")
ACTORS = ("RUS", "CHN", None)
CODES = ("190", "193", "1011", "042", "172")
START = date(2024, 1, 1)


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[Path, list[dict]]:
    rng = np.random.default_rng(5)
    rows = []
    for i in range(600):
        targets = list(dict.fromkeys(rng.choice(TARGETS, size=int(rng.integers(0, 3)))))
        rows.append({"id": f"e{i}", "day": START + timedelta(days=int(rng.integers(0, 40))),
                     "domain": DOMAINS[rng.integers(3)], "targets": targets,
                     "actor": ACTORS[rng.integers(3)], "code": CODES[rng.integers(5)],
                     "source": ("gdelt", "acled")[rng.integers(2)],
                     "intensity": None if rng.random() < 0.2 else float(rng.integers(1, 9))})
    path = tmp_path_factory.mktemp("series-join") / "s.duckdb"
    with EventStore(path) as store:
        store._con.executemany(
            "INSERT INTO events (event_id, source, source_record_id, occurred_at, "
            "occurred_precision, domain, target_iso3s, actor_iso3, source_type, intensity) "
            "VALUES (?, ?, ?, ?, 'day', ?, ?::VARCHAR[], ?, ?, ?)",
            [(r["id"], r["source"], r["id"], r["day"], r["domain"], r["targets"], r["actor"],
              r["code"], r["intensity"]) for r in rows])
    return path, rows


def _matches(row: dict, filters: dict) -> bool:
    columns = {"domain": row["domain"], "actor_iso3": row["actor"], "source": row["source"],
               "source_type": row["code"]}
    for column, values in filters.items():
        if column == "target_iso3":
            if not set(values) & set(row["targets"]):
                return False
        elif not any(columns[column] is not None and (columns[column].startswith(v[:-1])
                     if v.endswith("*") else columns[column] == v) for v in values):
            return False
    return True


def _several(label: str, **filters: tuple[str, ...]) -> Selector:
    """A selector with several values per key (the API builds these; the CLI parses one)."""
    return Selector(tuple(filters.items()), None, label)


SELECTORS = [
    *parse_grid("domain=cyber,military target=DEU,POL"),          # a grid: domain is the key
    _several("any of two targets", target_iso3=("DEU", "TWN")),   # no key
    parse_selector("source_type=19* actor=RUS"),                   # a prefix
    _several("prefix and exact", source_type=("1*", "042"), domain=("diplomacy", "cyber")),
    parse_selector("source=acled count>=2"),
]


def test_one_query_counts_every_selector_like_a_row_by_row_count(planted) -> None:
    path, rows = planted
    with EventStore(path, read_only=True) as store:
        matrix = daily_series(store.ibis_events(), SELECTORS)
    assert matrix.dates[0] == np.datetime64(START)
    for s, selector in enumerate(SELECTORS):
        counts = np.zeros(matrix.dates.size, np.int64)
        intensity = np.zeros(matrix.dates.size)
        for row in rows:
            if _matches(row, selector.as_mapping()):
                day = (row["day"] - START).days
                counts[day] += 1
                intensity[day] += row["intensity"] or 0.0
        assert counts.sum() > 10, selector.label   # every selector selects something
        assert np.array_equal(matrix.counts[:, s], counts), selector.label
        assert np.allclose(matrix.intensity[:, s], intensity), selector.label
    assert np.array_equal(matrix.events[:, -1], matrix.counts[:, -1] >= 2)


def test_the_selector_table_uses_domain_as_key_only_when_every_selector_has_one(planted) -> None:
    path, _ = planted
    with EventStore(path, read_only=True) as store:
        events = store.ibis_events()
        grid = parse_grid("domain=cyber,military target=DEU,POL")
        table, key, spec = selector_table(events, grid)
        assert key == "domain" and set(spec) == {"target_iso3"}
        assert table["series"].to_pylist() == [0, 1, 2, 3]
        table, key, spec = selector_table(events, SELECTORS)
        assert key is None and spec["source_type"] == (1, 2)
        both = _several("two domains", domain=("cyber", "military"), actor_iso3=("RUS",))
        table, key, _ = selector_table(events, [both])
        assert key == "domain" and table.num_rows == 2       # one row per key value
        assert table["actor_iso3__in"].to_pylist() == [["RUS"], ["RUS"]]
