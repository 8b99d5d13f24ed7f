"""Sharing with partners: ``export stix`` (a STIX 2.1 bundle of the findings) and ``pull`` (ingest
a partner's TAXII 2.1 collection)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from hybridwatch.adapters.taxii_http import TIMEOUT_SECONDS
from hybridwatch.commands.base import EXIT_INPUT, cli, db_option, emit_json, json_option, say
from hybridwatch.commands.data_commands import export
from hybridwatch.commands.progress import record_progress
from hybridwatch.errors import InputError
from hybridwatch.model.schema import TLP_LEVELS
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file


@export.command("stix")
@click.option("--tlp", type=click.Choice(TLP_LEVELS, case_sensitive=False), default="green",
              show_default=True,
              help="Most restricted TLP 2.0 level to share: nothing above it leaves.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the bundle here (default: stdout).")
@click.option("--org", envvar="HYBRIDWATCH_ORG", default="hybridwatch", show_default=True,
              help="Producer organisation named in the bundle (env HYBRIDWATCH_ORG).")
@db_option
@json_option
def export_stix_command(tlp: str, output: Path | None, org: str, db: Path,
                        as_json: bool) -> None:
    """Export the latest findings and their evidence as a STIX 2.1 bundle.

    Every object is marked with its TLP 2.0 level; findings and evidence above --tlp are
    withheld, and containers are marked with the most restricted level they hold.
    """
    from hybridwatch.outputs.stix_export import export_stix

    if as_json and output is None:
        raise click.UsageError("--json prints a summary: give -o FILE for the bundle itself")
    with EventStore(db, read_only=True) as store:
        result = export_stix(store, tlp=tlp.lower(), org=org)
    text = result.to_json()
    if output is None:
        click.echo(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        temporary = output.with_name(output.name + ".partial")
        temporary.write_text(text + "\n", encoding="utf-8")
        temporary.replace(output)  # never leave half a bundle where a partner may pick it up
    summary = result.to_dict()
    if as_json:
        emit_json({**summary, "path": str(output)})
        return
    withheld = sum(result.withheld.values())
    say(f"{output or 'stdout'}: {summary['objects']:,} STIX objects, "
        f"{sum(result.exported.values()):,} findings up to TLP:{tlp.upper()}"
        + (f", {withheld:,} above it withheld" if withheld else ""))


@cli.command()
@click.argument("url")
@click.option("--collection", "-c", required=True, help="Collection id or title.")
@click.option("--token", envvar="HYBRIDWATCH_TAXII_TOKEN",
              help="Bearer token for the server (env HYBRIDWATCH_TAXII_TOKEN).")
@click.option("--added-after", help="Only objects added after this time (ISO 8601).")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path),
              help="Also keep the fetched bundle in this folder.")
@click.option("--timeout", "timeout_seconds", type=click.FloatRange(min=0, min_open=True),
              default=TIMEOUT_SECONDS, show_default=True,
              help="Seconds to wait for the server, and for any one answer to arrive whole.")
@click.option("--quiet", "-q", is_flag=True)
@db_option
@json_option
@click.pass_context
def pull(ctx: click.Context, url: str, collection: str, token: str | None,
         added_after: str | None, keep: Path | None, timeout_seconds: float, quiet: bool,
         db: Path, as_json: bool) -> None:
    """Ingest a partner's TAXII 2.1 collection at URL (a discovery URL or an API root).

    The objects are written to a bundle and ingested like a file: markings, producer,
    quarantine and de-duplication apply, and a hybridwatch partner's findings are restored.
    A server that misbehaves (wrong answers, endless pages, oversized or stalled answers) ends
    the pull with one error and nothing written; see docs/sharing-stix.md for the limits.
    """
    from hybridwatch.adapters.stix_taxii import fetch_collection

    with tempfile.TemporaryDirectory(prefix="hybridwatch-pull-") as folder:
        target = keep or Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        say(f"fetching {collection!r} from {url} …", quiet=quiet)
        pulled = fetch_collection(url, collection, target, token=token, added_after=added_after,
                                  timeout_seconds=timeout_seconds)
        say(f"  {pulled.objects:,} objects in {pulled.pages} page(s)", quiet=quiet)
        if pulled.objects == 0:
            report = None
        else:
            with EventStore(db) as store, record_progress(pulled.path.name,
                                                          quiet=quiet) as progress:
                try:
                    report = ingest_file(store, pulled.path, format="stix", progress=progress)
                except InputError as exc:
                    say(f"error: {exc}", fg="red")
                    ctx.exit(EXIT_INPUT)
    answer = {"pulled": pulled.to_dict(), "ingest": report.to_dict() if report else None}
    if as_json:
        emit_json(answer)
    elif report is not None:
        say(f"{report.status}: {report.ingested:,} new events of {report.read:,} read, "
            f"{report.duplicates:,} duplicates, {report.quarantined:,} quarantined, "
            f"{report.findings} finding run(s) restored", quiet=quiet)
    else:
        say("nothing to ingest", quiet=quiet)
