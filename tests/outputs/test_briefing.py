"""Briefings: rendered from the findings store of a real demo run, checked in the PDF itself
(pages, text, fonts, TLP on every page) and against the store (what a TLP level may see)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.errors import SelectorError
from hybridwatch.model.schema import TLP_LEVELS
from hybridwatch.outputs.briefing.judgement_text import judgement_sentence
from hybridwatch.outputs.briefing import Period, render_briefing_html, write_briefing
from hybridwatch.outputs.briefing.evidence import safe_link
from hybridwatch.outputs.briefing.map_svg import CLASSES, phia_classes, render_map
from hybridwatch.store import EventStore
from hybridwatch.model.tlp import tlp_rank
from hybridwatch.model.finding_kinds import kind_names
from hybridwatch.store.findings_store import latest_run

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="poppler-utils (pdftotext, pdftoppm) not installed")

HEADINGS = ("Key judgements", "Convergence index", "Multi-domain episodes", "Targets",
            "Coinciding activity", "Synchronised narratives", "Evidence annex",
            "Methods and limitations", "Data coverage", "Generation metadata")
A4_HEIGHT_PT, MARGIN_PT = 842, 50  # header and footer boxes sit in the 20 / 18 mm margins


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-year demo store, built once (or an existing one from $HYBRIDWATCH_TEST_DEMO_DB,
    opened read-only, to iterate faster)."""
    if os.environ.get("HYBRIDWATCH_TEST_DEMO_DB"):
        return Path(os.environ["HYBRIDWATCH_TEST_DEMO_DB"])
    out = tmp_path_factory.mktemp("briefing-demo")
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--days", "730", "--quiet",
                                      "--json"])
    assert result.exit_code == 0, result.output
    # --quiet --json: nothing but one JSON object (no progress, summary or warning on stderr)
    assert json.loads(result.stdout)["stats"]["events"] > 0 and result.stderr == ""
    return out / "hybridwatch.duckdb"


