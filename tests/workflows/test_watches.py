"""Watches and alerts on planted runs: a watch fires on the run whose findings match it and not on
one whose findings do not; the same finding never alerts twice; a finding above the watch's
clearance never alerts; the CLI manages watches and prints alerts (exit 0 for cron)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.errors import SelectorError
from hybridwatch.store import EventStore
from hybridwatch.store.alerts_store import acknowledge_alert, list_alerts, list_watches
from hybridwatch.store.findings_store import finding_id, items_of, save_run
from hybridwatch.store.run_history import pin_run
from hybridwatch.workflows.watches import new_watch, run_watches


def _episode(start: str, end: str, targets: list[str], domains: list[str], p: float) -> dict:
    return {"start": start, "end": end, "targets": targets, "domains": domains, "p_value": p,
            "zone": "single", "window_days": 7, "statistic": 3.0, "signals": [], "cells": []}


def _period(period: str, index: float, low: float, high: float) -> dict:
    return {"period": period, "index": index, "low": low, "high": high, "confidence": "medium"}


def _save(store, kind, items, tlps=None) -> str:
    return save_run(store, kind, {"parameters": {}}, items_of(kind, items, tlps))


@pytest.fixture()
def store(tmp_path):
    with EventStore(tmp_path / "watch.duckdb") as s:
        yield s


def test_an_episode_watch_fires_on_the_run_that_matches_and_never_twice(store):
    watch = new_watch(store, kind="episodes", target="Germany", owner="ana")
    assert watch.target == "DEU"           # a country name is resolved
    _save(store, "episodes", [_episode("2024-03-01", "2024-03-07", ["POL"], ["cyber"], 0.01)])
    first = run_watches(store)
    assert first.alerts == ()               # POL only: does not involve DEU
    assert first.watches[0]["matched"] == 0
    deu = _episode("2024-04-02", "2024-04-09", ["DEU", "POL"], ["cyber", "military"], 0.02)
    run_id = _save(store, "episodes", [deu, _episode("2024-03-01", "2024-03-07", ["POL"],
                                                     ["cyber"], 0.01)])
    second = run_watches(store)
    assert len(second.alerts) == 1
    alert = second.alerts[0]
    # the alert names the finding that matched, by its stable id, and the run it came from
    assert alert.finding_id == finding_id("episodes", items_of("episodes", [deu])[0].key)
    assert alert.run_id == run_id
    assert "2024-04-02" in alert.message and "DEU" in alert.message
    # a later run finding the same episode again does not alert again
    _save(store, "episodes", [deu])
    assert run_watches(store).alerts == ()
    assert len(list_alerts(store, clearance="red")[0]) == 1


def test_the_alert_finding_id_is_the_findings_own(store):
    new_watch(store, kind="episodes", target="DEU", owner="ana")
    deu = _episode("2024-04-02", "2024-04-09", ["DEU"], ["cyber", "military"], 0.02)
    _save(store, "episodes", [deu])
    alert = run_watches(store).alerts[0]
    key = items_of("episodes", [deu])[0].key
    assert alert.finding_id == finding_id("episodes", key)


def test_domain_and_threshold_narrow_an_episode_watch(store):
    new_watch(store, kind="episodes", target="DEU", domain="military", threshold=0.01,
              owner="ana")
    _save(store, "episodes", [
        _episode("2024-01-01", "2024-01-05", ["DEU"], ["cyber", "information"], 0.001),  # domain
        _episode("2024-02-01", "2024-02-05", ["DEU"], ["cyber", "military"], 0.03),      # p
        _episode("2024-03-01", "2024-03-05", ["DEU"], ["cyber", "military"], 0.004),     # fires
    ])
    alerts = run_watches(store).alerts
    assert [a.message.split(":")[0] for a in alerts] == ["episode 2024-03-01 … 2024-03-05"]


def test_convergence_watch_fires_when_the_whole_band_rises_above_the_threshold(store):
    new_watch(store, kind="convergence", owner="ana")     # default: band low above 0
    _save(store, "convergence", [_period("2024-01", 0.2, -0.1, 0.5),
                                 _period("2024-02", -0.3, -0.6, 0.0)])
    assert run_watches(store).alerts == ()                 # the bands reach below 0
    _save(store, "convergence", [_period("2024-01", 0.2, -0.1, 0.5),
                                 _period("2024-02", -0.3, -0.6, 0.0),
                                 _period("2024-03", 0.6, 0.25, 0.8)])
    alerts = run_watches(store).alerts
    assert len(alerts) == 1 and alerts[0].message.startswith("convergence 2024-03")


def test_a_finding_above_the_watch_clearance_never_alerts_and_readers_see_their_level(store):
    new_watch(store, kind="episodes", target="DEU", clearance="amber", owner="ana")
    new_watch(store, kind="episodes", target="DEU", clearance="red", owner="bo")
    red = _episode("2024-05-01", "2024-05-03", ["DEU"], ["cyber", "military"], 0.01)
    amber = _episode("2024-06-01", "2024-06-03", ["DEU"], ["cyber", "social"], 0.01)
    _save(store, "episodes", [red, amber], ["red", "amber"])
    alerts = run_watches(store).alerts
    by_watch = {}
    for a in alerts:
        by_watch.setdefault(a.watch_id, []).append(a.tlp)
    assert sorted(by_watch[1]) == ["amber"]                # the AMBER watch: not the RED one
    assert sorted(by_watch[2]) == ["amber", "red"]
    shown, total, withheld = list_alerts(store, clearance="amber")
    assert {a.tlp for a in shown} == {"amber"} and total == 2 and withheld == 1
    shown, total, withheld = list_alerts(store, clearance="green")
    assert shown == [] and total == 0 and withheld == 3


def test_a_pinned_run_is_what_the_watch_reads(store):
    new_watch(store, kind="episodes", target="TWN", owner="ana")
    old = _save(store, "episodes", [_episode("2024-01-01", "2024-01-05", ["TWN"],
                                             ["military", "cyber"], 0.01)])
    _save(store, "episodes", [])
    pin_run(store, old)
    assert len(run_watches(store).alerts) == 1


def test_acknowledged_alerts_leave_the_open_list(store):
    new_watch(store, kind="assessment", target="TWN", threshold=0.4, owner="ana")
    _save(store, "assessment", [{"target": "TWN", "probability": 0.62, "phia_term": "likely"},
                                {"target": "DEU", "probability": 0.9, "phia_term": "very likely"}])
    alert = run_watches(store).alerts[0]
    assert "TWN" in alert.message
    done = acknowledge_alert(store, alert.alert_id, by="ana", clearance="red")
    assert done.acknowledged_by == "ana"
    assert list_alerts(store, clearance="red")[1] == 0
    assert list_alerts(store, clearance="red", include_acknowledged=True)[1] == 1


def test_bad_watches_are_refused_with_the_option_named(store):
    with pytest.raises(SelectorError, match="--target"):
        new_watch(store, kind="episodes", target="Atlantis", owner="ana")
    with pytest.raises(SelectorError, match="--kind"):
        new_watch(store, kind="weather", owner="ana")
    with pytest.raises(SelectorError, match="--target"):
        new_watch(store, kind="convergence", target="DEU", owner="ana")
    with pytest.raises(SelectorError, match="--domain"):
        new_watch(store, kind="episodes", domain="astrology", owner="ana")
    with pytest.raises(SelectorError, match="--tlp"):
        new_watch(store, kind="episodes", clearance="purple", owner="ana")
    assert list_watches(store) == []


def test_cli_add_list_run_remove(tmp_path):
    db = tmp_path / "cli.duckdb"
    with EventStore(db) as store:
        _save(store, "episodes", [_episode("2024-04-02", "2024-04-09", ["DEU"],
                                           ["cyber", "military"], 0.02)])
    runner = CliRunner()

    def call(*args):
        result = runner.invoke(cli, [*args, "--db", str(db)], catch_exceptions=False)
        return result

    added = call("watch", "add", "--kind", "episodes", "--target", "DEU", "--owner", "ana",
                 "--json")
    assert added.exit_code == 0, added.output
    watch = json.loads(added.stdout)
    assert watch["target"] == "DEU" and watch["kind"] == "episodes"
    listed = json.loads(call("watch", "list", "--json").stdout)
    assert [w["watch_id"] for w in listed["watches"]] == [watch["watch_id"]]
    ran = call("watch", "run")
    assert ran.exit_code == 0 and "ALERT" in ran.stdout and "2024-04-02" in ran.stdout
    again = call("watch", "run", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["new_alerts"] == 0
    alerts = json.loads(call("watch", "alerts", "--json").stdout)
    assert alerts["total"] == 1
    bad = runner.invoke(cli, ["watch", "add", "--kind", "episodes", "--target", "Atlantis",
                              "--db", str(db)])
    assert bad.exit_code == 2 and "--target" in bad.output
    removed = call("watch", "remove", str(watch["watch_id"]))
    assert removed.exit_code == 0
    assert json.loads(call("watch", "list", "--json").stdout)["count"] == 0
    assert json.loads(call("watch", "alerts", "--json", "--all").stdout)["total"] == 0
