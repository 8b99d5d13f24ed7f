"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium) against a live server:
it loads without console errors, draws its charts and the demo's episodes, and the filters and
the episode explorer work. A screenshot goes to tests/artifacts/dashboard.png."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from conftest import ARTIFACTS
from web_helpers import bearer

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists() or shutil.which("chromium") is None,
                                reason="Debian chromium is not installed")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def open_dashboard(browser, url: str, token: str | None = None):
    """A new page (its own cookie jar) on the dashboard at ``url``, signed in with ``token``
    through the sign-in form: the token is typed, never put in a URL. (A ``?token=`` left in
    ``url`` by an older test is taken out and typed instead.)"""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "token" in query:
        token = token or query.pop("token")[0]
        url = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    # the server's CSP forbids eval, which Playwright's wait_for_function uses to poll; the
    # policy itself is checked in test_hardening.py and under it in test_dashboard_under_csp
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") and not _expected_401(m.text) else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(url)
    if token is not None:
        sign_in(page, token)
    return page, problems


def _expected_401(text: str) -> bool:
    # before signing in, the page asks /api/me once and Chromium logs the 401 it gets
    return "401" in text and "Failed to load resource" in text


def sign_in(page, token: str) -> None:
    page.wait_for_selector("#message:not([hidden])")  # the page asked to sign in
    page.fill("#token-input", token)
    page.click("#token-form button[type=submit]")


