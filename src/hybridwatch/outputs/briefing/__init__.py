"""Briefings: the latest findings of a store as an intelligence-assessment style HTML page and
PDF, marked with a TLP level and filtered to it.

    >>> from hybridwatch.outputs.briefing import write_briefing
    >>> with EventStore("hybridwatch.duckdb", read_only=True) as store:
    ...     result = write_briefing(store, "briefing", tlp="green", period="2025-01-01..2025-06-30")

Nothing is recomputed: sections render the findings store's latest runs (an analysis that has
not been run says so and how to run it).
"""

from hybridwatch.outputs.briefing.context import build_context
from hybridwatch.outputs.briefing.period import Period
from hybridwatch.outputs.briefing.render import (
    BriefingResult, html_from_context, pdf_from_html, render_briefing_html, write_briefing,
)

__all__ = ["BriefingResult", "Period", "build_context", "html_from_context", "pdf_from_html",
           "render_briefing_html", "write_briefing"]
