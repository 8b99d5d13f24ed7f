"""Commands while `hybridwatch serve` runs: the server lends the store to them
(``web.store_lease``). A real `serve` process; `stats` and `token create` run as processes
against the same store, and the server answers again afterwards — with the new token."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from web_helpers import bearer

from hybridwatch.store import EventStore
from hybridwatch.store.access_store import create_token

HYBRIDWATCH = Path(sys.executable).with_name("hybridwatch")
CASES = (
    "date,id,title,countries,keywords,languages,outlets\n"
    "2024-03-01,https://euvsdisinfo.eu/report/a/,Poland provokes Russia,Poland,NATO,Russian,RT\n"
    "2024-03-04,https://euvsdisinfo.eu/report/b/,Germany is not sovereign,Germany,Germany,"
    "German,Sputnik\n")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(HYBRIDWATCH), *args], capture_output=True, text=True,
                          timeout=180)


def _ingested(tmp_path: Path) -> Path:
    """A store holding the two cases of ``CASES``, ingested by the CLI."""
    cases = tmp_path / "cases.csv"
    cases.write_text(CASES, encoding="utf-8")
    db = tmp_path / "hw.duckdb"
    assert _run("ingest", str(cases), "--db", str(db), "--quiet").returncode == 0
    return db


def _wait_until_healthy(server: subprocess.Popen, base: str, deadline: float) -> None:
    while True:
        assert server.poll() is None, server.communicate()
        try:
            if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass  # not listening yet: poll again until the deadline
        assert time.monotonic() < deadline, "serve did not start"
        time.sleep(0.2)


@pytest.fixture
def served(tmp_path):
    db = _ingested(tmp_path)
    with EventStore(db) as store:
        admin = create_token(store, role="admin", name="lease admin").token
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([str(HYBRIDWATCH), "serve", "--db", str(db), "--port", str(port),
                               "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    _wait_until_healthy(server, base, time.monotonic() + 90)
    yield db, base, admin
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    assert not db.with_name(db.name + ".serve.json").exists()  # the announcement is removed


def test_stats_and_token_create_while_serve_runs(served):
    db, base, admin = served
    announcement = db.with_name(db.name + ".serve.json")
    assert announcement.exists() and announcement.stat().st_mode & 0o077 == 0  # owner only
    assert httpx.get(base + "/api/me", headers=bearer(admin)).status_code == 200

    stats = _run("stats", "--db", str(db), "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["events"] == 2
    created = _run("token", "create", "--role", "viewer", "--name", "made while serving",
                   "--db", str(db), "--json")
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)["token"]

    me = httpx.get(base + "/api/me", headers=bearer(token), timeout=60)  # waits for the store
    assert me.status_code == 200 and me.json()["name"] == "made while serving"
    events = httpx.get(base + "/api/events", headers=bearer(admin), timeout=60).json()
    assert events["total"] == 2
    listed = _run("events", "--db", str(db), "--target", "POL", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout)["total"] == 1
    second = _run("serve", "--db", str(db), "--port", "1")  # a second server does not borrow
    assert second.returncode == 4 and "in use" in second.stderr
    assert httpx.get(base + "/api/me", headers=bearer(admin), timeout=60).status_code == 200


def test_a_stranger_cannot_take_the_store(served):
    _, base, _ = served
    for headers in ({}, {"X-Hybridwatch-Lease": "guess"}):
        answer = httpx.post(base + "/api/local/lease", headers=headers)
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    assert httpx.get(base + "/api/health").status_code == 200


def test_a_request_while_the_store_is_lent_waits_then_gets_503_with_headers(
        tmp_path, monkeypatch):
    """In-process: the gate holds a request while the store is out, answers 503 with
    Retry-After (and the security headers) when it stays out too long, and admits requests
    again once the store is given back."""
    from fastapi.testclient import TestClient

    from hybridwatch.web import store_lease
    from hybridwatch.web.app import create_app

    db = _ingested(tmp_path)
    with EventStore(db) as store:
        admin = create_token(store, role="admin", name="gate").token
    monkeypatch.setattr(store_lease, "REQUEST_WAIT_SECONDS", 0.3)
    app = create_app(db, close_on_shutdown=True)
    with TestClient(app) as client:
        assert client.get("/api/events", headers=bearer(admin)).json()["total"] == 2
        lease = {store_lease.LEASE_HEADER: app.state.gate.secret}
        assert client.post("/api/local/lease", headers=lease).json()["lent"] is True
        started = time.monotonic()
        busy = client.get("/api/events", headers=bearer(admin))
        assert time.monotonic() - started >= 0.3  # it waited for the store first
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
        assert busy.json()["error"]["code"] == "unavailable"
        assert "frame-ancestors 'none'" in busy.headers["Content-Security-Policy"]
        assert client.delete("/api/local/lease", headers=lease).json()["lent"] is False
        deadline = time.monotonic() + 30
        while app.state.gate.lent:  # the server reopens the store in a thread
            assert time.monotonic() < deadline
            time.sleep(0.05)
        again = client.get("/api/events", headers=bearer(admin))
        assert again.status_code == 200 and again.json()["total"] == 2
        assert again.headers["X-Frame-Options"] == "DENY"


def test_serve_on_port_0_announces_the_port_it_got(tmp_path):
    """`serve --port 0` lets the system choose the port and writes it into the announcement,
    so other commands can still borrow the store."""
    db = _ingested(tmp_path)
    announcement = db.with_name(db.name + ".serve.json")
    server = subprocess.Popen([str(HYBRIDWATCH), "serve", "--db", str(db), "--port", "0",
                               "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while not announcement.exists():
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "no announcement"
            time.sleep(0.1)
        url = json.loads(announcement.read_text())["url"]
        port = int(url.rsplit(":", 1)[1])
        assert port > 0
        _wait_until_healthy(server, url, deadline)
        stats = _run("stats", "--db", str(db), "--json")  # borrows through the announcement
        assert stats.returncode == 0 and json.loads(stats.stdout)["events"] == 2
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)
    assert not announcement.exists()
