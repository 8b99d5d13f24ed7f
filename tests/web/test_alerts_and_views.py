"""Alerts and the actor–target view, through the API and in a real Chromium.

The API lists the watches' alerts within the caller's clearance and lets analysts acknowledge
them; the actor–target counts equal an independent SQL count. In the browser: the alert list
and the actor–target view render, the actor–target text is at least 11 px, a domain's colour
is the timeline's, and dragging across the timeline zooms every panel to the dragged span.
The watches and alerts these tests write to the shared demo store are removed afterwards.
The alerts panel's webhook delivery states are checked on a store of their own, after
`hybridwatch watch run` delivered to real receivers on loopback (screenshot:
tests/artifacts/dashboard-alerts.png)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest
from hybridwatch.store import EventStore

from conftest import ARTIFACTS, serve
from test_dashboard import CHROMIUM, browser, open_dashboard, sign_in  # noqa: F401 (fixture)
from web_helpers import assert_error, bearer, visible_sql

pytest.importorskip("fastapi")


@pytest.fixture
def planted_alerts(app, direct):
    """Two watches on the demo's episodes (one at RED, one at GREEN) evaluated once; removed
    (watches and alerts) after the test."""
    from hybridwatch.web.deps import open_cursor_store
    from hybridwatch.workflows.watches import new_watch, run_watches

    store = open_cursor_store(app)
    try:
        red = new_watch(store, kind="episodes", clearance="red", owner="test", name="any episode")
        green = new_watch(store, kind="episodes", clearance="green", owner="test",
                          name="green episodes")
        report = run_watches(store)
    finally:
        store.close()
    yield report, red, green
    direct.execute("DELETE FROM alerts WHERE watch_id IN (?, ?)", [red.watch_id, green.watch_id])
    direct.execute("DELETE FROM watches WHERE watch_id IN (?, ?)",
                   [red.watch_id, green.watch_id])


def test_alerts_are_listed_within_the_readers_clearance(client, tokens, direct, planted_alerts):
    report, red, green = planted_alerts
    episodes = direct.execute("SELECT f.tlp FROM findings f JOIN finding_runs r USING (run_id) "
                              "WHERE r.kind = 'episodes' AND r.run_id = ?",
                              [report.watches[0]["run_id"]]).fetchall()
    assert episodes, "the demo has episodes"
    # the RED watch alerts on every episode, the GREEN one on those at clear or green only
    by_watch = {}
    for a in report.alerts:
        by_watch.setdefault(a.watch_id, []).append(a.tlp)
    assert sorted(by_watch[red.watch_id]) == sorted(t for (t,) in episodes)
    assert sorted(by_watch.get(green.watch_id, [])) == sorted(
        t for (t,) in episodes if t in ("clear", "green"))
    for token, levels in (("viewer", ("clear", "green", "amber")),
                          ("viewer_green", ("clear", "green"))):
        answer = client.get("/api/alerts", params={"limit": 500},
                            headers=bearer(tokens[token])).json()
        expected = [a for a in report.alerts if a.tlp in levels]
        assert sorted(a["alert_id"] for a in answer["alerts"]) == \
            sorted(a.alert_id for a in expected)
        assert answer["total"] == len(expected)
        assert answer["withheld"] == len(report.alerts) - len(expected)
        assert all(a["open"] and a["tlp"] in levels for a in answer["alerts"])


def test_analysts_acknowledge_alerts_viewers_may_not(client, tokens, planted_alerts):
    report, _, _ = planted_alerts
    target = next(a for a in report.alerts if a.tlp in ("clear", "green", "amber"))
    denied = client.post(f"/api/alerts/{target.alert_id}/acknowledge",
                         headers=bearer(tokens["viewer"]))
    assert_error(denied, 403)
    done = client.post(f"/api/alerts/{target.alert_id}/acknowledge",
                       headers=bearer(tokens["analyst"]))
    assert done.status_code == 200, done.text
    assert done.json()["acknowledged_by"] == "test analyst" and not done.json()["open"]
    still_open = client.get("/api/alerts", params={"limit": 500},
                            headers=bearer(tokens["analyst"])).json()["alerts"]
    assert target.alert_id not in [a["alert_id"] for a in still_open]
    assert_error(client.post("/api/alerts/999999/acknowledge",
                             headers=bearer(tokens["analyst"])), 404)
    red = [a for a in report.alerts if a.tlp == "red"]
    if red:   # an alert above the caller's clearance is as absent as a missing one
        assert_error(client.post(f"/api/alerts/{red[0].alert_id}/acknowledge",
                                 headers=bearer(tokens["analyst"])), 404)


def test_the_api_shows_where_each_alerts_webhook_delivery_stands(app, client, tokens, direct):
    """A watch whose webhook refuses connections: its alerts list as failed, with the reason;
    alerts of watches without a webhook have no delivery."""
    import socket

    from hybridwatch.outputs.alert_webhooks import WebhookSettings, deliver_pending
    from hybridwatch.web.deps import open_cursor_store
    from hybridwatch.workflows.watches import new_watch, run_watches

    with socket.socket() as sock:                         # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = open_cursor_store(app)
    try:
        hooked = new_watch(store, kind="episodes", clearance="green", owner="test",
                           name="hooked", webhook_url=f"http://127.0.0.1:{port}/hook",
                           webhook_secret="hwwh_test", allow_private=True)
        plain = new_watch(store, kind="episodes", clearance="green", owner="test", name="plain")
        run_watches(store)
        report = deliver_pending(store, WebhookSettings(retries=0, timeout_seconds=2))
    finally:
        store.close()
    try:
        assert report.count("failed") > 0 and report.count("delivered") == 0
        listed = client.get("/api/alerts", params={"limit": 500},
                            headers=bearer(tokens["viewer_green"])).json()["alerts"]
        mine = [a["delivery"] for a in listed if a["watch_id"] == hooked.watch_id]
        assert len(mine) == report.count("failed")
        assert all((d["state"], d["attempts"], d["http_status"], d["error"]) ==
                   ("failed", 1, None, "connection refused") for d in mine)
        assert [a["delivery"] for a in listed if a["watch_id"] == plain.watch_id] == \
            [None] * len(mine)
    finally:
        ids = [hooked.watch_id, plain.watch_id]
        for table in ("alert_deliveries", "watch_webhooks", "alerts", "watches"):
            direct.execute(f"DELETE FROM {table} WHERE watch_id IN (?, ?)", ids)


def test_actor_target_counts_equal_an_independent_sql_count(client, tokens, direct):
    answer = client.get("/api/actor-targets", params={"limit": 1000, "domain": "military"},
                        headers=bearer(tokens["viewer"])).json()
    truth = direct.execute(f"""
        SELECT actor_iso3, t, domain, count(*) FROM (
            SELECT *, unnest(target_iso3s) AS t FROM events
            WHERE {visible_sql(("clear", "green", "amber"))} AND domain = 'military')
        WHERE actor_iso3 IS NOT NULL AND actor_iso3 <> t GROUP BY ALL""").fetchall()
    got = {(link["actor"], link["target"], link["domain"]): link["n_events"]
           for link in answer["links"]}
    assert got == {(a, t, d): n for a, t, d, n in truth}
    assert answer["total_links"] == len(truth)
    counts = [link["n_events"] for link in answer["links"]]
    assert counts == sorted(counts, reverse=True)


def test_the_dashboard_shows_alerts_actor_targets_and_zooms(browser, live_server, tokens,  # noqa: F811
                                                            planted_alerts):
    report, _, _ = planted_alerts
    api = httpx.Client(base_url=live_server, headers=bearer(tokens["analyst"]))
    page, problems = open_dashboard(browser, live_server, token=tokens["analyst"])
    page.wait_for_function("window.hwReady === true", timeout=30_000)

    # the alert list: what the API lists for this reader, newest first
    listed = api.get("/api/alerts", params={"limit": 50}).json()
    shown = page.locator("#alerts-list li").evaluate_all("rows => rows.map(r => +r.dataset.alert)")
    assert shown and shown == [a["alert_id"] for a in listed["alerts"]]
    first = page.locator("#alerts-list li").first
    first.locator("button.ack").click()
    page.wait_for_function(f"() => !document.querySelector('#alerts-list li[data-alert=\"{shown[0]}\"]')",
                           timeout=15_000)

    # the actor–target view: one band per link among the drawn actors and targets, each
    # coloured as the timeline colours its domain, text at least 11 px, inside its viewBox
    since = page.input_value("#f-since")
    links = api.get("/api/actor-targets", params={"since": since, "limit": 200}).json()["links"]
    bands = page.locator("#actor-targets path.link").evaluate_all(
        "ps => ps.map(p => [p.dataset.actor, p.dataset.target, p.dataset.domain, p.getAttribute('stroke')])")
    assert bands
    known = {(link["actor"], link["target"], link["domain"]) for link in links}
    assert all((a, t, d) in known for a, t, d, _ in bands)
    bar_colours = dict(page.evaluate("""() => [...document.querySelectorAll('#timeline rect.bar')]
        .map(r => [r.dataset.group, r.getAttribute('fill')])"""))
    for _, _, domain, colour in bands:
        if domain in bar_colours:
            assert colour == bar_colours[domain], domain
    sizes = page.evaluate("""() => [...document.querySelectorAll('#actor-targets svg text')]
        .map(t => parseFloat(getComputedStyle(t).fontSize)
                  * t.ownerSVGElement.getBoundingClientRect().width
                  / t.ownerSVGElement.viewBox.baseVal.width)""")
    assert sizes and min(sizes) >= 10.99, min(sizes)
    inside = page.evaluate("""() => [...document.querySelectorAll('#actor-targets svg path, #actor-targets svg rect')]
        .every(p => { const vb = p.ownerSVGElement.viewBox.baseVal, b = p.getBBox();
          return b.x >= -0.5 && b.y >= -0.5 && b.x + b.width <= vb.width + 0.5
              && b.y + b.height <= vb.height + 0.5; })""")
    assert inside
    # the DISARM techniques of each synchronised narrative, as the API lists them
    items = api.get("/api/narratives", params={"limit": 100}).json()["items"]
    expected = {i["narrative"]: [t["technique"] for t in i.get("techniques") or []]
                for i in items if i["significant"]}
    shown_tags = dict(page.locator("#narratives-table tbody tr").evaluate_all(
        """rows => rows.map(r => [r.dataset.narrative,
            [...r.querySelectorAll('span.technique')].map(s => s.dataset.technique)])"""))
    assert {n: t for n, t in shown_tags.items() if n in expected} == expected
    assert any(expected.values())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator("#narratives").screenshot(path=str(ARTIFACTS / "dashboard-narratives.png"))
    page.locator("#alerts").screenshot(path=str(ARTIFACTS / "dashboard-alerts-demo.png"))
    page.locator("#actor-targets").screenshot(path=str(ARTIFACTS / "dashboard-actor-targets.png"))

    # the timeline's brush: drag across the middle of the chart; From/To become that span,
    # and the events panel counts what the API counts for it
    renders = page.evaluate("window.hwRenders")
    page.locator("#timeline svg").scroll_into_view_if_needed()
    box = page.locator("#timeline svg").bounding_box()
    y = box["y"] + box["height"] * 0.5
    page.mouse.move(box["x"] + box["width"] * 0.4, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=5)
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
    page.mouse.up()
    page.wait_for_function(f"window.hwRenders > {renders} && window.hwReady === true",
                           timeout=30_000)
    start, end = page.input_value("#f-since"), page.input_value("#f-until")
    assert since < start < end
    span = (date.fromisoformat(end) - date.fromisoformat(start)).days
    assert 20 < span < 120   # a fifth of a year's chart
    upto = date.fromordinal(date.fromisoformat(end).toordinal() + 1).isoformat()
    total = api.get("/api/events", params={"since": start, "until": upto, "limit": 1}).json()["total"]
    assert page.text_content("#events-total").startswith(f"{total:,} events")
    periods = page.locator("#timeline rect.bar").evaluate_all(
        "rs => rs.map(r => r.querySelector('title').textContent.slice(0, 10))")
    assert periods and min(periods) >= start and max(periods) <= end   # days: span < 180
    page.locator("#timeline").screenshot(path=str(ARTIFACTS / "dashboard-zoomed.png"))
    assert problems == []
    page.close()


def test_episode_evidence_is_grouped_and_titled(client, tokens, direct):
    """The episode explorer's groups count every visible evidence event by domain and actor
    (independent SQL); evidence rows carry a readable title (a GDELT event: its action and
    headline, never a bare URL)."""
    episodes = client.get("/api/episodes", params={"limit": 500},
                          headers=bearer(tokens["viewer"])).json()["items"]
    episode = max(episodes, key=lambda e: len(e.get("event_ids", [])))
    detail = client.get(f"/api/episodes/{episode['finding_id']}",
                        params={"evidence_limit": 1000},
                        headers=bearer(tokens["viewer"])).json()
    evidence = detail["evidence"]
    truth = direct.execute(f"""
        SELECT domain, coalesce(actor_iso3, actor_name), count(*) FROM events
        WHERE event_id IN (SELECT unnest(?)) AND {visible_sql(("clear", "green", "amber"))}
        GROUP BY ALL""", [episode["event_ids"]]).fetchall()
    assert {(g["domain"], g["actor"]): g["n_events"] for g in evidence["groups"]} == \
        {(d, a): n for d, a, n in truth}
    assert sum(g["n_events"] for g in evidence["groups"]) == evidence["total"]
    titles = [e["display_title"] for e in evidence["events"]]
    assert titles and all(t and not t.startswith("http") for t in titles)


def test_synchronised_narratives_carry_their_disarm_techniques(client, tokens, direct):
    """Each synchronised narrative of the demo run lists the DISARM techniques tagged on its
    headlines when the run was recorded: known technique ids of the shipped framework, the
    triggering text found in the narrative's own headlines; the briefing shows them too."""
    from hybridwatch.model.disarm import disarm_framework

    answer = client.get("/api/narratives", params={"limit": 500},
                        headers=bearer(tokens["viewer"])).json()
    synced = [i for i in answer["items"] if i["significant"]]
    assert synced, "the demo has synchronised narratives"
    assert all(isinstance(i.get("techniques"), list) for i in synced)
    assert not any("techniques" in i for i in answer["items"] if not i["significant"])
    known = disarm_framework().techniques
    tagged = [(i, t) for i in synced for t in i["techniques"]]
    assert tagged, "the demo's synchronised narratives show at least one technique"
    for item, technique in tagged:
        assert technique["technique"] in known
        assert technique["name"] == known[technique["technique"]].name
        assert 0.5 <= technique["confidence"] <= 1
        headlines = [t.lower() for (t,) in direct.execute(
            "SELECT a.title FROM article_narratives n JOIN articles a USING (article_id) "
            "WHERE n.narrative_id = ?", [item["narrative"]]).fetchall() if t]
        quoted = technique["evidence"].split("«")[-1].rstrip("»").lower()
        assert quoted in headlines
    html = client.get("/api/briefings/latest", headers=bearer(tokens["viewer"])).text
    assert "DISARM techniques" in html
    for _, technique in tagged:
        assert technique["technique"] in html


