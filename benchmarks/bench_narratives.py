"""Benchmark narrative discovery: build on N headlines, then an incremental update.

    python benchmarks/bench_narratives.py [--n 100000] [--update 5000] [--model concepts|tfidf]
                                          [--out docs/benchmarks/narratives.md]

Headlines are the real 2022 Chinese state-media and BBC titles (../shared/data), resampled and
perturbed (a word dropped, two headlines' halves joined) up to ``--n`` + ``--update``, spread over
a year across the five outlets. Everything runs in this process; peak memory is the process's
maximum resident set size (``ru_maxrss``), which includes Python, DuckDB and the data.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
HEADLINES = REPO / ".." / "shared" / "data" / "cn_state_media_headlines_2022" / "headlines_all.csv"


def synthetic_headlines(n: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    """``n`` (outlet, title) pairs resampled and perturbed from the real headlines."""
    with HEADLINES.open(encoding="utf-8", newline="") as handle:
        rows = [(r["outlet"], r["title"]) for r in csv.DictReader(handle)
                if r.get("title") and r.get("outlet")]
    out = []
    picks = rng.integers(0, len(rows), (n, 2))
    action = rng.random(n)
    for (i, j), a in zip(picks, action):
        outlet, title = rows[i]
        words = title.split()
        if a < 0.4 and len(words) > 3:            # drop a word
            del words[rng.integers(0, len(words))]
        elif a < 0.6:                             # join with the other half of another headline
            other = rows[j][1].split()
            words = words[:max(1, len(words) // 2)] + other[len(other) // 2:]
        out.append((outlet, " ".join(words)))
    return out


def write_jsonl(path: Path, rows: list[tuple[str, str]], start: int, day0: datetime) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for k, (outlet, title) in enumerate(rows):
            when = day0 + timedelta(minutes=int((start + k) * 525_600 / 120_000))
            handle.write(json.dumps({"id": f"b{start + k}", "outlet": outlet, "title": title,
                                     "published_at": when.isoformat() + "+00:00",
                                     "language": "en"}) + "\n")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, n_update: int, model: str = "concepts") -> dict:
    from hybridwatch.model.outlet_groups import load_outlet_groups
    from hybridwatch.store import EventStore
    from hybridwatch.workflows.ingest import ingest_file
    from hybridwatch.store.narratives_store import list_narratives
    from hybridwatch.workflows.narrative_build import build_narratives

    rows = synthetic_headlines(n + n_update, np.random.default_rng(0))
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "first.jsonl", Path(tmp) / "second.jsonl"
        write_jsonl(first, rows[:n], 0, datetime(2022, 1, 1))
        write_jsonl(second, rows[n:], n, datetime(2022, 1, 1))
        with EventStore(Path(tmp) / "bench.duckdb", memory_limit="1GB") as store:
            started = time.perf_counter()
            ingest_file(store, first, format="articles-jsonl")
            ingest_s = time.perf_counter() - started
            started = time.perf_counter()
            build = build_narratives(store, model=model, random_state=0)
            build_s = time.perf_counter() - started
            started = time.perf_counter()
            listing = list_narratives(store, outlet_groups=load_outlet_groups())
            list_s = time.perf_counter() - started
            peak_build = peak_mb()
            ingest_file(store, second, format="articles-jsonl")
            started = time.perf_counter()
            update = build_narratives(store, random_state=0)
            update_s = time.perf_counter() - started
    return {"model": model, "n_headlines": n, "ingest_s": round(ingest_s, 1), "build_s": round(build_s, 1),
            "list_s": round(list_s, 2), "narratives": build.narratives_total,
            "unassigned": build.unassigned, "largest": listing[0]["size"] if listing else 0,
            "peak_rss_mb_after_build": round(peak_build), "n_update": n_update,
            "update_s": round(update_s, 1), "update_assigned_existing": update.assigned_existing,
            "update_new_narratives": len(update.new_narratives),
            "peak_rss_mb": round(peak_mb())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--update", type=int, default=5_000)
    parser.add_argument("--model", choices=("concepts", "tfidf"), default="concepts")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if not HEADLINES.is_file():
        sys.exit(f"real headlines not found at {HEADLINES}")
    result = run(args.n, args.update, args.model)
    table = "\n".join([
        ("| headlines | ingest s | build s | narratives | unassigned | peak RSS MB | "
         "update | update s | joined existing | new narratives |"),
        "|---|---|---|---|---|---|---|---|---|---|",
        (f"| {result['n_headlines']:,} | {result['ingest_s']} | {result['build_s']} | "
         f"{result['narratives']} | {result['unassigned']} | {result['peak_rss_mb']} | "
         f"{result['n_update']:,} | {result['update_s']} | "
         f"{result['update_assigned_existing']} | {result['update_new_narratives']} |")])
    machine = f"{platform.machine()}, {platform.python_version()}, 2 cores"
    print(table)
    print(json.dumps(result))
    if args.out:
        args.out.write_text(f"# Narrative discovery benchmark\n\n`python benchmarks/"
                            f"bench_narratives.py` ({machine}):\n\n{table}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
