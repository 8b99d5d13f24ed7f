"""The actor-convergence index on a store: its components from the events and from the stored
results of the coordination and narrative analyses (never recomputed here)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from hybridwatch.analyses.convergence import ComponentSeries, ConvergenceResult, convergence_index
from hybridwatch.errors import SelectorError
from hybridwatch.model.countries import to_iso3
from hybridwatch.store import EventStore
from hybridwatch.store.event_queries import (
    daily_cooperation, hostile_actors_of, monthly_trade_event_values, months_with_events,
)
from hybridwatch.model.tlp import most_restricted
from hybridwatch.store.findings_store import latest_run
from hybridwatch.workflows.coverage import store_coverage, union_window
from hybridwatch.workflows.recording import record, report_of

N_BOOTSTRAP = 200


def _months(store: EventStore) -> tuple[np.ndarray, dict[str, Any]]:
    """The months from the earliest to the latest day any source covers densely: coverage
    outliers (a record from 1982, a mistyped future date) do not add months."""
    coverage = store_coverage(store)
    if not coverage:
        raise SelectorError("the store holds no events: nothing to measure convergence on")
    first, last = union_window(coverage.values())
    window = {"start": first.isoformat(), "end": last.isoformat(),
              "reason": "the months any source covers densely (coverage outliers left out)",
              "sources": sorted(coverage)}
    return np.arange(np.datetime64(first, "M"), np.datetime64(last, "M") + 1), window


def _cooperation(store: EventStore, a: str, b: str, months: np.ndarray,
                 rng: np.random.Generator) -> ComponentSeries:
    """Goldstein-weighted cooperative (CAMEO 01–09, QuadClass 1–2) events between a and b per
    1,000 coded events of the same sources that day — coverage-normalised, so a month when the media
    simply write more does not look like convergence. Bootstrap: days resampled in the month."""
    rows = daily_cooperation(store, a, b, source="gdelt")
    values = np.full(months.size, np.nan)
    draws = np.full((N_BOOTSTRAP, months.size), np.nan)
    if rows and any(r[1] for r in rows):
        days = np.array([r[0] for r in rows], dtype="datetime64[D]")
        coop, total = np.array([r[1] for r in rows], float), np.array([r[2] for r in rows], float)
        month_of = days.astype("datetime64[M]")
        for m, month in enumerate(months):
            idx = np.flatnonzero(month_of == month)
            if idx.size < 7:       # a few days of coverage say nothing about a month
                continue
            values[m] = 1000 * coop[idx].sum() / total[idx].sum()
            pick = idx[rng.integers(0, idx.size, (N_BOOTSTRAP, idx.size))]
            draws[:, m] = 1000 * coop[pick].sum(1) / total[pick].sum(1)
    return ComponentSeries("cooperative_interaction", values, draws,
                           f"Goldstein-weighted cooperative GDELT events between {a} and {b} "
                           "per 1,000 GDELT events")


def _state_group(iso3: str) -> str:
    """The outlet group of an actor's state media, by the shipped naming (RUS → ru_state)."""
    import pycountry

    return f"{pycountry.countries.get(alpha_3=iso3).alpha_2.lower()}_state"


def _narratives(store: EventStore, a: str, b: str, months: np.ndarray,
                rng: np.random.Generator, notes: list[str]) -> ComponentSeries:
    """Overlap of the two actors' state-media narrative mixes per month (narrative sync's
    convergence), with draws from its own bootstrap band."""
    values = np.full(months.size, np.nan)
    draws = np.full((N_BOOTSTRAP, months.size), np.nan)
    run = latest_run(store, "narrative_sync")
    groups = {_state_group(a), _state_group(b)}
    if run is None:
        notes.append("narrative_alignment: no narrative synchronisation stored (run "
                     "`hybridwatch narratives build` then `hybridwatch narratives sync`)")
    elif {run.summary.get("a"), run.summary.get("b")} != groups:
        notes.append(f"narrative_alignment: the stored narrative synchronisation compares "
                     f"{run.summary.get('a')} and {run.summary.get('b')}, not "
                     f"{' and '.join(sorted(groups))}")
    else:
        index = {str(m): i for i, m in enumerate(months)}
        for row in run.summary.get("convergence", []):
            m = index.get(row["period"])
            if m is None or row.get("value") is None:
                continue
            values[m] = row["value"]
            sd = ((row.get("high") or row["value"]) - (row.get("low") or row["value"])) / 3.92
            draws[:, m] = row["value"] + sd * rng.standard_normal(N_BOOTSTRAP)
    return ComponentSeries("narrative_alignment", values, draws,
                           "overlap of the two actors' state-media narrative mixes")


