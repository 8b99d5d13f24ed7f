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


@pytest.fixture
def served(tmp_path):
    cases = tmp_path / "cases.csv"
    cases.write_text(CASES, encoding="utf-8")
    db = tmp_path / "hw.duckdb"
    assert _run("ingest", str(cases), "--db", str(db), "--quiet").returncode == 0
    with EventStore(db) as store:
        admin = create_token(store, role="admin", name="lease admin").token
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([str(HYBRIDWATCH), "serve", "--db", str(db), "--port", str(port),
                               "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        assert server.poll() is None, server.communicate()
        try:
            if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass  # not listening yet: poll again until the deadline
        assert time.monotonic() < deadline, "serve did not start"
        time.sleep(0.2)
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
