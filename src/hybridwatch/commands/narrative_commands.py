"""``hybridwatch narratives build | list | articles | sync | techniques``: narratives across outlets,
their synchrony, and the DISARM techniques they and the disinformation cases show."""

from __future__ import annotations

import json
from pathlib import Path

import click

from hybridwatch.commands.base import cli, db_option, day_option, emit_json, json_option, say
from hybridwatch.model.outlet_groups import load_outlet_groups
from hybridwatch.store import EventStore
from hybridwatch.store.narratives_store import list_narratives
from hybridwatch.workflows.narrative_articles import narrative_articles
from hybridwatch.workflows.narrative_disarm import disarm_tags
from hybridwatch.workflows.narrative_build import build_narratives
from hybridwatch.workflows.findings import record_narrative_sync
from hybridwatch.workflows.narratives import narrative_sync

_GROUPS_OPTION = click.option(
    "--outlet-groups", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file mapping outlets to actor groups (extends the shipped one).")


@cli.group()
def narratives() -> None:
    """Narratives: cluster articles across outlets, list them, measure their synchronisation."""


@narratives.command()
@click.option("--model", type=click.Choice(["concepts", "tfidf"]), default=None,
              help="Text representation: concepts (the default for a first build: a "
                   "multilingual lexicon, stories meet across ru/zh/en) or tfidf (the "
                   "fallback, within a language); later builds keep the stored one.")
@click.option("--rebuild", is_flag=True, help="Forget the stored narratives and start over.")
@click.option("--seed", type=int, default=0, show_default=True)
@db_option
@json_option
def build(model: str, rebuild: bool, seed: int, db: Path, as_json: bool) -> None:
    """Assign articles without a narrative: to existing narratives when similar enough, to new
    ones otherwise (narrative ids never change)."""
    with EventStore(db) as store:
        report = build_narratives(store, model=model, random_state=seed, rebuild=rebuild)
    if as_json:
        emit_json(report.to_dict())
        return
    say(f"{report.articles_considered:,} articles: {report.assigned_existing:,} to existing "
        f"narratives, {report.assigned_new:,} to {len(report.new_narratives)} new ones, "
        f"{report.unassigned:,} unassigned; {report.narratives_total} narratives in all "
        f"({report.seconds:.1f}s)", err=False)


@narratives.command(name="list")
@click.option("--limit", type=click.IntRange(min=1), default=None)
@_GROUPS_OPTION
@db_option
@json_option
def list_(limit: int | None, outlet_groups: Path | None, db: Path, as_json: bool) -> None:
    """Narratives, largest first, with their terms, size per actor group and examples."""
    with EventStore(db, read_only=True) as store:
        found = list_narratives(store, outlet_groups=load_outlet_groups(outlet_groups),
                                limit=limit)
    if as_json:
        emit_json({"narratives": found, "count": len(found)})
        return
    for narrative in found:
        actors = ", ".join(f"{k} {v}" for k, v in narrative["by_actor"].items())
        click.echo(f"{narrative['id']}  {narrative['size']:>6}  {narrative['label']}  ({actors})")


@narratives.command()
@click.argument("narrative_id")
@click.option("--limit", type=click.IntRange(min=1), default=None)
@_GROUPS_OPTION
@db_option
@json_option
def articles(narrative_id: str, limit: int | None, outlet_groups: Path | None, db: Path,
             as_json: bool) -> None:
    """The articles of narrative NARRATIVE_ID, most typical (closest to its centre) first."""
    with EventStore(db, read_only=True) as store:
        found = narrative_articles(store, narrative_id, limit=limit,
                                   outlet_groups=load_outlet_groups(outlet_groups))
    if as_json:
        emit_json({"narrative": narrative_id, "articles": found, "count": len(found)})
        return
    for a in found:
        click.echo(f"{a['similarity']:.3f}  {a['published_at'][:10]}  {a['outlet']} "
                   f"({a['actor_group'] or 'other'}, {a['language'] or '?'})  {a['title'] or ''}")


@narratives.command()
@click.option("--a", "group_a", default="ru_state", show_default=True)
@click.option("--b", "group_b", default="cn_state", show_default=True)
@click.option("--control", default="control", show_default=True,
              help="Group whose coverage counts as ordinary news ('' for none).")
@click.option("--fdr", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True)
@click.option("--surrogates", type=click.IntRange(min=19), default=1000, show_default=True)
@click.option("--period", type=click.Choice(["W", "M"]), default="M", show_default=True,
              help="Convergence per week or month.")
@click.option("--seed", type=int, default=None,
              help="Surrogate seed (default: derived from the articles and the parameters).")
@click.option("--since", help="First day (UTC; default: the first day both groups cover).")
@click.option("--until", help="Last day (UTC, inclusive; default: the last day both cover).")
@_GROUPS_OPTION
@db_option
@json_option
def sync(group_a, group_b, control, fdr, surrogates, period, seed, since, until, outlet_groups,
         db, as_json) -> None:
    """Which shared narratives A and B push in step, who leads, and beyond the control?

    By default only the days both groups' outlets cover densely are analysed (see
    `hybridwatch coverage`); --since/--until override that."""
    with EventStore(db) as store:
        report = narrative_sync(store, a=group_a, b=group_b, control=control or None, fdr=fdr,
                                n_surrogates=surrogates, period=period,
                                outlet_groups_path=outlet_groups, random_state=seed,
                                since=day_option("--since", since),
                                until=day_option("--until", until))
        report["run_id"] = record_narrative_sync(store, report)
    if as_json:
        emit_json(report)
        return
    for row in report["narratives"]:
        mark = "*" if row["significant"] else " "
        lead = (f"{row['lead_actor']} leads by {row['lag_days']} day(s)" if row["lead_actor"]
                else "no leader")
        beyond = ", beyond the control" if row.get("beyond_control") else ""
        q = row["q_value"]   # null (NaN in the analysis) when the pair could not be tested
        q_text = f"q={q:.3g}" if q is not None else "not tested"
        click.echo(f" {mark} {row['narrative']}: {lead}, {q_text}{beyond}")
    say(f"{len(report['narratives'])} shared narratives tested, "
        f"{len(report['too_little_data'])} with too little data, "
        f"{report['window']['start']} … {report['window']['end']}")
    for warning in report.get("warnings") or []:
        say(f"warning: {warning}", fg="yellow")


@narratives.command()
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Tag at most this many disinformation cases (oldest first).")
@click.option("--stix", "stix_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write the tags as a STIX 2.1 bundle (attack-patterns, "
                                 "campaigns, OpenCTI narratives, `uses` relationships).")
@click.option("--producer", default="hybridwatch", show_default=True,
              help="Identity named as the STIX objects' creator.")
@db_option
@json_option
def techniques(limit: int | None, stix_path: Path | None, producer: str, db: Path,
               as_json: bool) -> None:
    """DISARM Red Framework techniques of the disinformation cases and the narratives, each with
    its confidence and the text that triggered it."""
    import uuid
    from datetime import UTC, datetime

    from hybridwatch.outputs.stix_disarm import disarm_objects

    with EventStore(db, read_only=True) as store:
        report = disarm_tags(store, limit=limit)
    if stix_path is not None:
        objects = disarm_objects(report["cases"], report["narratives"], producer=producer,
                                 generated_at=datetime.now(UTC))
        bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
        stix_path.write_text(json.dumps(bundle, ensure_ascii=False, indent=1), encoding="utf-8")
        report["stix"] = {"path": str(stix_path), "objects": len(objects)}
    if as_json:
        emit_json(report)
        return
    for kind, key in (("case", "title"), ("narrative", "label")):
        for item in report[kind + "s"]:
            if item["techniques"]:
                tags = ", ".join(f"{t['technique']} {t['name']} ({t['confidence']:.2f})"
                                 for t in item["techniques"])
                click.echo(f"{kind} {item.get('event_id', item.get('narrative_id'))[:12]}  "
                           f"{item[key]}: {tags}")
