"""Identity, signing and sealing commands: ``keys create|export|list`` (``keys rotate|revoke|
import|history`` come from key_lifecycle_commands), ``sign``, ``verify``, ``seal``, ``open``.
The formats and threat model are in docs/sharing-crypto.md and docs/identity.md."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click

from hybridwatch.commands.base import cli, emit_json, json_option, say
from hybridwatch.commands.key_lifecycle_commands import KEY_LIFECYCLE_COMMANDS
from hybridwatch.commands.key_options import keys_dir_option, org_option
from hybridwatch.commands.key_options import load_keys as _load_keys
from hybridwatch.commands.key_options import passphrase as _passphrase
from hybridwatch.commands.key_options import resolve_keys_dir as _keys_dir
from hybridwatch.outputs.signing import VerificationError


def _trust_option(required: bool) -> Callable:
    return click.option("--trust", "trust_dir", type=click.Path(exists=True, path_type=Path),
                        envvar="HYBRIDWATCH_TRUST", required=required,
                        help="Trust store: a folder of partner identity documents "
                             "(env HYBRIDWATCH_TRUST).")


@cli.group()
def keys() -> None:
    """Organisation identities: ML-DSA-65 + Ed25519 signing, ML-KEM-768 + X25519 encryption."""


@keys.command("create")
@click.option("--org", required=True, metavar="NAME", help="Organisation name (sets the STIX "
              "identity id).")
@click.option("--force", is_flag=True, help="Replace existing keys of this organisation.")
@click.option("--kdf-memory-mib", type=click.IntRange(min=1, max=4096), default=64,
              show_default=True, help="Argon2id memory for the passphrase (lower only on very "
              "small machines).")
@keys_dir_option
@json_option
def keys_create(org: str, force: bool, kdf_memory_mib: int, keys_dir: Path | None,
                as_json: bool) -> None:
    """Create an organisation identity; the private keys are encrypted with a passphrase."""
    from hybridwatch.outputs.keystore import KdfParams, create_identity
    from hybridwatch.outputs.identity import validate_org_name

    try:
        org = validate_org_name(org)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--org") from None
    folder = _keys_dir(keys_dir)
    keys_ = create_identity(folder, org, _passphrase(confirm=True),
                            kdf=KdfParams(memory_kib=kdf_memory_mib * 1024), overwrite=force)
    summary = {**keys_.identity.summary(), "dir": str(folder)}
    if as_json:
        emit_json(summary)
        return
    click.echo(f"created identity {org!r} ({summary['stix_identity_id']}) in {folder}\n"
               f"  signing key    {summary['signing_key_id']} (ML-DSA-65 + Ed25519)\n"
               f"  encryption key {summary['encryption_key_id']} (ML-KEM-768 + X25519)")
    say(f"share it: hybridwatch keys export --org {org!r} -o identity.json")


@keys.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the identity document here instead of stdout.")
@org_option
@keys_dir_option
def keys_export(output: Path | None, org: str | None, keys_dir: Path | None) -> None:
    """Print the public identity document (for partners' trust stores). No secrets in it."""
    from hybridwatch.outputs.keystore import find_identity

    identity, _ = find_identity(_keys_dir(keys_dir), org)
    text = json.dumps(identity.to_dict(), indent=2) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        say(f"wrote {output} ({identity.org}, key {identity.signing_key_id})")
    else:
        click.echo(text, nl=False)


@keys.command("list")
@click.option("--trust", "trust_dir", type=click.Path(exists=True, path_type=Path),
              help="List this trust store instead of the local identities.")
@keys_dir_option
@json_option
def keys_list(trust_dir: Path | None, keys_dir: Path | None, as_json: bool) -> None:
    """List local identities (or, with --trust, the partners of a trust store)."""
    from hybridwatch.outputs.keystore import list_identities

    folder = trust_dir if trust_dir is not None else _keys_dir(keys_dir)
    rows = [] if trust_dir is None and not folder.exists() else list_identities(folder)
    items = [{**identity.summary(), "file": str(path)} for identity, path in rows]
    if as_json:
        emit_json({"dir": str(folder), "identities": items})
        return
    for item in items:
        click.echo(f"{item['org']}\t{item['stix_identity_id']}\tsigning {item['signing_key_id']}"
                   f"\tencryption {item['encryption_key_id']}")
    say(f"{len(items)} identities in {folder}")


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--canon", type=click.Choice(["auto", "json", "raw"]), default="auto",
              show_default=True, help="auto: RFC 8785 canonical JSON for .json/.stix files, raw "
              "bytes for anything else.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Signature file (default FILE.sig).")
