"""``hybridwatch ingest``: files into the store, each in one transaction.

Imported whenever ``ingest`` runs, so it imports little at the top: a file already in the store
(the usual case when a folder of exports is re-run) is answered from the store's ingest log
(``store.known_files``) before the adapters, Arrow and the query layer are imported at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hybridwatch.commands.base import EXIT_INPUT, cli, db_option, emit_json, json_option, say
from hybridwatch.errors import InputError
from hybridwatch.store.known_files import FileReport

if TYPE_CHECKING:
    from hybridwatch.store.versions import Signer  # noqa: F401 (annotations)


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
    max_expanded_bytes = _size("--max-expanded-size", max_expanded)
    if not (mapping or replace or trust_dir):
        # a file already in the store: answered from its ingest log, without the adapters,
        # Arrow or the query layer (a no-op re-ingest starts in a fraction of a second)
        from hybridwatch.store.known_files import known_reports

        known = known_reports(db, list(files), format_name)
        if known is not None:
            _finish(ctx, known, quiet, as_json, emit=_emit_plain_json)
            return
    from hybridwatch.adapters import ReadOptions
    from hybridwatch.commands.progress import record_progress
    from hybridwatch.store import EventStore
    from hybridwatch.workflows.ingest import ingest_file

    if mapping and mapping.stem == "comtrade_trade":
        say("note: --mapping comtrade_trade stores trade rows as events (kept for existing "
            "users). UN Comtrade files now ingest without --mapping into the trade_flows table "
            "that `hybridwatch supply` and the convergence index's technology-transfer "
            "component read: run `hybridwatch ingest FILE` (docs/supply-chains.md).",
            quiet=quiet, fg="yellow")
    options = ReadOptions(mapping_path=mapping, max_expansion_ratio=max_ratio,
                          max_expanded_bytes=max_expanded_bytes)
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
    _finish(ctx, reports, quiet, as_json, emit=emit_json, said=True)


def _finish(ctx: click.Context, reports: list[FileReport], quiet: bool, as_json: bool, *,
            emit: Callable[[dict[str, Any]], None], said: bool = False) -> None:
    """Each file's line (unless said already), the totals or the JSON, the exit code."""
    if not said:
        for report in reports:
            _say_report(report, quiet)
    totals = {key: sum(getattr(r, key) for r in reports)
              for key in ("read", "ingested", "duplicates", "quarantined", "nulled")}
    failed = sum(r.status == "failed" for r in reports)
    if as_json:
        emit({**totals, "failed": failed, "files": [r.to_dict() for r in reports]})
    elif len(reports) > 1:
        say(f"total: {totals['ingested']:,} new of {totals['read']:,} read, "
            f"{totals['duplicates']:,} duplicates, {totals['quarantined']:,} quarantined, "
            f"{failed} file(s) failed", quiet=quiet)
    if failed:
        ctx.exit(EXIT_INPUT)


def _emit_plain_json(payload: dict[str, Any]) -> None:
    """``emit_json`` for a payload of plain values (text, whole numbers, lists; no NaN): the
    same bytes without importing its cleaner (numpy)."""
    click.echo(json.dumps(payload, ensure_ascii=False, allow_nan=False))


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}


def _size(option: str, text: str) -> int:
    """Bytes from "4GiB", "500 MB", "1048576"."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text or "")
    unit = match.group(2).lower() if match else None
    if not match or unit not in _UNITS or float(match.group(1)) <= 0:
        raise click.BadParameter(f"{text!r} is not a size (e.g. 500MB, 4GiB)", param_hint=option)
    return int(float(match.group(1)) * _UNITS[unit])


def _load_trust(trust_dir: Path | None):
    if trust_dir is None:
        return None
    from hybridwatch.outputs.keystore import load_trust_store

    return load_trust_store(trust_dir)


def _verified_signer(path: Path, trust, quiet: bool) -> Signer | None:
    """The signer of ``path`` when ``path.sig`` verifies against ``trust`` with a current key;
    else None (markings then only tighten), with a warning when a signature fails."""
    from hybridwatch.outputs.signing import verify_file
    from hybridwatch.store.versions import Signer

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
