"""/api/docs: Swagger UI served from the package's bundled files, checked in a real headless
Chromium (Debian's) against a live server: the operations render, nothing is requested from any
address but the loopback server, and the page runs under its CSP without a violation."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ARTIFACTS
from hybridwatch.web.api_docs import swagger_ui_dir

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists() or shutil.which("chromium") is None,
                                    reason="Debian chromium is not installed")


def test_the_docs_page_and_its_assets_come_from_this_server(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "http" not in policy  # no CDN, no other host
    assert "cdn" not in page.text and "http" not in page.text
    for asset in ("/api/docs/assets/swagger-ui-bundle.js", "/api/docs/assets/swagger-ui.css",
                  "/api/docs/swagger-init.js"):
        answer = client.get(asset)
        assert answer.status_code == 200 and len(answer.content) > 200, asset
    bundled = (swagger_ui_dir() / "swagger-ui-bundle.js").read_bytes()
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").content == bundled


@needs_chromium
def test_swagger_ui_renders_offline_in_chromium(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        requested: list[str] = []
        problems: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{live_server}/api/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=30_000)
        page.wait_for_load_state("networkidle")
        paths = page.locator(".opblock-summary-path").all_text_contents()
        assert "/api/events" in [p.strip().replace("\u200b", "") for p in paths]
        assert page.locator(".swagger-ui .info .title").first.text_content().startswith(
            "hybridwatch")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
        browser.close()
    hosts = {urlsplit(url).hostname for url in requested if not url.startswith("data:")}
    assert hosts == {"127.0.0.1"}, requested
    assert not [p for p in problems if "Content Security Policy" in p], problems
    assert not problems, problems
