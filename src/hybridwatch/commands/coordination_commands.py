"""Commands that detect coordination: ``coincide`` (one pair or a grid), ``episodes``, and
``theatres`` (the table of named theatres the episode scan counts events for)."""

from __future__ import annotations

from pathlib import Path

import click

from hybridwatch.commands.base import cli, day_option, db_option, emit_json, json_option, say
from hybridwatch.store import EventStore
from hybridwatch.workflows.findings import record_coincidences, record_episodes
from hybridwatch.workflows.coordination import (
    coincide as coincide_pair, coincide_grid, detect_episodes, parse_days,
)


def _lags(text: str) -> tuple[int, ...]:
    try:
        lags = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise click.BadParameter(f"{text!r}: give lags in days, e.g. 0,1,2,3") from None
    if not lags or min(lags) < 0:
        raise click.BadParameter("lags are whole days ≥ 0")
    return lags


@cli.command()
@click.option("--a", "sel_a", metavar="SEL", help="The response series, e.g. "
              "'domain=information target=POL'.")
@click.option("--b", "sel_b", metavar="SEL", help="The candidate trigger (earlier) series, e.g. "
              "'domain=cyber actor=RUS target=DEU'.")
@click.option("--grid", metavar="GRID", help="A selector grid, e.g. "
              "'domain=cyber,military,information target=DEU,POL,TWN'.")
@click.option("--all-pairs", is_flag=True, help="Test every ordered pair of the grid's series.")
@click.option("--window", default="3d", show_default=True, help="Coincidence window ΔT.")
@click.option("--lags", default="0,1,2,3", show_default=True, help="Lags τ in days.")
@click.option("--null", type=click.Choice(["shift", "block", "strata", "shuffle", "poisson"]),
              default="block", show_default=True,
              help="Null model. block (default): 28-day blocks moved by whole weeks; shift: the "
                   "whole series moved by whole weeks (keeps more structure, but only ~T/7 "
                   "surrogates exist); strata: shuffles within month×weekday; shuffle and "
                   "poisson assume independent days and over-detect on bursty data.")
