"""Commands of the quantified assessment: ``convergence``, ``assess`` and ``backtest``."""

from __future__ import annotations

from pathlib import Path

import click

from hybridwatch.commands.base import cli, db_option, emit_json, json_option, say
from hybridwatch.errors import SelectorError
from hybridwatch.store import EventStore
from hybridwatch.workflows.assessment import run_assessment
from hybridwatch.workflows.convergence import measure_convergence, record_convergence
from hybridwatch.workflows.coordination import parse_days


def _num(value, fmt: str = "+.2f", none: str = "n/a") -> str:
    return none if value is None else format(value, fmt)


@cli.command()
@click.option("--a", "actor_a", default="RUS", show_default=True, help="First actor (ISO3).")
@click.option("--b", "actor_b", default="CHN", show_default=True, help="Second actor (ISO3).")
@click.option("--freq", type=click.Choice(["month"]), default="month", show_default=True)
@click.option("--baseline", "baseline_months", type=click.IntRange(min=6), default=24,
              show_default=True, help="Months of rolling baseline each component is scored on.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@db_option
@json_option
def convergence(actor_a, actor_b, freq, baseline_months, seed, db: Path, as_json: bool) -> None:
    """The actor-convergence index per month, with its band and its components.

    Components (each scored −1…+1 against its own rolling baseline): cooperative interaction
    (GDELT), narrative alignment (stored narrative sync), operational co-occurrence (stored
    episodes with both actors), technology transfer (trade flows of listed products). Missing
    components are null and lower the month's confidence.
    """
    with EventStore(db) as store:
        result, tlps = measure_convergence(store, a=actor_a, b=actor_b,
                                           baseline_months=baseline_months, random_state=seed)
        report = record_convergence(store, result, tlps, a=actor_a.strip().upper(),
                                    b=actor_b.strip().upper())
    if as_json:
        emit_json(report)
        return
    click.echo(f"convergence {report['a']}–{report['b']} per month (−1 … +1; weights "
               + ", ".join(f"{k} {v}" for k, v in report["weights"].items()) + ")")
    for period in report["periods"]:
        if period["index"] is None:
            click.echo(f"  {period['period']}  no data")
            continue
        parts = " ".join(f"{name[:4]} {_num(v, none='no data')}"
                         for name, v in period["components"].items())
        click.echo(f"  {period['period']}  {_num(period['index'])} "
                   f"[{_num(period['low'])}, {_num(period['high'])}]  {parts}  "
                   f"({period['confidence']})")
    for warning in report["warnings"]:
        say(f"warning: {warning}", fg="yellow")


def _targets(text: str | None) -> list[str] | None:
    """``--targets`` as ISO3 codes; country names resolve ("Germany" → DEU), an unknown name
    is a usage error (exit 2), never an empty assessment."""
    from hybridwatch.model.countries import parse_country

    if not text:
        return None
    try:
        return list(dict.fromkeys(parse_country(t) for t in text.split(",") if t.strip()))
    except ValueError as exc:
        raise SelectorError(f"--targets: {exc}") from None


_ASSESS_OPTIONS = [
    click.option("--targets", help="Comma-separated ISO3 targets or country names (default: every modelled "
                                      "one)."),
    click.option("--horizon", default="30d", show_default=True, help="Forecast horizon H."),
    click.option("--step", default="7d", show_default=True,
                 help="Days between backtest forecast origins."),
    click.option("--seed", type=int, default=0, show_default=True),
    click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
                 help="Forecast origin: only data dated on or before this day are used, as if "
                      "the assessment ran then. Default: the last day the sources cover densely "
                      "(records dated far beyond it are named in a warning, not used)."),
    click.option("--evidence-tlp", type=click.Choice(["clear", "green", "amber", "amber+strict",
                                                      "red"]), default="amber", show_default=True,
                 help="Cite evidence up to this TLP level; a judgement is as restricted as what "
                      "it cites. More restricted records still count in the numbers."),
    click.option("--include-cooperative", is_flag=True,
                 help="Count cooperative events too (by default only hostile events count; "
                      "the outcome is then not called hostile)."),
]


