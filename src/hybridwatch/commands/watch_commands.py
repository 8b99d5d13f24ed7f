"""``hybridwatch watch add | list | remove | run | alerts | ack``: watchlists and their alerts."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import click

from hybridwatch.commands.base import cli, db_option, emit_json, json_option, say
from hybridwatch.store import EventStore


def _user() -> str:
    try:
        return os.environ.get("HYBRIDWATCH_ANALYST") or getpass.getuser()
    except Exception:  # no login name (a container without passwd entry)
        return "analyst"


@cli.group()
def watch() -> None:
    """Watchlists and alerts: save a watch on the findings (e.g. a new episode involving DEU),
    then `watch run` (for cron) records and prints the alerts it raises, each finding once."""


@watch.command(name="add")
@click.option("--kind", required=True,
              help="Finding kind: episodes, convergence, assessment, coincidences, "
                   "narrative_sync.")
@click.option("--target", help="Only findings about this country (ISO3 or name).")
@click.option("--domain", help="Only findings in this domain (episodes).")
@click.option("--threshold", type=float,
              help="Compared with the kind's field: episodes p_value <= T (default: any "
                   "episode), convergence band low > T (default 0), assessment probability > T "
                   "(default 0.5), coincidences and narratives q_value <= T (default 0.05).")
@click.option("--tlp", "clearance", default="amber", show_default=True,
              help="Clearance of the watch's reader: findings above it never alert.")
@click.option("--name", help="A name for the watch (default: its description).")
@click.option("--owner", default=None, help="Whose watch (default: $HYBRIDWATCH_ANALYST or "
                                            "the login name).")
@db_option
@json_option
def add(kind: str, target: str | None, domain: str | None, threshold: float | None,
        clearance: str, name: str | None, owner: str | None, db: Path, as_json: bool) -> None:
    """Save a watch."""
    from hybridwatch.workflows.watches import new_watch

    with EventStore(db) as store:
        saved = new_watch(store, kind=kind, target=target, domain=domain, threshold=threshold,
                          clearance=clearance, owner=owner or _user(), name=name)
    if as_json:
        emit_json(saved.to_dict())
        return
    click.echo(f"watch {saved.watch_id}: {saved.describe()}")


@watch.command(name="list")
@db_option
@json_option
def list_(db: Path, as_json: bool) -> None:
    """List the saved watches."""
    from hybridwatch.store.alerts_store import list_watches

    with EventStore(db, read_only=True) as store:
        watches = list_watches(store)
    if as_json:
        emit_json({"watches": [w.to_dict() for w in watches], "count": len(watches)})
        return
    if not watches:
        say("no watches yet: `hybridwatch watch add --kind episodes --target DEU`")
    for w in watches:
        click.echo(f"{w.watch_id:>4}  {w.name}  [{w.describe()}]  owner {w.owner}")


@watch.command()
@click.argument("watch_id", type=int)
@db_option
@json_option
def remove(watch_id: int, db: Path, as_json: bool) -> None:
    """Remove a watch and its alerts."""
    from hybridwatch.store.alerts_store import remove_watch

    with EventStore(db) as store:
        gone = remove_watch(store, watch_id)
    if as_json:
        emit_json({"removed": gone.to_dict()})
        return
    say(f"removed watch {gone.watch_id}: {gone.name}")


@watch.command(name="run")
@click.option("--run", "runs", multiple=True,
              help="Read this run (id or prefix) instead of its kind's current run; repeatable.")
@click.option("--quiet", is_flag=True, help="No summary on stderr.")
@db_option
@json_option
def run_(runs: tuple[str, ...], quiet: bool, db: Path, as_json: bool) -> None:
    """Evaluate every watch against the current (pinned, else latest) runs; record and print
    the new alerts (exit 0 whether or not any fired, for cron)."""
    from hybridwatch.workflows.watches import run_watches

    with EventStore(db) as store:
        report = run_watches(store, runs=runs)
    if as_json:
        emit_json(report.to_dict())
        return
    for a in report.alerts:
        click.echo(f"ALERT {a.alert_id} [TLP:{a.tlp.upper()}] {a.watch_name}: {a.message}")
    say(f"{len(report.alerts)} new alert(s) from {len(report.watches)} watch(es)", quiet=quiet)


@watch.command()
@click.option("--all", "include_acknowledged", is_flag=True,
              help="Acknowledged alerts too (default: open ones).")
@click.option("--tlp", "clearance", default="red", show_default=True,
              help="Show only alerts at or below this level.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@db_option
@json_option
def alerts(include_acknowledged: bool, clearance: str, limit: int, db: Path,
           as_json: bool) -> None:
    """List the alerts, newest first."""
    from hybridwatch.model.tlp import parse_level
    from hybridwatch.store.alerts_store import list_alerts

    level = parse_level(clearance, option="--tlp")
    with EventStore(db, read_only=True) as store:
        shown, total, withheld = list_alerts(store, clearance=level, limit=limit,
                                             include_acknowledged=include_acknowledged)
    if as_json:
        emit_json({"alerts": [a.to_dict() for a in shown], "total": total,
                   "withheld": withheld})
        return
    for a in shown:
        state = "open" if a.acknowledged_at is None else f"ack {a.acknowledged_by}"
        click.echo(f"{a.alert_id:>5} {a.raised_at:%Y-%m-%d %H:%M} [TLP:{a.tlp.upper()}] "
                   f"{a.watch_name}: {a.message} ({state})")
    say(f"{total} alert(s)" + (f", {withheld} above TLP:{level.upper()} withheld"
                               if withheld else ""))


@watch.command()
@click.argument("alert_id", type=int)
@click.option("--by", default=None, help="Who acknowledges (default: the login name).")
@db_option
@json_option
def ack(alert_id: int, by: str | None, db: Path, as_json: bool) -> None:
    """Acknowledge an alert: it leaves the open list."""
    from hybridwatch.store.alerts_store import acknowledge_alert

    with EventStore(db) as store:
        done = acknowledge_alert(store, alert_id, by=by or _user(), clearance="red")
    if as_json:
        emit_json(done.to_dict())
        return
    say(f"alert {done.alert_id} acknowledged by {done.acknowledged_by}")
