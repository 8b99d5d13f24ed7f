"""Commands over the store's data: events, stats, quarantine, export, import, formats (ingest:
``commands.ingest_command``)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from hybridwatch.adapters import adapters
from hybridwatch.commands.base import LazyGroup, cli, db_option, emit_json, json_option, say
from hybridwatch.store import EventFilter, EventStore
from hybridwatch.store.parquet_io import read_manifest
from hybridwatch.store.schema import STORE_SCHEMA_VERSION


#: A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula, prefixed with ``'`` (OWASP's advice);
    numbers, dates and other text pass unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@cli.command()
@click.option("--domain", help="Hybrid-threat domains (comma-separated), e.g. cyber,military.")
@click.option("--actor", help="Actor countries, ISO 3166 alpha-3 or names (comma-separated).")
@click.option("--actor-name", help="Part of the actor's name, or its exact actor code.")
@click.option("--target", help="Target countries, ISO 3166 alpha-3 or names (comma-separated).")
@click.option("--source", help="Datasets (gdelt, acled, stix, misp, eurepoc …) or source names.")
@click.option("--tlp", help="Only these TLP levels (comma-separated; clear includes unmarked).")
@click.option("--since", help="From this date (inclusive, UTC), e.g. 2024-03-01.")
@click.option("--until", help="Before this date (exclusive, UTC).")
@click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV on stdout.")
@db_option
@json_option
def events(domain, actor, actor_name, target, source, tlp, since, until, limit, offset, as_csv,
           db, as_json):
    """List events, oldest first, filtered by domain, actor, target, source and time.

    The filters mean what the REST API's ``/events`` parameters of the same names mean."""
    where = EventFilter.parse(domain=domain, actor=actor, actor_name=actor_name, target=target,
                              source=source, tlp=tlp, since=since, until=until,
                              option_prefix="--")
    with EventStore(db, read_only=True) as store:
        table = store.events(where, limit=limit, offset=offset)
        total = store.count_events(where)
    rows = table.to_pylist()
    if as_json:  # extra is stored as JSON text: give it as the object it is
        emit_json({"events": [{**row, "extra": _json_object(row.get("extra"))} for row in rows],
                   "count": len(rows), "total": total, "limit": limit, "offset": offset})
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=table.column_names)
        writer.writeheader()
        # a list cell as "+"-joined codes (what a mapping reads back with split = "+")
        writer.writerows({k: _csv_cell(v) for k, v in
                          {**row, "target_iso3s": "+".join(row["target_iso3s"])}.items()}
                         for row in rows)
    else:
        for row in rows:
            click.echo(f"{row['occurred_at']:%Y-%m-%d} {row['domain']:<14} "
                       f"{row['actor_iso3'] or '-':<4}→ {','.join(row['target_iso3s']) or '-':<4} "
                       f"{row['source']:<11} {(row['title'] or row['source_type'] or '')[:70]}")
        say(f"{len(rows):,} of {total:,} matching events")


def _json_object(text: str | None) -> object:
    """An event's ``extra`` column (JSON text, or NULL) as a JSON value."""
    return json.loads(text) if isinstance(text, str) and text else None


@cli.command()
@db_option
@json_option
def stats(db: Path, as_json: bool) -> None:
    """Counts of events, articles and quarantined records, by domain, source and target."""
    with EventStore(db, read_only=True) as store:
        summary = store.stats()
    if as_json:
        emit_json(summary)
        return
    click.echo(f"store {summary['db']}: {summary['events']:,} events "
               f"({summary['first_event'] or '-'} … {summary['last_event'] or '-'}), "
               f"{summary['articles']:,} articles, {summary['quarantined']:,} quarantined, "
               f"{summary['files_ingested']:,} files")
    for key in ("by_domain", "by_source", "by_target"):
        top = list(summary[key].items())[:12]
        click.echo(f"  {key}: " + ", ".join(f"{k} {v:,}" for k, v in top))


@cli.command()
@click.option("--limit", type=click.IntRange(min=0), default=None, help="At most this many.")
@db_option
@json_option
def quarantine(limit: int | None, db: Path, as_json: bool) -> None:
    """Show rejected records, verbatim, with file, line or record, field and reason."""
    with EventStore(db, read_only=True) as store:
        rows = store.quarantine(limit=limit).to_pylist()
    if as_json:
        emit_json({"quarantined": rows, "count": len(rows)})
        return
    for row in rows:
        where = f"line {row['line']}" if row["line"] is not None else f"record {row['record']}"
        field = f"{row['field']}: " if row["field"] else ""
        click.echo(f"{row['path']} {where}: {field}{row['reason']}")
        click.echo(f"    {row['raw'][:200]!r}")
    say(f"{len(rows):,} quarantined records")


@cli.group(cls=LazyGroup, invoke_without_command=True)
@click.option("--parquet", "parquet_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write every table (API tokens excepted) to DIR/<table>.parquet, with "
                   "DIR/manifest.json.")
@db_option
@json_option
@click.pass_context
def export(ctx: click.Context, parquet_dir: Path | None, db: Path, as_json: bool) -> None:
    """Export the store (--parquet DIR) or its findings as STIX 2.1 (`export stix`)."""
    if ctx.invoked_subcommand is not None:
        return
    if parquet_dir is None:
        raise click.UsageError("say what to export: --parquet DIR, or `hybridwatch export stix`")
    with EventStore(db, read_only=True) as store:
        exported = store.export_parquet(parquet_dir)
    if as_json:
        emit_json(exported)
    else:
        for info in exported["tables"].values():
            say(f"{info['path']}: {info['rows']:,} rows", err=False)
        say(f"{exported['manifest']}: store schema version {exported['schema_version']}",
            err=False)


export.register_lazy({"stix": ("hybridwatch.commands.sharing_commands",
                                "Export the latest findings and their evidence as a STIX 2.1 bundle")})


@cli.command(name="import")
@click.option("--parquet", "parquet_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A folder written by `hybridwatch export --parquet`.")
@db_option
@json_option
def import_(parquet_dir: Path, db: Path, as_json: bool) -> None:
    """Restore a Parquet export into a new or empty store, every table or none."""
    read_manifest(parquet_dir)  # a bad export is refused before a store file is created
    with EventStore(db) as store:
        added = store.import_parquet(parquet_dir)
    if as_json:
        emit_json({"added": added, "schema_version": STORE_SCHEMA_VERSION})
    else:
        say(", ".join(f"{table}: {n:,} added" for table, n in added.items()), err=False)


@cli.command()
@db_option
@json_option
def migrate(db: Path, as_json: bool) -> None:
    """Upgrade a store written by an older hybridwatch to this version's schema.

    All steps run in one transaction: the store is upgraded completely or not at all.
    A store already at this version is left as it is.
    """
    from hybridwatch.store.migrations import migrate_store

    report = migrate_store(db)
    if as_json:
        emit_json(report.to_dict())
    elif report.applied:
        for step in report.applied:
            say(f"  {step}")
        say(f"{db}: migrated from schema version {report.from_version} to "
            f"{report.to_version}", err=False)
    else:
        say(f"{db}: already at schema version {report.to_version}, nothing to do", err=False)


@cli.command()
@json_option
def formats(as_json: bool) -> None:
    """List the input formats hybridwatch reads."""
    found = adapters()
    if as_json:
        emit_json({"formats": [{"name": a.name, "kind": a.kind, "description": a.description}
                               for a in found.values()]})
        return
    for adapter in found.values():
        click.echo(f"{adapter.name:<14} {adapter.kind:<9} {adapter.description}")
