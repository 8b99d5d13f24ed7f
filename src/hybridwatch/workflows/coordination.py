"""Coordination workflows: coincidence of two series, of a grid of series, and multi-domain
episodes — each computed on the store's events and returned with the events behind it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from hybridwatch.analyses.coincidence import CoincidenceResult, coincidence_test
from hybridwatch.analyses.coincidence_pairs import PairsResult, all_pairs
from hybridwatch.analyses.episodes import EpisodeParameters, EpisodesResult, find_episodes
from hybridwatch.analyses.pairs_blocks import all_pairs_blocked
from hybridwatch.analyses.seeding import fingerprint_arrays, resolve_seed
from hybridwatch.analyses.selectors import Selector, parse_grid, parse_selector
from hybridwatch.analyses.series import (
    SeriesMatrix,
    daily_series,
    select_events,
)
from hybridwatch.errors import SelectorError
from hybridwatch.model.domains import DOMAINS
from hybridwatch.model.hostility import describe as describe_counted
from hybridwatch.store import EventStore
from hybridwatch.store.located import WHERE_KINDS
from hybridwatch.workflows.evidence import events_on_days, located_events
from hybridwatch.workflows.coverage import (
    AnalysisWindow, analysis_window, defining_sources, sources_of_table,
)
from hybridwatch.model.json_values import json_value
from hybridwatch.model.results import AnalysisResult


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


def _window(window: AnalysisWindow | None) -> dict[str, Any]:
    return {"window": window.to_dict()} if window is not None else {}


def _clean(value: Any) -> Any:
    """Strict JSON: the one cleaner (``model.json_values``), NaN → None, numpy → Python."""
    return json_value(value)


# -- one pair ----------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class PairReport(AnalysisResult):
    """A coincidence test of two series with the coinciding events as ``evidence`` (its
    parameters, warnings and provenance are the test's, ``window`` the days analysed and why)."""

    a: str
    b: str
    period: dict[str, str]
    result: CoincidenceResult
    n_evidence: int                       # coinciding pairs in all; ``evidence`` may be capped
    window: AnalysisWindow | None = field(default=None, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        result = self.result
        best = next((lag for lag in result.per_lag if lag.lag_days == result.best_lag_days),
                    result.per_lag[0])
        return {
            "a": self.a, "b": self.b, **self.period, **_window(self.window),
            "window_days": result.window_days,
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
    with up to five events of each side. The days analysed default to those both series'
    defining sources cover densely (``since``/``until``, inclusive, override them); without
    ``random_state`` the seed derives from the two series and the parameters.
    """
    sel_a = parse_selector(a) if isinstance(a, str) else a
    sel_b = parse_selector(b) if isinstance(b, str) else b
    window = analysis_window(store, defining_sources(store, [sel_a, sel_b]), since=since,
                             until=until)
    matrix = daily_series(located_events(store, [sel_a, sel_b]), [sel_a, sel_b],
                          start=window.start, end=window.end)
    seed = resolve_seed(random_state, "coincide", fingerprint_arrays(matrix.events, matrix.dates),
                        window_days, sorted(lags), null, n_surrogates)
    result = coincidence_test(matrix.events[:, 0], matrix.events[:, 1], window_days=window_days,
                              lags=tuple(lags), null=null, n_surrogates=n_surrogates,
                              random_state=seed)
    result = replace(result, warnings=window.warnings + result.warnings)
    best = next((lag for lag in result.per_lag if lag.lag_days == result.best_lag_days), None)
    pairs = list(zip(best.precursor_a_days, best.precursor_b_days)) if best else []
    shown = pairs[:evidence_limit]

    def day(i: int) -> date:
        return matrix.dates[int(i)].astype(object)

    a_events = events_on_days(store, sel_a, [day(i) for i, _ in shown])
    b_events = events_on_days(store, sel_b, [day(j) for _, j in shown])
    evidence = tuple({"a_date": day(i).isoformat(), "b_date": day(j).isoformat(),
                      "a_events": a_events.get(day(i), []), "b_events": b_events.get(day(j), [])}
                     for i, j in shown)
    return PairReport(sel_a.label, sel_b.label, _period(matrix), result, len(pairs),
                      evidence=evidence, window=window, parameters=result.parameters,
                      warnings=result.warnings, provenance=result.provenance)


# -- a grid of series, all pairs, FDR -------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class GridReport(AnalysisResult):
    """Every ordered pair of a selector grid, with Benjamini–Hochberg q-values (parameters,
    warnings and provenance are the test's)."""

    period: dict[str, str]
    result: PairsResult
    n_events: dict[str, int]            # events per series
    n_event_days: dict[str, int]        # days counted as events (after any threshold)
    window: AnalysisWindow | None = field(default=None, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        result = self.result
        rows = [{key: _clean(value) for key, value in row.items()} for row in result.rows()]
        pairs = [{k: v for k, v in row.items() if k not in ("testable", "untestable_reason")}
                 for row in rows if row["testable"]]
        untestable = [{"a": row["a"], "b": row["b"], "reason": row["untestable_reason"]}
                      for row in rows if not row["testable"]]
        return {**self.period, **_window(self.window), "series": list(result.names),
                "n_events": self.n_events, "n_event_days": self.n_event_days,
                "window_days": result.window_days, "lags": list(result.lags),
                "null": result.null, "n_surrogates": result.n_surrogates, "fdr": result.fdr,
                "random_state": result.random_state, "combination": result.combination,
                "n_pairs": len(rows), "n_testable": len(pairs),
                "n_significant": int(result.significant.sum()), "pairs": pairs,
                "untestable": untestable, "warnings": list(result.warnings),
                "input_sha256": result.input_sha256}


def coincide_grid(store: EventStore, grid: str, *, window_days: int = 3,
                  lags: Sequence[int] = (0, 1, 2, 3), null: str = "block",
                  n_surrogates: int = 1000, random_state: int | None = None, fdr: float = 0.05,
                  since: date | None = None, until: date | None = None) -> GridReport:
    """Test every ordered pair of the grid's series and control the false discovery rate.

    The days analysed default to those every series' defining sources cover densely; pairs
    with an empty series leave the Benjamini–Hochberg family and are reported as untestable.
    """
    selectors = parse_grid(grid)
    if len(selectors) < 2:
        raise SelectorError(f"grid {grid!r} defines one series; all-pairs needs two or more")
    window = analysis_window(store, defining_sources(store, selectors), since=since,
                             until=until)
    matrix = daily_series(located_events(store, selectors), selectors, start=window.start,
                          end=window.end)
    seed = resolve_seed(random_state, "coincide_grid",
                        fingerprint_arrays(matrix.events, matrix.dates, list(matrix.labels)),
                        window_days, sorted(lags), null, n_surrogates, fdr)
    options = dict(window_days=window_days, lags=tuple(lags), null=null,
                   n_surrogates=n_surrogates, random_state=seed, fdr=fdr)
    if store.engine == "spark":   # blocks of pairs as Spark tasks, the same numbers
        from hybridwatch.store.spark import map_tasks

        result = all_pairs_blocked(matrix.events, matrix.labels, map_tasks=map_tasks, **options)
    else:
        result = all_pairs(matrix.events, matrix.labels, **options)
    result = replace(result, warnings=window.warnings + result.warnings)
    n_events = {label: int(n) for label, n in zip(matrix.labels, matrix.counts.sum(axis=0))}
    n_event_days = {label: int(n) for label, n in zip(matrix.labels, matrix.events.sum(axis=0))}
    return GridReport(_period(matrix), result, n_events, n_event_days, window=window,
                      parameters=result.parameters, warnings=result.warnings,
                      provenance=result.provenance)


# -- multi-domain episodes ---------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class EpisodesReport(AnalysisResult):
    """Episodes with the ids of their contributing events (``event_ids``, the evidence, one
    tuple per episode) and the "where" dimension of each signal: ``target``, ``location`` (the
    location country) or ``theatre``. Parameters, warnings and provenance are the scan's."""

    parameters: EpisodeParameters = field(kw_only=True)
    result: EpisodesResult
    period: dict[str, str]
    event_ids: tuple[tuple[str, ...], ...]    # parallel to result.episodes
    where_kinds: tuple[tuple[str, ...], ...] = ()  # parallel to each episode's signals
    include_cooperative: bool = False
    window: AnalysisWindow | None = field(default=None, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        data = self.result.to_dict()
        episodes = []
        kinds_of = self.where_kinds or tuple(() for _ in data["episodes"])
        for episode, ids, kinds in zip(data["episodes"], self.event_ids, kinds_of):
            signals = [{**signal, "where": signal["target"],
                        "where_kind": kind if kind else None}
                       for signal, kind in zip(episode["signals"], kinds or
                                               [None] * len(episode["signals"]))]
            episodes.append({"start": episode["start"], "end": episode["end"],
                             "targets": episode["targets"], "domains": episode["domains"],
                             "where": episode["targets"],
                             "where_kinds": sorted({k for k in kinds if k}),
                             "p_value": episode["p_value"], "statistic": episode["statistic"],
                             "zone": episode["zone"], "window_days": episode["window_days"],
                             "signals": signals, "n_events": len(ids),
                             "event_ids": list(ids)})
        parameters = {**data["parameters"], "include_cooperative": self.include_cooperative}
        return {**self.period, **_window(self.window),
                "counted": describe_counted(self.include_cooperative),
                "parameters": parameters, "episodes": episodes,
                "warnings": data["warnings"], "provenance": data["provenance"]}


def detect_episodes(store: EventStore, *, min_domains: int = 3, max_window_days: int = 7,
                    alpha: float = 0.05, n_surrogates: int = 199,
                    random_state: int | None = None, targets: Sequence[str] | None = None,
                    where: str | None = None, since: date | None = None,
                    until: date | None = None, max_targets: int = 30,
                    target_groups: Sequence[Sequence[str]] | None = None,
                    include_cooperative: bool = False, step_down: bool = True,
                    min_series_events: int = 10) -> EpisodesReport:
    """Scan the store for windows where ``min_domains``+ domains are jointly elevated.

    Each event counts for its "where" (``store.located``): the targets it names; else its
    location country; else the theatre it lies in — so a naval exercise coded only by its place
    in the Taiwan Strait counts for "Taiwan Strait". An event with an end (a campaign) counts on
    each of its first ``max_window_days`` days. Only hostile events count
    (``model.hostility``) unless ``include_cooperative``.

    The scanned "wheres" default to the ``max_targets`` with the most events among those with
    at least one series dense enough to scan (``targets`` names them instead: ISO3 codes or
    theatre names); ``where`` (a selector) restricts the events first. ``target_groups`` names
    the sets of wheres whose domains may combine into one cross-target episode (default: all
    scanned ones form one group — declaring the groups an analyst cares about, e.g.
    DEU,POL,TWN, makes the scan far more powerful for them).

    The days scanned default to those every defining source of the scanned events covers
    densely (:func:`~hybridwatch.workflows.coverage.analysis_window`); ``since`` and ``until``
    (both inclusive) override them. Without ``random_state`` the seed derives from the counts
    and the parameters.
    """
    import ibis

    selector = parse_selector(where) if where else None
    events = located_events(store, [selector] if selector else [], located=True)
    if selector is not None:
        events = select_events(events, selector)
    window = analysis_window(store, [sources_of_table(events)], since=since, until=until,
                             what="scanned events")
    events = events.filter((events.occurred_at >= str(window.start))
                           & (events.occurred_at < str(window.end + timedelta(days=1))))
    selected_sql = str(ibis.to_sql(events, dialect="duckdb"))
    scan = dict(spread_days=max_window_days, hostile_only=not include_cooperative)
    table = store.where_day_counts(selected_sql, **scan)
    if table.num_rows == 0:
        what = "events" if include_cooperative else "hostile events"
        raise SelectorError(f"no {what} with a target, a location country or a theatre match: "
                            "nothing to scan")
    periods = table["day"].to_numpy().astype("datetime64[D]")
    dates = np.arange(np.datetime64(window.start, "D"), np.datetime64(window.end, "D") + 1)
    where_col = np.asarray(table["where_name"].to_pylist(), dtype=object)
    kind_col = np.asarray(table["where_kind"].to_pylist(), dtype=object)
    domain_col = np.asarray(table["domain"].to_pylist(), dtype=object)
    n_col = table["n_events"].to_numpy()
    chosen = list(targets) if targets else _busiest_targets(where_col, domain_col, n_col,
                                                            max_targets, min_series_events)
    for group in target_groups or ():
        chosen += [t for t in group if t not in chosen]
    domains = [d for d in DOMAINS if d in set(domain_col)]
    counts = np.zeros((dates.size, len(chosen), len(domains)), np.int64)
    by_kind = np.zeros((dates.size, len(chosen), len(domains), len(WHERE_KINDS)), np.int64)
    t_index = {t: i for i, t in enumerate(chosen)}
    d_index = {d: i for i, d in enumerate(domains)}
    k_index = {k: i for i, k in enumerate(WHERE_KINDS)}
    keep = np.array([t in t_index for t in where_col], dtype=bool) & (periods >= dates[0]) \
        & (periods <= dates[-1])
    cell = ((periods[keep] - dates[0]).astype(int), [t_index[t] for t in where_col[keep]],
            [d_index[d] for d in domain_col[keep]])
    np.add.at(counts, cell, n_col[keep])
    np.add.at(by_kind, (*cell, [k_index[k] for k in kind_col[keep]]), n_col[keep])
    groups = [list(g) for g in target_groups] if target_groups else None
    seed = resolve_seed(random_state, "episodes",
                        fingerprint_arrays(counts, dates, chosen, domains), min_domains,
                        max_window_days, alpha, n_surrogates, groups, include_cooperative,
                        step_down, min_series_events)
    result = find_episodes(counts, dates=dates, targets=chosen, domains=domains,
                           min_domains=min_domains, max_window_days=max_window_days, alpha=alpha,
                           n_surrogates=n_surrogates, random_state=seed, target_groups=groups,
                           step_down=step_down, min_series_events=min_series_events)
    result = replace(result, warnings=window.warnings + result.warnings)
    cells = [(n, c) for n, episode in enumerate(result.episodes) for c in episode.cells]
    found = store.where_day_event_ids(selected_sql, pa.table({
        "group": pa.array([n for n, _ in cells], pa.int64()),
        "day": pa.array([c.date for _, c in cells], pa.date32()),
        "where_name": pa.array([c.target for _, c in cells], pa.string()),
        "domain": pa.array([c.domain for _, c in cells], pa.string())}), **scan) if cells else {}
    ids = [tuple(found.get(n, ())) for n in range(len(result.episodes))]
    kinds = []
    for episode in result.episodes:
        days = slice(int((np.datetime64(episode.start, "D") - dates[0]).astype(int)),
                     int((np.datetime64(episode.end, "D") - dates[0]).astype(int)) + 1)
        kinds.append(tuple(WHERE_KINDS[int(by_kind[days, t_index[s.target],
                                                   d_index[s.domain]].sum(axis=0).argmax())]
                           for s in episode.signals))
    return EpisodesReport(result, {"start": str(dates[0]), "end": str(dates[-1])}, tuple(ids),
                          tuple(kinds), include_cooperative, window=window,
                          parameters=result.parameters, warnings=result.warnings,
                          provenance=result.provenance)


MIN_SERIES_EVENTS = 10  # find_episodes' default: sparser series are not scanned


def _busiest_targets(target_col: np.ndarray, domain_col: np.ndarray, n_events: np.ndarray,
                     max_targets: int, min_series_events: int = MIN_SERIES_EVENTS) -> list[str]:
    totals: dict[str, dict[str, int]] = {}
    for target, domain, n in zip(target_col, domain_col, n_events):
        totals.setdefault(target, {}).setdefault(domain, 0)
        totals[target][domain] += int(n)
    # a target with fewer domains than min_domains can still join a cross-target episode, so
    # any target with one scannable series (MIN_SERIES_EVENTS) is a candidate
    eligible = [(sum(by_domain.values()), target) for target, by_domain in totals.items()
                if max(by_domain.values()) >= min_series_events]
    return [target for _, target in sorted(eligible, reverse=True)[:max_targets]]
