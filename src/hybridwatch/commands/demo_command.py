"""``hybridwatch demo``: generate the seeded demo scenario, ingest it, and summarise it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from hybridwatch.adapters import ReadOptions
from hybridwatch.commands.base import cli, emit_json, json_option, say
from hybridwatch.commands.progress import record_progress
from hybridwatch.model.outlet_groups import load_outlet_groups
from hybridwatch.outputs.briefing import write_briefing
from hybridwatch.store import EventStore, ingest_file
from hybridwatch.store.narratives_store import list_narratives
from hybridwatch.workflows.narrative_build import build_narratives
from hybridwatch.workflows.coordination import coincide_grid, detect_episodes
from hybridwatch.workflows.assessment import run_assessment
from hybridwatch.workflows.convergence import measure_convergence, record_convergence
from hybridwatch.workflows.supply import SupplyQuery, record_supply, run_supply
from hybridwatch.workflows.findings import (
    record_coincidences, record_episodes, record_narrative_sync,
)
from hybridwatch.workflows.narratives import narrative_sync

#: The assessment's scenario spans these targets: a German port, the Taiwan Strait, Poland.
ASSESSMENT_TARGETS = ["DEU", "POL", "TWN"]
#: Series an analyst of the scenario would pair up: cyber and military pressure against each
#: target, and the disinformation aimed at it (plus an unrelated target as a control).
DEMO_GRID = ("domain=cyber actor=RUS target=DEU ; source=euvsdisinfo target=DEU ; "
             "domain=military actor=RUS target=POL ; source=euvsdisinfo target=POL ; "
             "domain=military actor=CHN target=TWN ; domain=cyber actor=CHN target=TWN ; "
             "domain=cyber actor=CHN target=DEU ; source=euvsdisinfo target=LTU")


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("hybridwatch-demo"), show_default=True,
              help="Folder for the generated scenario files.")
@click.option("--db", "db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Store file [default: OUT/hybridwatch.duckdb].")
@click.option("--seed", type=int, default=7, show_default=True, help="Scenario random seed.")
@click.option("--days", type=click.IntRange(min=60), default=730, show_default=True,
              help="Length of the scenario; two years give the coincidence tests enough data.")
@click.option("--quiet", "-q", is_flag=True)
@json_option
def demo(out_dir: Path, db: Path | None, seed: int, days: int, quiet: bool,
         as_json: bool) -> None:
    """Generate a realistic multi-domain scenario in the real formats and ingest it.

    The scenario (GDELT 2.0, STIX 2.1, EUvsDisinfo, articles, a mapped PLA-sortie table) has
    bursty, weekly and seasonal background activity and planted coordinated episodes — one of
    them the assessment's own: a cyber attack on a German port, a Chinese naval exercise in the
    Taiwan Strait and a Russian disinformation campaign in Poland. Its ground truth is written
    beside the files.
    """
    from hybridwatch.demo.scenario import generate_scenario

    started = time.perf_counter()
    db = db or out_dir / "hybridwatch.duckdb"
    say(f"generating the demo scenario (seed {seed}, {days} days) in {out_dir}/", quiet=quiet)
    files = generate_scenario(out_dir, random_state=seed, days=days)
    reports = []
    with EventStore(db) as store:
        for path, format_name, mapping in files.inputs():
            with record_progress(path.name, quiet=quiet) as progress:
                report = ingest_file(store, path, format=format_name,
                                     options=ReadOptions(mapping_path=mapping), progress=progress)
            reports.append(report)
            say(f"  {path.relative_to(out_dir)}: {report.format}: {report.ingested:,} new, "
                f"{report.duplicates:,} duplicates, {report.quarantined:,} quarantined"
                + (" (already ingested)" if report.status == "unchanged" else ""), quiet=quiet)
        stats = store.stats()
        truth = json.loads(files.ground_truth.read_text(encoding="utf-8"))
        planted = [_planted_episode(store, episode) for episode in truth["episodes"]]
        say("detecting multi-domain episodes and coinciding series …", quiet=quiet)
        episodes = detect_episodes(store, target_groups=[ASSESSMENT_TARGETS],
                                   random_state=seed).to_dict()
        pairs = coincide_grid(store, DEMO_GRID, random_state=seed).to_dict()
        say("clustering articles into narratives and measuring their synchronisation …",
            quiet=quiet)
        build_narratives(store, random_state=seed)
        narratives = {n["id"]: n for n in list_narratives(store,
                                                          outlet_groups=load_outlet_groups())}
        sync = narrative_sync(store, random_state=seed)
        record_episodes(store, episodes)
        record_coincidences(store, pairs)
        record_narrative_sync(store, sync)
        say("measuring RUS–CHN convergence and assessing risk per target …", quiet=quiet)
        index, tlps = measure_convergence(store, random_state=seed)
        convergence = record_convergence(store, index, tlps, a="RUS", b="CHN")
        assessment = run_assessment(store, targets=ASSESSMENT_TARGETS, random_state=seed)
        say("screening trade for diversion of integrated circuits to Russia …", quiet=quiet)
        supply = run_supply(store, SupplyQuery(product="8542", destination="RUS"))
        record_supply(store, supply)
        say("writing the demo briefing (TLP:AMBER) …", quiet=quiet)
        briefing = write_briefing(store, out_dir / "briefing", tlp="amber")
    summary = {
        "out": str(out_dir), "db": str(db), "seed": seed, "ground_truth": str(files.ground_truth),
        "files": [r.to_dict() for r in reports], "stats": stats, "planted_episodes": planted,
        "episodes": episodes["episodes"],
        "significant_pairs": [p for p in pairs["pairs"] if p["significant"]],
        "coincidence": {k: v for k, v in pairs.items() if k != "pairs"},
        "narratives": list(narratives.values()),
        "synchronised_narratives": [{**row, "label": narratives[row["narrative"]]["label"]}
                                    for row in sync["narratives"] if row["significant"]],
        "planted_narratives": [{k: n[k] for k in ("id", "leader", "follower", "lag_days")}
                               for n in truth["narratives"]],
        "convergence": convergence["periods"][-6:],
        "assessment": assessment,
        "supply": {k: supply[k] for k in ("diversion", "diversion_test", "warnings")},
        "planted_diversion": truth.get("trade_diversion"),
        "briefing": briefing.to_dict(),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if as_json:
        emit_json(summary)
        return
    click.echo(f"\nstore {db}: {stats['events']:,} events, {stats['articles']:,} articles, "
               f"{stats['first_event'][:10]} … {stats['last_event'][:10]}")
    click.echo("  by domain: " + ", ".join(f"{k} {v:,}" for k, v in stats["by_domain"].items()))
    click.echo("  by target: " + ", ".join(f"{k} {v:,}" for k, v in
                                           list(stats["by_target"].items())[:8]))
    click.echo("\nplanted coordinated episodes (ground truth):")
    for episode in planted:
        click.echo(f"  {episode['start']} … {episode['end']}  {episode['id']:<24} "
                   f"targets {','.join(episode['targets'])}  domains "
                   f"{','.join(episode['domains'])}  {episode['events_in_store']} events in store")
    click.echo(f"\ndetected multi-domain episodes (alpha 0.05, family-wise over the scan; "
               f"target group {','.join(ASSESSMENT_TARGETS)}):")
    for episode in summary["episodes"]:
        click.echo(f"  {episode['start']} … {episode['end']}  targets "
                   f"{','.join(episode['targets'])}  domains {','.join(episode['domains'])}  "
                   f"p={episode['p_value']:.3g}  {episode['n_events']} events")
    coincidence = summary["coincidence"]
    click.echo(f"\nsignificant coinciding series (B → A), {coincidence['n_pairs']} ordered pairs "
               f"tested, null {coincidence['null']} ({coincidence['n_surrogates']} surrogates), "
               f"FDR {coincidence['fdr']}:")
    for pair in summary["significant_pairs"]:
        click.echo(f"  {pair['b']}  →  {pair['a']}: lag {pair['best_lag_days']}d, "
                   f"q={pair['q_value']:.3g}")
    if not summary["significant_pairs"]:
        click.echo("  none")
    click.echo(f"\n{len(narratives)} narratives across outlets; synchronised between ru_state "
               f"and cn_state (FDR 0.05, beyond the control group where marked):")
    for row in summary["synchronised_narratives"]:
        lead = (f"{row['lead_actor']} leads by {row['lag_days']} day(s)" if row["lead_actor"]
                else "no clear leader")
        beyond = ", beyond the control" if row["beyond_control"] else ""
        click.echo(f"  {row['narrative']} [{row['label']}]: {lead}, q={row['q_value']:.3g}{beyond}")
    click.echo("  planted: " + "; ".join(f"{n['id']} ({n['leader']} leads by {n['lag_days']}d)"
                                         for n in summary["planted_narratives"]))
    click.echo("\nRUS–CHN convergence index, last six months (−1 … +1 against a rolling "
               "baseline; band 5–95%):")
    for period in summary["convergence"]:
        index = "n/a" if period["index"] is None else f"{period['index']:+.2f} " \
            f"[{period['low']:+.2f}, {period['high']:+.2f}]"
        click.echo(f"  {period['period']}  {index}  components with data: "
                   f"{', '.join(period['coverage']) or 'none'} ({period['confidence']} confidence)")
    click.echo(f"\nassessment as of {assessment['as_of']} (horizon "
               f"{assessment['horizon_days']} days):")
    for item in assessment["targets"]:
        click.echo(f"  {item['statement']}")
    click.echo(f"  backtest: {assessment['backtest']['verdict']}")
    click.echo(f"  caution: {assessment['caution']}")
    _echo_supply(summary["supply"], summary["planted_diversion"])
    click.echo(f"\nbriefing (TLP:AMBER, {briefing.n_pages} pages): {briefing.pdf_path}\n"
               f"                                  {briefing.html_path}")
    click.echo(f"\nnext: hybridwatch episodes --db {db} --target-group DEU,POL,TWN --json")


def _echo_supply(supply: dict, planted: dict | None) -> None:
    test = supply["diversion_test"] or {}
    click.echo(f"\ndiversion of HS 8542 from the EU27 to Russia through third countries (break "
               f"{test.get('break_month')}, {'estimated' if test.get('break_estimated') else 'given'}"
               f"; null: placebo months × partners, FDR 0.05):")
    significant = [row for row in supply["diversion"] if row["significant"]]
    for row in significant:
        click.echo(f"  {row['via']}: excess ${row['excess_value_usd']:,.0f} over 12 months, "
                   f"q={row['q_value']:.3g}")
    if not significant:
        click.echo("  none")
    if planted:
        click.echo(f"  planted: transit {', '.join(planted['transit'])} from {planted['break']}; "
                   "decoys " + ", ".join(f"{k} ({v})" for k, v in planted["decoys"].items()))
    click.echo("  (leads for an analyst, not proof of evasion)")


def _planted_episode(store: EventStore, episode: dict) -> dict:
    """A planted episode of the ground truth, with how many of its events the store holds."""
    ids = [record for records in episode["records"].values() for record in records]
    held = store.con.execute(
        "SELECT count(*) FROM events WHERE source_record_id IN (SELECT unnest(?))", [ids]
    ).fetchall()[0][0]
    return {"id": episode["id"], "start": episode["start"], "end": episode["end"],
            "domains": episode["domains"], "targets": episode["targets_iso3"],
            "planted_records": len(ids), "events_in_store": held}
