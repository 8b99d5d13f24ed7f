"""An alert follows what its finding cites now, like the finding itself (docs/security.md, "An
item follows what it cites now"): an alert raised at AMBER whose cited event is later marked RED
is withheld from AMBER readers — in the listing, its counts, a single read and an
acknowledgement, through the store, the CLI and the API — and still shown at RED."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.errors import StoreError
from hybridwatch.store import EventStore
from hybridwatch.store.access_store import create_token
from hybridwatch.store.alerts_store import acknowledge_alert, list_alerts
from hybridwatch.store.findings_store import items_of, save_run


def _call(db, *args):
    return CliRunner().invoke(cli, [*args, "--db", str(db)], catch_exceptions=False)


@pytest.fixture()
def db(tmp_path):
    """One AMBER watch, and its alert for an episode citing one AMBER event, which a later
    version of the source then marks RED."""
    path = tmp_path / "alerts.duckdb"
    with EventStore(path) as store:
        store._con.execute(
            "INSERT INTO events (event_id, source, source_record_id, occurred_at, "
            "occurred_precision, domain, target_iso3s, tlp, ingest_id) VALUES "
            "('e1', 'test', 'e1', TIMESTAMP '2024-04-02', 'day', 'cyber', ['DEU'], 'amber', 1)")
        save_run(store, "episodes", {"parameters": {}}, items_of("episodes", [{
            "start": "2024-04-02", "end": "2024-04-02", "targets": ["DEU"],
            "domains": ["cyber", "military"], "p_value": 0.02, "zone": "single",
            "window_days": 7, "statistic": 3.0, "signals": [], "cells": [],
            "event_ids": ["e1"]}], ["amber"]))
    assert _call(path, "watch", "add", "--kind", "episodes", "--owner", "ana", "--tlp",
                 "amber").exit_code == 0
    assert _call(path, "watch", "run", "--json").exit_code == 0
    return path


def _tighten(db) -> None:
    with EventStore(db) as store:
        store._con.execute("UPDATE events SET tlp = 'red' WHERE event_id = 'e1'")


def test_an_alert_whose_finding_was_tightened_is_withheld_from_the_lower_clearance(db):
    with EventStore(db, read_only=True) as store:
        shown, total, withheld = list_alerts(store, clearance="amber")
        assert (len(shown), total, withheld) == (1, 1, 0)
        alert_id = shown[0].alert_id
    _tighten(db)
    with EventStore(db) as store:
        assert list_alerts(store, clearance="amber") == ([], 0, 1)
        with pytest.raises(StoreError, match="within your clearance"):
            acknowledge_alert(store, alert_id, by="ana", clearance="amber")
        shown, total, withheld = list_alerts(store, clearance="red")
        assert ([a.alert_id for a in shown], total, withheld) == ([alert_id], 1, 0)
        assert shown[0].tlp == "red"          # the level it has now, not the one it was raised at
    listed = json.loads(_call(db, "watch", "alerts", "--tlp", "amber", "--json").stdout)
    assert listed["alerts"] == [] and listed["withheld"] == 1


def test_the_api_withholds_it_too(db):
    from fastapi.testclient import TestClient

    from hybridwatch.web.app import create_app

    _tighten(db)
    with EventStore(db) as store:
        amber = create_token(store, role="analyst", clearance="amber").token
        red = create_token(store, role="admin", clearance="red").token
    with TestClient(create_app(db)) as client:
        seen = client.get("/api/alerts", headers={"Authorization": f"Bearer {amber}"}).json()
        assert seen["alerts"] == [] and seen["withheld"] == 1
        assert "DEU" not in json.dumps(seen) and "2024-04-02" not in json.dumps(seen)
        cleared = client.get("/api/alerts", headers={"Authorization": f"Bearer {red}"}).json()
        assert [a["tlp"] for a in cleared["alerts"]] == ["red"]
