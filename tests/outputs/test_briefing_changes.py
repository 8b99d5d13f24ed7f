"""'What changed since the last briefing': the runs the last logged briefing used against those
this one uses, per kind, at the reader's clearance."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from stix_store import shared_store

from hybridwatch.cli import cli
from hybridwatch.outputs.briefing import build_context, html_from_context, write_briefing
from hybridwatch.store import EventStore
from hybridwatch.store.findings_store import items_of, latest_run, save_run


@pytest.fixture
def store_path(tmp_path_factory, tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    shutil.copy(shared_store(tmp_path_factory)["path"], path)
    return path


def _item(target: str, p: float, term: str) -> dict:
    return {"target": target, "outcome": "at least one hostile multi-domain episode",
            "probability": p, "low": p / 2, "high": min(1.0, p * 1.5), "phia_term": term,
            "confidence": "low", "statement": f"It is {term} that {target} faces an episode.",
            "drivers": [], "evidence": []}


def test_changes_between_logged_briefings(store_path: Path, tmp_path: Path) -> None:
    with EventStore(store_path) as store:
        first = build_context(store, tlp="amber")
        assert first["changes"] == {"previous": None, "kinds": []}
        write_briefing(store, tmp_path / "one", tlp="amber", pdf=False, record=True)
        same = build_context(store, tlp="amber")
        assert same["changes"]["previous"]["briefing"] == 1 and same["changes"]["kinds"] == []
        assert "Nothing: every analysis is rendered from the same run as briefing 1" in \
            html_from_context(same)
        before = latest_run(store, "assessment")
        # the new run: DEU moves, TWN is gone, FRA (clear) and POL (RED) appear
        after = save_run(store, "assessment", before.summary, items_of("assessment", [
            _item("DEU", 0.71, "likely"), _item("FRA", 0.2, "unlikely"),
            _item("POL", 0.4, "realistic possibility")], ["green", "clear", "red"]))
        ctx = build_context(store, tlp="amber")
        red = build_context(store, tlp="red")
    (change,) = ctx["changes"]["kinds"]
    assert (change["kind"], change["from"], change["to"]) == ("assessment", before.run_id,
                                                             after)
    assert change["appeared"] == ["FRA"]          # POL is RED: not in an AMBER briefing
    # TWN is gone too, but it cites a RED episode (stored RED): an AMBER reader never saw it
    assert change["disappeared"] == []
    (at_red,) = red["changes"]["kinds"]
    assert (at_red["appeared"], at_red["disappeared"]) == (["FRA", "POL"], ["TWN"])
    assert change["n_changed"] == 1 and change["changed"][0]["key"] == "DEU"
    assert "probability 0.62 → 0.71" in change["changed"][0]["text"]
    assert "phia term likely" not in change["changed"][0]["text"]   # unchanged term not listed
    html = html_from_context(ctx)
    assert "What changed since the last briefing" in html and "POL" not in html.split(
        'id="key-judgements"')[0]


def test_brief_json_states_the_runs_and_logs_the_briefing(store_path: Path,
                                                          tmp_path: Path) -> None:
    args = ["brief", "--db", str(store_path), "-o", str(tmp_path), "--html-only", "--json"]
    first = json.loads(CliRunner().invoke(cli, args).stdout)
    second = json.loads(CliRunner().invoke(cli, args).stdout)
    assert (first["briefing_number"], second["briefing_number"]) == (1, 2)
    with EventStore(store_path, read_only=True) as store:
        current = {k: latest_run(store, k) for k in ("assessment", "episodes")}
    runs = {r["kind"]: r for r in second["runs"]}
    for kind, run in current.items():
        assert runs[kind]["run_id"] == run.run_id and runs[kind]["pinned"] is False
    assert runs["supply"]["run_id"] is None
    html = (tmp_path / "briefing.html").read_text(encoding="utf-8")
    assert f"assessment <span class=\"mono\">{current['assessment'].run_id[:12]}" in html
