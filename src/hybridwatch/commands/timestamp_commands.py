"""``timestamp request|attach``: RFC 3161 time-stamps on detached signatures, obtained out of
band and checked offline (docs/identity.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from hybridwatch.commands.base import cli, emit_json, json_option, say


@cli.group()
def timestamp() -> None:
    """RFC 3161 time-stamps on detached signatures (obtained out of band, checked offline)."""


def _read_sig(sig_path: Path) -> dict:
    from hybridwatch.errors import InputError

    try:
        doc = json.loads(sig_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(sig_path, f"not a readable signature file ({exc})") from None
    if not isinstance(doc, dict) or doc.get("type") != "hybridwatch-signature":
        raise InputError(sig_path, "not a hybridwatch signature file")
    return doc


@timestamp.command("request")
@click.argument("sig_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the DER request (default SIG_FILE.tsq).")
@click.option("--hash", "hash_alg", type=click.Choice(["sha256", "sha384", "sha512"]),
              default="sha512", show_default=True)
@json_option
def timestamp_request(sig_file: Path, output: Path | None, hash_alg: str, as_json: bool) -> None:
    """Write an RFC 3161 request for a signature: send it to a TSA yourself (this command never
    goes on the network), then 'timestamp attach' the reply."""
    from hybridwatch.outputs.timestamps import make_request

    output = output or sig_file.with_name(sig_file.name + ".tsq")
    output.write_bytes(make_request(_read_sig(sig_file), hash_alg=hash_alg, source=sig_file))
    if as_json:
        emit_json({"signature_file": str(sig_file), "request": str(output), "hash": hash_alg})
        return
    say(f"wrote {output}: e.g. curl -H 'Content-Type: application/timestamp-query' "
        f"--data-binary @{output} TSA_URL > reply.tsr")


@timestamp.command("attach")
@click.argument("sig_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("token", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tsa", "tsa_path", type=click.Path(exists=True, path_type=Path),
              envvar="HYBRIDWATCH_TSA", help="Check the token's TSA chain now as well.")
@json_option
def timestamp_attach(sig_file: Path, token: Path, tsa_path: Path | None, as_json: bool) -> None:
    """Attach an RFC 3161 reply or token (DER) to SIG_FILE after checking it belongs to it."""
    from hybridwatch.outputs.timestamps import attach, load_tsa_certificates

    anchors = load_tsa_certificates(tsa_path) if tsa_path is not None else None
    doc, check = attach(_read_sig(sig_file), token.read_bytes(), anchors=anchors, source=token)
    sig_file.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    summary = {"signature_file": str(sig_file), "timestamps": len(doc["timestamps"]),
               "checked": check.to_dict() if check else None}
    if as_json:
        emit_json(summary)
        return
    when = f" ({check.gen_time:%Y-%m-%dT%H:%M:%SZ} by {check.tsa})" if check else \
        " (TSA chain not checked: pass --tsa)"
    say(f"attached the time-stamp to {sig_file}{when}")