@pytest.fixture(scope="session")
def amber(demo_db: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("briefing-amber")
    with EventStore(demo_db, read_only=True) as store:
        return write_briefing(store, out, tlp="amber")


def _pdftotext(pdf: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", *args, str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


def _html(store: EventStore, tlp: str, period: str | None = None) -> str:
    return render_briefing_html(store, tlp=tlp, period=period)


def _anchors(html: str, prefix: str) -> set[str]:
    return set(re.findall(rf'id="{prefix}-([0-9a-f]+)"', html))


def test_pdf_pages_render_and_are_not_blank(amber, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    subprocess.run(["pdftoppm", "-r", "30", "-png", str(amber.pdf_path), str(tmp_path / "p")],
                   check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) == amber.n_pages >= 4
    for page in pages:
        grey = Image.open(page).convert("L")
        assert ImageStat.Stat(grey).stddev[0] > 5, f"{page.name} is blank"


def test_sections_and_tlp_on_every_page(amber) -> None:
    text = _pdftotext(amber.pdf_path)
    flat = " ".join(text.split())
    for heading in HEADINGS:
        assert heading in flat, heading
    for page in range(1, amber.n_pages + 1):
        top = _pdftotext(amber.pdf_path, "-f", str(page), "-l", str(page), "-x", "0", "-y", "0",
                         "-W", "595", "-H", str(MARGIN_PT))
        bottom = _pdftotext(amber.pdf_path, "-f", str(page), "-l", str(page), "-x", "0",
                            "-y", str(A4_HEIGHT_PT - MARGIN_PT), "-W", "595",
                            "-H", str(MARGIN_PT))
        assert "TLP:AMBER" in top and "TLP:AMBER" in bottom, f"page {page}"
        assert f"page {page} of {amber.n_pages}" in bottom


def test_chinese_and_russian_text_render(amber, demo_db: Path) -> None:
    """Headlines in Chinese and Russian reach the PDF as text, set in fonts that have them."""
    with EventStore(demo_db, read_only=True) as store:
        shown = {lang: {row[0] for row in store._con.execute(
            "SELECT DISTINCT title FROM articles WHERE language = ?", [lang]).fetchall()}
            for lang in ("zh", "ru")}
    flat = " ".join(_pdftotext(amber.pdf_path).split())
    for lang in ("zh", "ru"):
        assert any(title in flat for title in shown[lang]), f"no {lang} headline in the PDF"
    fonts = subprocess.run(["pdffonts", str(amber.pdf_path)], check=True, capture_output=True,
                           text=True).stdout
    assert "NotoSansCJK" in fonts.replace("-", "")     # the CJK glyphs come from Noto
    assert "DejaVu" in fonts                           # Latin and Cyrillic
    assert "Type 3" not in fonts                       # no bitmap stand-ins


class _Resources(HTMLParser):
    """Every URL the page would load: src attributes, link hrefs, CSS url() and @import."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for name, value in attrs:
            if name in ("src", "srcset", "poster", "data") and value:
                self.loads.append(value)
            if name in ("href", "xlink:href") and value:
                (self.links if tag == "a" else self.loads).append(value)
        if tag == "link" and values.get("href"):
            self.loads.append(values["href"])


def test_html_loads_nothing_from_outside(amber) -> None:
    html = amber.html_path.read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(html)
    assert parser.scripts == 0
    assert all(url.startswith(("#", "data:")) for url in parser.loads), parser.loads
    assert not re.search(r"url\(\s*['\"]?(?!#|data:)", html)
    assert "@import" not in html
    # evidence links are plain http(s) anchors, never scripts
    assert parser.links and all(u.startswith(("#", "http://", "https://"))
                                for u in parser.links)


def test_tlp_filtering_matches_the_store(demo_db: Path) -> None:
    with EventStore(demo_db, read_only=True) as store:
        everything = {k: latest_run(store, k, clearance="red") for k in kind_names()}
        # what a briefing lists: every judgement, index period and episode; significant pairs
        # and narratives only
        items = [i for kind, run in everything.items() if run for i in run.items
                 if kind in ("assessment", "convergence", "episodes") or i["significant"]]
        top = max(tlp_rank(i["tlp"]) for i in items)
        assert top >= tlp_rank("amber"), "the demo should mark some findings above GREEN"
        most_restricted = [i for i in items if tlp_rank(i["tlp"]) == top]
        html_below = _html(store, TLP_LEVELS[top - 1])
        html_green, html_red = _html(store, "green"), _html(store, "red")
        shown_below = _anchors(html_below, "f")
        shown_green, shown_red = _anchors(html_green, "f"), _anchors(html_red, "f")
        assert {i["finding_id"] for i in items} <= shown_red
        for item in most_restricted:   # e.g. a RED episode: in the RED briefing only
            assert item["finding_id"] in shown_red and item["finding_id"] not in shown_below
        for item in items:
            assert (item["finding_id"] in shown_green) == (tlp_rank(item["tlp"]) <= 1)
        # every event in the GREEN annex is at most GREEN in the store
        event_ids = list(_anchors(html_green, "e"))
        levels = store._con.execute(
            "SELECT DISTINCT coalesce(tlp, 'clear') FROM events "
            "WHERE event_id IN (SELECT unnest(?))", [event_ids]).fetchall()
        assert all(tlp_rank(level) <= tlp_rank("green") for (level,) in levels)
        # the withheld counts are the store's
        names = {"convergence": ("convergence period", "convergence periods"),
                 "episodes": ("episode", "episodes"),
                 "coincidences": ("coincidence pair", "coincidence pairs")}
        for kind, (one, many) in names.items():
            if everything[kind] is None:
                continue
            withheld = latest_run(store, kind, clearance="green").withheld
            name = one if withheld == 1 else many
            assert bool(re.search(rf"\b{withheld} {name}\b", html_green)) == (withheld > 0)
        for level in ("amber", "amber-strict", "red"):   # no marking above GREEN anywhere
            assert f'class="tlp tlp-{level}"' not in html_green
        assert 'content: "TLP:GREEN"' in html_green and 'content: "TLP:RED"' in html_red


def test_period_restricts_episodes_and_events(demo_db: Path) -> None:
    with EventStore(demo_db, read_only=True) as store:
        episodes = latest_run(store, "episodes", clearance="red").items
        first = min(e["start"] for e in episodes)
        period = f"{first}..{first}"
        html = _html(store, "red", period)
        shown = _anchors(html, "f")
        for e in episodes:
            assert (e["finding_id"] in shown) == (e["start"] <= first <= e["end"])
        # the annex of each episode shown holds only events inside the period
        dates = []
        for group in html.split('<div class="annex-group" id="annex-f-')[1:]:
            if group[:32] in {e["finding_id"] for e in episodes}:
                dates += re.findall(r"<tr[^>]*><td>(\d{4}-\d\d-\d\d)</td><td>", group)
        assert dates and set(dates) == {first}
        assert "outside the period" in html


def test_key_judgements_render_the_stored_assessment(demo_db: Path) -> None:
    """Each judgement the reader may see, as stored, with the caution; the no-skill sentence
    appears exactly when the backtest's skill is ≤ 0."""
    with EventStore(demo_db, read_only=True) as store:
        run = latest_run(store, "assessment", clearance="amber")
        if run is None:
            pytest.skip("this demo store has no assessment")
        html = _html(store, "amber")
    for item in run.items:
        # worded by the briefing, grammatically, from the stored fields
        assert escape(judgement_sentence(item)) in html
        lead = {"remote chance": "There is a remote chance",
                "realistic possibility": "There is a realistic possibility"}.get(
                    item["phia_term"], f"It is {item['phia_term']}")
        assert judgement_sentence(item).startswith(lead + " (")
        assert f'id="f-{item["finding_id"]}"' in html
    assert escape(run.summary["caution"]) in html
    assert "It is remote chance" not in html
    # the backtest counts records above AMBER in the demo store: the reader at AMBER does not
    # see it, and gets the caveat (no skill demonstrated to them)
    backtest = run.summary.get("backtest") or {}
    withheld = not backtest and bool(run.summary.get("summary_withheld"))
    skill = backtest.get("skill")
    no_skill = not withheld and (skill is None or skill <= 0)
    # the no-skill caveat once in the key judgements, not under every judgement; a withheld
    # backtest is said in words, never as "–" figures
    key = html.split('<section id="key-judgements">')[1].split("</section>")[0]
    assert key.count("No demonstrated skill") == (1 if no_skill else 0)
    assert key.count("Skill not shown at this level") == (1 if withheld else 0)
    assert "(– past forecasts)" not in key and "skill was –" not in key
    if withheld:   # nor does a judgement's confidence reason give the withheld skill figure
        assert not re.search(r"backtest skill \([+-]\d", key)
    assert key.count("adds nothing demonstrable over the base rate") == 0
    assert key.count("shows no demonstrable skill over the base rate") == 0


def test_analyses_not_run_say_how(tmp_path: Path) -> None:
    """A store with nothing analysed: every section says so and names its command."""
    with EventStore(tmp_path / "empty.duckdb") as store:
        result = write_briefing(store, tmp_path / "out", tlp="clear", pdf=False)
    html = result.html_path.read_text(encoding="utf-8")
    for command in ("hybridwatch assess", "hybridwatch convergence", "hybridwatch episodes",
                    "hybridwatch coincide", "hybridwatch narratives sync"):
        assert command in html
    assert result.pdf_path is None and sum(result.withheld.values()) == 0
    assert '<div class="judgement"' not in html


def test_assessment_without_skill_says_so(demo_db: Path, tmp_path: Path) -> None:
    """Key judgements render as stored; a backtest skill ≤ 0 is said in plain words."""
    from hybridwatch.store.findings_store import FindingItem, save_run
    from hybridwatch.store.run_history import pin_run

    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, db)
    judgement = {"target": "DEU", "outcome": "a disruptive cyber attack on critical "
                 "infrastructure", "probability": 0.31, "low": 0.22, "high": 0.41,
                 "phia_term": "unlikely", "confidence": "low",
                 "statement": "It is unlikely that Germany suffers a disruptive attack.",
                 "drivers": [{"name": "episodes_90d", "value": 2, "contribution": 0.4}],
                 "evidence": [], "domains": {"cyber": {"probability": 0.3,
                                                       "phia_term": "unlikely"}}}
    summary = {"horizon_days": 30, "as_of": "2024-12-30", "parameters": {}, "warnings": [],
               "caution": "Do not escalate on this alone.",
               "backtest": {"brier": 0.2, "brier_climatology": 0.19, "skill": -0.05,
                            "n_forecasts": 40, "reliability": [], "verdict": "no skill"}}
    with EventStore(db) as store:
        # the demo pins its runs: pin this one so the briefing renders it
        pin_run(store, save_run(store, "assessment", summary,
                                [FindingItem("DEU", judgement, "amber")]))
        html_amber, html_green = _html(store, "amber"), _html(store, "green")
        html_red = _html(store, "red")
    # the demo store holds RED events, so only a RED reader sees the backtest and its skill
    assert "No demonstrated skill" in html_red and "skill was -0.05" in html_red
    assert "Skill not shown at this level" in html_amber and "skill was -0.05" not in html_amber
    assert "Do not escalate on this alone." in html_amber
    sentence = ("It is unlikely (25–35%) that Germany faces a disruptive cyber attack on "
                "critical infrastructure (31%; 22%–41%), low confidence.")
    assert sentence in html_amber
    assert "Germany faces" not in html_green and "1 judgement withheld" in html_green


def test_cli_brief_json(demo_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["brief", "--db", str(demo_db), "-o", str(tmp_path), "--tlp",
                                 "GREEN", "--html-only", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["tlp"] == "green" and payload["pdf_path"] is None
    assert Path(payload["html_path"]).is_file()
    bad = runner.invoke(cli, ["brief", "--db", str(demo_db), "--period", "2024-06-31.."])
    assert bad.exit_code == 2 and "--period" in bad.output
    missing = runner.invoke(cli, ["brief", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 4


def test_cli_brief_several_levels_in_one_run(demo_db: Path, tmp_path: Path) -> None:
    """`--tlp green,amber,red` writes one briefing per level, each marked and filtered at it."""
    runner = CliRunner()
    result = runner.invoke(cli, ["brief", "--db", str(demo_db), "-o", str(tmp_path), "--tlp",
                                 "green,AMBER,red", "--html-only", "--json"])
    assert result.exit_code == 0, result.output
    briefings = json.loads(result.stdout)["briefings"]
    assert [b["tlp"] for b in briefings] == ["green", "amber", "red"]
    for b in briefings:
        html = Path(b["html_path"]).read_text(encoding="utf-8")
        assert Path(b["html_path"]).name == f"briefing-{b['tlp']}.html"
        assert f'content: "TLP:{b["tlp"].upper()}"' in html
    withheld = [sum(b["withheld"].values()) for b in briefings]
    assert withheld[0] >= withheld[1] >= withheld[2] == 0
    bad = runner.invoke(cli, ["brief", "--db", str(demo_db), "--tlp", "green,purple"])
    assert bad.exit_code == 2 and "purple" in bad.output


def test_body_summarises_evidence_and_the_annex_lists_it(demo_db: Path) -> None:
    """Each episode's events are summarised by day, actor and domain with counts that add up
    to the events the reader may see (counted independently in SQL); GDELT events read as
    CAMEO actions, never as 'CAMEO 111'."""
    with EventStore(demo_db, read_only=True) as store:
        html = _html(store, "amber")
        episodes = [e for e in latest_run(store, "episodes", clearance="amber").items]
        for episode in episodes:
            expected = store._con.execute(
                "SELECT count(*) FROM events WHERE event_id IN (SELECT unnest(?)) "
                "AND coalesce(tlp, 'clear') IN ('clear', 'green', 'amber')",
                [episode["event_ids"]]).fetchall()[0][0]
            assert f"{expected:,} events on " in html
    assert not re.search(r"CAMEO \d{2,4}", html)
    assert "Criticize or denounce" in html or "Accuse" in html


def test_period_parsing() -> None:
    period = Period.parse("2025-01-01..2025-06-30")
    assert period.overlaps("2024-12-30", "2025-01-01") and not period.overlaps("2025-07-01",
                                                                                 None)
    assert period.contains_label("2025-06") and not period.contains_label("2025-07")
    assert Period.parse("..2025-06-30").first is None and Period.parse(None) is None
    for bad in ("2025-01-01", "2025-06-30..2025-01-01", "..", "2025-02-30.."):
        with pytest.raises(SelectorError, match="--period"):
            Period.parse(bad)


def test_only_web_links_are_linked() -> None:
    assert safe_link("https://euvsdisinfo.eu/report/x/") == "https://euvsdisinfo.eu/report/x/"
    for url in ("javascript:alert(1)", "file:///etc/passwd", "//host/x", "data:text/html,x",
                None, ""):
        assert safe_link(url) is None


def test_map_zooms_to_regions_with_insets_and_labels_never_collide() -> None:
    """Europe and Taiwan: a European panel and an East-Asia inset, not one strip across
    Eurasia; one shade per PHIA term; crowded Baltic labels move apart."""
    values = {"DEU": 0.02, "POL": 0.02, "TWN": 0.02, "LTU": 0.3, "LVA": 0.45, "EST": 0.12}
    result = render_map(values, classes=phia_classes(), value_label=lambda v: f"{v:.0%}")
    assert result.panels == (("DEU", "EST", "LTU", "LVA", "POL"), ("TWN",))
    assert len({c.colour for c in phia_classes()}) == 7
    fills = {name: fill for fill, name in
             re.findall(r'fill="(#[0-9a-f]{6})"[^>]*><title>([^<]+)</title>', result.svg)}
    assert fills["Germany"] == fills["Taiwan"] == phia_classes()[0].colour
    assert fills["Latvia"] == phia_classes()[3].colour      # realistic possibility
    assert fills["Lithuania"] == phia_classes()[2].colour   # unlikely
    assert fills["Estonia"] == phia_classes()[1].colour     # highly unlikely
    # the main panel spans Europe only: Germany's west to the Baltics' east, padded
    main_width = float(re.search(r'<svg[^>]*viewBox="0 0 (\d+)', result.svg).group(1))
    assert "China" in result.svg and "Japan" in result.svg       # drawn in the inset
    assert main_width == 640
    boxes = []
    for x, y, text in re.findall(r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="middle"[^>]*'
                                 r'class="map-label">([^<]+)</text>', result.svg):
        half = 0.33 * 10 * len(text)
        boxes.append((float(x) - half, float(x) + half, float(y) - 10, float(y) + 2))
    assert len(boxes) == len(values)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]), (a, b)


def test_map_shades_targets_by_value() -> None:
    result = render_map({"DEU": 4.0, "POL": 1.0, "SGP": 2.0}, maximum=5.0)
    assert result.drawn == ("DEU", "POL") and result.missing == ("SGP",)
    by_country = {name: fill for fill, name in
                  re.findall(r'fill="(#[0-9a-f]{6})"[^>]*><title>(\w+)</title>', result.svg)}
    assert by_country["Germany"] == CLASSES[4] and by_country["Poland"] == CLASSES[1]
    assert "http" not in result.svg.replace("http://www.w3.org/2000/svg", "")


def test_demo_runs_are_pinned_and_exploration_does_not_change_the_briefing(
        demo_db: Path, tmp_path: Path) -> None:
    """The demo pins its runs: an exploratory analysis afterwards adds a run, and the briefing
    (which states the run ids it used) still renders the demo's."""
    copy = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, copy)
    runner = CliRunner()
    listed = json.loads(runner.invoke(cli, ["findings", "list", "--db", str(copy), "--json"]
                                      ).stdout)["runs"]
    pinned = {r["kind"]: r["id"] for r in listed if r["pinned"]}
    assert set(pinned) >= {"assessment", "convergence", "episodes", "coincidences",
                           "narrative_sync"}
    explored = runner.invoke(cli, ["assess", "--targets", "USA", "--db", str(copy), "--json"])
    assert explored.exit_code == 0, explored.output
    new_run = json.loads(explored.stdout)["run_id"]
    assert new_run and new_run != pinned["assessment"]
    result = runner.invoke(cli, ["brief", "--db", str(copy), "-o", str(tmp_path), "--html-only",
                                 "--json"])
    assert result.exit_code == 0, result.output
    runs = {r["kind"]: r for r in json.loads(result.stdout)["runs"]}
    assert {k: runs[k]["run_id"] for k in pinned} == pinned
    assert all(runs[k]["pinned"] for k in pinned)
    html = (tmp_path / "briefing.html").read_text(encoding="utf-8")
    assert pinned["assessment"][:12] in html and new_run[:12] not in html
