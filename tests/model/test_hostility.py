"""The hostility rule per source (docs/hostility.md), on rows written here and on real GDELT rows,
whose own QuadClass column is the independent truth."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

from hybridwatch.model.hostility import COOPERATIVE_SQL, HOSTILE_SQL
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

ROWS = [  # (source, source_type, intensity_kind, hostile?, cooperative?)
    ("gdelt", "042", "goldstein", False, True),       # consult: cooperative (QuadClass 1)
    ("gdelt", "0874", "goldstein", False, True),      # yield
    ("gdelt", "090", "goldstein", False, True),       # investigate: QuadClass 2 in GDELT
    ("gdelt", "1011", "goldstein", True, False),      # demand: QuadClass 3
    ("gdelt", "1383", "goldstein", True, False),      # threaten
    ("gdelt", "190", "goldstein", True, False),       # fight
    ("gdelt", None, None, False, False),              # no code: neither
    ("news_map", "036", "goldstein", False, True),    # a mapped CAMEO-coded source
    ("acled", "Armed clash", "fatalities", True, False),
    ("acled", "Peaceful protest", "fatalities", False, False),
    ("acled", "Agreement", "fatalities", False, False),
    ("acled", "Protest with intervention", "fatalities", True, False),
    ("stix", "campaign", None, True, False),
    ("misp", "event", "threat_level", True, False),
    ("eurepoc", "incident", "cyber_intensity", True, False),
    ("euvsdisinfo", "disinformation_case", None, True, False),
    ("pla_sorties", None, "sorties", True, False),
    ("trade", None, "trade_value_usd", False, False),
]


def test_rule_per_source(tmp_path: Path) -> None:
    with EventStore(tmp_path / "h.duckdb") as store:
        store._con.executemany(
            "INSERT INTO events (event_id, source, source_record_id, occurred_at, "
            "occurred_precision, domain, source_type, intensity_kind, target_iso3s) "
            "VALUES (?, ?, ?, '2024-01-01', 'day', 'military', ?, ?, [])",
            [(str(i), source, str(i), code, kind)
             for i, (source, code, kind, _, _) in enumerate(ROWS)])
        hostile = {r[0] for r in store._con.execute(
            f"SELECT event_id FROM events WHERE {HOSTILE_SQL}").fetchall()}
        cooperative = {r[0] for r in store._con.execute(
            f"SELECT event_id FROM events WHERE {COOPERATIVE_SQL}").fetchall()}
    assert hostile == {str(i) for i, row in enumerate(ROWS) if row[3]}
    assert cooperative == {str(i) for i, row in enumerate(ROWS) if row[4]}


GDELT_SAMPLE = "gdelt_samples_and_lookups/samples/20191024143000.export.CSV"


def test_real_gdelt_rows_the_scan_counts_are_conflict_only(tmp_path: Path, shared_data: Path
                                                            ) -> None:
    """What the episode scan counts of 2,111 real GDELT 2.0 rows: no QuadClass 1–2 row by
    default (on such rows 74% of the old episodes' events were cooperative), and all of them
    are back with include_cooperative."""
    import hashlib

    gdelt = shared_data / GDELT_SAMPLE
    with gdelt.open(encoding="utf-8", newline="") as handle:
        quad = {hashlib.md5(f"gdelt:{row[0]}".encode()).hexdigest(): row[29]
                for row in csv.reader(handle, delimiter="\t")}
    with EventStore(tmp_path / "g.duckdb") as store:
        ingest_file(store, gdelt, format="gdelt2")
        counted = {}
        for hostile_only in (True, False):
            cells = store.where_day_counts("SELECT * FROM located_events", spread_days=7,
                                           hostile_only=hostile_only)
            cells = cells.select(["day", "where_name", "domain"])
            cells = cells.append_column("group", pa.array([0] * cells.num_rows, pa.int64()))
            counted[hostile_only] = set(store.where_day_event_ids(
                "SELECT * FROM located_events", cells, spread_days=7,
                hostile_only=hostile_only).get(0, []))
    cooperative = {e for e, q in quad.items() if q in ("1", "2")}
    assert len(cooperative) > 1000
    assert counted[True] and not counted[True] & cooperative
    assert all(quad[e] in ("3", "4") for e in counted[True])
    share = len(counted[False] & cooperative) / len(counted[False])
    assert share > 0.5   # the share the issue saw: cooperative rows dominate GDELT
