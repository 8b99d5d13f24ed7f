"""Benchmark: full GDELT 2.0 ingest against DuckDB's own read_csv and pandas.read_csv.

Each measurement runs in its own process so its peak memory (ru_maxrss) is its own, and its
time includes its imports. The ratios compare hybridwatch's full ingest (parse, normalise,
dedupe, store, quarantine) with loading the same file into a table by DuckDB alone (every
column as text) and by pandas, measured in the same run; the adapter route (Arrow batches and
the ``extra`` JSON, what lakes and archives still take) is measured beside the SQL route. The
no-op re-ingest is timed as a whole process (``hybridwatch ingest FILE --db STORE``).

    python benchmarks/bench_ingest_gdelt.py [--rows 1000000] [--big-rows 3000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(task: str, src: Path, db: Path) -> dict:
    """One measurement in this process: returns seconds and peak RSS."""
    started = time.perf_counter()
    if task == "duckdb_read_csv":
        import duckdb

        con = duckdb.connect(str(db))
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{src}', delim='\\t', "
                    "header=false, quote='', escape='', all_varchar=true)")
        rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
        con.close()
    elif task == "pandas_read_csv":
        import pandas as pd

        rows = len(pd.read_csv(src, sep="\t", header=None, quoting=3, low_memory=False))
    elif task in ("hybridwatch_ingest", "hybridwatch_reingest", "hybridwatch_adapter_route"):
        from hybridwatch.store import EventStore
        from hybridwatch.workflows.ingest import ingest_file

        if task == "hybridwatch_adapter_route":  # no SqlSource: the adapter's Arrow batches
            from hybridwatch.adapters.gdelt import _GdeltAdapter

            _GdeltAdapter.sql_source = lambda self, path, options: None
        with EventStore(db) as store:
            if task == "hybridwatch_reingest":
                ingest_file(store, src)
                started = time.perf_counter()
            report = ingest_file(store, src)
        rows = report.read if task == "hybridwatch_reingest" else report.ingested
    else:
        raise SystemExit(f"unknown task {task}")
    return {"task": task, "seconds": time.perf_counter() - started, "rows": rows,
            "peak_rss_mb": round(_peak_rss_mb(), 1)}


def measure_noop_cli(src: Path, workdir: Path, runs: int = 5) -> dict:
    """``hybridwatch ingest SRC --db STORE`` of a file the store holds, as a whole process
    (start and imports included): the median of ``runs``."""
    db = workdir / "noop.duckdb"
    cli = [str(Path(sys.executable).with_name("hybridwatch")), "ingest", str(src), "--db",
           str(db), "--quiet"]
    subprocess.run(cli, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cli, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    for leftover in workdir.glob(db.name + "*"):
        leftover.unlink()
    return {"task": "cli_noop_reingest", "seconds": sorted(times)[runs // 2],
            "runs": [round(t, 3) for t in times]}


def measure(task: str, src: Path, workdir: Path) -> dict:
    db = workdir / f"{task}-{time.monotonic_ns()}.duckdb"
    done = subprocess.run([sys.executable, __file__, "--worker", task, str(src), str(db)],
                          capture_output=True, text=True, check=True)
    for leftover in workdir.glob(db.name + "*"):
        leftover.unlink()
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=3_000_000,
                        help="a larger file, to show peak memory does not grow with size (0: skip)")
    parser.add_argument("--worker", nargs=3, metavar=("TASK", "FILE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        task, src, db = args.worker
        print(json.dumps(worker(task, Path(src), Path(db))))
        return

    from hybridwatch.demo.gdelt_synth import write_gdelt2_export

    OUT.mkdir(exist_ok=True)
    results = {}
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        workdir = Path(tmp)
        src = workdir / "synthetic.export.CSV"
        write_gdelt2_export(src, args.rows, random_state=1)
        size_mb = src.stat().st_size / 1e6
        for task in ("duckdb_read_csv", "hybridwatch_ingest", "pandas_read_csv",
                     "hybridwatch_adapter_route", "hybridwatch_reingest"):
            results[task] = measure(task, src, workdir)
            print(f"{task:<26} {results[task]['seconds']:7.2f} s  "
                  f"peak {results[task]['peak_rss_mb']:7.0f} MB", file=sys.stderr)
        results["cli_noop_reingest"] = measure_noop_cli(src, workdir)
        print(f"cli_noop_reingest          {results['cli_noop_reingest']['seconds']:7.2f} s",
              file=sys.stderr)
        if args.big_rows:
            big = workdir / "big.export.CSV"
            write_gdelt2_export(big, args.big_rows, random_state=2)
            results["hybridwatch_ingest_big"] = measure("hybridwatch_ingest", big, workdir)
            results["hybridwatch_ingest_big"]["file_rows"] = args.big_rows
    ours = results["hybridwatch_ingest"]["seconds"]
    summary = {
        "rows": args.rows, "file_mb": round(size_mb, 1), "results": results,
        "time_vs_duckdb_read_csv": round(ours / results["duckdb_read_csv"]["seconds"], 3),
        "time_vs_pandas_read_csv": round(ours / results["pandas_read_csv"]["seconds"], 3),
        "adapter_route_vs_duckdb_read_csv": round(
            results["hybridwatch_adapter_route"]["seconds"]
            / results["duckdb_read_csv"]["seconds"], 3),
        "rows_per_second": round(args.rows / ours),
    }
    (OUT / "ingest_gdelt.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
