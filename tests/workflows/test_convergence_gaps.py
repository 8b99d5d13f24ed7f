"""Months without any data for a component are null in the convergence index — its score, the
index and the band — in the JSON, the CLI text and the briefing; never 0.0 [0, 0]."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.outputs.briefing import render_briefing_html
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.workflows.convergence import measure_convergence, record_convergence
from hybridwatch.workflows.coordination import detect_episodes
from hybridwatch.workflows.findings import record_episodes

GAP = "2023-03"   # no event at all this month


def _months() -> list[str]:
    return [f"{y}-{m:02d}" for y in (2022, 2023) for m in range(1, 13)]


def _store(tmp_path: Path) -> Path:
    """Two EUvsDisinfo-style cases a month for 2022–2023 except ``GAP``, then a real episode
    scan over the whole span (it finds nothing in one domain: every scanned month counts 0)."""
    rows = [f"{month}-{day:02d},https://euvsdisinfo.eu/report/{month}-{day}/,Case,Poland,NATO,"
            "Russian,RT" for month in _months() if month != GAP for day in (3, 17)]
    src = tmp_path / "cases.csv"
    src.write_text("date,id,title,countries,keywords,languages,outlets\n" + "\n".join(rows)
                   + "\n", encoding="utf-8")
    db = tmp_path / "store.duckdb"
    with EventStore(db) as store:
        assert ingest_file(store, src).ingested == len(rows)
        report = detect_episodes(store, min_domains=1, random_state=1, n_surrogates=19,
                                 since=date(2022, 1, 1), until=date(2024, 1, 1))
        record_episodes(store, report)
    return db


def test_a_month_without_data_is_null_not_zero(tmp_path):
    db = _store(tmp_path)
    with EventStore(db) as store:
        result, tlps = measure_convergence(store)
        report = record_convergence(store, result, tlps, a="RUS", b="CHN")
    periods = {p["period"]: p for p in report["periods"]}
    assert list(periods) == _months()
    gap = periods[GAP]
    assert gap["components"]["operational_cooccurrence"] is None
    assert gap["raw"]["operational_cooccurrence"] is None
    assert (gap["index"], gap["low"], gap["high"]) == (None, None, None)
    assert gap["coverage"] == [] and gap["confidence"] == "low"
    # months with events were scanned and had no joint episode: a real zero, scored against
    # a baseline of zeros (ties count half: 0.0) once six baseline months exist
    after = periods["2023-04"]
    assert after["raw"]["operational_cooccurrence"] == 0.0
    assert after["components"]["operational_cooccurrence"] == 0.0
    assert (after["index"], after["low"], after["high"]) == (0.0, 0.0, 0.0)
    assert periods["2022-03"]["index"] is None          # under six baseline months: no score


def test_cli_json_text_and_briefing_say_no_data(tmp_path):
    db = _store(tmp_path)
    runner = CliRunner()
    done = runner.invoke(cli, ["convergence", "--db", str(db), "--json"])
    assert done.exit_code == 0, done.output
    gap = next(p for p in json.loads(done.stdout)["periods"] if p["period"] == GAP)
    assert gap["index"] is None and gap["low"] is None and gap["high"] is None
    text = runner.invoke(cli, ["convergence", "--db", str(db)]).stdout
    assert f"{GAP}  no data" in text
    with EventStore(db, read_only=True) as store:
        html = render_briefing_html(store, tlp="amber")
    row = html[html.index(f"<td>{GAP}</td>"):]
    row = row[:row.index("</tr>")]
    assert row.count("no data") == 2 + 4            # index, band and the four components
    assert "0.00" not in row and ">0<" not in row
