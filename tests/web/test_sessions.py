"""Dashboard sessions: an API token is exchanged for an HttpOnly, SameSite=Strict cookie; the
cookie authenticates reads, a state-changing request on it must come from this server (Origin),
revoking the token or signing out ends it, it expires; bearer tokens keep working. In Chromium:
a whole browser session leaves no secret in the server's access log nor in any URL."""

from __future__ import annotations

import logging
import socket
import threading
import time
import warnings

import pytest
from web_helpers import assert_error, bearer

from hybridwatch.web.sessions import SESSION_COOKIE, SessionTable

from test_dashboard import CHROMIUM, browser, open_dashboard, sign_in  # noqa: F401 (fixture)

ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def fresh(app):
    """A test client with its own cookie jar (the session's shared client must stay
    cookie-free), without running the app's lifespan again."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(app)


def test_sign_in_sets_a_strict_http_only_cookie_that_reads(fresh, tokens):
    answer = fresh.post("/api/session", json={"token": tokens["analyst"]}, headers=ORIGIN)
    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == "analyst" and answer.json()["expires_in"] == 8 * 3600
    header = answer.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"httponly", "path", "max-age"} <= attributes and "samesite=strict" in header.lower()
    assert tokens["analyst"] not in header and tokens["analyst"].split("_")[2] not in header
    me = fresh.get("/api/me")  # no Authorization header: the cookie alone
    assert me.status_code == 200 and me.json()["role"] == "analyst"
    assert fresh.get("/api/events", params={"limit": 1}).status_code == 200


def test_a_bad_token_opens_no_session(fresh):
    error = assert_error(fresh.post("/api/session", json={"token": "hw_0123456789ab_nope"}), 401)
    assert "invalid token" in error["message"] and SESSION_COOKIE not in fresh.cookies
    assert_error(fresh.get("/api/me"), 401)
    fresh.cookies.set(SESSION_COOKIE, "forged-session-value")
    assert "sign in again" in assert_error(fresh.get("/api/me"), 401)["message"]


def test_cookie_writes_need_this_servers_origin(fresh, tokens):
    fresh.post("/api/session", json={"token": tokens["viewer"]})
    for headers in ({}, {"Origin": "http://evil.example"}, {"Origin": "null"},
                    {"Origin": "https://testserver"}):
        error = assert_error(fresh.delete("/api/session", headers=headers), 403)
        assert "Origin" in error["message"]
    assert fresh.get("/api/me").status_code == 200  # the refused sign-out left it open
    assert_error(fresh.post("/api/session", json={"token": tokens["viewer"]},
                            headers={"Origin": "http://evil.example"}), 403)
    assert fresh.delete("/api/session", headers=ORIGIN).status_code == 204
    assert_error(fresh.get("/api/me"), 401)  # signed out: the old cookie value is dead


def test_bearer_tokens_keep_working_without_origin(fresh, tokens):
    fresh.post("/api/session", json={"token": tokens["viewer"]})
    me = fresh.get("/api/me", headers=bearer(tokens["admin"]))  # the header wins
    assert me.json()["role"] == "admin"
    assert fresh.delete("/api/session", headers=bearer(tokens["viewer"])).status_code == 204


def test_revoking_the_token_ends_its_sessions(fresh, client, tokens, direct):
    created = client.post("/api/tokens", json={"role": "viewer", "name": "session probe"},
                          headers=bearer(tokens["admin"])).json()
    try:
        fresh.post("/api/session", json={"token": created["token"]})
        assert fresh.get("/api/me").status_code == 200
        client.delete(f"/api/tokens/{created['token_id']}", headers=bearer(tokens["admin"]))
        assert_error(fresh.get("/api/me"), 401)
    finally:  # the web tests share one store
        direct.execute("DELETE FROM api_tokens WHERE token_id = ?", [created["token_id"]])


def test_sessions_expire():
    now = [1000.0]
    table = SessionTable(ttl_seconds=60, clock=lambda: now[0])
    secret = table.create("abc")
    assert table.get(secret).token_id == "abc"
    now[0] += 59.9
    assert table.get(secret) is not None
    now[0] += 0.2
    assert table.get(secret) is None and len(table) == 0
    other = table.create("def")
    table.drop(other)
    assert table.get(other) is None
    assert len({table.create("x") for _ in range(50)}) == 50  # fresh random values


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def logged_server(app):
    """The app on its own uvicorn server with the access log on, every line of the access
    and error logs captured as written — with no redaction filter: nothing may need one."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, access_log=True,
                                           log_config=None, lifespan="off"))
    capture = _Lines()
    loggers = [logging.getLogger(name) for name in ("uvicorn.access", "uvicorn.error")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
        logger.addHandler(capture)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", capture.lines
    server.should_exit = True
    thread.join(timeout=10)
    for logger, level in zip(loggers, levels):
        logger.removeHandler(capture)
        logger.setLevel(level)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
def test_a_browser_session_leaves_no_secret_in_the_access_log(browser, logged_server,  # noqa: F811
                                                              tokens):
    base, lines = logged_server
    token = tokens["analyst"]
    page, problems = open_dashboard(browser, base, token=token)
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.wait_for_function("window.hwReady === true", timeout=30_000)
    [cookie] = page.context.cookies()
    page.select_option("#f-domain", "cyber")
    page.click("#filters button[type=submit]")
    page.wait_for_function("window.hwReady === true", timeout=30_000)
    page.click("#token-forget")
    page.wait_for_function("document.querySelector('#message').textContent.includes('Signed out')")
    assert page.context.cookies() == []
    page.close()
    assert problems == []

    written = "\n".join(lines)
    assert '"POST /api/session HTTP/1.1" 200' in written  # the log was captured
    assert '"DELETE /api/session HTTP/1.1" 204' in written
    assert "/api/events?" in written and len(lines) > 15
    secret = token.split("_", 2)[2]
    for value in (token, secret, cookie["value"]):
        assert value not in written
        assert not [url for url in urls if value in url]
    assert "token=" not in written


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
def test_a_token_in_a_link_is_not_used(browser, live_server, tokens):  # noqa: F811
    page, _ = open_dashboard(browser, live_server)
    page.goto(f"{live_server}/?token={tokens['viewer']}&x=1")
    page.wait_for_function(
        "document.querySelector('#message').textContent.includes('not used')")
    assert "token=" not in page.url and page.url.endswith("/?x=1")
    assert page.context.cookies() == [] and page.text_content("#who") == ""
    page.close()
