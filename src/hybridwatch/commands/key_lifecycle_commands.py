"""Key lifecycle commands: ``keys rotate|revoke|import|history``, added to the ``keys`` group by
identity_commands. Formats and rules are in docs/identity.md."""

from __future__ import annotations

from pathlib import Path

import click

from hybridwatch.commands.base import emit_json, json_option, say
from hybridwatch.commands.key_options import (
    keys_dir_option, load_keys, org_option, passphrase, resolve_keys_dir,
)


@click.command("rotate")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the rotation statement here (give it to partners).")
@click.option("--kdf-memory-mib", type=click.IntRange(min=1, max=4096), default=64,
              show_default=True, help="Argon2id memory for the new key file's passphrase.")
@org_option
@keys_dir_option
@json_option
def keys_rotate(output: Path | None, kdf_memory_mib: int, org: str | None,
                keys_dir: Path | None, as_json: bool) -> None:
    """Replace the signing and encryption keys; the old key signs the new one.

    The old key files stay (signatures made before today still verify); partners run
    'hybridwatch keys import' on the rotation statement."""
    from hybridwatch.outputs.keystore import KdfParams, write_rotated_keys
    from hybridwatch.outputs.signing import utc_now_text

    folder = resolve_keys_dir(keys_dir)
    old = load_keys(folder, org, signing=True)
    new, rotation, path = write_rotated_keys(
        folder, old, passphrase(), kdf=KdfParams(memory_kib=kdf_memory_mib * 1024),
        rotated_at=utc_now_text())
    if output:
        output.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    summary = {"org": new.identity.org, "old_key_id": rotation.old_key_id,
               "new_key_id": rotation.new_key_id,
               "encryption_key_id": new.identity.encryption_key_id,
               "rotated_at": rotation.rotated_at, "statement": str(output or path)}
    if as_json:
        emit_json(summary)
        return
    click.echo(f"rotated {new.identity.org!r}: key {rotation.old_key_id} → "
               f"{rotation.new_key_id} ({rotation.rotated_at})")
    say(f"give partners {summary['statement']}: hybridwatch keys import FILE --trust DIR")


@click.command("revoke")
@click.option("--reason", required=True,
              type=click.Choice(["key-compromise", "superseded", "retired", "unspecified"]),
              help="key-compromise: signatures count only with a trusted time-stamp from "
                   "before --since.")
@click.option("--since", metavar="TIME", default=None,
              help="When the revocation takes effect (RFC 3339, e.g. 2026-11-30T00:00:00Z; "
                   "default now). Earlier than now when a compromise is found late.")
@click.option("--key", "key_id", metavar="KEY_ID", default=None,
              help="Which key (default: the current one); an earlier key is revoked with its "
                   "own private key.")
@click.option("--comment", default="", help="Free text kept in the statement.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the revocation statement here (give it to partners).")
@org_option
@keys_dir_option
@json_option
def keys_revoke(reason: str, since: str | None, key_id: str | None, comment: str,
                output: Path | None, org: str | None, keys_dir: Path | None,
                as_json: bool) -> None:
    """Issue a signed revocation of a key (reason and time); the key then signs nothing more."""
    from hybridwatch.outputs.key_history import format_time, make_revocation, parse_time
    from hybridwatch.outputs.keystore import find_identity, load_org_keys, write_revocation
    from hybridwatch.outputs.signing import utc_now_text

    folder = resolve_keys_dir(keys_dir)
    target, _ = find_identity(folder, org, key_id=key_id)
    if since is not None:
        try:
            since = format_time(parse_time(since, "--since"))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
    signer = load_org_keys(folder, passphrase(), org, key_id=target.signing_key_id)
    revocation = make_revocation(signer, target, reason=reason, revoked_at=utc_now_text(),
                                 effective_from=since, comment=comment)
    path = write_revocation(folder, revocation)
    if output:
        output.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    summary = {**revocation.summary(), "statement": str(output or path)}
    if as_json:
        emit_json(summary)
        return
    click.echo(f"revoked key {revocation.key_id} of {revocation.org!r} ({reason}) from "
               f"{revocation.effective_from}")
    say(f"give partners {summary['statement']}: hybridwatch keys import FILE --trust DIR")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", "trust_dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="HYBRIDWATCH_TRUST", required=True,
              help="Trust store folder to add to (created if missing; env HYBRIDWATCH_TRUST).")
@click.option("--allow-new-key", is_flag=True,
              help="Trust an identity document for an organisation the store already knows "
                   "under another key, without a rotation statement linking them.")
@json_option
def keys_import(file: Path, trust_dir: Path, allow_new_key: bool, as_json: bool) -> None:
    """Add a partner's identity document, rotation or revocation to the trust store, after
    checking its signatures and that it chains to what the store already trusts."""
    from hybridwatch.outputs.keystore import import_into_trust_store

    result = import_into_trust_store(file, trust_dir, allow_new_key=allow_new_key)
    if as_json:
        emit_json(result.to_dict())
        return
    verb = "added" if result.added else "already held"
    say(f"{verb} {result.kind} of {result.org!r} (key {result.key_id}) → {result.file}",
        fg="green")
    for row in result.history:
        click.echo(f"{row['key_id']}\t{row['state']}\t{row['created']}")


@click.command("history")
@click.option("--trust", "trust_dir", type=click.Path(exists=True, path_type=Path),
              envvar="HYBRIDWATCH_TRUST", help="Show a trust store instead of the local keys.")
@org_option
@keys_dir_option
@json_option
def keys_history(trust_dir: Path | None, org: str | None, keys_dir: Path | None,
                 as_json: bool) -> None:
    """Each organisation's keys, oldest first: current, superseded (by whom) or revoked."""
    from hybridwatch.outputs.keystore import load_trust_store

    folder = trust_dir if trust_dir is not None else resolve_keys_dir(keys_dir)
    history = load_trust_store(folder).key_history
    orgs: dict[str, list] = {}
    for identity in history.identities:
        if org is None or identity.org.lower() == org.strip().lower():
            orgs.setdefault(identity.org, history.chain(identity.signing_key_id))
    if as_json:
        emit_json({"dir": str(folder), "organisations": [
            {"org": name, "keys": rows} for name, rows in sorted(orgs.items())]})
        return
    for name, rows in sorted(orgs.items()):
        for row in rows:
            extra = f" → {row['superseded_by']}" if row["superseded_by"] else ""
            if row["revocation"]:
                extra += (f" ({row['revocation']['reason']}, from "
                          f"{row['revocation']['effective_from']})")
            click.echo(f"{name}\t{row['key_id']}\t{row['state']}{extra}")


KEY_LIFECYCLE_COMMANDS = (keys_rotate, keys_revoke, keys_import, keys_history)
