"""Webhook delivery of the watches' alerts, against a real receiver on loopback (http.server in a
thread, no mock of the HTTP client): each body arrives signed as documented, with the alerts as
the API gives them; a 5xx (or 429) is retried and delivered once, a 400 is not retried and the
failure is recorded; a timeout and a refused connection fail the delivery but neither the run
nor the alert; the next run retries what is undelivered and sends nothing twice; an AMBER
watch never receives a RED finding's alert nor its words, nor an alert whose finding was
tightened to RED after it was raised; loopback is refused unless allowed."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.model.webhooks import verify_signature
from hybridwatch.store import EventStore
from hybridwatch.store.findings_store import items_of, save_run

from pki_support import make_ca
from webhook_receiver import closed_port, start_receiver

#: what a body holds (docs/web.md, "Webhooks"): nothing else may ride along
PAYLOAD_KEYS = {"type", "version", "delivery_id", "created_at", "tlp", "tlp_marking_ref",
                "watch", "alerts"}
FAST = ["--webhook-backoff", "0.01"]


def _episode(start: str, targets: list[str], domains: list[str], p: float, **extra) -> dict:
    return {"start": start, "end": start, "targets": targets, "domains": domains,
            "p_value": p, "zone": "single", "window_days": 7, "statistic": 3.0,
            "signals": [], "cells": [], **extra}


def _save(db, items, tlps=None) -> str:
    with EventStore(db) as store:
        return save_run(store, "episodes", {"parameters": {}}, items_of("episodes", items, tlps))


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "hooks.duckdb"
    EventStore(path).close()
    return path


def call(db, *args, env=None):
    return CliRunner().invoke(cli, [*args, "--db", str(db)], env=env, catch_exceptions=False)


def add_watch(db, receiver, path, *extra) -> dict:
    """`watch add --webhook` (loopback: --allow-private); the receiver learns the secret."""
    added = call(db, "watch", "add", "--kind", "episodes", "--owner", "ana", "--webhook",
                 receiver.url(path), "--allow-private", "--json", *extra)
    assert added.exit_code == 0, added.output
    watch = json.loads(added.stdout)
    assert watch["webhook_secret"].startswith("hwwh_") and len(watch["webhook_secret"]) > 40
    receiver.secrets[path] = watch["webhook_secret"]
    return watch


def run(db, *extra, env=None) -> tuple[int, dict]:
    result = call(db, "watch", "run", "--json", *FAST, *extra, env=env)
    return result.exit_code, json.loads(result.stdout)


def alerts(db) -> dict[int, dict]:
    listed = json.loads(call(db, "watch", "alerts", "--all", "--json").stdout)["alerts"]
    return {a["alert_id"]: a for a in listed}


def attempts(db) -> list[tuple]:
    with EventStore(db, read_only=True) as store:
        return store._con.execute(
            "SELECT alert_id, attempt, status, http_status, error, url_host "
            "FROM alert_deliveries ORDER BY attempted_at, attempt, alert_id").fetchall()


def test_a_delivery_arrives_signed_with_the_alerts_as_the_api_gives_them(db, receiver):
    watch = add_watch(db, receiver, "/hook", "--target", "DEU")
    assert watch["webhook"] == f"http://127.0.0.1:{receiver.port}/…"   # path elided in lists
    _save(db, [_episode("2024-04-02", ["DEU", "POL"], ["cyber", "military"], 0.02)],
          ["green"])
    code, report = run(db)
    assert code == 0 and report["new_alerts"] == 1
    assert report["deliveries"]["delivered"] == 1 and report["deliveries"]["failed"] == 0
    [got] = receiver.received
    assert got.verified and got.path == "/hook"
    assert got.headers["content-type"] == "application/json; charset=utf-8"
    body = got.json
    assert set(body) == PAYLOAD_KEYS
    assert (body["type"], body["version"], body["tlp"]) == ("hybridwatch.alerts", 1, "green")
    assert got.headers["x-hybridwatch-tlp"] == "GREEN"
    assert got.headers["x-hybridwatch-delivery"] == body["delivery_id"]
    assert body["tlp_marking_ref"] == \
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"    # TLP 2.0 GREEN
    assert body["watch"] == {"watch_id": watch["watch_id"], "name": watch["name"],
                             "kind": "episodes", "description": watch["description"],
                             "clearance": "amber"}
    # the alerts exactly as `watch alerts --json` (and GET /api/alerts) give them, less the
    # delivery state
    listed = alerts(db)
    assert body["alerts"] == [{k: v for k, v in listed[a["alert_id"]].items() if k != "delivery"}
                              for a in body["alerts"]]
    assert "2024-04-02" in body["alerts"][0]["message"]
    state = listed[body["alerts"][0]["alert_id"]]["delivery"]
    assert (state["state"], state["attempts"], state["http_status"], state["error"]) == \
        ("delivered", 1, 200, None)
    # the reference check agrees with the receiver's, and refuses a tampered or stale body
    secret, stamp = receiver.secrets["/hook"], got.headers["x-hybridwatch-timestamp"]
    header = got.headers["x-hybridwatch-signature"]
    assert verify_signature(secret, timestamp=stamp, body=got.body, signature_header=header,
                            now=time.time())
    assert not verify_signature(secret, timestamp=stamp, body=got.body.replace(b"DEU", b"DEV"),
                                signature_header=header, now=time.time())
    assert not verify_signature(secret, timestamp=stamp, body=got.body,
                                signature_header=header, now=time.time() + 301)
    # the next run has nothing new and sends nothing
    code, again = run(db)
    assert code == 0 and again["deliveries"]["deliveries"] == [] and len(receiver.received) == 1
    assert [(a, n, s, h) for a, n, s, h, _, _ in attempts(db)] == [(1, 1, "delivered", 200)]


@pytest.mark.parametrize("first", [500, 429])
def test_a_5xx_or_429_is_retried_and_the_alert_delivered_once(db, receiver, first):
    add_watch(db, receiver, "/hook")
    _save(db, [_episode("2024-04-02", ["DEU"], ["cyber", "military"], 0.02)])
    receiver.answers = [first]
    code, report = run(db)
    assert code == 0 and report["deliveries"]["delivered"] == 1
    assert [r.answered for r in receiver.received] == [first, 200]
    one, two = receiver.received
    assert one.verified and two.verified and one.body == two.body      # the same body, re-signed
    assert one.headers["x-hybridwatch-delivery"] == two.headers["x-hybridwatch-delivery"]
    assert [(n, s, h) for _, n, s, h, _, _ in attempts(db)] == \
        [(1, "failed", first), (2, "delivered", 200)]
    assert alerts(db)[1]["delivery"]["state"] == "delivered"
    assert alerts(db)[1]["delivery"]["attempts"] == 2


def test_a_400_is_not_retried_and_the_failure_is_recorded(db, receiver):
    add_watch(db, receiver, "/hook")
    _save(db, [_episode("2024-04-02", ["DEU"], ["cyber", "military"], 0.02)])
    receiver.answers = [400, 400, 400]
    result = call(db, "watch", "run", *FAST)
    assert result.exit_code == 6                          # the alerts recorded, a delivery failed
    assert "ALERT 1" in result.stdout
    assert "1 new alert(s) from 1 watch(es); webhooks: 0 alert(s) delivered, 1 failed" \
        in result.stderr
    assert "HTTP 400 Bad Request (retried by the next run)" in result.stderr
    assert len(receiver.received) == 1                    # no retry
    assert [(n, s, h, e) for _, n, s, h, e, _ in attempts(db)] == \
        [(1, "failed", 400, "HTTP 400 Bad Request")]
    alert = alerts(db)[1]
    assert alert["open"] and alert["delivery"] == {
        "state": "failed", "attempts": 1, "last_attempt_at": alert["delivery"]["last_attempt_at"],
        "http_status": 400, "error": "HTTP 400 Bad Request"}
    text = call(db, "watch", "alerts").stdout
    assert "(open, failed: HTTP 400 Bad Request)" in text


def test_a_receiver_that_does_not_answer_times_out(db, receiver):
    add_watch(db, receiver, "/hook")
    _save(db, [_episode("2024-04-02", ["DEU"], ["cyber", "military"], 0.02)])
    receiver.answers = ["sleep", "sleep"]
    started = time.monotonic()
    code, report = run(db, "--webhook-timeout", "0.3", "--webhook-retries", "1")
    assert time.monotonic() - started < 5                 # two attempts of 0.3 s, not 10 s
    assert code == 6 and report["new_alerts"] == 1
    [outcome] = report["deliveries"]["deliveries"]
    assert (outcome["status"], outcome["attempts"], outcome["error"]) == \
        ("failed", 2, "timed out after 0.3 s")
    assert len(receiver.received) == 2
    assert [(n, s, e) for _, n, s, _, e, _ in attempts(db)] == \
        [(1, "failed", "timed out after 0.3 s"), (2, "failed", "timed out after 0.3 s")]


def test_a_refused_connection_fails_the_delivery_not_the_run(db, receiver):
    port = closed_port()
    added = call(db, "watch", "add", "--kind", "episodes", "--owner", "ana", "--webhook",
                 f"http://127.0.0.1:{port}/hook", "--allow-private", "--json")
    plain = call(db, "watch", "add", "--kind", "episodes", "--owner", "bo", "--json")
    assert added.exit_code == plain.exit_code == 0
    _save(db, [_episode("2024-04-02", ["DEU"], ["cyber", "military"], 0.02)])
    code, report = run(db, "--webhook-retries", "1")
    assert code == 6 and report["new_alerts"] == 2        # both watches' alerts recorded
    assert report["deliveries"]["failed"] == 1
    hooked, other = json.loads(added.stdout)["watch_id"], json.loads(plain.stdout)["watch_id"]
    listed = {a["watch_id"]: a for a in alerts(db).values()}
    assert listed[other]["delivery"] is None              # no webhook: nothing to deliver
    assert listed[hooked]["delivery"]["state"] == "failed"
    assert [(n, e, h) for _, n, _, _, e, h in attempts(db)] == \
        [(1, "connection refused", f"127.0.0.1:{port}"),
         (2, "connection refused", f"127.0.0.1:{port}")]


def test_the_next_run_retries_what_failed_and_never_sends_an_alert_twice(db, receiver):
    add_watch(db, receiver, "/hook")
    _save(db, [_episode("2024-04-02", ["DEU"], ["cyber", "military"], 0.02)])
    receiver.answers = [503, 503, 503]                    # every attempt of the first run fails
    assert run(db)[0] == 6 and len(receiver.received) == 3
    assert alerts(db)[1]["delivery"]["state"] == "failed"
    # a later run finds one more episode: its body carries the new alert and the failed one
    _save(db, [_episode("2024-04-02", ["DEU"], ["cyber", "military"], 0.02),
               _episode("2024-05-02", ["POL"], ["cyber", "military"], 0.03)])
    code, report = run(db)
    assert code == 0 and report["new_alerts"] == 1 and report["deliveries"]["delivered"] == 2
    code, again = run(db)
    assert code == 0 and again["deliveries"]["deliveries"] == []   # nothing left to send
    assert len(receiver.received) == 4
    sent = [a["alert_id"] for r in receiver.delivered() for a in r.json["alerts"]]
    assert sorted(sent) == [1, 2]                         # each alert delivered once
    assert all(r.verified for r in receiver.received)
    assert {a: s["delivery"]["state"] for a, s in alerts(db).items()} == \
        {1: "delivered", 2: "delivered"}
    assert alerts(db)[1]["delivery"]["attempts"] == 4


def test_an_amber_watch_never_receives_a_red_finding_nor_its_words(db, receiver):
    amber = add_watch(db, receiver, "/amber", "--tlp", "amber")
    red = add_watch(db, receiver, "/red", "--tlp", "red")
    _save(db, [_episode("2024-05-01", ["DEU", "PRK"], ["cyber", "military"], 0.01),
               _episode("2024-06-01", ["DEU"], ["cyber", "social"], 0.02)], ["red", "amber"])
    code, report = run(db)
    assert code == 0 and report["deliveries"]["delivered"] == 3
    [to_amber] = receiver.delivered("/amber")
    [to_red] = receiver.delivered("/red")
    assert to_amber.verified and to_red.verified
    assert to_amber.json["watch"]["watch_id"] == amber["watch_id"]
    assert [a["tlp"] for a in to_amber.json["alerts"]] == ["amber"]
    assert to_amber.json["tlp"] == "amber" and to_amber.headers["x-hybridwatch-tlp"] == "AMBER"
    for secret_word in (b"PRK", b"2024-05-01", b"red", b"RED"):
        assert secret_word not in to_amber.body, secret_word
    assert set(to_amber.json) == PAYLOAD_KEYS              # no run summary, counts, evidence
    assert sorted(a["tlp"] for a in to_red.json["alerts"]) == ["amber", "red"]
    assert to_red.json["tlp"] == "red" and b"PRK" in to_red.body
    assert red["watch_id"] == to_red.json["watch"]["watch_id"]


def test_an_alert_whose_finding_was_tightened_is_withheld_not_sent(db, receiver):
    add_watch(db, receiver, "/hook", "--tlp", "amber")
    with EventStore(db) as store:
        store._con.execute(
            "INSERT INTO events (event_id, source, source_record_id, occurred_at, "
            "occurred_precision, domain, target_iso3s, tlp, ingest_id) VALUES "
            "('e1', 'test', 'e1', TIMESTAMP '2024-04-02', 'day', 'cyber', ['DEU'], 'amber', 1)")
    _save(db, [_episode("2024-04-02", ["DEU"], ["cyber", "military"], 0.02,
                        event_ids=["e1"])], ["amber"])
    receiver.answers = [400]
    assert run(db)[0] == 6 and len(receiver.received) == 1     # raised at AMBER, not delivered
    with EventStore(db) as store:                         # a later version marks the event RED
        store._con.execute("UPDATE events SET tlp = 'red' WHERE event_id = 'e1'")
    code, report = run(db)
    assert code == 0 and report["deliveries"]["withheld"] == 1
    assert len(receiver.received) == 1                    # never sent again
    state = alerts(db)[1]["delivery"]
    assert state["state"] == "withheld" and "now TLP:RED" in state["error"]
    assert run(db)[1]["deliveries"]["deliveries"] == []   # withheld for good, not re-checked


def test_loopback_is_refused_unless_allowed_and_checked_again_when_sent(db, receiver):
    def add(url, *extra, env=None):
        return call(db, "watch", "add", "--kind", "episodes", "--owner", "ana", "--webhook", url,
                    *extra, env=env)

    refused = {
        receiver.url("/x"): "loopback address (127.0.0.1): refused unless",
        "http://localhost:8080/x": "loopback address",
        "http://10.1.2.3/x": "private address",
        "http://[::1]/x": "loopback address",
        "http://[::ffff:192.168.0.1]/x": "private address",
        "ftp://hooks.example.org/x": "scheme 'ftp' refused",
        "file:///etc/passwd": "scheme 'file' refused",
        "http://user:pw@hooks.example.org/x": "credentials in the URL refused",
        "https://hooks.example.org/x#frag": "fragment",
        "https:///x": "no host",
    }
    for url, reason in refused.items():
        result = add(url)
        assert result.exit_code == 2 and reason in result.output, (url, result.output)
    for url in ("http://169.254.169.254/latest", "http://0.0.0.0:9/x", "http://224.0.0.1/x"):
        result = add(url, "--allow-private")              # never, even when allowed
        assert result.exit_code == 2 and "refused" in result.output, (url, result.output)
    assert json.loads(call(db, "watch", "list", "--json").stdout)["count"] == 0
    # a name is checked on what it resolves to: 2130706433 is 127.0.0.1 spelled as a number
    sneaky = add(f"http://2130706433:{receiver.port}/hook", "--json")
    assert sneaky.exit_code == 0
    receiver.secrets["/hook"] = json.loads(sneaky.stdout)["webhook_secret"]
    _save(db, [_episode("2024-04-02", ["DEU"], ["cyber", "military"], 0.02)])
    code, report = run(db)
    assert code == 6 and receiver.received == []          # nothing left this host
    assert "resolves to a loopback address (127.0.0.1)" in \
        report["deliveries"]["deliveries"][0]["error"]
    assert len(attempts(db)) == 1                         # a refusal is not retried
    # the deployment's setting allows private receivers for every watch, when added and sent
    code, report = run(db, env={"HYBRIDWATCH_WEBHOOK_ALLOW_PRIVATE": "1"})
    assert code == 0 and [r.verified for r in receiver.received] == [True]
    allowed = add("http://10.1.2.3/x", env={"HYBRIDWATCH_WEBHOOK_ALLOW_PRIVATE": "1"})
    assert allowed.exit_code == 0


def test_a_removed_watch_takes_its_webhook_and_deliveries_along(db, receiver):
    watch = add_watch(db, receiver, "/hook")
    _save(db, [_episode("2024-04-02", ["DEU"], ["cyber", "military"], 0.02)])
    assert run(db)[0] == 0
    assert call(db, "watch", "remove", str(watch["watch_id"])).exit_code == 0
    with EventStore(db, read_only=True) as store:
        assert store._con.execute("SELECT (SELECT count(*) FROM watch_webhooks), "
                                  "(SELECT count(*) FROM alert_deliveries)").fetchall() == \
            [(0, 0)]


def test_an_untrusted_tls_certificate_fails_at_once_and_nothing_is_posted(db, tmp_path):
    issued = make_ca("127.0.0.1")                          # self-signed: no trust store has it
    (tmp_path / "cert.pem").write_bytes(issued.cert_pem())
    (tmp_path / "key.pem").write_bytes(issued.key_pem())
    receiver, server = start_receiver(tls_files=(str(tmp_path / "cert.pem"),
                                                 str(tmp_path / "key.pem")))
    try:
        added = call(db, "watch", "add", "--kind", "episodes", "--owner", "ana", "--webhook",
                     f"https://127.0.0.1:{receiver.port}/hook", "--allow-private")
        assert added.exit_code == 0
        _save(db, [_episode("2024-04-02", ["DEU"], ["cyber", "military"], 0.02)])
        code, report = run(db)
    finally:
        server.shutdown()
        server.server_close()
    assert code == 6 and receiver.received == []
    [(attempt, status, _, error, _)] = [row[1:] for row in attempts(db)]
    assert (attempt, status) == (1, "failed")               # a certificate problem: no retry
    assert error.startswith("TLS certificate not trusted")


def test_after_a_body_fails_the_rest_of_that_webhooks_backlog_waits(db, receiver):
    """A watch with more pending alerts than one body holds: once a body fails, its later
    bodies are not tried in this run (they stay pending, unrecorded); another watch's webhook
    is still tried."""
    from hybridwatch.outputs.alert_webhooks import (
        WebhookSettings, plan_deliveries, record_deliveries, send_deliveries,
    )
    from hybridwatch.workflows.watches import run_watches

    add_watch(db, receiver, "/down")
    add_watch(db, receiver, "/up")
    _save(db, [_episode(f"2024-04-{day:02d}", ["DEU"], ["cyber", "military"], 0.02)
               for day in range(1, 6)])
    settings = WebhookSettings(retries=0, backoff_seconds=0.01, max_alerts_per_body=2)
    with EventStore(db) as store:
        assert len(run_watches(store).alerts) == 10
        plans, withheld = plan_deliveries(store, settings=settings)
    assert [len(p.alert_ids) for p in plans] == [2, 2, 1, 2, 2, 1]
    receiver.answers = [500]                               # the first body to /down fails
    report = send_deliveries(plans, settings, withheld)
    assert [r.path for r in receiver.received] == ["/down", "/up", "/up", "/up"]
    assert (report.count("failed"), report.count("delivered"), report.count("deferred")) == \
        (2, 5, 3)
    with EventStore(db) as store:
        record_deliveries(store, report)
    states = [a["delivery"]["state"] for a in alerts(db).values()]
    assert sorted(states) == ["delivered"] * 5 + ["failed"] * 2 + ["pending"] * 3