def _operations(store: EventStore, a: str, b: str, months: np.ndarray, notes: list[str]
                ) -> tuple[ComponentSeries, list[str]]:
    """Days per month inside stored multi-domain episodes whose hostile events include both
    actors; months outside the scanned period, and scanned months without a single event (a gap
    in the data, not a month of calm), have no data. Returns the series and, per month, the TLP
    of the episodes it counts."""
    values = np.full(months.size, np.nan)
    tlps = ["clear"] * months.size
    run = latest_run(store, "episodes")
    if run is None:
        notes.append("operational_cooccurrence: no episodes stored (run `hybridwatch episodes`)")
        return ComponentSeries("operational_cooccurrence", values), tlps
    with_events = np.array(months_with_events(store), dtype="datetime64[M]")
    scanned = (months >= np.datetime64(run.summary["start"], "M")) & \
        (months <= np.datetime64(run.summary["end"], "M")) & np.isin(months, with_events)
    values[scanned] = 0.0
    for episode in run.items:
        actors = hostile_actors_of(store, episode["event_ids"])
        if not {a, b} <= actors:
            continue
        days = np.arange(np.datetime64(episode["start"]), np.datetime64(episode["end"]) + 1)
        for month, n in zip(*np.unique(days.astype("datetime64[M]"), return_counts=True)):
            m = np.flatnonzero(months == month)
            if m.size and scanned[m[0]]:
                values[m[0]] += n
                tlps[m[0]] = most_restricted([tlps[m[0]], episode["tlp"]])
    return ComponentSeries("operational_cooccurrence", values,
                           description=f"days in multi-domain episodes with hostile events by "
                                       f"both {a} and {b}"), tlps


def _technology(store: EventStore, a: str, b: str, months: np.ndarray, notes: list[str]
                ) -> ComponentSeries:
    """Reconciled value of listed products (semiconductors, the Common High Priority List …;
    ``model/products.toml``) traded between the two in either direction per month, from the
    ``trade_flows`` table; months without any trade row have no data (a missing report is not
    zero trade). A store with no such flows falls back to trade events of the deprecated
    ``comtrade_trade`` mapping."""
    from hybridwatch.model.products import listed_prefixes
    from hybridwatch.store.trade_store import pair_monthly_values

    flows = pair_monthly_values(store, a, b, listed_prefixes())
    if flows:
        values = np.full(months.size, np.nan)
        index = {m: i for i, m in enumerate(months)}
        for month, total in flows:
            i = index.get(np.datetime64(month, "M"))
            if i is not None:
                values[i] = total
        return ComponentSeries("technology_transfer", values,
                               description=f"reconciled trade value of listed dual-use products "
                                           f"(semiconductors, Common High Priority List) between "
                                           f"{a} and {b} (USD, trade_flows)")
    rows = monthly_trade_event_values(store, a, b)
    values = np.full(months.size, np.nan)
    index = {m: i for i, m in enumerate(months)}
    for month, total in rows:
        i = index.get(np.datetime64(month, "M"))
        if i is not None:
            values[i] = total
    if rows:
        notes.append("technology_transfer: from trade events of the deprecated comtrade_trade "
                     "mapping; ingest Comtrade files without --mapping to use trade_flows")
    return ComponentSeries("technology_transfer", values,
                           description=f"declared trade value of mapped dual-use HS codes "
                                       f"between {a} and {b} (USD)")


def measure_convergence(store: EventStore, *, a: str = "RUS", b: str = "CHN",
                        baseline_months: int = 24, random_state: int | None = 0
                        ) -> tuple[ConvergenceResult, list[str]]:
    """The index for actors ``a`` and ``b`` and, per month, the TLP of what it counts."""
    a, b = to_iso3(a, "iso3"), to_iso3(b, "iso3")
    rng = np.random.default_rng(random_state)
    months, window = _months(store)
    notes: list[str] = []
    operations, tlps = _operations(store, a, b, months, notes)
    components = [_cooperation(store, a, b, months, rng), _narratives(store, a, b, months, rng,
                                                                      notes),
                  operations, _technology(store, a, b, months, notes)]
    # months before any component has data (e.g. one old incident report) are not reported
    has_data = np.any([~np.isnan(c.values) for c in components], axis=0)
    first = int(np.argmax(has_data)) if has_data.any() else months.size
    components = [ComponentSeries(c.name, c.values[first:],
                                  None if c.draws is None else c.draws[:, first:], c.description)
                  for c in components]
    months, tlps = months[first:], tlps[first:]
    result = convergence_index([str(m) for m in months], components,
                               baseline_months=baseline_months)
    if months.size:
        window = {**window, "start": max(window["start"], f"{months[0]}-01")}
    return (replace(result, parameters={**result.parameters, "window": window}, window=window,
                    warnings=tuple(notes) + result.warnings), tlps)


def record_convergence(store: EventStore, result: ConvergenceResult, tlps: list[str], *,
                       a: str, b: str) -> dict[str, Any]:
    """Store the index as findings (one per month) and return the JSON contract."""
    periods = result.periods()
    summary = {"a": a, "b": b, "freq": "month", "window": result.parameters.get("window"),
               "weights": result.weights,
               "components": list(result.weights), "descriptions": result.descriptions,
               "parameters": result.parameters, "warnings": list(result.warnings)}
    run_id = record(store, report_of("convergence", {**summary, "periods": periods},
                                     tlps)).run_id
    return {**summary, "periods": periods, "run_id": run_id}
