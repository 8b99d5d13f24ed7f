"""``hybridwatch watch add | list | remove | run | alerts | ack | webhook-test | webhook-rotate``:
watchlists, their alerts, and their webhooks."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hybridwatch.commands.base import (
    EXIT_DELIVERY, cli, db_option, emit_json, json_option, say,
)
from hybridwatch.store import EventStore

if TYPE_CHECKING:
    from hybridwatch.outputs.webhook_transport import WebhookSettings


def _user() -> str:
    try:
        return os.environ.get("HYBRIDWATCH_ANALYST") or getpass.getuser()
    except Exception:  # no login name (a container without passwd entry)
        return "analyst"


def webhook_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--webhook-timeout``, ``--webhook-retries`` and ``--webhook-backoff``: how `watch run`
    delivers and `watch webhook-test` pings (``webhook_settings`` turns them into settings)."""
    for option in reversed((
            click.option("--webhook-timeout", type=float, default=5.0, show_default=True,
                         envvar="HYBRIDWATCH_WEBHOOK_TIMEOUT",
                         help="Seconds an attempt to POST to a webhook may take "
                              "(env HYBRIDWATCH_WEBHOOK_TIMEOUT)."),
            click.option("--webhook-retries", type=int, default=2, show_default=True,
                         envvar="HYBRIDWATCH_WEBHOOK_RETRIES",
                         help="Retries after a failed attempt (connection error, timeout, 5xx, "
                              "408, 429; never other 4xx) (env HYBRIDWATCH_WEBHOOK_RETRIES)."),
            click.option("--webhook-backoff", type=float, default=1.0, show_default=True,
                         help="Seconds before the first retry, doubling for each next one "
                              "(at most 30)."))):
        command = option(command)
    return command


def webhook_settings(timeout: float, retries: int, backoff: float) -> WebhookSettings:
    """The ``WebhookSettings`` of the options (private addresses as the environment says)."""
    from hybridwatch.outputs.webhook_transport import WebhookSettings as Settings

    return Settings(timeout_seconds=timeout, retries=retries, backoff_seconds=backoff,
                    allow_private=Settings.allow_private_from_env(dict(os.environ)))


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
@click.option("--webhook", "webhook_url", metavar="URL",
              help="POST the watch's new alerts to this http(s) URL, signed (HMAC-SHA256 with a "
                   "secret printed once); see docs/web.md, Webhooks.")
@click.option("--allow-private", is_flag=True,
              help="The webhook may be at a loopback or private address (refused otherwise, "
                   "unless HYBRIDWATCH_WEBHOOK_ALLOW_PRIVATE=1).")
