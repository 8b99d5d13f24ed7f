"""Commands over the store's data: ingest, events, stats, quarantine, export, import, formats."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import click

from hybridwatch.adapters import ReadOptions, adapters
from hybridwatch.commands.base import (
    EXIT_INPUT, LazyGroup, cli, db_option, emit_json, json_option, say,
)
from hybridwatch.commands.progress import record_progress
from hybridwatch.errors import InputError
from hybridwatch.store import EventFilter, EventStore, FileReport
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.store.parquet_io import read_manifest
from hybridwatch.store.schema import STORE_SCHEMA_VERSION
from hybridwatch.store.versions import Signer


@cli.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "format_name", metavar="F",
              help="Input format (default: detected). See `hybridwatch formats`.")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML mapping from columns to event fields, or the name of a shipped one "
                   "(pla_sorties, cyber_ops_reports); implies --format mapped.")
@click.option("--strict", is_flag=True,
              help="Fail a file on its first bad record and write nothing from it.")
@click.option("--replace", is_flag=True,
              help="Re-ingest each file, replacing the events, articles and quarantine entries "
                   "of its earlier ingests (same path, or same bytes read the same way) in the "
                   "same transaction.")
@click.option("--trust", "trust_dir", type=click.Path(exists=True, path_type=Path),
              help="Trust store (partner identities): a FILE whose FILE.sig verifies against it "
                   "may re-release its signer's records at a less restrictive marking "
                   "(docs/security.md); without it markings only tighten.")
@click.option("--max-expanded-size", "max_expanded", metavar="SIZE", default="4GiB",
              show_default=True, envvar="HYBRIDWATCH_MAX_EXPANDED_SIZE",
              help="A .zip/.gz input may expand to at most this (e.g. 500MB, 8GiB); beyond it "
                   "the file is refused as a decompression bomb.")
@click.option("--max-expansion-ratio", "max_ratio", type=click.FloatRange(min=1), default=200,
              show_default=True, envvar="HYBRIDWATCH_MAX_EXPANSION_RATIO",
              help="…and to at most this many times its compressed size (real GDELT zips: ~8).")
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary on stderr.")
@db_option
@json_option
@click.pass_context
def ingest(ctx: click.Context, files: tuple[Path, ...], format_name: str | None,
           mapping: Path | None, strict: bool, replace: bool, trust_dir: Path | None,
           max_expanded: str, max_ratio: float, quiet: bool, db: Path, as_json: bool) -> None:
    """Ingest FILES into the store, each file in one transaction.

    Good records are kept and bad ones quarantined (see `hybridwatch quarantine`); a file
    already ingested with the same content, format and mapping is skipped (a corrected
    mapping reads it again). --replace re-reads it and replaces what it stored before.
    """
    if mapping and not format_name:
        format_name = "mapped"
    if mapping and mapping.stem == "comtrade_trade":
        say("note: --mapping comtrade_trade stores trade rows as events (kept for existing "
            "users). UN Comtrade files now ingest without --mapping into the trade_flows table "
            "that `hybridwatch supply` and the convergence index's technology-transfer "
            "component read: run `hybridwatch ingest FILE` (docs/supply-chains.md).",
            quiet=quiet, fg="yellow")
    options = ReadOptions(mapping_path=mapping, max_expansion_ratio=max_ratio,
                          max_expanded_bytes=_size("--max-expanded-size", max_expanded))
    trust = _load_trust(trust_dir)
    reports: list[FileReport] = []
    with EventStore(db) as store:
        for path in files:
            try:
                signer = _verified_signer(path, trust, quiet) if trust is not None else None
                with record_progress(path.name, quiet=quiet) as progress:
                    report = ingest_file(store, path, format=format_name, options=options,
                                         strict=strict, replace=replace, progress=progress,
                                         signer=signer)
            except InputError as exc:
                report = FileReport(str(path), format_name, "failed", error=str(exc))
                say(f"error: {exc}", fg="red")
            reports.append(report)
            _say_report(report, quiet)
    totals = {key: sum(getattr(r, key) for r in reports)
              for key in ("read", "ingested", "duplicates", "quarantined", "nulled")}
    failed = sum(r.status == "failed" for r in reports)
    if as_json:
        emit_json({**totals, "failed": failed, "files": [r.to_dict() for r in reports]})
    elif len(reports) > 1:
        say(f"total: {totals['ingested']:,} new of {totals['read']:,} read, "
            f"{totals['duplicates']:,} duplicates, {totals['quarantined']:,} quarantined, "
            f"{failed} file(s) failed", quiet=quiet)
    if failed:
        ctx.exit(EXIT_INPUT)


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}


def _size(option: str, text: str) -> int:
    """Bytes from "4GiB", "500 MB", "1048576"."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text or "")
    unit = match.group(2).lower() if match else None
    if not match or unit not in _UNITS or float(match.group(1)) <= 0:
        raise click.BadParameter(f"{text!r} is not a size (e.g. 500MB, 4GiB)", param_hint=option)
    return int(float(match.group(1)) * _UNITS[unit])


#: A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula, prefixed with ``'`` (OWASP's advice);
    numbers, dates and other text pass unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _load_trust(trust_dir: Path | None):
    if trust_dir is None:
        return None
    from hybridwatch.outputs.keystore import load_trust_store

    return load_trust_store(trust_dir)


def _verified_signer(path: Path, trust, quiet: bool) -> Signer | None:
    """The signer of ``path`` when ``path.sig`` verifies against ``trust`` with a current key;
    else None (markings then only tighten), with a warning when a signature fails."""
    from hybridwatch.outputs.signing import verify_file

    if not path.with_name(path.name + ".sig").is_file():
        return None
    try:
        result = verify_file(path, trust)
    except InputError as exc:
        say(f"warning: {path}: signature does not verify ({exc}); ingested as unsigned: "
            "markings only tighten", fg="yellow", quiet=quiet)
        return None
    if result.key_status != "current":
        say(f"warning: {path}: signed with a {result.key_status} key; ingested as unsigned: "
            "markings only tighten", fg="yellow", quiet=quiet)
        return None
    return Signer(stix_identity_id=result.signer["stix_identity_id"], org=result.signer["org"])


def _say_report(report: FileReport, quiet: bool) -> None:
    if report.status == "unchanged":
        say(f"{report.path}: already ingested (ingest #{report.ingest_id}), nothing to do",
            quiet=quiet)
    elif report.status == "ingested":
        note = (f", {report.quarantined:,} quarantined (see `hybridwatch quarantine`)"
                if report.quarantined else "")
        if report.findings:
            note += f", {report.findings:,} finding run(s) restored"
        if report.updated:
            note += f", {report.updated:,} newer version(s) replaced stored records"
        if report.tightened:
            note += f", {report.tightened:,} stored marking(s) tightened"
        if report.released:
            note += f", {report.released:,} re-released by their signed producer"
        if report.exploded:
            note += f", {report.exploded:,} more events from exploded list cells"
        if report.replaced:
            note += (f"; replaced {report.replaced} earlier ingest(s) "
                     f"({report.removed:,} records removed first)")
        say(f"{report.path}: {report.format}: {report.ingested:,} new of {report.read:,} read, "
            f"{report.duplicates:,} duplicates{note} in {report.seconds:.1f}s", quiet=quiet)
        if report.nulled:
            say(f"  {report.nulled:,} value(s) set to null by a lenient mapping (first ones "
                "below)", quiet=quiet, fg="yellow")
    for warning in report.warnings:
        say(f"warning: {report.path}: {warning}", fg="yellow", quiet=quiet)


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
