"""Options and helpers shared by the identity and key lifecycle commands: the keys folder, the
organisation, the passphrase, and loading the local private keys."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click

PASSPHRASE_ENV = "HYBRIDWATCH_PASSPHRASE"


def keys_dir_option(func: Callable) -> Callable:
    return click.option("--dir", "keys_dir", type=click.Path(file_okay=False, path_type=Path),
                        default=None, help="Keys folder (default: $HYBRIDWATCH_KEYS, else "
                        "~/.local/share/hybridwatch/keys or the platform's equivalent).")(func)


def org_option(func: Callable) -> Callable:
    return click.option("--org", metavar="NAME", default=None,
                        help="Which local identity (needed when the folder holds several).")(func)


def resolve_keys_dir(keys_dir: Path | None) -> Path:
    from hybridwatch.outputs.keystore import default_keys_dir

    return keys_dir if keys_dir is not None else default_keys_dir()


def passphrase(*, confirm: bool = False) -> str:
    """$HYBRIDWATCH_PASSPHRASE, else a hidden prompt on the terminal."""
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    return click.prompt("Passphrase for the private keys", hide_input=True,
                        confirmation_prompt=confirm, err=True)


def load_keys(keys_dir: Path | None, org: str | None, *, signing: bool = False):
    from hybridwatch.errors import InputError
    from hybridwatch.outputs.keystore import find_identity, load_org_keys, local_history

    folder = resolve_keys_dir(keys_dir)
    identity, _ = find_identity(folder, org)  # says "no keys" before asking for a passphrase
    if signing:
        status = local_history(folder).status(identity.signing_key_id)
        if status.state == "revoked":
            raise InputError(folder, f"key {identity.signing_key_id} of {identity.org!r} is "
                                     f"revoked ({status.revocation.reason}): it signs nothing "
                                     "more; create a new identity (keys create --force)")
    return load_org_keys(folder, passphrase(), org)