def test_dashboard_loads_filters_and_explores(browser, live_server, tokens):
    api = httpx.Client(base_url=live_server, headers=bearer(tokens["viewer"]))
    page, problems = open_dashboard(browser, live_server, token=tokens["viewer"])
    page.wait_for_function("window.hwReady === true", timeout=30_000)

    # signed in with a session cookie the page's scripts cannot read; the token is kept nowhere
    [cookie] = page.context.cookies()
    assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == \
        ("hw_session", True, "Strict")
    assert tokens["viewer"] not in cookie["value"] and "hw_session" not in page.evaluate(
        "document.cookie")
    assert page.evaluate("JSON.stringify(sessionStorage) + JSON.stringify(localStorage)") \
        == "{}{}"
    assert "clearance TLP:AMBER" in page.text_content("#who")

    # charts: stacked bars, the world map with shaded targets, the convergence line
    assert page.locator("#timeline rect.bar").count() > 20
    assert page.locator("#map path.country").count() > 150
    assert page.locator("#map path.country[data-iso3='DEU']").get_attribute("fill") != "#e3e6eb"
    assert page.locator("#convergence path.line").count() >= 1
    # what a person checks: the convergence line stays inside its chart, charts fill their
    # panels, and no chart text is smaller than 11 px on screen
    inside = page.evaluate("""() => [...document.querySelectorAll('#convergence path')].every(p => {
        const vb = p.ownerSVGElement.viewBox.baseVal, b = p.getBBox();
        return b.x >= vb.x - 0.5 && b.y >= vb.y - 0.5 && b.x + b.width <= vb.x + vb.width + 0.5
            && b.y + b.height <= vb.y + vb.height + 0.5; })""")
    assert inside
    sizes = page.evaluate("""() => [...document.querySelectorAll('#timeline svg text, #convergence svg text')]
        .map(t => parseFloat(getComputedStyle(t).fontSize)
                  * t.ownerSVGElement.getBoundingClientRect().width
                  / t.ownerSVGElement.viewBox.baseVal.width)""")
    assert sizes and min(sizes) >= 10.99, min(sizes)
    fill = page.evaluate("""() => ['#timeline', '#convergence'].map(id => {
        const svg = document.querySelector(id + ' svg'), body = svg.parentElement;
        return svg.getBoundingClientRect().width / body.clientWidth; })""")
    assert min(fill) > 0.97
    colours_before = dict(page.evaluate("""() => [...document.querySelectorAll('#timeline rect.bar')]
        .map(r => [r.dataset.group, r.getAttribute('fill')])"""))
    assert colours_before["information"] != colours_before.get("social")
    # the key judgements the viewer may read, as the API gives them (the rest are withheld)
    judged = page.locator("#overview .judgements li").evaluate_all(
        "rows => rows.map(r => r.dataset.target)")
    readable = api.get("/api/assessments").json()
    assert judged and judged == [item["target"] for item in readable["items"]]
    assert all(item["tlp"] in ("clear", "green", "amber") for item in readable["items"])

    # the page's TLP banner names the highest marking on screen
    badges = page.evaluate("""() => [...document.querySelectorAll('main .tlp')]
        .map(n => n.textContent)""")
    order = ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]
    highest = max(badges, key=order.index)
    assert page.text_content("#tlp-banner").startswith(highest)
    # coinciding series: significant pairs first, none with q > 0.5 until asked
    pairs = api.get("/api/coincidences", params={"limit": 200}).json()["items"]
    flags = page.locator("#coincidences-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.classList.contains('significant'))")
    assert flags == sorted(flags, reverse=True)
    qs = [float(q) for q in page.locator("#coincidences-table tbody td:nth-child(7)")
          .all_text_contents() if q not in ("–", "")]
    assert all(q <= 0.5 for q in qs)
    if any((p["q_value"] if p["q_value"] is not None else 1) > 0.5 for p in pairs):
        page.click("#coincidences-toggle")
        page.wait_for_function("() => document.querySelector('#coincidences-toggle')"
                               ".textContent.startsWith('Hide')")
    # every table exports as CSV: the download holds the table's header and rows
    with page.expect_download() as download:
        page.click("button.csv[data-for='episodes-table']")
    csv_text = Path(download.value.path()).read_text(encoding="utf-8")
    assert csv_text.splitlines()[0] == ",".join(
        t.strip() for t in page.locator("#episodes-table thead th").all_text_contents())
    assert len(csv_text.splitlines()) == 1 + page.locator("#episodes-table tbody tr").count()
    # the print view hides the controls
    page.emulate_media(media="print")
    assert not page.is_visible("#filters") and not page.is_visible("#token-form")
    page.emulate_media(media="screen")

    # the demo's episodes, as the API lists them for the same period
    since = page.input_value("#f-since")
    episodes = api.get("/api/episodes", params={"since": since, "limit": 500}).json()["items"]
    assert episodes, "the demo has episodes"
    rows = page.locator("#episodes-table tbody tr")
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.findingId)") == \
        [e["finding_id"] for e in episodes]

    # the episode explorer down to the evidence
    rows.first.click()
    page.wait_for_selector("#evidence-table tbody tr")
    detail = api.get(f"/api/episodes/{episodes[0]['finding_id']}",
                     params={"evidence_limit": 50}).json()
    shown = page.locator("#evidence-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.eventId)")
    assert shown == [e["event_id"] for e in detail["evidence"]["events"]]
    # grouped by domain and actor above the paged list, which shows titles, not bare URLs
    groups = page.locator("#evidence-groups tbody tr td:nth-child(3)").all_text_contents()
    assert sum(int(n.replace(",", "")) for n in groups) == detail["evidence"]["total"] or \
        len(detail["evidence"]["groups"]) > 20
    titles = page.locator("#evidence-table tbody td:nth-child(7)").all_text_contents()
    assert titles and not any(t.startswith("http") for t in titles)

    # narrative synchronisation view
    page.locator("#narratives-table tbody tr").first.click()
    page.wait_for_selector("#narrative-chart path.line")

    # filters: target TWN and a domain narrow every panel the way the API does
    page.select_option("#f-target", "TWN")
    page.select_option("#f-domain", "military")
    page.click("#filters button[type=submit]")
    page.wait_for_function("window.hwRenders >= 2 && window.hwReady === true")
    until = page.input_value("#f-until")
    params = {"target": "TWN", "domain": "military", "since": since}
    twn = api.get("/api/episodes", params={**params, "limit": 500}).json()["items"]
    assert page.locator("#episodes-table tbody tr").count() == len(twn)
    total = api.get("/api/events", params={**params, "limit": 1}).json()["total"]
    assert page.text_content("#events-total").startswith(f"{total:,} events")
    assert until == ""
    targets = page.locator("#events-table tbody tr td:nth-child(5)").all_text_contents()
    assert targets and set(targets) == {"TWN"}
    # a domain keeps its colour when the filter leaves it alone in the chart
    colours_after = dict(page.evaluate("""() => [...document.querySelectorAll('#timeline rect.bar')]
        .map(r => [r.dataset.group, r.getAttribute('fill')])"""))
    assert colours_after == {"military": colours_before["military"]}

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert problems == []
    page.close()


