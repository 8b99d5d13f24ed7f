"""Coordination workflows: coincidence of two series, of a grid of series, and multi-domain
episodes — each computed on the store's events and returned with the events behind it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from hybridwatch.analyses.coincidence import CoincidenceResult, coincidence_test
from hybridwatch.analyses.coincidence_pairs import PairsResult, all_pairs
from hybridwatch.analyses.episodes import EpisodesResult, find_episodes
from hybridwatch.analyses.selectors import Selector, parse_grid, parse_selector
from hybridwatch.analyses.series import SeriesMatrix, daily_series, event_counts, select_events
from hybridwatch.errors import SelectorError
from hybridwatch.model.domains import DOMAINS
from hybridwatch.store import EventStore
from hybridwatch.workflows.evidence import event_ids_in_cells, events_on_days


def parse_days(text: str | int, option: str) -> int:
    """'3d', '2w' or '3' → days."""
    value = str(text).strip().lower()
    factor = 7 if value.endswith("w") else 1
    try:
        days = int(value.rstrip("dw")) * factor
    except ValueError:
        raise SelectorError(f"{option}: {text!r} is not a number of days (e.g. 3d, 2w)") from None
    if days < 0:
        raise SelectorError(f"{option}: must not be negative")
    return days


def _period(matrix: SeriesMatrix) -> dict[str, str]:
    return {"start": str(matrix.dates[0]), "end": str(matrix.dates[-1])}


def _clean(value: Any) -> Any:
    """NaN → None, numpy scalars → Python: strict JSON."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


# -- one pair ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PairReport:
    """A coincidence test of two series with the coinciding events as evidence."""

    a: str
    b: str
    period: dict[str, str]
    result: CoincidenceResult
    evidence: tuple[dict[str, Any], ...]
    n_evidence: int                       # coinciding pairs in all; ``evidence`` may be capped

    def to_dict(self) -> dict[str, Any]:
        result = self.result
        best = next((lag for lag in result.per_lag if lag.lag_days == result.best_lag_days),
                    result.per_lag[0])
        return {
            "a": self.a, "b": self.b, **self.period, "window_days": result.window_days,
            "null": result.null, "n_surrogates": result.n_surrogates,
            "random_state": result.random_state, "best_lag_days": result.best_lag_days,
            "precursor_rate": _clean(best.precursor_rate), "trigger_rate": _clean(best.trigger_rate),
            "p_precursor": _clean(best.p_precursor), "p_trigger": _clean(best.p_trigger),
            "p_value": _clean(result.p_value), "combination": result.combination,
            "n_a": best.n_a, "n_b": best.n_b,
            "lags": [{key: _clean(getattr(lag, key)) for key in (
                "lag_days", "precursor_rate", "trigger_rate", "p_precursor", "p_trigger", "n_a",
                "n_b", "k_precursor", "k_trigger")} for lag in result.per_lag],
            "evidence": list(self.evidence), "n_evidence": self.n_evidence,
            "warnings": list(result.warnings), "input_sha256": result.input_sha256,
        }


def coincide(store: EventStore, a: str | Selector, b: str | Selector, *, window_days: int = 3,
             lags: Sequence[int] = (0, 1, 2, 3), null: str = "block", n_surrogates: int = 1000,
             random_state: int | None = None, since: date | None = None,
             until: date | None = None, evidence_limit: int = 25) -> PairReport:
    """Does series ``b`` precede series ``a`` more often than chance (b → a)?

    Evidence: at the best lag, each A event day preceded by a B event day within the window,
    with up to five events of each side.
    """
    sel_a = parse_selector(a) if isinstance(a, str) else a
    sel_b = parse_selector(b) if isinstance(b, str) else b
    matrix = daily_series(store.ibis_events(), [sel_a, sel_b], start=since, end=until)
    result = coincidence_test(matrix.events[:, 0], matrix.events[:, 1], window_days=window_days,
                              lags=tuple(lags), null=null, n_surrogates=n_surrogates,
                              random_state=random_state)
    best = next((lag for lag in result.per_lag if lag.lag_days == result.best_lag_days), None)
    pairs = list(zip(best.precursor_a_days, best.precursor_b_days)) if best else []
    shown = pairs[:evidence_limit]
    day = lambda i: matrix.dates[int(i)].astype(object)  # noqa: E731
    a_events = events_on_days(store, sel_a, [day(i) for i, _ in shown])
    b_events = events_on_days(store, sel_b, [day(j) for _, j in shown])
    evidence = tuple({"a_date": day(i).isoformat(), "b_date": day(j).isoformat(),
                      "a_events": a_events.get(day(i), []), "b_events": b_events.get(day(j), [])}
                     for i, j in shown)
    return PairReport(sel_a.label, sel_b.label, _period(matrix), result, evidence, len(pairs))


