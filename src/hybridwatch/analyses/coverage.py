"""Coverage of a source: the days on which it densely reports, its gaps, its outliers, its cycle.

Input: one source's records per day (``days`` datetime64[D], ``records`` counts; days without
records are absent). The rules, all documented in ``docs/coordination.md`` ("Coverage"):

1. *Segments.* The record days are split at gaps longer than ``max(365, 20 × median gap)``
   (gaps between consecutive record days). The *core* is the segment with the most records; the
   segments next to it join it, one after the other outward, when they hold more than 5% of the
   records or when the gap before them is plausible (it would hold at most 10 records at the
   lower of two rates: the joined block's in its year nearest the gap, and the segment's own
   over ``max(its span, the split gap)``). A record decades away from a busy list (a 1982
   record in a 2010s list) does not join; the sparse early years of a source whose reporting
   grows do (at one report a year, a gap of a year and a half is ordinary). What joins can
   still be cut as a sparse edge (rule 2): a mistyped date a few years after the end.
2. *Sparse edges.* Within the joined span, a sparse prefix (or suffix) is a candidate when its
   records per day stay below ``c`` = 10% of the source's typical rate (the record-weighted
   median of its monthly counts, per day): the candidate cut is the minimum of the CUSUM
   ``Σ (records_t − c)`` from the edge inward. It is cut only if its rate is below 2% of the rate
   in the year after the cut — a 50-fold *jump*, not growth. So a few
   hundred scattered old headlines before a dense 2022 corpus are cut, while a source whose
   reporting grows (a few STIX campaigns a year in 2005, hundreds in 2020) is not: its rate
   changes gradually, so no cut point has a 50-fold jump within a year.
3. Records outside ``[dense_first, dense_last]`` are *outliers*: they do not stretch windows.
4. *Gaps* inside the dense span: runs without a record longer than
   ``max(14, 4 × p90 of the gaps between record days)``.
5. *Weekly cycle*: at least 35% of the (dense) records on one weekday — a publication rhythm
   (EUvsDisinfo's weekly batches), not the world's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

SPLIT_MIN_DAYS = 365          # segments split at gaps longer than max(this, SPLIT_FACTOR × median)
SPLIT_FACTOR = 20
JOIN_MASS = 0.05              # a segment with more than this share of records joins the core
JOIN_GAP_RECORDS = 10         # … or one whose gap would hold at most this many records at the
                              # rate of the joined block's nearest year
EDGE_RATE = 0.1               # sparse edge candidates: below this fraction of the typical rate
EDGE_JUMP = 0.02              # … cut only if the rate in the year before the cut is below this
EDGE_WINDOW_DAYS = 365        # fraction of the rate in the year after it
GAP_MIN_DAYS = 14             # a gap is a run without records longer than max(this, 4 × p90)
GAP_FACTOR = 4
WEEKLY_SHARE = 0.35           # weekly cycle: at least this share of records on one weekday
WEEKLY_MIN_RECORDS = 20
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class SourceCoverage:
    """Where a source reports: its whole span, its dense span, gaps, outliers and cycle.

    ``gaps`` are ``(first day without records, last day without records)`` inside the dense
    span; ``outliers`` are ``(first, last, records)`` clusters of records outside it;
    ``weekly_cycle`` is ``(weekday name, share of records)`` or None.
    """

    source: str
    first: date
    last: date
    records: int
    dense_first: date
    dense_last: date
    dense_records: int
    gaps: tuple[tuple[date, date], ...]
    outliers: tuple[tuple[date, date, int], ...]
    weekly_cycle: tuple[str, float] | None

    @property
    def n_outliers(self) -> int:
        return self.records - self.dense_records

    def covers(self, day: date) -> bool:
        return self.dense_first <= day <= self.dense_last

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "first": self.first.isoformat(),
            "last": self.last.isoformat(), "records": self.records,
            "dense_first": self.dense_first.isoformat(),
            "dense_last": self.dense_last.isoformat(), "dense_records": self.dense_records,
            "gaps": [{"start": s.isoformat(), "end": e.isoformat(), "days": (e - s).days + 1}
                     for s, e in self.gaps],
            "outliers": [{"first": f.isoformat(), "last": la.isoformat(), "records": n}
                         for f, la, n in self.outliers],
            "n_outliers": self.n_outliers,
            "weekly_cycle": (None if self.weekly_cycle is None else
                             {"weekday": self.weekly_cycle[0],
                              "share": round(self.weekly_cycle[1], 4)}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SourceCoverage:
        day = date.fromisoformat
        cycle = data.get("weekly_cycle")
        return cls(data["source"], day(data["first"]), day(data["last"]), data["records"],
                   day(data["dense_first"]), day(data["dense_last"]), data["dense_records"],
                   tuple((day(g["start"]), day(g["end"])) for g in data["gaps"]),
                   tuple((day(o["first"]), day(o["last"]), o["records"])
                         for o in data["outliers"]),
                   None if cycle is None else (cycle["weekday"], cycle["share"]))

    def replace(self, **changes: Any) -> SourceCoverage:
        return dataclasses.replace(self, **changes)


def source_coverage(source: str, days, records) -> SourceCoverage:
    """The coverage of one source from its records per day (any order; repeated days add up)."""
    day_arr = np.asarray(days, dtype="datetime64[D]")
    rec_arr = np.asarray(records, dtype=np.int64)
    if day_arr.size == 0:
        raise ValueError(f"{source}: no records, so no coverage")
    if day_arr.shape != rec_arr.shape:
        raise ValueError("days and records must have the same length")
    day_arr, inverse = np.unique(day_arr, return_inverse=True)
    rec_arr = np.bincount(inverse.ravel(), weights=rec_arr).astype(np.int64)
    lo, hi = _dense_span(day_arr, rec_arr)
    inside = slice(lo, hi + 1)
    dense_days, dense_rec = day_arr[inside], rec_arr[inside]
    return SourceCoverage(
        source=source, first=_py(day_arr[0]), last=_py(day_arr[-1]),
        records=int(rec_arr.sum()), dense_first=_py(dense_days[0]),
        dense_last=_py(dense_days[-1]), dense_records=int(dense_rec.sum()),
        gaps=_gaps(dense_days), outliers=_outliers(day_arr, rec_arr, lo, hi),
        weekly_cycle=weekly_cycle(dense_days, dense_rec))


def _py(day: np.datetime64) -> date:
    return day.astype("datetime64[D]").astype(object)


def _split_gap(day_arr: np.ndarray) -> int:
    gaps = np.diff(day_arr).astype(np.int64)
    median = float(np.median(gaps)) if gaps.size else 1.0
    return int(max(SPLIT_MIN_DAYS, SPLIT_FACTOR * median))


def _dense_span(day_arr: np.ndarray, rec_arr: np.ndarray) -> tuple[int, int]:
    """Indices (first, last) of the record days in the dense span."""
    split = _split_gap(day_arr)
    day_num = day_arr.astype(np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(day_num) > split) + 1))
    ends = np.concatenate((starts[1:] - 1, [day_arr.size - 1]))
    mass = np.add.reduceat(rec_arr, starts).astype(float)
    own_rate = mass / np.maximum(day_num[ends] - day_num[starts] + 1, split)
    cum = np.concatenate(([0], np.cumsum(rec_arr)))

    def records_between(first: int, last: int) -> float:   # record days first … last-1
        return float(cum[np.searchsorted(day_num, last)] - cum[np.searchsorted(day_num, first)])

    lo = hi = int(np.argmax(mass))
    while lo > 0:                # join outward while the gap is plausible at the edge's rate
        edge = day_num[starts[lo]]
        span = min(EDGE_WINDOW_DAYS, day_num[ends[hi]] - edge + 1)
        rate = min(records_between(edge, edge + span) / span, own_rate[lo - 1])
        gap = edge - day_num[ends[lo - 1]]
        if mass[lo - 1] / mass.sum() > JOIN_MASS or gap * rate <= JOIN_GAP_RECORDS:
            lo -= 1
        else:
            break
    while hi < starts.size - 1:
        edge = day_num[ends[hi]]
        span = min(EDGE_WINDOW_DAYS, edge - day_num[starts[lo]] + 1)
        rate = min(records_between(edge - span + 1, edge + 1) / span, own_rate[hi + 1])
        gap = day_num[starts[hi + 1]] - edge
        if mass[hi + 1] / mass.sum() > JOIN_MASS or gap * rate <= JOIN_GAP_RECORDS:
            hi += 1
        else:
            break
    return _trim_edges(day_arr, rec_arr, int(starts[lo]), int(ends[hi]))


def typical_daily_rate(day_arr: np.ndarray, rec_arr: np.ndarray) -> float:
    """Records per day in a typical month: the record-weighted median of monthly counts / 30.44."""
    months, inverse = np.unique(day_arr.astype("datetime64[M]"), return_inverse=True)
    monthly = np.bincount(inverse.ravel(), weights=rec_arr)
    order = np.argsort(monthly)
    cum = np.cumsum(monthly[order])
    median = monthly[order][np.searchsorted(cum, cum[-1] / 2)]
    return float(median) / 30.44


def _trim_edges(day_arr: np.ndarray, rec_arr: np.ndarray, lo: int, hi: int) -> tuple[int, int]:
    """Cut a sparse prefix and suffix of record days ``lo..hi`` (see the module docstring)."""
    days, rec = day_arr[lo:hi + 1], rec_arr[lo:hi + 1].astype(float)
    c = EDGE_RATE * typical_daily_rate(days, rec)
    day_numbers = days.astype(np.int64)
    start = _sparse_prefix(day_numbers, rec, c)
    end = days.size - 1 - _sparse_prefix(-day_numbers[::-1], rec[::-1], c)
    if end < start:  # cannot happen with c below the typical rate; keep everything if it does
        return lo, hi
    return lo + start, lo + end


def _sparse_prefix(days: np.ndarray, rec: np.ndarray, c: float) -> int:
    """How many leading record days (``days``: ascending day numbers) to cut as a sparse prefix.

    Keeping from record day k drops ``sum(rec[:k])`` records over ``days[k] - days[0]`` days;
    the excess ``sum(rec[:k]) - c × (days[k] - days[0])`` is a CUSUM whose minimum (if below 0)
    is the change from "sparser than c" to "denser than c". The prefix is cut only if its rate is
    below ``EDGE_JUMP`` times the rate of the ``EDGE_WINDOW_DAYS`` after the cut.
    """
    offset = days - days[0]
    before = np.concatenate(([0.0], np.cumsum(rec)[:-1]))
    excess = before - c * offset
    k = int(np.argmin(excess))
    if excess[k] >= 0:
        return 0
    # the whole prefix against the year after the cut: a cut chosen right after a quiet spell
    # must not make growth look like a jump
    cut, year = days[k], EDGE_WINDOW_DAYS
    following = (days >= cut) & (days < cut + year)
    rate_before = before[k] / offset[k]
    rate_after = rec[following].sum() / min(year, days[-1] - cut + 1)
    return k if rate_before < EDGE_JUMP * rate_after else 0


def _gaps(dense_days: np.ndarray) -> tuple[tuple[date, date], ...]:
    if dense_days.size < 2:
        return ()
    gaps = np.diff(dense_days).astype(np.int64)
    threshold = max(GAP_MIN_DAYS, GAP_FACTOR * float(np.percentile(gaps, 90)))
    empty = gaps - 1                    # days without a record between two record days
    found = np.flatnonzero(empty > threshold)
    return tuple((_py(dense_days[i] + 1), _py(dense_days[i + 1] - 1)) for i in found)


def _outliers(day_arr: np.ndarray, rec_arr: np.ndarray, lo: int, hi: int
              ) -> tuple[tuple[date, date, int], ...]:
    """Records outside the dense span, clustered by the split gap (each side separately)."""
    split = _split_gap(day_arr)
    out = []
    for part in (slice(0, lo), slice(hi + 1, day_arr.size)):
        days, rec = day_arr[part], rec_arr[part]
        if days.size == 0:
            continue
        starts = np.concatenate(([0], np.flatnonzero(np.diff(days).astype(np.int64) > split) + 1))
        ends = np.concatenate((starts[1:] - 1, [days.size - 1]))
        out += [(_py(days[s]), _py(days[e]), int(rec[s:e + 1].sum()))
                for s, e in zip(starts, ends)]
    return tuple(out)


def weekly_cycle(days, records) -> tuple[str, float] | None:
    """``(weekday, share)`` when at least ``WEEKLY_SHARE`` of the records fall on one weekday."""
    day_arr = np.asarray(days, dtype="datetime64[D]")
    rec_arr = np.asarray(records, dtype=float)
    total = rec_arr.sum()
    if total < WEEKLY_MIN_RECORDS:
        return None
    weekday = (day_arr.astype(np.int64) + 3) % 7          # 1970-01-01 was a Thursday
    share = np.bincount(weekday, weights=rec_arr, minlength=7) / total
    top = int(np.argmax(share))
    return (WEEKDAYS[top], float(share[top])) if share[top] >= WEEKLY_SHARE else None


def coverage_by_source(sources, days, records) -> dict[str, SourceCoverage]:
    """``source_coverage`` for every source of parallel arrays (e.g. the store's source_days)."""
    src = np.asarray(sources, dtype=object)
    day_arr = np.asarray(days, dtype="datetime64[D]")
    rec_arr = np.asarray(records, dtype=np.int64)
    out = {}
    for name in sorted(set(src.tolist())):
        pick = src == name
        out[name] = source_coverage(name, day_arr[pick], rec_arr[pick])
    return out