def test_dashboard_without_a_valid_token_asks_for_one(browser, live_server):
    page, _ = open_dashboard(browser, live_server)
    page.wait_for_selector("#message:not([hidden])")
    assert "Sign in" in page.text_content("#message")
    sign_in(page, "hw_bad_token")
    page.wait_for_function("document.querySelector('#message').textContent.includes('refused')")
    assert "refused the token" in page.text_content("#message")
    assert page.context.cookies() == []
    assert page.locator("#episodes-table").count() == 0
    page.close()


def test_dashboard_under_its_content_security_policy(browser, live_server, tokens):
    """The dashboard runs with the CSP enforced: no violation; signing in works under it."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(live_server)
    sign_in(page, tokens["viewer"])
    page.wait_for_selector("#who:not(:empty)")
    page.wait_for_load_state("networkidle")
    assert page.locator("body").inner_text().strip()
    assert not [p for p in problems if "Content Security Policy" in p], problems
    page.close()


@pytest.fixture
def review_undone(direct):
    """The store is shared by the session's web tests: the review this test writes is removed
    afterwards (the TAXII round trip compares exports, and imports do not restore reviews)."""
    def table_exists() -> bool:
        return direct.execute("SELECT count(*) FROM information_schema.tables "
                              "WHERE table_name = 'finding_reviews'").fetchone()[0] > 0

    before = direct.execute("SELECT coalesce(max(review_id), 0) FROM finding_reviews"
                            ).fetchone()[0] if table_exists() else 0
    yield
    if table_exists():
        direct.execute("DELETE FROM finding_reviews WHERE review_id > ?", [before])


def test_an_analyst_reviews_a_judgement_from_the_dashboard(browser, live_server, tokens,
                                                          review_undone):
    """The review buttons: shown to analysts (not viewers); a review lands in the store with
    the token's name, its verdict and note, as the API reports it."""
    viewer, _ = open_dashboard(browser, live_server, token=tokens["viewer"])
    viewer.wait_for_function("window.hwReady === true", timeout=30_000)
    assert viewer.locator("#overview .judgements li").count() > 0
    assert viewer.locator("#overview form.review").count() == 0
    viewer.close()

    page, problems = open_dashboard(browser, live_server, token=tokens["analyst"])
    page.wait_for_function("window.hwReady === true", timeout=30_000)
    form = page.locator("#overview form.review").first
    finding = form.get_attribute("data-finding")
    form.locator("select.review-verdict").select_option("needs-work")
    form.locator("input.review-note").fill("check the second source")
    form.locator("button").click()
    page.wait_for_function("() => document.querySelector('#overview form.review .review-status')"
                           ".textContent.includes('Reviewed')", timeout=15_000)
    assert "needs-work by test analyst" in form.locator(".review-status").text_content()
    detail = httpx.get(f"{live_server}/api/findings/{finding}",
                       headers=bearer(tokens["admin"])).json()
    assert [(r["verdict"], r["note"], r["analyst"]) for r in detail["reviews"]][-1] == \
        ("needs-work", "check the second source", "test analyst")
    assert problems == []
    page.close()


def test_supply_panel_lists_the_diversion_candidates(browser, live_server, tokens):
    """The supply panel shows the latest run's candidates as the API serves them, significant
    first, with both legs before → after; the demo's planted transit countries are flagged."""
    api = httpx.Client(base_url=live_server, headers=bearer(tokens["viewer"]))
    served = api.get("/api/supply", params={"limit": 200}).json()
    page, problems = open_dashboard(browser, live_server, token=tokens["viewer"])
    page.wait_for_function("window.hwReady === true", timeout=30_000)
    rows = page.locator("#supply-table tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.via, r.classList.contains('significant'),"
        " r.children[2].textContent, r.children[3].textContent])")
    assert served["available"] and rows
    flags = [significant for _, significant, _, _ in rows]
    assert flags == sorted(flags, reverse=True)
    by_via = {item["via"]: item for item in served["items"]}
    assert {via for via, significant, _, _ in rows if significant} == \
        {v for v, item in by_via.items() if item["significant"]}
    # the demo plants transit through ARM, KAZ and KGZ (demo/scenario_trade.py)
    assert {"ARM", "KAZ", "KGZ"} <= {via for via, significant, _, _ in rows if significant}
    via, _, leg_a, _ = rows[0]
    before = by_via[via]["evidence"]["origin_to_via"]["mean_monthly_usd_before"]
    assert leg_a.startswith("$" + f"{before:,.0f}")
    assert not problems, problems
