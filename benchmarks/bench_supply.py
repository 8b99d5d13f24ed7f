"""Benchmark: ingest of a 10-million-row UN Comtrade file and `hybridwatch supply` on it.

The file (generated here with DuckDB, ~1 GB, in a temporary folder) has the columns of a
Comtrade+ monthly download: 200 reporters × 60 months × 42 HS6 products (semiconductors among
them) × 20 partners, flows X and M. Baseline: a plain DuckDB `CREATE TABLE AS SELECT * FROM
read_csv(...)` of the same file, in the same run — what reading the bytes costs without checks,
country resolution, quarantine and deduplication.

    .venv/bin/python benchmarks/bench_supply.py [--rows-millions 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

PRODUCTS = ["854231", "854232", "854233", "854239", "854110", "854129", "854140", "854190",
            "848610", "848620", "848640", "903020", "903032", "903039", "903082", "903180",
            "847150", "847180", "851762", "852691", "853221", "853224", "880730", "901310",
            "847130", "847141", "847149", "847330", "850440", "851769", "852589", "852910",
            "853669", "853690", "854430", "854442", "870321", "870322", "300490", "271012",
            "710812", "880240"]


def write_comtrade(path: Path, *, reporters: int = 200, months: int = 60, partners: int = 20
                   ) -> int:
    """A Comtrade-format CSV of reporters × months × len(PRODUCTS) × partners rows."""
    import pycountry

    countries = [c for c in pycountry.countries if c.alpha_3 not in ("ATA",)][:reporters + 40]
    con = duckdb.connect()
    con.execute("CREATE TABLE c AS SELECT * FROM (VALUES "
                + ", ".join(f"({i}, {int(c.numeric)}, '{c.alpha_3}')"
                            for i, c in enumerate(countries)) + ") t(i, code, iso)")
    con.execute("CREATE TABLE p AS SELECT * FROM (VALUES "
                + ", ".join(f"({i}, '{code}')" for i, code in enumerate(PRODUCTS))
                + ") t(i, code)")
    rows = reporters * months * len(PRODUCTS) * partners
    con.execute(f"""
        COPY (
          SELECT 'C' AS typeCode, 'M' AS freqCode,
                 strftime(make_date(2019, 1, 1) + INTERVAL (m.i) MONTH, '%Y%m') AS period,
                 r.code AS reporterCode, r.iso AS reporterISO,
                 CASE WHEN (r.i + q.i + pc.i) % 2 = 0 THEN 'X' ELSE 'M' END AS flowCode,
                 pc.code AS partnerCode, pc.iso AS partnerISO, 0 AS partner2Code,
                 p.code AS cmdCode, 'Product ' || p.code AS cmdDesc, 0 AS motCode,
                 'C00' AS customsCode, 'kg' AS qtyUnitAbbr,
                 round(100 + hash(r.i, m.i, p.i, q.i) % 10000) AS qty,
                 round(100 + hash(r.i, m.i, p.i, q.i) % 10000) AS netWgt,
                 round(1000 + hash(m.i, r.i, p.i, q.i) % 5000000, 0) AS primaryValue
          FROM (SELECT * FROM c WHERE i < {reporters}) r
          CROSS JOIN (SELECT range AS i FROM range({months})) m
          CROSS JOIN p CROSS JOIN (SELECT range AS i FROM range({partners})) q
          JOIN c pc ON pc.i = (r.i + 1 + q.i * 7 + p.i) % {reporters + 40}
        ) TO '{path}' (HEADER, DELIMITER ',')""")
    return rows


def run(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, out.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows-millions", type=float, default=10)
    args = parser.parse_args()
    partners = max(1, round(20 * args.rows_millions / 10))
    with tempfile.TemporaryDirectory(prefix="bench-supply-") as tmp:
        csv_path, db = Path(tmp) / "comtrade.csv", Path(tmp) / "hw.duckdb"
        start = time.perf_counter()
        rows = write_comtrade(csv_path, partners=partners)
        print(f"generated {rows:,} rows ({csv_path.stat().st_size / 1e9:.2f} GB) in "
              f"{time.perf_counter() - start:.1f}s", file=sys.stderr)

        con = duckdb.connect(str(Path(tmp) / "baseline.duckdb"))
        start = time.perf_counter()
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv_path}', header=true)")
        baseline = time.perf_counter() - start
        con.close()

        exe = str(Path(sys.executable).with_name("hybridwatch"))
        ingest_s, out = run([exe, "ingest", str(csv_path), "--db", str(db), "--json", "-q"])
        report = json.loads(out)
        supply_s, out = run([exe, "supply", "--product", "8542", "--destination", "RUS",
                             "--origin", "EU27", "--db", str(db), "--json"])
        supply = json.loads(out)
        result = {"rows": rows, "ingested": report["ingested"],
                  "ingest_seconds": round(ingest_s, 1),
                  "baseline_duckdb_read_csv_seconds": round(baseline, 1),
                  "ingest_vs_baseline": round(ingest_s / baseline, 2),
                  "supply_seconds": round(supply_s, 2),
                  "supply_rows": {k: len(supply[k]) for k in
                                  ("concentration", "diversion", "dependence")}}
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