@click.option("--surrogates", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--fdr", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True, help="False discovery rate for --all-pairs.")
@click.option("--seed", type=int, default=None,
              help="Random seed for the surrogates (default: derived from the series and the "
                   "parameters, so a rerun on the same store prints the same numbers).")
@click.option("--since", help="First day (UTC); default: the first day every series' sources "
                              "cover densely (see `hybridwatch coverage`).")
@click.option("--until", help="Last day (UTC, inclusive); default: the last day every series' "
                              "sources cover densely.")
@db_option
@json_option
def coincide(sel_a, sel_b, grid, all_pairs, window, lags, null, surrogates, fdr, seed, since,
             until, db: Path, as_json: bool) -> None:
    """Event coincidence analysis: does series B precede series A more often than chance?

    Rates follow Donges et al. (2016): the precursor rate is the share of A events with a B
    event in the ΔT days before them (shifted by the lag τ); the trigger rate is the share of B
    events followed by an A event. p-values are one-sided against the chosen null model.
    """
    common = dict(window_days=parse_days(window, "--window"), lags=_lags(lags), null=null,
                  n_surrogates=surrogates, random_state=seed, since=day_option("--since", since),
                  until=day_option("--until", until))
    if grid or all_pairs:
        if not (grid and all_pairs):
            raise click.UsageError("--grid and --all-pairs go together")
        if sel_a or sel_b:
            raise click.UsageError("give either --a/--b or --grid --all-pairs")
        with EventStore(db) as store:
            report = coincide_grid(store, grid, fdr=fdr, **common).to_dict()
            report["run_id"] = record_coincidences(store, report)  # kept beside earlier runs
        if as_json:
            emit_json(report)
            return
        click.echo(f"{report['n_pairs']} ordered pairs ({report['n_testable']} testable), "
                   f"{report['start']} … {report['end']}, null {report['null']} "
                   f"({report['n_surrogates']} surrogates), {report['n_significant']} "
                   f"significant at FDR {fdr}")
        for pair in report["pairs"][:20]:
            mark = "*" if pair["significant"] else " "
            click.echo(f" {mark} {pair['b']}  →  {pair['a']}: lag {pair['best_lag_days']}d, "
                       f"p={_num(pair['p_value'])} q={_num(pair['q_value'])}")
        say(f"days analysed: {report['window']['reason']}")
        for warning in report["warnings"]:
            say(f"warning: {warning}", fg="yellow")
        return
    if not (sel_a and sel_b):
        raise click.UsageError("give --a and --b (or --grid with --all-pairs)")
    with EventStore(db, read_only=True) as store:
        report = coincide_pair(store, sel_a, sel_b, **common).to_dict()
    if as_json:
        emit_json(report)
        return
    click.echo(f"B: {report['b']}\nA: {report['a']}\n{report['start']} … {report['end']}, "
               f"n_a={report['n_a']} n_b={report['n_b']}, window {report['window_days']}d, "
               f"null {report['null']} ({report['n_surrogates']} surrogates)")
    say(f"days analysed: {report['window']['reason']}")
    for lag in report["lags"]:
        click.echo(f"  lag {lag['lag_days']}d: precursor {_num(lag['precursor_rate'])} "
                   f"(p={_num(lag['p_precursor'])})  trigger {_num(lag['trigger_rate'])} "
                   f"(p={_num(lag['p_trigger'])})")
    if report["best_lag_days"] is None:
        click.echo("no testable lag (see the warnings)")
    else:
        click.echo(f"best lag {report['best_lag_days']}d, p={_num(report['p_value'])} over all "
                   f"lags; {report['n_evidence']} coinciding day pairs (--json lists the events)")
    for warning in report["warnings"]:
        say(f"warning: {warning}", fg="yellow")


@cli.command()
@click.option("--min-domains", type=click.IntRange(min=2), default=3, show_default=True)
@click.option("--max-window", default="7d", show_default=True, help="Longest window scanned.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True)
@click.option("--surrogates", type=click.IntRange(min=19), default=199, show_default=True)
@click.option("--targets", help="Comma-separated wheres to scan: ISO3 codes or theatre names "
              "(default: the busiest ones).")
@click.option("--target-group", "target_groups", multiple=True, metavar="WHERE,WHERE,...",
              help="Wheres (ISO3 or theatre names) whose domains may combine into one "
                   "cross-target episode (repeatable; default: all scanned ones form one group).")
@click.option("--where", metavar="SEL", help="Restrict events first, e.g. 'actor=RUS,CHN'.")
@click.option("--include-cooperative", is_flag=True,
              help="Count cooperative events too (CAMEO 01–09 …); by default only hostile "
                   "events count (docs/hostility.md).")
@click.option("--min-series-events", type=click.IntRange(min=2), default=10, show_default=True,
              help="Series with fewer events (event-days) are not scanned.")
@click.option("--theatres", "theatres_path", type=click.Path(dir_okay=False, path_type=Path),
              envvar="HYBRIDWATCH_THEATRES",
              help="A theatre TOML file overriding the shipped table (env HYBRIDWATCH_THEATRES).")
@click.option("--seed", type=int, default=None,
              help="Surrogate seed (default: derived from the counts and the parameters).")
@click.option("--since", help="First day (UTC); default: the first day the scanned events' "
                              "sources all cover densely.")
@click.option("--until", help="Last day (UTC, inclusive); default: the last day they all cover.")
@db_option
@json_option
def episodes(min_domains, max_window, alpha, surrogates, targets, target_groups, where,
             include_cooperative, min_series_events, theatres_path, seed, since, until, db: Path,
             as_json: bool) -> None:
    """Multi-domain episodes: windows where several domains are jointly elevated beyond their
    own baselines, for one "where" or several at once, with Monte-Carlo p-values.

    An event counts for its target; else its location country; else the named theatre it lies
    in (`hybridwatch theatres`). Only hostile events count unless --include-cooperative."""
    with EventStore(db, theatres=theatres_path) as store:
        report = detect_episodes(
            store, min_domains=min_domains, max_window_days=parse_days(max_window, "--max-window"),
            alpha=alpha, n_surrogates=surrogates, random_state=seed, where=where,
            targets=_where_list(store, targets) if targets else None,
            target_groups=[_where_list(store, g) for g in target_groups] or None,
            since=day_option("--since", since), until=day_option("--until", until),
            include_cooperative=include_cooperative,
            min_series_events=min_series_events).to_dict()
        report["run_id"] = record_episodes(store, report)
    if as_json:
        emit_json(report)
        return
    click.echo(f"{len(report['episodes'])} episode(s) at alpha {alpha}, "
               f"{report['start']} … {report['end']}, counting {report['counted']}")
    say(f"days analysed: {report['window']['reason']}")
    for episode in report["episodes"]:
        wheres = ", ".join(f"{s['domain']}@{s['where']} ({s['where_kind']})"
                           for s in episode["signals"])
        click.echo(f"  {episode['start']} … {episode['end']}  {wheres}  "
                   f"p={_num(episode['p_value'])}  {episode['n_events']} events")
    for warning in report["warnings"]:
        say(f"warning: {warning}", fg="yellow")


def _where_list(store: EventStore, text: str) -> list[str]:
    """ISO3 codes (upper-cased) and theatre names (checked, canonical spelling)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    return [part.upper() if len(part) == 3 and part.isalpha() else
            store.check_theatres([part])[0] for part in parts]


@cli.command()
@click.option("--theatres", "theatres_path", type=click.Path(dir_okay=False, path_type=Path),
              envvar="HYBRIDWATCH_THEATRES",
              help="A theatre TOML file overriding the shipped table (env HYBRIDWATCH_THEATRES).")
@json_option
def theatres(theatres_path, as_json: bool) -> None:
    """The named theatres an event without target or location country is counted for: name,
    countries concerned, place names and polygon. Override with --theatres FILE or
    $HYBRIDWATCH_THEATRES (same TOML format as the shipped model/theatres.toml)."""
    from hybridwatch.model.theatres import load_theatres

    table = load_theatres(theatres_path)
    if as_json:
        emit_json({"theatres": [t.to_dict() for t in table]})
        return
    for theatre in table:
        click.echo(f"{theatre.name}: {', '.join(theatre.countries)} "
                   f"({len(theatre.polygon)} vertices, {len(theatre.aliases)} place names)")


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.3g}"
