"""``provenance verify`` (C2PA manifests, offline) and ``provenance media`` (the verdicts of the
media that articles and events reference). See docs/identity.md."""

from __future__ import annotations

from pathlib import Path

import click

from hybridwatch.commands.base import cli, db_option, emit_json, json_option, say

_COLOURS = {"valid": "green", "untrusted-signer": "yellow", "invalid": "red",
            "no-manifest": None}


@cli.group()
def provenance() -> None:
    """Content provenance: C2PA manifests of images, video and PDF, checked offline."""


@provenance.command("verify")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", "trust_path", type=click.Path(exists=True, path_type=Path),
              envvar="HYBRIDWATCH_C2PA_TRUST", help="Trust anchors: a PEM file or a folder of "
              "CA certificates (env HYBRIDWATCH_C2PA_TRUST). Without it no signer is trusted.")
@click.option("--url", "urls", multiple=True, metavar="URL",
              help="Where each FILE was found (repeat, in FILE order); stored with --record.")
@click.option("--record", is_flag=True, help="Keep the verdicts in the store (--db), so the "
              "articles and events referencing the media carry them.")
@click.option("--strict", is_flag=True, help="Exit 5 unless every file is valid.")
@db_option
@json_option
def provenance_verify(files: tuple[Path, ...], trust_path: Path | None, urls: tuple[str, ...],
                      record: bool, strict: bool, db: Path, as_json: bool) -> None:
    """Verify the C2PA manifest of each FILE: valid, invalid, untrusted-signer or no-manifest,
    with signer, claim generator, actions and ingredient chain. Never goes on the network."""
    from hybridwatch.errors import InputError, VerificationError
    from hybridwatch.outputs.provenance import load_trust_anchors, verify_media

    if urls and len(urls) != len(files):
        raise click.BadParameter(f"{len(urls)} --url for {len(files)} files: give one per "
                                 "file, in order", param_hint="--url")
    anchors = load_trust_anchors(trust_path)
    verdicts, errors = [], []
    for n, file in enumerate(files):
        try:
            verdicts.append(verify_media(file, anchors, url=urls[n] if urls else None).to_dict())
        except InputError as exc:  # one unreadable file does not stop the others
            errors.append({"file": str(file), "error": str(exc)})
    if record and verdicts:
        from hybridwatch.store import EventStore
        from hybridwatch.store.provenance_store import record_verdicts

        with EventStore(db) as store:
            record_verdicts(store, verdicts)
    if as_json:
        emit_json({"files": verdicts, "errors": errors, "trust": str(trust_path or "")})
    else:
        for v in verdicts:
            signer = (v["signer"] or {}).get("common_name") or "-"
            click.secho(f"{v['state']}\t{v['file']}\tsigner {signer}\t"
                        f"generator {v['claim_generator'] or '-'}\t"
                        f"{len(v['ingredients'])} ingredient(s)", fg=_COLOURS[v["state"]])
        for e in errors:
            say(f"error: {e['error']}", fg="red")
    if record and verdicts:
        say(f"recorded {len(verdicts)} verdict(s) in {db}")
    if errors:
        raise InputError(errors[0]["file"], f"{len(errors)} file(s) could not be checked "
                                            f"(first: {errors[0]['error']})")
    bad = [v for v in verdicts if v["state"] != "valid"]
    if strict and bad:
        raise VerificationError(bad[0]["file"], bad[0]["state"],
                                f"{len(bad)} of {len(verdicts)} file(s) not valid")


@provenance.command("media")
@db_option
@json_option
def provenance_media(db: Path, as_json: bool) -> None:
    """Recorded verdicts, and the articles and events that reference each media item."""
    from hybridwatch.store import EventStore
    from hybridwatch.store.provenance_store import media_references, media_verdicts

    with EventStore(db, read_only=True) as store:
        verdicts = media_verdicts(store).to_pylist()
        references = media_references(store).to_pylist()
    if as_json:
        emit_json({"media": verdicts, "references": references})
        return
    for ref in references:
        click.echo(f"{ref['kind']}\t{ref['record_id']}\t{ref['state']}\t{ref['media_url'] or ''}"
                   f"\t{ref['media_sha256'][:16]}")
    say(f"{len(verdicts)} media verdict(s), {len(references)} reference(s) in {db}")
