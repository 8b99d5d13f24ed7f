"""Non-finite and absurd numbers (issue #14 §5) are quarantined with a reason at ingest, so
no later JSON output (CLI ``--json``, the API) ever meets NaN or infinity."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NINES = "9" * 5000


def _acled_with(tmp_path: Path, values: list[str]) -> Path:
    """The ACLED fixture's first row, once per fatalities value, each with its own id."""
    with (FIXTURES / "acled" / "acled_sample.csv").open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f)
        first, header = next(rows), rows.fieldnames
    path = tmp_path / "acled.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        for i, value in enumerate(values):
            writer.writerow({**first, "event_id_cnty": f"UKR9{i:03d}", "fatalities": value})
    return path


def test_fatalities_beyond_finite_or_plausible_are_quarantined_with_the_reason(tmp_path):
    path = _acled_with(tmp_path, ["inf", "1e400", NINES, "-3", "12"])
    with EventStore(tmp_path / "s.duckdb") as store:
        report = ingest_file(store, path, format="acled")
        assert (report.ingested, report.quarantined) == (1, 4)
        reasons = [r[0] for r in store._con.execute(
            "SELECT reason FROM quarantine ORDER BY line").fetchall()]
        fields = [r[0] for r in store._con.execute(
            "SELECT field FROM quarantine ORDER BY line").fetchall()]
    assert fields == ["intensity"] * 4
    assert [("finite" in r) or ("plausible" in r) for r in reasons] == [True] * 4
    result = CliRunner().invoke(cli, ["events", "--db", str(tmp_path / "s.duckdb"), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["events"][0]["intensity"] == 12.0


def test_cli_json_is_strict_even_for_non_finite_values(capsys):
    from hybridwatch.commands.base import emit_json

    emit_json({"p": float("nan"), "xs": [float("inf"), 1.5], "nested": {"q": -float("inf")}})
    text = capsys.readouterr().out
    assert json.loads(text) == {"p": None, "xs": [None, 1.5], "nested": {"q": None}}
    assert "NaN" not in text and "Infinity" not in text