#: a receiver's reason phrase reaches the delivery's error (ours, cut to 60 printable
#: characters): the page must show it as text
HOSTILE_REASON = '<img src=x onerror="window.hwInjected=1">'


@pytest.fixture
def receivers():
    """Three webhook receivers on loopback (tests/outputs/webhook_receiver.py): ``ok`` answers
    200, ``tight`` and ``hostile`` answer what the test sets."""
    import sys

    sys.path.append(str(Path(__file__).resolve().parents[1] / "outputs"))
    from webhook_receiver import start_receiver

    started = {name: start_receiver() for name in ("ok", "tight", "hostile")}
    yield {name: found for name, (found, _) in started.items()}
    for found, server in started.values():
        found.released.set()
        server.shutdown()
        server.server_close()


def _delivery_store(db: Path, receivers) -> dict[str, int]:
    """A store of its own with one GREEN episode on DEU and one AMBER episode on POL (citing
    one AMBER event) and six watches, run by `hybridwatch watch run` twice, the POL event
    tightened to RED in between: ``refused`` (its webhook a closed loopback port: failed),
    ``delivered`` (a receiver answering 200), ``plain`` (no webhook), ``tightened`` (its
    first delivery refused with a 400, then withheld), ``hostile`` (a 400 whose reason phrase
    is markup: failed), and ``later`` (added after the runs; its alert recorded, not sent:
    pending). Returns the watch ids by name."""
    from click.testing import CliRunner
    from webhook_receiver import closed_port

    from hybridwatch.cli import cli
    from hybridwatch.store.findings_store import items_of, save_run
    from hybridwatch.workflows.watches import run_watches

    def call(*args: str) -> tuple[int, dict]:
        result = CliRunner().invoke(cli, [*args, "--db", str(db), "--json"],
                                    catch_exceptions=False)
        return result.exit_code, json.loads(result.stdout)

    def add(name: str, target: str, url: str | None = None) -> int:
        hook = ["--webhook", url, "--allow-private"] if url else []
        code, watch = call("watch", "add", "--kind", "episodes", "--target", target,
                           "--name", name, "--owner", "ana", *hook)
        assert code == 0, watch
        return watch["watch_id"]

    def episode(start: str, targets: list[str], **extra) -> dict:
        return {"start": start, "end": start, "targets": targets, "domains": ["cyber", "social"],
                "p_value": 0.02, "zone": "single", "window_days": 7, "statistic": 3.0,
                "signals": [], "cells": [], **extra}

    with EventStore(db) as store:
        store._con.execute(
            "INSERT INTO events (event_id, source, source_record_id, occurred_at, "
            "occurred_precision, domain, target_iso3s, tlp, ingest_id) VALUES "
            "('e1', 'test', 'e1', TIMESTAMP '2024-05-02', 'day', 'cyber', ['POL'], 'amber', 1)")
        save_run(store, "episodes", {"parameters": {}}, items_of(
            "episodes", [episode("2024-04-02", ["DEU"]),
                         episode("2024-05-02", ["POL"], event_ids=["e1"])], ["green", "amber"]))
    ok, tight, hostile = receivers["ok"], receivers["tight"], receivers["hostile"]
    tight.answers = [400]
    hostile.answers = [(400, HOSTILE_REASON)] * 2
    ids = {"refused": add("refused", "DEU", f"http://127.0.0.1:{closed_port()}/hook"),
           "delivered": add("delivered", "DEU", ok.url("/hook")),
           "plain": add("plain", "DEU"),
           "tightened": add("tightened", "POL", tight.url("/hook")),
           "hostile": add("hostile", "DEU", hostile.url("/hook"))}
    fast = ("--webhook-retries", "0", "--webhook-backoff", "0.01", "--webhook-timeout", "2")
    code, first = call("watch", "run", *fast)
    assert code == 6 and first["new_alerts"] == 5
    assert (first["deliveries"]["delivered"], first["deliveries"]["failed"]) == (1, 3)
    with EventStore(db) as store:                      # a later version marks the event RED
        store._con.execute("UPDATE events SET tlp = 'red' WHERE event_id = 'e1'")
    code, second = call("watch", "run", *fast)
    assert code == 6 and second["new_alerts"] == 0
    assert (second["deliveries"]["failed"], second["deliveries"]["withheld"]) == (2, 1)
    ids["later"] = add("later", "DEU", ok.url("/later"))
    with EventStore(db) as store:                      # recorded, not sent yet
        assert len(run_watches(store).alerts) == 1
    return ids


