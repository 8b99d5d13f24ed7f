"""Render a briefing: the view model through Jinja2 to self-contained HTML, then WeasyPrint to PDF.

The HTML loads nothing: styles and charts are inline, fonts are the system's. WeasyPrint gets a
URL fetcher that allows only ``data:`` URLs, so the PDF cannot fetch anything either, even if a
future template slipped in a remote reference.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from hybridwatch.errors import HybridwatchError, InputError
from hybridwatch.model.phrasing import count, country_phrase, plural
import hybridwatch.outputs.briefing.sections as sections
from hybridwatch.outputs.briefing.context import EVENTS_PER_FINDING, build_context
from hybridwatch.outputs.briefing.period import Period
from hybridwatch.store.briefing_log import record_briefing
from hybridwatch.store.store import EventStore

#: TLP 2.0 label colours (FIRST): coloured text on black.
TLP_COLOURS = {"clear": "#ffffff", "green": "#33ff00", "amber": "#ffc000",
               "amber+strict": "#ffc000", "red": "#ff2b2b"}


@dataclass(frozen=True)
class BriefingResult:
    """Where a briefing was written and what it holds."""

    html_path: Path
    pdf_path: Path | None          # None when only HTML was asked for
    n_pages: int | None
    tlp: str
    withheld: dict[str, int] = field(default_factory=dict)
    period: dict[str, str | None] | None = None
    seconds: float = 0.0
    runs: tuple[dict[str, Any], ...] = ()    # per kind: the run used (id, pinned, created_at)
    briefing_number: int | None = None       # in the store's briefing log, when recorded

    def to_dict(self) -> dict[str, Any]:
        return {"html_path": str(self.html_path),
                "pdf_path": str(self.pdf_path) if self.pdf_path else None,
                "n_pages": self.n_pages, "tlp": self.tlp, "withheld": dict(self.withheld),
                "period": self.period, "seconds": self.seconds, "runs": list(self.runs),
                "briefing_number": self.briefing_number}


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hybridwatch.outputs.briefing", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True)
    env.filters["num"] = sections.num
    env.filters["pct"] = sections.pct
    env.filters["count"] = count          # {{ n | count("episode") }} → "1 episode", "2 episodes"
    env.filters["plural"] = plural
    env.filters["country"] = country_phrase
    return env


def _css() -> str:
    return resources.files("hybridwatch.outputs.briefing").joinpath(
        "templates", "briefing.css").read_text(encoding="utf-8")


def html_from_context(ctx: dict[str, Any]) -> str:
    """The briefing HTML for a view model from ``build_context``."""
    colour = TLP_COLOURS[ctx["tlp"]]
    # margins keep the black label a label, not a bar through the whole page margin
    page_style = (f"background: #000000; color: {colour}; font-weight: bold; "
                  'font-family: "DejaVu Sans Mono", monospace; font-size: 8pt; '
                  "padding: 0.4mm 2.5mm;")
    return _environment().get_template("briefing.html.j2").render(
        **ctx, css=_css(), tlp_page_style=page_style, events_per_finding=EVENTS_PER_FINDING)


def render_briefing_html(store: EventStore, *, tlp: str = "amber",
                         period: Period | str | None = None) -> str:
    """The briefing as one self-contained HTML page (for the web UI or a file)."""
    return html_from_context(build_context(store, tlp=tlp, period=period))


def _offline_fetcher():
    from weasyprint.urls import URLFetcher

    class OfflineFetcher(URLFetcher):
        """Refuses every URL but ``data:``: rendering never touches the network or disk."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("data",))
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            if not url.startswith("data:"):
                self.refused.append(url)
            return super().fetch(url, headers)

    return OfflineFetcher()


def pdf_from_html(html: str, pdf_path: Path) -> int:
    """Write ``html`` as a PDF; returns the number of pages."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint present, Pango missing
        raise HybridwatchError(f"PDF output needs WeasyPrint and its system libraries (Pango): "
                               f"{exc}; pass --html-only for the HTML alone") from None
    fetcher = _offline_fetcher()
    document = HTML(string=html, url_fetcher=fetcher).render()
    if fetcher.refused:  # a template bug: say so rather than ship a page with holes
        raise HybridwatchError("the briefing references external resources, refused: "
                               + ", ".join(sorted(set(fetcher.refused))[:5]))
    document.write_pdf(pdf_path)
    return len(document.pages)


def write_briefing(store: EventStore, out_dir: str | Path, *, tlp: str = "amber",
                   period: Period | str | None = None, pdf: bool = True,
                   record: bool = False, stem: str = "briefing") -> BriefingResult:
    """Write ``{stem}.html`` and (unless ``pdf=False``) ``{stem}.pdf`` into ``out_dir``
    (``brief --tlp green,amber`` names them ``briefing-green``, ``briefing-amber``).

    ``record=True`` (a writable store) logs the briefing and the runs it used, so the next
    briefing says what changed since this one."""
    started = time.perf_counter()
    ctx = build_context(store, tlp=tlp, period=period)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(out, f"cannot create the output folder ({exc.strerror})") from None
    html = html_from_context(ctx)
    html_path = out / f"{stem}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path, n_pages = None, None
    if pdf:
        pdf_path = out / f"{stem}.pdf"
        n_pages = pdf_from_html(html, pdf_path)
    runs = tuple({k: r[k] for k in ("kind", "run_id", "pinned", "created_at")}
                 for r in ctx["meta"]["runs"])
    number = record_briefing(store, ctx["tlp"], {r["kind"]: r["run_id"] for r in runs}) \
        if record else None
    return BriefingResult(html_path, pdf_path, n_pages, ctx["tlp"], dict(ctx["withheld"]),
                          ctx["period"].to_dict() if ctx["period"] else None,
                          round(time.perf_counter() - started, 3), runs, number)
