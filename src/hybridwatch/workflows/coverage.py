"""Coverage on a store: where each source reports, and the window an analysis may use.

Two series from sources with different coverage look coupled when analysed from the first to the
last event of either (both are active in the same years, and a null model that moves one of them
across the whole span finds them apart more often). So by default every analysis runs on the days
that *all* its series' sources cover densely (:func:`analysis_window`); explicit ``since``/``until``
still win, with a warning when they leave a source's dense coverage. The rules behind "dense" are
in :mod:`hybridwatch.analyses.coverage`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis

from hybridwatch.analyses.coverage import SourceCoverage, coverage_by_source
from hybridwatch.analyses.selectors import Selector, parse_selector
from hybridwatch.analyses.series import select_events
from hybridwatch.errors import SelectorError
from hybridwatch.store import EventStore
from hybridwatch.store.event_queries import source_counts

DEFINING_SHARE = 0.05     # a source defines a series when it carries at least this share of it
SHORT_OVERLAP_DAYS = 90   # windows shorter than this get a warning


@dataclass(frozen=True)
class AnalysisWindow:
    """The days an analysis runs on: ``start`` … ``end``, both inclusive (UTC days).

    ``reason`` says where the bounds come from; ``sources`` are the sources whose coverage set
    them; ``warnings`` what the analyst should know (bounds outside a source's coverage, a short
    overlap, a publication cycle shared by both series).
    """

    start: date
    end: date
    reason: str
    sources: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "reason": self.reason, "sources": list(self.sources), "n_days": self.n_days}


# -- coverage of the store's sources ------------------------------------------------------------

def store_coverage(store: EventStore, kind: str = "events") -> dict[str, SourceCoverage]:
    """Coverage of every source (``kind='events'``) or outlet (``'articles'``) in the store."""
    table = store.source_days(kind)
    if table.num_rows == 0:
        return {}
    return coverage_by_source(table["source"].to_numpy(zero_copy_only=False),
                              table["day"].to_numpy().astype("datetime64[D]"),
                              table["records"].to_numpy())


def coverage_report(store: EventStore) -> dict[str, Any]:
    """The JSON contract of ``hybridwatch coverage``: ``sources`` (events by source) and
    ``outlets`` (articles by outlet), each with first, last, records, dense span, gaps,
    outliers and weekly cycle."""
    return {"sources": [c.to_dict() for c in store_coverage(store, "events").values()],
            "outlets": [c.to_dict() for c in store_coverage(store, "articles").values()]}


# -- which sources define a series -------------------------------------------------------------

def defining_sources(store: EventStore, selectors: Sequence[Selector | str]
                     ) -> list[dict[str, int]]:
    """Per selector, its events per source for the sources carrying at least ``DEFINING_SHARE``
    of them (empty for a series without events). One query for all selectors."""
    selectors = [parse_selector(s) if isinstance(s, str) else s for s in selectors]
    if not selectors:
        return []
    events = store.ibis_events(located=any(s.located for s in selectors))
    parts = [select_events(events, s).group_by("source").aggregate(n=ibis._.count())
             .mutate(series=ibis.literal(i)) for i, s in enumerate(selectors)]
    table = (ibis.union(*parts) if len(parts) > 1 else parts[0]).to_pyarrow()
    counts: list[dict[str, int]] = [{} for _ in selectors]
    for series, source, n in zip(table["series"].to_pylist(), table["source"].to_pylist(),
                                 table["n"].to_pylist()):
        counts[series][source] = int(n)
    return [_major(c) for c in counts]


def _major(counts: Mapping[str, int]) -> dict[str, int]:
    total = sum(counts.values())
    return {s: n for s, n in sorted(counts.items()) if total and n / total >= DEFINING_SHARE}


def sources_of_table(events) -> dict[str, int]:
    """The defining sources of the events of an Ibis table expression (e.g. the events an
    episode scan reads)."""
    table = events.group_by("source").aggregate(n=ibis._.count()).to_pyarrow()
    return _major(dict(zip(table["source"].to_pylist(), table["n"].to_pylist())))


def sources_of_events(store: EventStore, where_sql: str = "TRUE",
                      params: Sequence[Any] = ()) -> dict[str, int]:
    """The defining sources of the events a SQL condition selects (e.g. those with a target)."""
    return _major(source_counts(store, where_sql, params))


# -- the window ---------------------------------------------------------------------------------

def analysis_window(store: EventStore, series_sources: Sequence[Mapping[str, int]], *,
                    since: date | None = None, until: date | None = None,
                    coverage: Mapping[str, SourceCoverage] | None = None,
                    kind: str = "events", what: str = "series") -> AnalysisWindow:
    """The days every series' defining sources cover densely (the intersection of their dense
    spans), with explicit ``since``/``until`` (inclusive) taking precedence.

    ``series_sources`` is one mapping per series (source → events, as :func:`defining_sources`
    gives). Raises ``SelectorError`` when the sources never report at the same time (and no
    explicit bounds are given) or when the bounds are inverted.
    """
    coverage = store_coverage(store, kind) if coverage is None else coverage
    names = sorted({s for sources in series_sources for s in sources if s in coverage})
    if since and until and until < since:
        raise SelectorError(f"the period ends ({until}) before it starts ({since})")
    if not names:
        if since and until:
            return AnalysisWindow(since, until, "--since/--until", ())
        raise SelectorError(f"no events in any {what}: nothing to build a window from "
                            "(pass --since and --until)")
    spans = {s: coverage[s] for s in names}
    start_by = max(spans.values(), key=lambda c: c.dense_first)
    end_by = min(spans.values(), key=lambda c: c.dense_last)
    start, end = start_by.dense_first, end_by.dense_last
    warnings: list[str] = []
    if not (since and until) and start > end:
        raise SelectorError(
            f"the {what}' sources never report densely at the same time ("
            + "; ".join(f"{c.source} {c.dense_first} … {c.dense_last}" for c in spans.values())
            + "): nothing to compare; pass --since and --until to force a window")
    reasons = []
    if since:
        reasons.append("--since")
        start = since
    else:
        reasons.append(f"start: dense coverage of {start_by.source}")
    if until:
        reasons.append("--until")
        end = until
    else:
        reasons.append(f"end: dense coverage of {end_by.source}")
    if start > end:
        raise SelectorError(f"the window {start} … {end} is empty: --since/--until and the "
                            f"sources' dense coverage ({', '.join(names)}) do not overlap")
    for c in spans.values():
        if since and since < c.dense_first or until and until > c.dense_last:
            warnings.append(f"the window {start} … {end} leaves the dense coverage of "
                            f"{c.source} ({c.dense_first} … {c.dense_last}): days outside it "
                            "look quiet because the source did not report")
    n_days = (end - start).days + 1
    if n_days < SHORT_OVERLAP_DAYS:
        warnings.append(f"the window is {n_days} days (< {SHORT_OVERLAP_DAYS}): too short for "
                        "a null model to say much")
    warnings += _shared_cycle(series_sources, spans)
    reason = "; ".join(reasons)
    if not since and not until:
        reason = f"the days the sources of all {what} cover densely ({', '.join(names)})"
    return AnalysisWindow(start, end, reason, tuple(names), tuple(warnings))


def _shared_cycle(series_sources: Sequence[Mapping[str, int]],
                  spans: Mapping[str, SourceCoverage]) -> list[str]:
    """Warn when two or more series come from one source whose publication shows a weekly cycle:
    their coincidences then reflect the publication rhythm (EUvsDisinfo's batches)."""
    single = [next(iter(s)) for s in series_sources if len(s) == 1]
    out = []
    for source in sorted(set(single)):
        cycle = spans[source].weekly_cycle if source in spans else None
        if single.count(source) >= 2 and cycle:
            out.append(f"{single.count(source)} series come only from {source}, which publishes "
                       f"in a weekly cycle ({cycle[1]:.0%} of its records on {cycle[0]}s): "
                       "coincidences between them may reflect the publication rhythm, not "
                       "behaviour")
    return out


def union_window(coverages: Iterable[SourceCoverage]) -> tuple[date, date] | None:
    """The span from the earliest dense start to the latest dense end of several sources (a group
    of outlets reports while any of them does)."""
    coverages = list(coverages)
    if not coverages:
        return None
    return (min(c.dense_first for c in coverages), max(c.dense_last for c in coverages))


# -- as of ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DenseLast:
    """The last day every given source covers densely, and what it leaves out."""

    day: date
    sources: tuple[str, ...]
    warnings: tuple[str, ...]


def dense_last(store: EventStore, sources: Iterable[str] | None = None) -> DenseLast:
    """The default ``as_of``: the earliest ``dense_last`` among ``sources`` (by default the
    sources carrying at least ``DEFINING_SHARE`` of the store's events), with a warning naming
    the coverage outliers after it (they do not move ``as_of``)."""
    coverage = store_coverage(store)
    if not coverage:
        raise SelectorError("the store holds no events: no coverage to take as_of from")
    names = sorted(sources) if sources is not None else sorted(sources_of_events(store))
    names = [n for n in names if n in coverage] or sorted(coverage)
    by = min((coverage[n] for n in names), key=lambda c: c.dense_last)
    day = by.dense_last
    warnings = []
    late = [(c.source, o) for c in coverage.values() for o in c.outliers if o[1] > day
            and c.source in names]
    if late:
        listed = "; ".join(f"{s}: {n} record(s) {f}…{la}" for s, (f, la, n) in late[:5])
        warnings.append(f"as_of {day} is the last day {by.source} covers densely; coverage "
                        f"outliers after it are ignored ({listed})")
    later = [n for n in names if coverage[n].dense_last > day]
    if later:
        warnings.append(f"as_of {day}: {', '.join(later)} report later, but {by.source} "
                        "does not, so later days would look quiet")
    return DenseLast(day, tuple(names), tuple(warnings))
