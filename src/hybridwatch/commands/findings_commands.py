"""``hybridwatch findings list | show | diff | pin | unpin``: the analyses' runs kept in the
store, and which one of each kind briefings, the dashboard, the API and STIX exports use;
``hybridwatch review``: an analyst's verdict on one finding."""

from __future__ import annotations

from pathlib import Path

import getpass
import os

import click

from hybridwatch.commands.base import cli, db_option, emit_json, json_option, say
from hybridwatch.store import EventStore


@cli.group()
def findings() -> None:
    """Runs of the analyses: list, show, compare, pin (readers use a kind's pinned run, else
    its latest)."""


@findings.command(name="list")
@click.option("--kind", help="Only runs of this finding kind (e.g. assessment, episodes).")
@db_option
@json_option
def list_(kind: str | None, db: Path, as_json: bool) -> None:
    """List the stored runs, newest first (``*`` marks the run readers use, ``pinned`` a pin)."""
    from hybridwatch.store.run_history import list_runs

    with EventStore(db, read_only=True) as store:
        runs = list_runs(store, kind.strip() if kind else None)
    if as_json:
        emit_json({"runs": [r.to_dict() for r in runs], "count": len(runs)})
        return
    if not runs:
        say("no runs stored yet: run an analysis (hybridwatch episodes, assess …)")
    for r in runs:
        click.echo(f"{'*' if r.current else ' '} {r.run_id[:12]}  {r.kind:<15} "
                   f"{r.created_at:%Y-%m-%d %H:%M:%S}  {r.n_items:>5} items"
                   + ("  pinned" if r.pinned else "") + ("  reviewed" if r.reviewed else ""))


@findings.command()
@click.argument("run")
@db_option
@json_option
def show(run: str, db: Path, as_json: bool) -> None:
    """One run: its parameters, window, seed, input fingerprint, code version and findings."""
    from hybridwatch.store.run_history import show_run

    with EventStore(db, read_only=True) as store:
        shown = show_run(store, run)
    if as_json:
        emit_json(shown)
        return
    click.echo(f"{shown['id']}  {shown['kind']}  {shown['created_at']}"
               + ("  pinned" if shown["pinned"] else "")
               + ("  (current)" if shown["current"] else ""))
    for name in ("parameters", "window", "seed", "input_sha256", "code_version"):
        click.echo(f"  {name}: {shown[name]}")
    click.echo(f"  {len(shown['items'])} findings")


@findings.command()
@click.argument("run_a")
@click.argument("run_b")
@db_option
@json_option
def diff(run_a: str, run_b: str, db: Path, as_json: bool) -> None:
    """What changed from RUN_A to RUN_B (one kind): findings that appeared or disappeared, and
    the fields that moved (probabilities, PHIA terms, q-values …)."""
    from hybridwatch.store.run_history import diff_runs

    with EventStore(db, read_only=True) as store:
        found = diff_runs(store, run_a, run_b)
    if as_json:
        emit_json(found)
        return
    click.echo(f"{found['kind']}: {found['a']['id'][:12]} → {found['b']['id'][:12]}: "
               f"{len(found['appeared'])} appeared, {len(found['disappeared'])} disappeared, "
               f"{len(found['changed'])} changed, {found['unchanged']} unchanged")
    for item in found["appeared"]:
        click.echo(f"  + {item['key']}")
    for item in found["disappeared"]:
        click.echo(f"  - {item['key']}")
    for item in found["changed"]:
        moves = "; ".join(f"{k}: {v['from']} → {v['to']}" for k, v in item["changes"].items())
        click.echo(f"  ~ {item['key']}: {moves}")


def _pin(run: str, db: Path, as_json: bool, pinned: bool) -> None:
    from hybridwatch.store.run_history import pin_run, unpin_run

    with EventStore(db) as store:
        info = (pin_run if pinned else unpin_run)(store, run)
    if as_json:
        emit_json(info.to_dict())
        return
    say(f"{info.kind} run {info.run_id[:12]} {'pinned' if pinned else 'unpinned'}: readers "
        f"now use {'it' if info.current else 'the latest run'}")


@findings.command()
@click.argument("run")
@db_option
@json_option
def pin(run: str, db: Path, as_json: bool) -> None:
    """Pin RUN: briefings, the dashboard, the API and STIX exports use it for its kind, whatever
    runs come after (one pinned run a kind)."""
    _pin(run, db, as_json, True)


@findings.command()
@click.argument("run")
@db_option
@json_option
def unpin(run: str, db: Path, as_json: bool) -> None:
    """Unpin RUN: readers go back to the latest run of its kind."""
    _pin(run, db, as_json, False)


@cli.command()
@click.argument("finding_id")
@click.option("--verdict", required=True, type=click.Choice(["confirmed", "rejected",
                                                             "needs-work"]),
              help="confirmed, rejected (the finding leaves the briefing) or needs-work.")
@click.option("--note", default="", help="Why (required unless confirmed).")
@click.option("--analyst", help="Who reviewed it (default: $HYBRIDWATCH_ANALYST, else your "
                                "login name).")
@db_option
@json_option
def review(finding_id: str, verdict: str, note: str, analyst: str | None, db: Path,
           as_json: bool) -> None:
    """Record an analyst's verdict on a finding (an episode, a coinciding pair, a narrative
    synchronisation, a judgement …) by its id or its first 8+ characters.

    The latest verdict counts: rejected findings leave the briefing (its annex counts them,
    with the notes); judgements show who reviewed them and when; the STIX export carries
    reviews as opinions. Every review is written to the audit log."""
    from hybridwatch.store.reviews_store import record_review

    who = analyst or os.environ.get("HYBRIDWATCH_ANALYST") or getpass.getuser()
    with EventStore(db) as store:
        done = record_review(store, finding_id, verdict=verdict, note=note, analyst=who)
    if as_json:
        emit_json(done.to_dict())
        return
    say(f"{done.kind} finding {done.finding_id[:12]}: {done.verdict} by {done.analyst}")
