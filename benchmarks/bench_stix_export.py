"""Benchmark: STIX 2.1 export of the findings of a 1-million-event store.

Builds the store once (synthetic GDELT 2.0 events from ``hybridwatch.demo.gdelt_synth`` plus the
demo scenario's STIX bundle, whose events carry TLP markings up to RED), records findings through
the real workflows — episodes citing every event of a target in a 3-day window (tens of thousands
of evidence events in all), an all-pairs coincidence grid, an assessment per target citing
episodes and events, a convergence index — and then times ``export_stix`` at TLP:RED and
TLP:AMBER (bundle built, serialised and written).

The in-run baseline is the ``stix2`` library building the same objects from the same property
dicts (``stix2.parse(..., allow_custom=False)`` per object, then ``Bundle(...).serialize()``), i.e.
what an exporter written on top of ``stix2`` objects would spend on object construction and
validation alone, before any store access. Writes docs/benchmarks/stix_export.md.

    .venv/bin/python benchmarks/bench_stix_export.py [--rows 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "benchmarks" / "stix_export.md"
#: the 30 busiest targets (an event counts once for each target it names: model.targets)
TARGETS_SQL = ("SELECT target_iso3 FROM (SELECT unnest(target_iso3s) AS target_iso3 FROM events) "
               "GROUP BY 1 ORDER BY count(*) DESC LIMIT 30")


def build_store(directory: Path, rows: int) -> tuple[Path, dict[str, float]]:
    """The benchmark store: ``rows`` GDELT events + the demo STIX bundle + findings."""
    from hybridwatch.demo.gdelt_synth import write_gdelt2_export
    from hybridwatch.demo.scenario import generate_scenario
    from hybridwatch.store import EventStore
    from hybridwatch.workflows.ingest import ingest_file

    timings: dict[str, float] = {}
    started = time.perf_counter()
    gdelt = write_gdelt2_export(directory / "synth.export.CSV", rows, random_state=1,
                                start_date=date(2024, 1, 1), days=365)
    scenario = generate_scenario(directory / "scenario", random_state=7, days=365)
    stix_bundle = next(p for p, f, _ in scenario.inputs() if f == "stix")
    path = directory / "bench.duckdb"
    with EventStore(path, memory_limit="1GB") as store:
        ingest_file(store, gdelt, format="gdelt2")
        ingest_file(store, stix_bundle, format="stix")
        timings["build_events_s"] = time.perf_counter() - started
        started = time.perf_counter()
        _record_findings(store)
        timings["record_findings_s"] = time.perf_counter() - started
        timings["events"] = store.count_events()
    return path, timings


def _record_findings(store) -> None:
    from hybridwatch.model.targets import events_by_target_sql
    from hybridwatch.store.findings_store import FindingItem, finding_id, save_run
    from hybridwatch.workflows.findings import (
        episode_key, record_coincidences, record_episodes,
    )

    targets = [r[0] for r in store._con.execute(TARGETS_SQL).fetchall()]
    rows = store._con.execute(
        "SELECT target_iso3, strftime(occurred_at, '%Y-%m-%d') AS day, list(event_id), "
        f"list(DISTINCT domain) FROM {events_by_target_sql()} WHERE target_iso3 IN "
        "(SELECT unnest(?)) AND day(occurred_at) BETWEEN 10 AND 12 GROUP BY ALL",
        [targets]).fetchall()
    grouped: dict[tuple[str, str], tuple[list[str], set[str]]] = {}
    for target, day, ids, domains in rows:
        key = (target, f"{day[:8]}10")
        bucket = grouped.setdefault(key, ([], set()))
        bucket[0].extend(ids)
        bucket[1].update(domains)
    episodes = []
    for (target, start), (ids, domains) in sorted(grouped.items()):
        end = (date.fromisoformat(start) + timedelta(days=2)).isoformat()
        episodes.append({"start": start, "end": end, "targets": [target],
                         "domains": sorted(domains), "p_value": 0.01, "statistic": 9.0,
                         "zone": "single", "window_days": 3, "signals": [],
                         "n_events": len(ids), "event_ids": sorted(ids)})
    record_episodes(store, {"episodes": episodes, "start": "2024-01-01", "end": "2024-12-31",
                            "parameters": {}, "warnings": [], "provenance": {}})
    series = [f"domain={d} actor=RUS target={t}" for d in ("military", "diplomacy")
              for t in targets[:4]]
    pairs = [{"a": a, "b": b, "best_lag_days": 1, "precursor_rate": 0.3, "trigger_rate": 0.2,
              "p_precursor": 0.2, "p_trigger": 0.3, "p_value": 0.2, "q_value": 0.5,
              "significant": False} for a in series for b in series if a != b]
    record_coincidences(store, {"series": series, "pairs": pairs, "start": "2024-01-01",
                                "end": "2024-12-31"})
    by_target: dict[str, list[dict]] = {}
    for e in episodes:
        by_target.setdefault(e["targets"][0], []).append(e)
    items = [FindingItem(t, {
        "target": t, "outcome": "a hostile multi-domain episode", "probability": 0.3,
        "low": 0.2, "high": 0.4, "phia_term": "unlikely", "confidence": "moderate",
        "statement": f"It is unlikely that {t} faces a hostile multi-domain episode.",
        "drivers": [], "domains": {},
        "evidence": [{"kind": "episode", "finding_id": finding_id("episodes", episode_key(e))}
                     for e in by_target.get(t, [])[:3]]
        + [{"kind": "event", "event_id": i} for i in (by_target.get(t) or [{}])[0]
           .get("event_ids", [])[:5]]}, "clear") for t in targets]
    save_run(store, "assessment", {"horizon_days": 30}, items)
    save_run(store, "convergence", {"a": "RUS", "b": "CHN"},
             [FindingItem(f"2024-{m:02d}", {"period": f"2024-{m:02d}", "index": 0.1 * m,
                                            "low": 0.0, "high": 1.0, "components": {},
                                            "coverage": [], "confidence": "low"})
              for m in range(1, 13)])


def time_export(path: Path, tlp: str, target: Path) -> tuple[float, object]:
    from hybridwatch.outputs.stix_export import export_stix
    from hybridwatch.store import EventStore

    started = time.perf_counter()
    with EventStore(path, read_only=True) as store:
        result = export_stix(store, tlp=tlp)
    target.write_text(result.to_json(), encoding="utf-8")
    return time.perf_counter() - started, result


def time_stix2_baseline(objects: list[dict], target: Path) -> float:
    """The stix2 library building and serialising the same objects."""
    import stix2

    started = time.perf_counter()
    built = [stix2.parse(obj, allow_custom=False, version="2.1") for obj in objects]
    bundle = stix2.v21.Bundle(objects=built, allow_custom=False)
    target.write_text(bundle.serialize(), encoding="utf-8")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the store in this folder")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    with tempfile.TemporaryDirectory(prefix="bench-stix-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        existing = folder / "bench.duckdb"
        if existing.exists():
            path, timings = existing, {"build_events_s": 0.0, "record_findings_s": 0.0}
            from hybridwatch.store import EventStore

            with EventStore(path, read_only=True) as store:
                timings["events"] = store.count_events()
        else:
            path, timings = build_store(folder, args.rows)
        print(f"store: {timings['events']:,} events (built in {timings['build_events_s']:.1f}s, "
              f"findings in {timings['record_findings_s']:.1f}s)", flush=True)
        runs = {}
        for tlp in ("red", "amber"):
            seconds, result = time_export(path, tlp, Path(scratch) / f"ours-{tlp}.json")
            runs[tlp] = (seconds, result)
            print(f"export TLP:{tlp.upper()}: {seconds:.1f}s, {len(result.objects):,} objects",
                  flush=True)
        objects = runs["red"][1].objects
        baseline = time_stix2_baseline(objects, Path(scratch) / "stix2.json")
        print(f"stix2 baseline (same objects): {baseline:.1f}s", flush=True)
        size_mb = (Path(scratch) / "ours-red.json").stat().st_size / 2**20
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _write(timings, runs, baseline, size_mb, peak_mb)


def _write(timings, runs, baseline: float, size_mb: float, peak_mb: float) -> None:
    red_s, red = runs["red"]
    amber_s, amber = runs["amber"]
    counts = red.counts()
    lines = [
        "# STIX 2.1 export of a 1-million-event store",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"{platform.system()}; shared with other jobs, so times are upper bounds.",
        "",
        f"Store: {timings['events']:,} events (synthetic GDELT 2.0 plus the demo STIX bundle "
        "with TLP markings up to RED); findings recorded through the real workflows: "
        f"{red.exported.get('episodes', 0)} episodes (every event of a target in a 3-day "
        "window is evidence), a coincidence grid, an assessment per target citing episodes and "
        "events, a convergence index."
        + (f" Building it took {timings['build_events_s']:.0f} s (events) and "
           f"{timings['record_findings_s']:.0f} s (findings), not part of the timings."
           if timings["build_events_s"] else ""),
        "",
        "| run | seconds | objects | of which sightings | bundle MB |",
        "|---|---:|---:|---:|---:|",
        f"| hybridwatch `export_stix`, TLP:RED | {red_s:.1f} | {len(red.objects):,} | "
        f"{counts.get('sighting', 0):,} | {size_mb:.0f} |",
        f"| hybridwatch `export_stix`, TLP:AMBER | {amber_s:.1f} | {len(amber.objects):,} | "
        f"{amber.counts().get('sighting', 0):,} | |",
        f"| baseline: `stix2` building + serialising the same objects | {baseline:.1f} | "
        f"{len(red.objects):,} | | |",
        "",
        f"**Ratio**: the `stix2` library alone needs **{baseline / red_s:.1f}×** the time of "
        "the whole hybridwatch export (store queries, marking enforcement, JSON) to build the "
        "same objects. Target: under 60 s for the 1M-event store — "
        f"{'met' if red_s < 60 else 'NOT met'} ({red_s:.1f} s). Peak RSS of the benchmark "
        f"process: {peak_mb:.0f} MB.",
        "",
        "Why it is fast: evidence events are fetched in one join (Arrow → Python rows), objects "
        "are plain dicts with deterministic uuid5 ids, and only objects rebuilt from a partner's "
        "bundle are validated with `stix2` (they are the only ones whose properties we did not "
        "write ourselves). Tests parse every exported bundle with `stix2` "
        "(`allow_custom=False`).",
        "",
        "Reproduce: `.venv/bin/python benchmarks/bench_stix_export.py` (`--keep DIR` reuses the "
        "store).",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