def test_the_dashboard_shows_each_alerts_webhook_delivery(browser, tmp_path,  # noqa: F811
                                                          receivers):
    """The alerts panel shows each alert's delivery as GET /api/alerts gives it: failed with
    the reason and attempts (a webhook refusing connections), delivered with its time (a real
    receiver on loopback), withheld, pending, and nothing for a watch without a webhook. A
    receiver's reason phrase that is markup stays text."""
    from hybridwatch.store.access_store import create_token
    from hybridwatch.web.app import create_app

    db = tmp_path / "deliveries.duckdb"
    EventStore(db).close()
    ids = _delivery_store(db, receivers)
    with EventStore(db) as store:                      # RED: the tightened alert is readable
        token = create_token(store, role="admin", name="delivery admin").token
    with serve(create_app(db, close_on_shutdown=True), lifespan="on") as url:
        listed = httpx.get(f"{url}/api/alerts", params={"limit": 50},
                           headers=bearer(token)).json()["alerts"]
        page, problems = open_dashboard(browser, url, token=token)
        page.wait_for_function("window.hwReady === true", timeout=30_000)
        rows = page.locator("#alerts-list li").evaluate_all("""rows => rows.map(r => {
            const d = r.querySelector('.delivery');
            return [+r.dataset.alert, d && d.dataset.delivery, d && d.textContent,
                    d && d.title]; })""")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator("#alerts").screenshot(path=str(ARTIFACTS / "dashboard-alerts.png"))
        injected = page.evaluate("window.hwInjected === 1 || !!document.querySelector("
                                 "'#alerts img')")
        page.close()
        # the same panel under the page's Content-Security-Policy, enforced: no violation
        strict = browser.new_page(viewport={"width": 1400, "height": 1000})
        violations: list[str] = []
        strict.on("console", lambda m: violations.append(m.text)
                  if "Content Security Policy" in m.text else None)
        strict.goto(url)
        sign_in(strict, token)
        strict.wait_for_selector("#alerts-list .delivery-withheld")
        strict.close()
    api = {a["alert_id"]: a for a in listed}
    assert [r[0] for r in rows] == [a["alert_id"] for a in listed] and len(rows) == 6
    shown = {api[alert_id]["watch_id"]: (state, text, title)
             for alert_id, state, text, title in rows}
    # every row's state is the API's; none for the watch without a webhook
    assert {w: s for w, (s, _, _) in shown.items()} == \
        {a["watch_id"]: (a["delivery"] or {}).get("state") for a in listed}
    by_name = {name: shown[watch_id] for name, watch_id in ids.items()}
    assert by_name["plain"] == (None, None, None)
    assert by_name["refused"][1] == "webhook failed: connection refused (2 attempts)"
    delivered = next(a["delivery"] for a in listed if a["watch_id"] == ids["delivered"])
    assert by_name["delivered"][1] == \
        f"webhook delivered {delivered['last_attempt_at'][:16].replace('T', ' ')} UTC"
    assert "HTTP 200 (1 attempt)" in by_name["delivered"][2]
    assert by_name["tightened"][1] == "webhook withheld: not sent"
    assert "now TLP:RED" in by_name["tightened"][2]
    assert by_name["later"][1] == "webhook pending"
    assert by_name["hostile"][1] == f"webhook failed: HTTP 400 {HOSTILE_REASON} (2 attempts)"
    assert not injected
    assert problems == [] and violations == []
    assert len(receivers["ok"].delivered("/hook")) == 1 and not receivers["ok"].delivered("/later")