# -- a grid of series, all pairs, FDR -------------------------------------------------------------

@dataclass(frozen=True)
class GridReport:
    """Every ordered pair of a selector grid, with Benjamini–Hochberg q-values."""

    period: dict[str, str]
    result: PairsResult
    n_events: dict[str, int]            # events per series
    n_event_days: dict[str, int]        # days counted as events (after any threshold)

    def to_dict(self) -> dict[str, Any]:
        result = self.result
        pairs = [{key: _clean(value) for key, value in row.items()} for row in result.rows()]
        return {**self.period, "series": list(result.names), "n_events": self.n_events,
                "n_event_days": self.n_event_days,
                "window_days": result.window_days, "lags": list(result.lags),
                "null": result.null, "n_surrogates": result.n_surrogates, "fdr": result.fdr,
                "random_state": result.random_state, "combination": result.combination,
                "n_pairs": len(pairs), "n_significant": int(result.significant.sum()),
                "pairs": pairs, "warnings": list(result.warnings),
                "input_sha256": result.input_sha256}


def coincide_grid(store: EventStore, grid: str, *, window_days: int = 3,
                  lags: Sequence[int] = (0, 1, 2, 3), null: str = "block",
                  n_surrogates: int = 1000, random_state: int | None = None, fdr: float = 0.05,
                  since: date | None = None, until: date | None = None) -> GridReport:
    """Test every ordered pair of the grid's series and control the false discovery rate."""
    selectors = parse_grid(grid)
    if len(selectors) < 2:
        raise SelectorError(f"grid {grid!r} defines one series; all-pairs needs two or more")
    matrix = daily_series(store.ibis_events(), selectors, start=since, end=until)
    result = all_pairs(matrix.events, matrix.labels, window_days=window_days, lags=tuple(lags),
                       null=null, n_surrogates=n_surrogates, random_state=random_state, fdr=fdr)
    n_events = {label: int(n) for label, n in zip(matrix.labels, matrix.counts.sum(axis=0))}
    n_event_days = {label: int(n) for label, n in zip(matrix.labels, matrix.events.sum(axis=0))}
    return GridReport(_period(matrix), result, n_events, n_event_days)


# -- multi-domain episodes ---------------------------------------------------------------------

@dataclass(frozen=True)
class EpisodesReport:
    """Episodes with the ids of their contributing events."""

    result: EpisodesResult
    period: dict[str, str]
    event_ids: tuple[tuple[str, ...], ...]    # parallel to result.episodes

    def to_dict(self) -> dict[str, Any]:
        data = self.result.to_dict()
        episodes = []
        for episode, ids in zip(data["episodes"], self.event_ids):
            episodes.append({"start": episode["start"], "end": episode["end"],
                             "targets": episode["targets"], "domains": episode["domains"],
                             "p_value": episode["p_value"], "statistic": episode["statistic"],
                             "zone": episode["zone"], "window_days": episode["window_days"],
                             "signals": episode["signals"], "n_events": len(ids),
                             "event_ids": list(ids)})
        return {**self.period, "parameters": data["parameters"], "episodes": episodes,
                "warnings": data["warnings"], "provenance": data["provenance"]}


