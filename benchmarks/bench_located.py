"""Benchmark: what resolving each event's "where" (target, else location country, else theatre)
costs the episode scan's counting query.

A store of N generated events (a third with a target, a third with only a location country, a
third with only coordinates — half of those at sea in a theatre — and some with only a place
name) is counted per (day, where, domain) through ``EventStore.where_day_counts`` (the
``located_events`` view: bounding-box and ray-casting joins of the distinct coordinates with the
theatre polygons, regexp place names) and, as the in-run baseline, per (day, target_iso3, domain)
on the plain events table, as the scan counted before. Also checks the two agree on the events
that have a target. Writes docs/benchmarks/located.md.

    .venv/bin/python benchmarks/bench_located.py [--events N]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from hybridwatch.model.targets import events_by_target_sql
from hybridwatch.store import EventStore

REPO = Path(__file__).resolve().parents[1]


def _fill(store: EventStore, n: int) -> None:
    store._con.execute(f"""
        INSERT INTO events (event_id, source, source_record_id, occurred_at, occurred_precision,
                            domain, target_iso3s, location_iso3, lat, lon, location_name,
                            source_type)
        SELECT md5(i::VARCHAR), 'bench', i::VARCHAR,
               TIMESTAMP '2020-01-01' + to_days(CAST(i % 1461 AS INTEGER)), 'day',
               ['military', 'cyber', 'information'][1 + i % 3],
               CASE WHEN i % 3 = 0 THEN [['DEU', 'POL', 'TWN', 'UKR'][1 + (i // 3) % 4]]
                    ELSE []::VARCHAR[] END,
               CASE WHEN i % 3 = 1 THEN ['CHN', 'RUS', 'USA'][1 + (i // 3) % 3] END,
               CASE WHEN i % 3 = 2 AND i % 7 <> 0 THEN
                    CASE WHEN i % 2 = 0 THEN 24.0 + (i % 100) / 200.0 ELSE -60 + (i % 1200) / 10.0 END END,
               CASE WHEN i % 3 = 2 AND i % 7 <> 0 THEN
                    CASE WHEN i % 2 = 0 THEN 119.0 + (i % 50) / 50.0 ELSE -170 + (i % 3400) / 10.0 END END,
               CASE WHEN i % 3 = 2 AND i % 7 = 0 THEN ['Ostsee', 'Black Sea coast', 'Berlin'][1 + i % 3] END,
               '190'
        FROM range({n}) t(i)""")


def _time(function) -> tuple[float, object]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EventStore(Path(tmp) / "b.duckdb",
                                                          memory_limit="2GB") as store:
        _fill(store, args.events)
        store.ibis_events(located=True)  # install the view (not timed)
        base_s, base = _time(lambda: store._con.sql(
            "SELECT CAST(occurred_at AS DATE) AS day, target_iso3, domain, count(*) AS n "
            f"FROM {events_by_target_sql()} GROUP BY ALL").to_arrow_table())
        where_s, where = _time(lambda: store.where_day_counts(
            "SELECT * FROM located_events", spread_days=7, hostile_only=True))
        by_kind = {}
        for kind, n in zip(where["where_kind"].to_pylist(), where["n_events"].to_pylist()):
            by_kind[kind] = by_kind.get(kind, 0) + n
        targeted = sum(base["n"].to_pylist())
        assert by_kind["target"] == targeted  # the same targeted events, counted once each
    lines = [
        "# Where: cost of the located_events view (`benchmarks/bench_located.py`)", "",
        f"{args.events:,} generated events; Python {platform.python_version()}; the machine was "
        "shared with other jobs, so read the ratio.", "",
        "| query | seconds | events counted |", "|---|---:|---:|",
        f"| baseline: per day × target × domain, events with a target (plain table) | "
        f"{base_s:.2f} | {targeted:,} |",
        f"| per day × where × domain through `located_events` (theatre by polygon and place "
        f"name; campaign days spread) | {where_s:.2f} | "
        + ", ".join(f"{k}: {v:,}" for k, v in sorted(by_kind.items())) + " |",
        "", f"Ratio: the where query takes **{where_s / base_s:.1f}×** the baseline's time and "
        f"counts {sum(by_kind.values()) / targeted:.2f}× as many events (those without a target "
        "but with a location country or a theatre).", ""]
    out = REPO / "docs" / "benchmarks" / "located.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
