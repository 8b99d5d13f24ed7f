"""Commands of the web layer: ``serve``, ``token create|list|revoke`` and ``audit``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from hybridwatch.commands.base import cli, db_option, emit_json, json_option, say
from hybridwatch.errors import StoreError
from hybridwatch.store import EventStore
from hybridwatch.store.access_store import (
    ROLES, audit_entries, create_token, list_tokens, revoke_token,
)
from hybridwatch.model.schema import TLP_LEVELS


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind; the default serves this machine only.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--workers-threads", "threads", type=click.IntRange(1, 256), default=None,
              help="Threads answering requests, each on its own cursor (default: four per "
                   "core, at most 40).")
@click.option("--cache-entries", type=click.IntRange(min=0), default=512, show_default=True,
              help="Aggregate answers kept in memory (0: none).")
@click.option("--audit-flush-ms", type=click.IntRange(min=0), default=200, show_default=True,
              help="Write queued audit entries this often (0: each before its answer).")
@click.option("--quiet", "-q", is_flag=True, help="No access log.")
@db_option
def serve(host: str, port: int, threads: int, cache_entries: int, audit_flush_ms: int,
          quiet: bool, db: Path) -> None:
    """Serve the REST API (/api, OpenAPI at /openapi.json) and the dashboard (/).

    The server holds the store's lock while it runs and lends it to any other hybridwatch
    command on the same store (`stats`, `token create`, even `ingest`): the command waits for
    the requests in flight, runs, and the server takes the store back (docs/web.md).
    """
    import uvicorn

    from hybridwatch.web.app import create_app

    if not db.exists():
        raise StoreError(f"{db}: no store here (run `hybridwatch ingest` or `hybridwatch demo` "
                         "first, or pass --db)")
    with EventStore(db) as store:
        active = [t for t in list_tokens(store) if t.revoked_at is None]
    # more requests at once than a few per core only queue inside DuckDB and the GIL: on two
    # cores, 40 threads gave cold event pages a p95 of 330-375 ms where 6-8 gave 273-292 ms
    threads = threads or min(40, 4 * (os.cpu_count() or 1))
    app = create_app(db, threads=threads, cache_entries=cache_entries, close_on_shutdown=True,
                     audit_flush_seconds=audit_flush_ms / 1000, warm=cache_entries > 0)
    if host not in ("127.0.0.1", "localhost", "::1"):
        say(f"warning: binding {host}: the API is reachable from other machines; put it "
            "behind TLS", fg="yellow")
    if not active:
        say("note: no API tokens yet: the API will refuse every request. Stop the server and "
            "run `hybridwatch token create --role admin`", fg="yellow")
    listening = None
    if port == 0:  # bound here so the chosen port can be announced and printed
        listening = _bind_any_port(host)
        port = listening.getsockname()[1]
    say(f"serving {db} on http://{host}:{port}/ (API docs /api/docs, OpenAPI /openapi.json)")

    config = uvicorn.Config(app, host=host, port=port, access_log=not quiet,
                            log_level="warning" if quiet else "info")
    from hybridwatch.web.log_redaction import redact_tokens_in
    from hybridwatch.web.store_lease import lease_file, write_lease_file

    redact_tokens_in("uvicorn.access", "uvicorn.error")  # after Config set up the loggers
    # other hybridwatch commands find the server here and borrow the store from it
    local = "127.0.0.1" if host in ("0.0.0.0", "localhost") else host
    write_lease_file(db, f"http://{'[' + local + ']' if ':' in local else local}:{port}",
                     app.state.gate.secret)
    try:
        uvicorn.Server(config).run(sockets=[listening] if listening else None)
    finally:
        lease_file(db).unlink(missing_ok=True)


def _bind_any_port(host: str):
    """A socket bound to ``host`` on a port the system chooses (``--port 0``)."""
    import socket

    family, kind, proto, _, address = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0]
    listening = socket.socket(family, kind, proto)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(address)
    return listening


@cli.group()
def token() -> None:
    """API tokens: create (the secret is shown once), list, revoke."""


@token.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", help="Who holds it, e.g. 'analyst desk 2'.")
@click.option("--clearance", type=click.Choice(TLP_LEVELS),
              help="Highest TLP level readable; at most the role's (viewer amber, analyst "
                   "amber+strict, admin red).")
@db_option
@json_option
def token_create(role: str, name: str | None, clearance: str | None, db: Path,
                 as_json: bool) -> None:
    """Create a token and print it once; only its SHA-256 hash is stored."""
    with EventStore(db) as store:
        created = create_token(store, role=role, name=name, clearance=clearance)
    if as_json:
        emit_json(created.to_dict())
        return
    click.echo(created.token)
    say(f"token {created.record.token_id} ({created.record.name}): role {role}, clearance "
        f"TLP:{created.record.clearance.upper()}. Keep it now: it cannot be shown again.")


@token.command("list")
@db_option
@json_option
def token_list(db: Path, as_json: bool) -> None:
    """Tokens with their role, clearance and state (never their secrets)."""
    with EventStore(db, read_only=True) as store:
        tokens = [t.to_dict() for t in list_tokens(store)]
    if as_json:
        emit_json({"tokens": tokens, "count": len(tokens)})
        return
    for t in tokens:
        state = f"revoked {t['revoked_at'][:19]}" if t["revoked_at"] else "active"
        click.echo(f"{t['token_id']}  {t['role']:<8} {t['clearance']:<13} {state:<28} "
                   f"{t['name']}")
    if not tokens:
        say("no tokens: `hybridwatch token create --role admin`")


@token.command("revoke")
@click.argument("token_id")
@db_option
@json_option
def token_revoke(token_id: str, db: Path, as_json: bool) -> None:
    """Revoke a token by its id (see `hybridwatch token list`)."""
    with EventStore(db) as store:
        record = revoke_token(store, token_id)
    if as_json:
        emit_json(record.to_dict())
        return
    say(f"revoked {record.token_id} ({record.name}) at {record.revoked_at:%Y-%m-%d %H:%M:%S} UTC")


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--token", "token_id", help="Only this token's entries.")
@click.option("--action", help="Only this action (read, export, denied, token.create …).")
@db_option
@json_option
def audit(limit: int, token_id: str | None, action: str | None, db: Path,
          as_json: bool) -> None:
    """Who read or exported what through the API, newest first."""
    with EventStore(db, read_only=True) as store:
        entries = audit_entries(store, limit=limit, token_id=token_id, action=action)
    if as_json:
        emit_json({"entries": entries, "count": len(entries)})
        return
    for e in entries:
        click.echo(f"{e['at'][:19]}  {e['status']}  {e['role'] or '-':<8} "
                   f"{e['name'] or '-':<20} {e['action']:<12} {e['resource']}")
    if not entries:
        say("the audit log is empty")