def _assess_options(func):
    for option in reversed(_ASSESS_OPTIONS):
        func = option(func)
    return func


@cli.command()
@_assess_options
@db_option
@json_option
def assess(targets, horizon, step, seed, as_of, evidence_tlp, include_cooperative, db: Path,
           as_json: bool) -> None:
    """Risk per target in the next H days, worded on the PHIA yardstick, with confidence,
    drivers, evidence and the backtest skill beside it."""
    with EventStore(db) as store:
        report = run_assessment(store, targets=_targets(targets),
                                horizon_days=parse_days(horizon, "--horizon"),
                                step_days=parse_days(step, "--step"), random_state=seed,
                                evidence_tlp=evidence_tlp, as_of=as_of,
                                include_cooperative=include_cooperative)
    if as_json:
        emit_json(report)
        return
    click.echo(f"assessment as of {report['as_of']} ({report['as_of_choice']['reason']}), "
               f"horizon {report['horizon_days']} days")
    for item in report["targets"]:
        click.echo(f"\n{item['target']}: {item['statement']}")
        drivers = ", ".join(f"{d['name']} {d['contribution']:+.2f}" for d in item["drivers"][:3])
        if drivers:
            click.echo(f"  drivers (logit contributions): {drivers}")
        click.echo(f"  evidence: {len(item['evidence'])} item(s) "
                   f"({', '.join(sorted({e['kind'] for e in item['evidence']}))})")
    click.echo(f"\nbacktest: {report['backtest']['verdict']}")
    click.echo(f"\ncaution: {report['caution']}")
    for warning in report["warnings"]:
        say(f"warning: {warning}", fg="yellow")


@cli.command()
@_assess_options
@db_option
@json_option
def backtest(targets, horizon, step, seed, as_of, evidence_tlp, include_cooperative, db: Path,
             as_json: bool) -> None:
    """Rolling-origin backtest of the risk model: Brier score, log loss, reliability, and skill
    against climatology and persistence, per outcome."""
    with EventStore(db) as store:
        report = run_assessment(store, targets=_targets(targets),
                                horizon_days=parse_days(horizon, "--horizon"),
                                step_days=parse_days(step, "--step"), random_state=seed,
                                evidence_tlp=evidence_tlp, as_of=as_of,
                                include_cooperative=include_cooperative)
    outcomes = report["backtest"]["by_outcome"]
    if as_json:
        emit_json({"as_of": report["as_of"], "as_of_choice": report["as_of_choice"],
                   "horizon_days": report["horizon_days"], "warnings": report["warnings"],
                   **{k: v for k, v in report["backtest"].items() if k != "by_outcome"},
                   "by_outcome": outcomes, "run_id": report["run_id"]})
        return
    click.echo(f"backtest as of {report['as_of']} ({report['as_of_choice']['reason']})")
    for name, scores in outcomes.items():
        click.echo(f"{name}: {scores['n_forecasts']:,} forecasts, Brier {_num(scores['brier'], '.4f')}"
                   f" (climatology {_num(scores['brier_climatology'], '.4f')}, persistence "
                   f"{_num(scores['brier_persistence'], '.4f')}), skill {_num(scores['skill'])} "
                   f"[{_num(scores['skill_low'])}, {_num(scores['skill_high'])}], log loss "
                   f"{_num(scores['log_loss'], '.4f')}")
        for row in scores["reliability"]:
            if row["n"]:
                click.echo(f"    {row['bin_low']:.1f}–{row['bin_high']:.1f}: {row['n']:>6,} "
                           f"forecasts, mean {row['mean_forecast']:.3f}, observed "
                           f"{row['observed_rate']:.3f}")
        click.echo(f"  {scores['verdict']}")
    for warning in report["warnings"]:
        say(f"warning: {warning}", fg="yellow")