@org_option
@keys_dir_option
@json_option
def sign(file: Path, canon: str, output: Path | None, org: str | None, keys_dir: Path | None,
         as_json: bool) -> None:
    """Write a detached composite signature (ML-DSA-65 + Ed25519) of FILE to FILE.sig."""
    from hybridwatch.outputs.signing import sign_file

    result = sign_file(file, _load_keys(keys_dir, org, signing=True), canon=canon, out=output)
    if as_json:
        emit_json(result.to_dict())
        return
    say(f"signed {file} as {result.signer['org']!r} ({result.canonicalization}) → "
        f"{result.signature_file}")


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_trust_option(required=True)
@click.option("--sig", "sig_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Signature file (default FILE.sig).")
@click.option("--tsa", "tsa_path", type=click.Path(exists=True, path_type=Path),
              envvar="HYBRIDWATCH_TSA", help="Trusted TSA certificate(s) (PEM file or folder) "
              "to check the signature's RFC 3161 time-stamps (env HYBRIDWATCH_TSA).")
@json_option
def verify(file: Path, trust_dir: Path, sig_path: Path | None, tsa_path: Path | None,
           as_json: bool) -> None:
    """Verify FILE against FILE.sig and the trust store; non-zero exit and the reason if not.

    The signer's key history applies: a key revoked before the signature was made gives
    revoked-key, one replaced before it gives superseded-key (exit 5)."""
    from hybridwatch.outputs.keystore import load_trust_store
    from hybridwatch.outputs.signing import verify_file
    from hybridwatch.outputs.timestamps import load_tsa_certificates

    trust = load_trust_store(trust_dir)
    tsa = load_tsa_certificates(tsa_path) if tsa_path is not None else None
    try:
        result = verify_file(file, trust, sig_path=sig_path, tsa_certs=tsa)
    except VerificationError as exc:
        if as_json:  # scripts get the reason on stdout too; the exit code still says "failed"
            emit_json({"valid": False, "file": str(file), "reason": exc.code, "error": str(exc)})
        raise
    for warning in result.warnings:
        say(f"warning: {warning}", fg="yellow")
    if as_json:
        emit_json(result.to_dict())
        return
    say(f"OK {file}: signed by {result.signer['org']!r} (key {result.signer['signing_key_id']}, "
        f"{' + '.join(result.algs)}) on {result.signed_at} ({result.time_source})", fg="green")


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "partner", required=True, metavar="PARTNER",
              help="Recipient: an org name (or STIX id, or signing key id) in the trust store.")
@_trust_option(required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Envelope file (default FILE.sealed).")
@org_option
@keys_dir_option
@json_option
def seal(file: Path, partner: str, trust_dir: Path, output: Path | None, org: str | None,
         keys_dir: Path | None, as_json: bool) -> None:
    """Encrypt FILE to PARTNER (HPKE, ML-KEM-768 + X25519) and sign the envelope."""
    from hybridwatch.outputs.keystore import load_trust_store
    from hybridwatch.outputs.sealing import seal_file

    recipient = load_trust_store(trust_dir).recipient(partner)
    result = seal_file(file, _load_keys(keys_dir, org, signing=True), recipient, out=output)
    if as_json:
        emit_json(result.to_dict())
        return
    say(f"sealed {file} for {recipient.org!r} (key {recipient.encryption_key_id}) → "
        f"{result.sealed_file}")


@cli.command("open")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_trust_option(required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the content (default: its original name, beside FILE).")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@click.option("--insecure-skip-verify", "skip_verify", is_flag=True,
              help="Decrypt without a trust store, from a sender nobody verified.")
@org_option
@keys_dir_option
@json_option
def open_command(file: Path, trust_dir: Path | None, output: Path | None, force: bool,
                 skip_verify: bool, org: str | None, keys_dir: Path | None,
                 as_json: bool) -> None:
    """Decrypt a sealed FILE with the local keys after verifying its sender against --trust
    (exit 5 with a reason code when it does not open)."""
    from hybridwatch.errors import VerificationError
    from hybridwatch.outputs.keystore import load_trust_store
    from hybridwatch.outputs.sealing import UNVERIFIED_SENDER, open_file

    if trust_dir is None and not skip_verify:
        raise VerificationError(file, UNVERIFIED_SENDER, "no trust store to verify the sender "
                                "(pass --trust DIR or set HYBRIDWATCH_TRUST; "
                                "--insecure-skip-verify decrypts anyway)")
    trust = load_trust_store(trust_dir) if trust_dir is not None else None
    result = open_file(file, _load_keys(keys_dir, org), trust=trust, out=output, force=force)
    if as_json:
        emit_json(result.to_dict())
    elif result.sender_verified:
        say(f"opened {result.output} from {result.sender['org']!r} (signature verified)",
            fg="green")
    if not result.sender_verified:
        say(f"warning: sender {result.sender.get('org')!r} NOT verified (pass --trust DIR)",
            fg="yellow")
        if not as_json:
            say(f"opened {result.output}")


for _command in KEY_LIFECYCLE_COMMANDS:  # keys rotate | revoke | import | history
    keys.add_command(_command)
