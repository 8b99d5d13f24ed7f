"""Supply chains on a store: concentration, dependence and diversion of a product selection,
recorded as the ``supply`` finding run (one item per diversion candidate)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from hybridwatch.analyses.concentration import concentration, concentration_trend, dependence
from hybridwatch.analyses.diversion import find_diversion
from hybridwatch.errors import SelectorError
from hybridwatch.model.products import load_product_lists, select_products
from hybridwatch.model.trade import COUNTRY_GROUPS, expand_countries
from hybridwatch.store import EventStore
from hybridwatch.store.trade_store import select_trade
from hybridwatch.workflows.recording import record, report_of

DEFAULT_ACTORS = "CHN,RUS,EU27"


@dataclass(frozen=True)
class SupplyQuery:
    """What ``hybridwatch supply`` asks."""

    product: str
    destination: str | None = None
    origin: str = "EU27"
    since: date | None = None
    until: date | None = None
    actors: str = DEFAULT_ACTORS
    freq: str = "year"
    break_month: str | None = None
    pre_months: int = 24
    post_months: int = 12
    fdr: float = 0.05
    source: str | None = None
    products_file: str | None = None


def _countries(option: str, text: str | None) -> tuple[str, ...]:
    try:
        return expand_countries(text)
    except ValueError as exc:
        raise SelectorError(f"{option}: {exc}") from None


def _actors(text: str) -> dict[str, tuple[str, ...]]:
    actors = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        actors[part.upper() if part.upper() in COUNTRY_GROUPS else
               _countries("--actors", part)[0]] = _countries("--actors", part)
    return actors


def run_supply(store: EventStore, query: SupplyQuery) -> dict[str, Any]:
    """Concentration, dependence and diversion for ``query``; nothing is stored."""
    try:
        selection = select_products(query.product, load_product_lists(query.products_file))
    except ValueError as exc:
        raise SelectorError(str(exc)) from None
    destination = _countries("--destination", query.destination)
    if len(destination) > 1:
        raise SelectorError("--destination: one country")
    origin = _countries("--origin", query.origin)
    warnings: list[str] = []
    trade = select_trade(store, selection.prefixes, since=query.since, until=query.until,
                         source=query.source)
    values = trade.values(query.freq)
    warnings += values.notes
    importers = list(destination) or None
    conc = concentration(values.table, importers=importers)
    dep = dependence(values.table, _actors(query.actors), importers=importers)
    diversion: dict[str, Any] | None = None
    if destination:
        monthly = values if query.freq == "month" else trade.values("month")
        result = find_diversion(monthly.table, origin=origin, destination=destination[0],
                                break_month=query.break_month, pre_months=query.pre_months,
                                post_months=query.post_months, fdr=query.fdr)
        diversion = result.to_dict()
        warnings += [w for w in monthly.notes if w not in warnings]
    else:
        warnings.append("no --destination: diversion needs one (e.g. --destination RUS)")
    return {
        "products": selection.to_dict(),
        "destination": destination[0] if destination else None,
        "origin": list(origin),
        "data": values.describe(),
        "concentration": conc,
        "concentration_trend": concentration_trend(conc),
        "dependence": dep,
        "diversion": diversion["candidates"] if diversion else [],
        "diversion_test": {k: v for k, v in diversion.items() if k != "candidates"}
        if diversion else None,
        "warnings": warnings + (diversion["warnings"] if diversion else []),
        "caution": ("Statistical leads for an analyst: a significant transit country shows "
                    "flows that rose with the break beyond their own trend, season and other "
                    "partners; it is not proof of sanctions evasion by anyone."),
    }


def record_supply(store: EventStore, report: dict[str, Any]) -> str:
    """Store the report as the ``supply`` run: one item per diversion candidate (trade data
    carries no TLP marking, so items are clear)."""
    return record(store, report_of("supply", report)).run_id