def detect_episodes(store: EventStore, *, min_domains: int = 3, max_window_days: int = 7,
                    alpha: float = 0.05, n_surrogates: int = 199,
                    random_state: int | None = None, targets: Sequence[str] | None = None,
                    where: str | None = None, since: date | None = None,
                    until: date | None = None, max_targets: int = 30,
                    target_groups: Sequence[Sequence[str]] | None = None) -> EpisodesReport:
    """Scan the store for windows where ``min_domains``+ domains are jointly elevated.

    Targets default to the ``max_targets`` targets with the most events among those with at
    least one series dense enough to scan; ``where`` (a selector) restricts the events first.
    ``target_groups`` names the sets of targets whose domains may combine into one cross-target
    episode (default: all scanned targets form one group — declaring the groups an analyst cares
    about, e.g. DEU,POL,TWN, makes the scan far more powerful for them).
    """
    events = store.ibis_events()
    events = events.filter(events.target_iso3.notnull())
    selector = parse_selector(where) if where else None
    if selector is not None:
        events = select_events(events, selector)
    if since:
        events = events.filter(events.occurred_at >= str(since))
    if until:
        events = events.filter(events.occurred_at < str(until))
    table = event_counts(events, by=("target_iso3", "domain")).to_pyarrow()
    if table.num_rows == 0:
        raise SelectorError("no events with a target match: nothing to scan")
    periods = table["period"].to_numpy().astype("datetime64[D]")
    dates = np.arange(np.datetime64(since, "D") if since else periods.min(),
                      (np.datetime64(until, "D") if until else periods.max() + 1))
    target_col = np.asarray(table["target_iso3"].to_pylist(), dtype=object)
    domain_col = np.asarray(table["domain"].to_pylist(), dtype=object)
    chosen = list(targets) if targets else _busiest_targets(target_col, domain_col,
                                                            table["n_events"].to_numpy(),
                                                            max_targets)
    for group in target_groups or ():
        chosen += [t for t in group if t not in chosen]
    domains = [d for d in DOMAINS if d in set(domain_col)]
    counts = np.zeros((dates.size, len(chosen), len(domains)), np.int64)
    t_index = {t: i for i, t in enumerate(chosen)}
    d_index = {d: i for i, d in enumerate(domains)}
    keep = np.array([t in t_index for t in target_col]) & (periods >= dates[0]) \
        & (periods <= dates[-1])
    counts[(periods[keep] - dates[0]).astype(int),
           [t_index[t] for t in target_col[keep]],
           [d_index[d] for d in domain_col[keep]]] = table["n_events"].to_numpy()[keep]
    result = find_episodes(counts, dates=dates, targets=chosen, domains=domains,
                           min_domains=min_domains, max_window_days=max_window_days, alpha=alpha,
                           n_surrogates=n_surrogates, random_state=random_state,
                           target_groups=[list(g) for g in target_groups] if target_groups else None)
    ids = tuple(tuple(event_ids_in_cells(store, [(c.date, c.target, c.domain) for c in e.cells],
                                         where=selector))
                for e in result.episodes)
    return EpisodesReport(result, {"start": str(dates[0]), "end": str(dates[-1])}, ids)


MIN_SERIES_EVENTS = 10  # find_episodes' default: sparser series are not scanned


def _busiest_targets(target_col: np.ndarray, domain_col: np.ndarray, n_events: np.ndarray,
                     max_targets: int) -> list[str]:
    totals: dict[str, dict[str, int]] = {}
    for target, domain, n in zip(target_col, domain_col, n_events):
        totals.setdefault(target, {}).setdefault(domain, 0)
        totals[target][domain] += int(n)
    # a target with fewer domains than min_domains can still join a cross-target episode, so
    # any target with one scannable series (MIN_SERIES_EVENTS) is a candidate
    eligible = [(sum(by_domain.values()), target) for target, by_domain in totals.items()
                if max(by_domain.values()) >= MIN_SERIES_EVENTS]
    return [target for _, target in sorted(eligible, reverse=True)[:max_targets]]
