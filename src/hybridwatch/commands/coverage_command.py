"""``hybridwatch coverage``: where each source and outlet reports densely, its gaps and outliers."""

from __future__ import annotations

from pathlib import Path

import click

from hybridwatch.commands.base import cli, db_option, emit_json, json_option
from hybridwatch.store import EventStore
from hybridwatch.workflows.coverage import coverage_report


@cli.command()
@db_option
@json_option
def coverage(db: Path, as_json: bool) -> None:
    """Where each source and outlet reports densely: per source (events) and outlet (articles),
    first and last day, records, the dense span analyses default to, gaps inside it, coverage
    outliers outside it, and any weekly publication cycle."""
    with EventStore(db, read_only=True) as store:
        report = coverage_report(store)
    if as_json:
        emit_json(report)
        return
    for title, key in (("sources", "sources"), ("outlets (articles)", "outlets")):
        if not report[key]:
            continue
        click.echo(f"{title}:")
        for c in report[key]:
            line = (f"  {c['source']}: {c['records']:,} records {c['first']} … {c['last']}; "
                    f"dense {c['dense_first']} … {c['dense_last']}")
            if c["n_outliers"]:
                line += f"; {c['n_outliers']:,} outlier(s)"
            if c["gaps"]:
                line += f"; {len(c['gaps'])} gap(s), longest {max(g['days'] for g in c['gaps'])} d"
            if c["weekly_cycle"]:
                cycle = c["weekly_cycle"]
                line += f"; weekly cycle ({cycle['share']:.0%} on {cycle['weekday']}s)"
            click.echo(line)
    if not (report["sources"] or report["outlets"]):
        click.echo("the store holds no records")
