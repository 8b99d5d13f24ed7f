"""Supply-chain commands: ``supply`` (concentration, dependence, diversion) and ``screen``."""

from __future__ import annotations

from pathlib import Path

import click

from hybridwatch.commands.base import cli, db_option, emit_json, json_option, say
from hybridwatch.errors import SelectorError
from hybridwatch.store import EventStore
from hybridwatch.workflows.supply import DEFAULT_ACTORS, SupplyQuery, record_supply, run_supply


def _date(option: str, text: str | None):
    if not text:
        return None
    from datetime import date

    try:
        return date.fromisoformat(text if len(text) > 7 else f"{text}-01")
    except ValueError:
        raise SelectorError(f"{option}: not a date ({text!r}); use YYYY-MM or YYYY-MM-DD") \
            from None


@cli.command()
@click.option("--product", required=True,
              help="HS codes (8542, 854231; comma-separated) or product lists "
                   "(semiconductors, chpl, chpl:tier1).")
@click.option("--destination", help="Importer to examine (ISO3), e.g. RUS; needed for diversion.")
@click.option("--origin", default="EU27", show_default=True,
              help="Origin countries of the diverted flows: ISO3 codes and/or EU27.")
@click.option("--since", help="First period (YYYY-MM or YYYY-MM-DD, inclusive).")
@click.option("--until", help="End (YYYY-MM or YYYY-MM-DD, exclusive).")
@click.option("--actors", default=DEFAULT_ACTORS, show_default=True,
              help="Actors whose share of imports `dependence` reports.")
@click.option("--freq", type=click.Choice(["year", "month"]), default="year", show_default=True,
              help="Period of concentration and dependence (diversion is always monthly).")
@click.option("--break", "break_month", metavar="YYYY-MM",
              help="Break month of origin→destination (default: the largest drop in the data).")
@click.option("--pre", "pre_months", type=click.IntRange(min=12), default=24, show_default=True,
              help="Months each leg's trend and season are fitted on.")
@click.option("--post", "post_months", type=click.IntRange(min=3), default=12,
              show_default=True, help="Months after the break (and each placebo) tested.")
@click.option("--fdr", type=click.FloatRange(0, 1, min_open=True), default=0.05,
              show_default=True, help="False discovery rate over candidate transit countries.")
@click.option("--source", type=click.Choice(["comtrade", "baci"]),
              help="Trade source to use (default: the one with most matching rows).")
@click.option("--products", "products_file", type=click.Path(dir_okay=False),
              help="TOML product lists overriding the shipped ones (env HYBRIDWATCH_PRODUCTS).")
@click.option("--quiet", "-q", is_flag=True)
@db_option
@json_option
def supply(product, destination, origin, since, until, actors, freq, break_month, pre_months,
           post_months, fdr, source, products_file, quiet, db: Path, as_json: bool) -> None:
    """Supplier concentration, dependence on actors, and diversion through third countries.

    Diversion: a break in origin→destination flows that coincides with rises in origin→via and
    via→destination beyond each leg's own trend and season and beyond other partners; p-values
    from placebo break months × comparable partners, Benjamini–Hochberg over candidates.
    """
    if break_month:
        _date("--break", break_month)
    query = SupplyQuery(product=product, destination=destination, origin=origin,
                        since=_date("--since", since), until=_date("--until", until),
                        actors=actors, freq=freq, break_month=break_month,
                        pre_months=pre_months, post_months=post_months, fdr=fdr, source=source,
                        products_file=products_file)
    with EventStore(db) as store:
        report = run_supply(store, query)
        report["run_id"] = record_supply(store, report)
    if as_json:
        emit_json(report)
        return
    _print_supply(report, quiet)


def _print_supply(report: dict, quiet: bool) -> None:
    products = report["products"]
    click.echo(f"products: {products['selection']} ({len(products['prefixes'])} HS prefixes; "
               f"{report['data']['source'] or 'no data'}, HS{report['data']['product_level']})")
    click.echo("concentration (HHI 0–1, top supplier and share), latest period per importer:")
    latest: dict[str, dict] = {}
    for row in report["concentration"]:
        latest[row["importer"]] = row
    for row in sorted(latest.values(), key=lambda r: -r["hhi"])[:15]:
        click.echo(f"  {row['importer']} {row['period'][:7]}  HHI {row['hhi']:.3f}  "
                   f"{row['top_supplier']} {row['top_share']:.0%}")
    if report["diversion"]:
        test = report["diversion_test"]
        click.echo(f"diversion {','.join(report['origin'][:4])}{'…' if len(report['origin']) > 4 else ''}"
                   f" → via → {report['destination']} from {test['break_month']} "
                   f"({'estimated' if test['break_estimated'] else 'given'} break; "
                   f"{test['n_placebo_dates']} placebo months, null of {test['n_null']}):")
        for row in report["diversion"][:10]:
            mark = "*" if row["significant"] else " "
            click.echo(f" {mark}{row['via']}  excess ${row['excess_value_usd']:,.0f}  "
                       f"p={row['p_value']:.4f} q={row['q_value']:.3f}")
    for warning in report["warnings"]:
        say(f"warning: {warning}", fg="yellow", quiet=quiet)
    for warning in report["warnings"]:
        say(f"warning: {warning}", quiet=quiet)
    say(report["caution"], quiet=quiet)


@cli.command()
@click.option("--list", "lists", multiple=True, required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Screening list: OpenSanctions targets.simple.csv or the US Consolidated "
                   "Screening List CSV (repeatable).")
@click.option("--names", "names_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Screen the names of this file (CSV with --column, or one name a line) "
                   "instead of the events' actor names.")
@click.option("--column", help="Column of --names holding the names (e.g. importer).")
@click.option("--min-score", type=click.FloatRange(0, 1), default=0.85, show_default=True,
              help="Lowest similarity (0–1) reported.")
@click.option("--quiet", "-q", is_flag=True)
@db_option
@json_option
def screen(lists, names_file, column, min_score, quiet, db: Path, as_json: bool) -> None:
    """Match names in the data against screening lists (fuzzy, with transliteration).

    Matches are leads for an analyst to check, not findings about anyone.
    """
    from hybridwatch.workflows.screening import record_screening, run_screening

    with EventStore(db) as store:
        report = record_screening(store, run_screening(
            store, list(lists), names_file=names_file, column=column,
            min_score=min_score)).to_dict()
    if as_json:
        emit_json(report)
        return
    click.echo(f"{len(report['matches'])} possible match(es) among "
               f"{report['names_screened']:,} names (score ≥ {min_score}):")
    for match in report["matches"]:
        click.echo(f"  {match['score']:.2f}  {match['name']}  ~  {match['listed_name']}  "
                   f"[{match['list']}; {match['programme'] or 'no programme'}; "
                   f"{match['listed_on'] or 'no date'}]")
    for warning in report["warnings"]:
        say(f"warning: {warning}", quiet=quiet)
    say(report["caution"], quiet=quiet)