@db_option
@json_option
def add(kind: str, target: str | None, domain: str | None, threshold: float | None,
        clearance: str, name: str | None, owner: str | None, webhook_url: str | None,
        allow_private: bool, db: Path, as_json: bool) -> None:
    """Save a watch."""
    from hybridwatch.model.webhooks import new_webhook_secret
    from hybridwatch.outputs.alert_webhooks import WebhookSettings
    from hybridwatch.workflows.watches import new_watch

    secret = new_webhook_secret() if webhook_url is not None else None
    with EventStore(db) as store:
        saved = new_watch(store, kind=kind, target=target, domain=domain, threshold=threshold,
                          clearance=clearance, owner=owner or _user(), name=name,
                          webhook_url=webhook_url, webhook_secret=secret,
                          allow_private=allow_private,
                          private_allowed_by_env=WebhookSettings.allow_private_from_env(
                              dict(os.environ)))
    if as_json:
        emit_json({**saved.to_dict(), **({"webhook_secret": secret} if secret else {})})
        return
    click.echo(f"watch {saved.watch_id}: {saved.describe()}")
    if secret:
        click.echo(f"webhook secret (shown once; give it to the receiver): {secret}")


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
        hook = f"  webhook {w.to_dict()['webhook']}" if w.webhook_url else ""
        click.echo(f"{w.watch_id:>4}  {w.name}  [{w.describe()}]  owner {w.owner}{hook}")


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
@webhook_options
@click.option("--quiet", is_flag=True, help="No summary on stderr.")
@db_option
@json_option
@click.pass_context
def run_(ctx: click.Context, runs: tuple[str, ...], webhook_timeout: float,
         webhook_retries: int, webhook_backoff: float, quiet: bool, db: Path,
         as_json: bool) -> None:
    """Evaluate every watch against the current (pinned, else latest) runs; record and print
    the new alerts, and POST them (with any an earlier run failed to deliver) to the watches'
    webhooks. Exit 0 whether or not any fired (for cron); 6 when a delivery failed (its alerts
    are kept, and the next run retries them)."""
    from hybridwatch.outputs.alert_webhooks import (
        plan_deliveries, record_deliveries, send_deliveries,
    )
    from hybridwatch.workflows.watches import run_watches

    settings = webhook_settings(webhook_timeout, webhook_retries, webhook_backoff)
    with EventStore(db) as store:
        report = run_watches(store, runs=runs)
        plans, withheld = plan_deliveries(store, settings=settings)
    # the store is released while the receivers answer (a slow one must not hold it)
    deliveries = send_deliveries(plans, settings, withheld)
    if deliveries.outcomes:
        with EventStore(db) as store:
            record_deliveries(store, deliveries)
    failed = deliveries.count("failed")
    if as_json:
        emit_json({**report.to_dict(), "deliveries": deliveries.to_dict()})
    else:
        for a in report.alerts:
            click.echo(f"ALERT {a.alert_id} [TLP:{a.tlp.upper()}] {a.watch_name}: {a.message}")
        summary = f"{len(report.alerts)} new alert(s) from {len(report.watches)} watch(es)"
        if deliveries.outcomes:
            summary += (f"; webhooks: {deliveries.count('delivered')} alert(s) delivered, "
                        f"{failed} failed")
            if deliveries.count("deferred"):
                summary += f", {deliveries.count('deferred')} deferred to the next run"
            if deliveries.count("withheld"):
                summary += f", {deliveries.count('withheld')} withheld (above the clearance)"
        say(summary, quiet=quiet)
        for o in deliveries.outcomes:
            if o.status == "failed":
                say(f"webhook of watch {o.watch_id} ({o.url_host}): {len(o.alert_ids)} "
                    f"alert(s) not delivered: {o.last.error} (retried by the next run)",
                    quiet=quiet)
    if failed:
        ctx.exit(EXIT_DELIVERY)


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
        if a.delivery is not None:
            state += f", {a.delivery['state']}"
            if a.delivery["state"] in ("failed", "withheld"):
                state += f": {a.delivery['error']}"
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


@watch.command(name="webhook-test")
@click.argument("watch_id", type=int)
@webhook_options
@db_option
@json_option
@click.pass_context
def webhook_test(ctx: click.Context, watch_id: int, webhook_timeout: float,
                 webhook_retries: int, webhook_backoff: float, db: Path,
                 as_json: bool) -> None:
    """Send one signed ping (no alerts) to a watch's webhook now and print what came back: the
    HTTP status, or why it failed. Signed, checked and retried as `watch run` delivers; not
    recorded as a delivery. Exit 0 on a 2xx, 6 otherwise."""
    from hybridwatch.outputs.webhook_pings import plan_ping, send_ping

    settings = webhook_settings(webhook_timeout, webhook_retries, webhook_backoff)
    with EventStore(db, read_only=True) as store:
        plan = plan_ping(store, watch_id)
    outcome = send_ping(plan, settings)      # the store is released while the receiver answers
    done = outcome.to_dict()
    if as_json:
        emit_json(done)
    else:
        tries = f"{done['attempts']} attempt{'s' if done['attempts'] > 1 else ''}"
        if outcome.delivered:
            click.echo(f"ping to {done['host']} (watch {watch_id}): delivered, "
                       f"HTTP {done['http_status']} ({tries})")
        else:
            click.echo(f"ping to {done['host']} (watch {watch_id}): failed: {done['error']} "
                       f"({tries})")
    if not outcome.delivered:
        ctx.exit(EXIT_DELIVERY)


@watch.command(name="webhook-rotate")
@click.argument("watch_id", type=int)
@db_option
@json_option
def webhook_rotate(watch_id: int, db: Path, as_json: bool) -> None:
    """Give a watch's webhook a new signing secret and print it once (`--json`:
    `webhook_secret`); every delivery and ping from now on is signed with it, none with the old
    one. See docs/web.md, "Rotating the secret", for the receiver's side."""
    from hybridwatch.workflows.watches import rotate_webhook_secret

    with EventStore(db) as store:
        rotated, secret = rotate_webhook_secret(store, watch_id)
    if as_json:
        emit_json({**rotated.to_dict(), "webhook_secret": secret})
        return
    click.echo(f"watch {rotated.watch_id}: new webhook secret (shown once; give it to the "
               f"receiver, which should accept the old one too for a while): {secret}")
    say("the old secret signs nothing from now on (a `watch run` already sending finishes "
        "with it); check with `hybridwatch watch webhook-test "
        f"{rotated.watch_id}`")
