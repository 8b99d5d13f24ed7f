"""The day an assessment speaks for (``as_of``): the one given, or the last day its sources
cover densely — never a stray record far beyond them.

Taking the latest event lets one mistyped date (2052 for 2025) move the assessment decades
ahead, into days no source reported, where every series is quiet. :func:`default_as_of` reads,
per source, the days with records and cuts off a *coverage outlier tail*: the records after the
first gap that is far longer than the source's usual gaps, when they are a small share of the
source. Records dated after the day they were ingested cannot have been reported yet and are
outliers too.

The rule lives in this one small function so a fuller coverage model can replace it.
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
from hybridwatch.store.event_queries import coverage_tail_cut, event_span

#: The events an assessment reads: hostile, with a target.
ASSESSED_SQL = f"({has_target_sql()} AND {HOSTILE_SQL})"
MIN_GAP_DAYS = 30          # a tail starts after a gap of at least this many days …
GAP_FACTOR = 3.0           # … and at least this many times the source's 90th-percentile gap
MAX_OUTLIER_SHARE = 0.02   # a tail holds at most this share of the source's records
MIN_SOURCE_DAYS = 20       # fewer distinct days: too few to tell a stray record from a gap
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

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "method": self.method, "reason": self.reason,
                "latest_event": self.latest_event.isoformat() if self.latest_event else None,
                "n_outliers": self.n_outliers, "outliers": list(self.outliers)}

    def warning(self) -> str | None:
        """The warning that names the records left beyond ``as_of``, if any."""
        if not self.n_outliers:
            return None
        by_source: dict[str, list[str]] = {}
        for record in self.outliers:
            by_source.setdefault(record["source"], []).append(
                f"{record['source_record_id']} dated {record['date']}")
        listed = "; ".join(f"source {s!r}: {', '.join(r)}" for s, r in by_source.items())
        more = (f" and {self.n_outliers - len(self.outliers)} more"
                if self.n_outliers > len(self.outliers) else "")
        return (f"as_of {self.day} ({self.reason}); {self.n_outliers} record(s) dated after it "
                f"are coverage outliers and were left out: {listed}{more}. Pass --as-of to "
                "choose the day yourself.")


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
    """The latest day any source of the assessed events (``where``) covers densely.

    Per source: its records dated after the day they were ingested are outliers; of the rest,
    the distinct days are scanned for the first gap longer than ``MIN_GAP_DAYS`` and
    ``GAP_FACTOR`` × the source's 90th-percentile gap after which at most
    ``MAX_OUTLIER_SHARE`` of its records remain — those records are the outlier tail (sources
    with fewer than ``MIN_SOURCE_DAYS`` days are taken as they are). ``as_of`` is the latest
    remaining day over the sources.
    """
    cut = coverage_tail_cut(store, where, min_source_days=MIN_SOURCE_DAYS,
                            min_gap_days=MIN_GAP_DAYS, gap_factor=GAP_FACTOR,
                            max_tail_share=MAX_OUTLIER_SHARE, n_listed=OUTLIERS_LISTED)
    dense_last, latest, n_outliers, listed = cut.dense_last, cut.latest, cut.n_outliers, cut.listed
    if latest is None:
        raise SelectorError("no hostile events with a target in the store: nothing to assess")
    outliers = tuple({"source": s, "source_record_id": rid, "event_id": eid,
                      "date": day.isoformat(),
                      "why": "dated after it was ingested" if after else
                             "beyond a gap far longer than the source's usual gaps"}
                     for s, rid, eid, day, after in listed)
    if not dense_last:
        return AsOf(latest, "latest_event", "every record is dated after it was ingested: the "
                    "latest event is used", latest_event=latest, outliers=outliers,
                    n_outliers=int(n_outliers))
    source, day = max(dense_last.items(), key=lambda item: (item[1], item[0]))
    return AsOf(day, "dense_last", f"the last day source {source!r} covers densely",
                latest_event=latest, outliers=outliers, n_outliers=int(n_outliers))
