"""``hybridwatch demo``: generate the seeded demo scenario, ingest it, and summarise it."""

from __future__ import annotations

from pathlib import Path

import click

from hybridwatch.commands.base import cli, emit_json, json_option, say
from hybridwatch.commands.progress import record_progress


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("hybridwatch-demo"), show_default=True,
              help="Folder for the generated scenario files.")
@click.option("--db", "db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Store file [default: OUT/hybridwatch.duckdb].")
@click.option("--seed", type=int, default=7, show_default=True, help="Scenario random seed.")
@click.option("--days", type=click.IntRange(min=60), default=1095, show_default=True,
              help="Length of the scenario: a baseline year, then two years in which the risk "
                   "model's backtest meets enough planted episodes to show its skill.")
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
    from hybridwatch.demo.pipeline import ASSESSMENT_TARGETS, DEMO_TLP, run_demo

    db = db or out_dir / "hybridwatch.duckdb"
    summary = run_demo(out_dir, db, seed=seed, days=days,
                       say=lambda message: say(message, quiet=quiet),
                       file_progress=lambda label: record_progress(label, quiet=quiet))
    stats, assessment, briefing = summary["stats"], summary["assessment"], summary["briefing"]
    narratives = summary["narratives"]
    if as_json:
        emit_json(summary)
        return
    click.echo(f"\nstore {db}: {stats['events']:,} events, {stats['articles']:,} articles, "
               f"{stats['first_event'][:10]} … {stats['last_event'][:10]}")
    click.echo("  by domain: " + ", ".join(f"{k} {v:,}" for k, v in stats["by_domain"].items()))
    click.echo("  by target: " + ", ".join(f"{k} {v:,}" for k, v in
                                           list(stats["by_target"].items())[:8]))
    click.echo("\nplanted coordinated episodes (ground truth):")
    for episode in summary["planted_episodes"]:
        click.echo(f"  {episode['start']} … {episode['end']}  {episode['id']:<24} "
                   f"targets {','.join(episode['targets'])}  domains "
                   f"{','.join(episode['domains'])}  {episode['events_in_store']} events in store")
    if summary.get("planted_campaigns"):
        click.echo("hidden campaigns (lifted hostile activity, more coordinated episodes): "
                   + "; ".join(f"{t} {c['campaign_days']} campaign days, {c['planted']} "
                               f"episodes planted, {c['detected']} detected"
                               for t, c in summary["planted_campaigns"].items()))
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
    click.echo(f"\nbriefing (TLP:{DEMO_TLP.upper()}, {briefing['n_pages']} pages): "
               f"{briefing['pdf_path']}\n                                  "
               f"{briefing['html_path']}")
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
