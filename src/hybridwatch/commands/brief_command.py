"""``hybridwatch brief``: render the store's latest findings as a marked HTML and PDF briefing."""

from __future__ import annotations

from pathlib import Path

import click

from hybridwatch.commands.base import cli, db_option, emit_json, json_option, say
from hybridwatch.model.phrasing import count
from hybridwatch.model.tlp import TLP_LEVELS, parse_level
from hybridwatch.store import EventStore


def _levels(text: str) -> list[str]:
    """'amber' or 'green,amber,red' → levels in the order given, each once (SelectorError,
    exit 2, on an unknown one)."""
    levels = [parse_level(part) for part in text.split(",") if part.strip()]
    if not levels:
        parse_level(text)           # raises: names the empty value
    return list(dict.fromkeys(levels))


@cli.command()
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("briefing"), show_default=True,
              help="Folder for briefing.html and briefing.pdf (several levels: "
                   "briefing-LEVEL.html and .pdf).")
@click.option("--tlp", default="amber", show_default=True, metavar="LEVEL[,LEVEL…]",
              help="The briefing's marking: only findings and events at or below it are shown; "
                   f"the rest are counted as withheld ({', '.join(TLP_LEVELS)}). Several, "
                   "comma-separated, write one briefing per level in one run.")
@click.option("--period", metavar="FIRST..LAST",
              help="Show only episodes, events and index periods meeting these days, e.g. "
                   "2025-01-01..2025-06-30 (either end may be left out).")
@click.option("--html-only", is_flag=True, help="Write the HTML only (no PDF).")
@click.option("--quiet", "-q", is_flag=True)
@db_option
@json_option
def brief(out_dir: Path, tlp: str, period: str | None, html_only: bool, quiet: bool, db: Path,
          as_json: bool) -> None:
    """Write a briefing of the latest findings, laid out like an intelligence assessment.

    Key judgements with probability, PHIA term and confidence come first, then the convergence
    index, multi-domain episodes, a map of targets, coinciding activity, synchronised
    narratives, an evidence annex, methods and limitations, data coverage and generation
    metadata. Every page carries the TLP marking. Nothing is recomputed: run the analyses
    first (a section whose analysis has not been run says how to run it). Each analysis's
    pinned run is used, else its latest (`hybridwatch findings`); the briefing is logged with
    the runs it used, and the next one says what changed since.
    """
    from hybridwatch.outputs.briefing import Period, write_briefing

    levels = _levels(tlp)           # bad text fails before the store is opened
    parsed = Period.parse(period)
    several = len(levels) > 1
    results = []
    # writable: each briefing is logged with the runs it used (a missing store: the read-only
    # open says so)
    with EventStore(db, read_only=not db.exists()) as store:
        for level in levels:
            stem = f"briefing-{level.replace('+', '-')}" if several else "briefing"
            results.append(write_briefing(store, out_dir, tlp=level, period=parsed,
                                          pdf=not html_only, record=True, stem=stem))
    if as_json:
        emit_json({"briefings": [r.to_dict() for r in results]} if several
                  else results[0].to_dict())
        return
    for result in results:
        withheld = {k: v for k, v in result.withheld.items() if v}
        say(f"TLP:{result.tlp.upper()} briefing in {result.seconds:.1f} s"
            + (f", {count(result.n_pages, 'page')}" if result.n_pages else "")
            + (", withheld above the marking: "
               + ", ".join(f"{v} {k}" for k, v in withheld.items())
               if withheld else ", nothing withheld"), quiet=quiet)
        click.echo(result.html_path)
        if result.pdf_path:
            click.echo(result.pdf_path)
