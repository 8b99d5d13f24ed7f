"""`watch webhook-test` and `watch webhook-rotate` against a real receiver on loopback
(http.server in a thread, no mock): a ping arrives signed as documented, holds the watch and no
alert nor anything from a finding, and is not recorded as a delivery; a 500, a refused
connection or a refused address exit 6 and say why; after a rotation the pings and deliveries
verify with the new secret only; an unknown watch or one without a webhook is a clear error."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.store import EventStore
from hybridwatch.store.findings_store import items_of, save_run

from webhook_receiver import closed_port, verify

#: what a ping holds (docs/web.md, "Testing a webhook"): nothing else may ride along
PING_KEYS = {"type", "version", "delivery_id", "created_at", "watch"}
FAST = ["--webhook-backoff", "0.01"]


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "pings.duckdb"
    EventStore(path).close()
    return path


def call(db, *args, env=None):
    return CliRunner().invoke(cli, [*args, "--db", str(db)], env=env, catch_exceptions=False)


def add_watch(db, url: str, *extra) -> dict:
    added = call(db, "watch", "add", "--kind", "episodes", "--owner", "ana", "--webhook", url,
                 "--json", *extra)
    assert added.exit_code == 0, added.output
    return json.loads(added.stdout)


def ping(db, watch_id: int, *extra, env=None) -> tuple[int, dict]:
    result = call(db, "watch", "webhook-test", str(watch_id), "--json", *FAST, *extra, env=env)
    return result.exit_code, json.loads(result.stdout)


def save_episode(db) -> None:
    item = {"start": "2024-04-02", "end": "2024-04-02", "targets": ["DEU", "POL"],
            "domains": ["cyber", "military"], "p_value": 0.02, "zone": "single",
            "window_days": 7, "statistic": 3.0, "signals": [], "cells": []}
    with EventStore(db) as store:
        save_run(store, "episodes", {"parameters": {}}, items_of("episodes", [item], ["green"]))


def delivery_rows(db) -> int:
    with EventStore(db, read_only=True) as store:
        return store._con.execute("SELECT count(*) FROM alert_deliveries").fetchall()[0][0]


def test_a_ping_arrives_signed_with_the_watch_and_nothing_from_the_findings(db, receiver):
    watch = add_watch(db, receiver.url("/hook"), "--allow-private", "--target", "DEU")
    receiver.secrets["/hook"] = watch["webhook_secret"]
    save_episode(db)
    assert call(db, "watch", "run", "--json").exit_code == 0     # one alert, delivered
    before = delivery_rows(db)
    code, done = ping(db, watch["watch_id"])
    assert code == 0
    assert (done["status"], done["http_status"], done["error"], done["attempts"]) == \
        ("delivered", 200, None, 1)
    got = receiver.received[-1]
    assert got.verified and got.path == "/hook"                   # checked with plain hmac
    body = got.json
    assert set(body) == PING_KEYS and "alerts" not in body
    assert (body["type"], body["version"]) == ("hybridwatch.ping", 1)
    assert body["watch"] == {"watch_id": watch["watch_id"], "name": watch["name"],
                             "kind": "episodes", "description": watch["description"],
                             "clearance": "amber"}
    assert body["watch"] == receiver.received[0].json["watch"]    # as in the alert bodies
    assert b"2024-04-02" not in got.body and b"POL" not in got.body   # no finding's words
    assert body["created_at"].endswith("Z")
    assert got.headers["x-hybridwatch-event"] == "ping"
    assert got.headers["x-hybridwatch-delivery"] == body["delivery_id"] == done["delivery_id"]
    assert got.headers["x-hybridwatch-tlp"] == "AMBER"            # the watch's clearance
    assert got.headers["content-type"] == "application/json; charset=utf-8"
    # a ping is not an alert delivery: nothing recorded, the alert's state unchanged
    assert delivery_rows(db) == before
    [alert] = json.loads(call(db, "watch", "alerts", "--json").stdout)["alerts"]
    assert alert["delivery"]["state"] == "delivered" and alert["delivery"]["attempts"] == 1


def test_a_ping_answered_500_is_retried_and_exits_6_with_the_status(db, receiver):
    watch = add_watch(db, receiver.url("/hook"), "--allow-private")
    receiver.answers = [500, 500, 500]
    code, done = ping(db, watch["watch_id"])
    assert code == 6
    assert (done["status"], done["http_status"], done["attempts"]) == ("failed", 500, 3)
    assert done["error"].startswith("HTTP 500")
    assert len({r.headers["x-hybridwatch-delivery"] for r in receiver.received}) == 1
    receiver.answers = [(400, "Bad Signature")]                  # a 4xx is not retried
    text = call(db, "watch", "webhook-test", str(watch["watch_id"]), *FAST)
    assert text.exit_code == 6 and "HTTP 400 Bad Signature" in text.stdout
    assert len(receiver.received) == 4 and delivery_rows(db) == 0


def test_a_ping_to_a_closed_port_exits_6_connection_refused(db):
    watch = add_watch(db, f"http://127.0.0.1:{closed_port()}/hook", "--allow-private")
    result = call(db, "watch", "webhook-test", str(watch["watch_id"]), *FAST,
                  "--webhook-retries", "1")
    assert result.exit_code == 6
    assert "failed: connection refused (2 attempts)" in result.stdout


def test_a_ping_keeps_to_the_address_rule(db, receiver):
    # 2130706433 is 127.0.0.1 spelled as a number: a name, checked on what it resolves to
    watch = add_watch(db, f"http://2130706433:{receiver.port}/hook")
    code, done = ping(db, watch["watch_id"])
    assert code == 6 and done["attempts"] == 1 and receiver.received == []
    assert "resolves to a loopback address (127.0.0.1)" in done["error"]
    code, done = ping(db, watch["watch_id"], env={"HYBRIDWATCH_WEBHOOK_ALLOW_PRIVATE": "1"})
    assert code == 0 and done["http_status"] == 200


@pytest.mark.parametrize("command", ["webhook-test", "webhook-rotate"])
def test_an_unknown_watch_or_one_without_a_webhook_is_a_clear_error(db, command):
    plain = call(db, "watch", "add", "--kind", "episodes", "--owner", "ana", "--json")
    plain_id = json.loads(plain.stdout)["watch_id"]
    unknown = call(db, "watch", command, "99")
    assert unknown.exit_code == 4 and "no watch 99 in this store" in unknown.output
    without = call(db, "watch", command, str(plain_id))
    assert without.exit_code == 2
    assert f"watch {plain_id} has no webhook" in without.output and "--webhook" in without.output


def test_after_a_rotation_pings_and_deliveries_verify_with_the_new_secret_only(db, receiver):
    watch = add_watch(db, receiver.url("/hook"), "--allow-private")
    old = watch["webhook_secret"]
    rotated = call(db, "watch", "webhook-rotate", str(watch["watch_id"]), "--json")
    assert rotated.exit_code == 0
    done = json.loads(rotated.stdout)
    new = done["webhook_secret"]
    assert new.startswith("hwwh_") and len(new) == len(old) and new != old
    assert (done["watch_id"], done["name"]) == (watch["watch_id"], watch["name"])
    listed = call(db, "watch", "list", "--json").stdout          # shown once: never listed
    assert new not in listed and old not in listed
    receiver.secrets["/hook"] = new
    assert ping(db, watch["watch_id"])[0] == 0
    save_episode(db)
    assert call(db, "watch", "run", "--json", *FAST).exit_code == 0
    pinged, delivered = receiver.received
    assert delivered.json["type"] == "hybridwatch.alerts"
    for got in (pinged, delivered):
        assert got.verified and verify(new, got.headers, got.body)
        assert not verify(old, got.headers, got.body)
    # in text, the secret is printed once, on stdout; the advice goes to stderr
    again = call(db, "watch", "webhook-rotate", str(watch["watch_id"]))
    assert again.exit_code == 0
    newest = again.stdout.strip().rsplit(" ", 1)[-1]
    assert newest.startswith("hwwh_") and newest not in (old, new)
    assert again.stdout.count(newest) == 1
    assert ping(db, watch["watch_id"])[0] == 0
    assert verify(newest, receiver.received[-1].headers, receiver.received[-1].body)
    assert not verify(new, receiver.received[-1].headers, receiver.received[-1].body)
