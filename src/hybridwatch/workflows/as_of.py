"""The day an assessment speaks for (``as_of``): the one given, or the last day its sources
cover densely — never a stray record far beyond them.

Taking the latest event lets one mistyped date (2052 for 2025) move the assessment decades
ahead, into days no source reported, where every series is quiet. :func:`default_as_of` takes
the day from the same coverage model that sets every analysis window
(``workflows.coverage.dense_last``): the last day the assessed events' defining sources all
cover densely. Records dated after their ingest are quarantined at ingest already.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hybridwatch.errors import SelectorError
from hybridwatch.model.hostility import HOSTILE_SQL
from hybridwatch.model.targets import has_target_sql
from hybridwatch.store import EventStore
from hybridwatch.store.event_queries import event_span, events_after
from hybridwatch.workflows.coverage import dense_last, sources_of_events, store_coverage

#: The events an assessment reads: hostile, with a target.
ASSESSED_SQL = f"({has_target_sql()} AND {HOSTILE_SQL})"
OUTLIERS_LISTED = 10


@dataclass(frozen=True)
class AsOf:
    """The origin day of an assessment and how it was chosen."""

    day: date
    method: str                         # "explicit" or "dense_last"
    reason: str
    latest_event: date | None = None    # the latest assessed event, outliers included
    outliers: tuple[dict[str, Any], ...] = field(default=())  # records beyond the coverage
    n_outliers: int = 0
    notes: tuple[str, ...] = ()         # e.g. sources that report later than as_of

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "method": self.method, "reason": self.reason,
                "latest_event": self.latest_event.isoformat() if self.latest_event else None,
                "n_outliers": self.n_outliers, "outliers": list(self.outliers)}

    def warning(self) -> str | None:
        """The warning that names the records left beyond ``as_of``, if any."""
        if not self.n_outliers:
            return "; ".join(self.notes) or None
        by_source: dict[str, list[str]] = {}
        for record in self.outliers:
            by_source.setdefault(record["source"], []).append(
                f"{record['source_record_id']} dated {record['date']}")
        listed = "; ".join(f"source {s!r}: {', '.join(r)}" for s, r in by_source.items())
        more = (f" and {self.n_outliers - len(self.outliers)} more"
                if self.n_outliers > len(self.outliers) else "")
        return (f"as_of {self.day} ({self.reason}); {self.n_outliers} record(s) dated after it "
                f"are coverage outliers and were left out: {listed}{more}. Pass --as-of to "
                "choose the day yourself." + "".join(f" {note}." for note in self.notes))


def parse_as_of(text: str | date | None, option: str = "--as-of") -> date | None:
    """``YYYY-MM-DD`` → date; a clear ``SelectorError`` otherwise."""
    if text is None or isinstance(text, date):
        return text
    value = str(text).strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("expected year-month-day")
        return date.fromisoformat(value)
    except ValueError as exc:
        raise SelectorError(f"{option}: {value!r} is not a date ({exc}); use YYYY-MM-DD"
                            ) from None


def explicit_as_of(store: EventStore, day: date, *, where: str = ASSESSED_SQL) -> AsOf:
    """``day`` as given, checked against the store: an error when no assessed event is on or
    before it."""
    first, last = event_span(store, where)
    if first is None:
        raise SelectorError("no hostile events with a target in the store: nothing to assess")
    if day < first:
        raise SelectorError(f"--as-of {day} is before the first hostile event with a target "
                            f"({first}): nothing to assess")
    reason = "given with --as-of"
    if day > last:
        reason += (f"; {(day - last).days} day(s) after the latest hostile event ({last}): the "
                   "days between count as days without events")
    return AsOf(day, "explicit", reason, latest_event=last)


def default_as_of(store: EventStore, *, where: str = ASSESSED_SQL) -> AsOf:
    """The last day all the sources defining the assessed events (``where``) cover densely.

    The coverage model (``analyses.coverage``, through ``workflows.coverage.dense_last``) is the
    same one that sets the window of every other analysis: a source's dense span ends before a
    sparse tail of stray records, so a mistyped date does not move ``as_of``. The assessed
    events dated after ``as_of`` are listed as outliers; a source that reports later than the
    others is named in a note (its later days would look quiet for the rest).
    """
    latest = event_span(store, where)[1]
    if latest is None:
        raise SelectorError("no hostile events with a target in the store: nothing to assess")
    chosen = dense_last(store, sources_of_events(store, where))
    n_outliers, listed = events_after(store, where, chosen.day, limit=OUTLIERS_LISTED)
    source = _ending_source(store, chosen)
    outliers = tuple({"source": s, "source_record_id": rid, "event_id": eid,
                      "date": day.isoformat(),
                      "why": f"after the last day {source!r} covers densely (beyond a gap or "
                             "a sparse tail of its coverage)"}
                     for s, rid, eid, day in listed)
    return AsOf(chosen.day, "dense_last", f"the last day source {source!r} covers densely",
                latest_event=latest, outliers=outliers, n_outliers=n_outliers,
                notes=tuple(w for w in chosen.warnings if "report later" in w))


def _ending_source(store: EventStore, chosen) -> str:
    """The source whose dense coverage ends on ``chosen.day`` (the earliest-ending one)."""
    coverage = store_coverage(store)
    ending = [s for s in chosen.sources if s in coverage and coverage[s].dense_last == chosen.day]
    return (ending or list(chosen.sources) or ["?"])[0]
