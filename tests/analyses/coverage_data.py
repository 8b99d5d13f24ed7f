"""A generator of source reporting shapes, written for the coverage tests (not the demo's).

Each function returns ``(days, records)``: record days (datetime64[D]) and records per day, drawn
from its own ``numpy`` stream. Shapes are those of real sources: weekly publication batches
(EUvsDisinfo), campaigns reported more and more often (STIX), daily headline scrapes, lists with
stray records.
"""

from __future__ import annotations

import numpy as np


def _days(start: str, end: str) -> np.ndarray:
    return np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)


def _nonzero(days: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = counts > 0
    return days[keep], counts[keep].astype(np.int64)


def weekly_batches(rng: np.random.Generator, start: str = "2015-04-01", end: str = "2017-10-31",
                   weekday: int = 3, per_batch: float = 12.0, off_day_rate: float = 0.3
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Cases published mostly in one weekly batch (``weekday``: 0 Monday … 6 Sunday), a few on
    other days."""
    days = _days(start, end)
    weekdays = (days.astype(np.int64) + 3) % 7
    rate = np.where(weekdays == weekday, per_batch, off_day_rate)
    return _nonzero(days, rng.poisson(rate))


def growing_reports(rng: np.random.Generator, start: str = "2005-01-01", end: str = "2020-12-31",
                    early_per_year: float = 6.0, late_per_year: float = 90.0,
                    growth_from: str = "2014-01-01") -> tuple[np.ndarray, np.ndarray]:
    """Campaign reports: a few a year at first, growing linearly to ``late_per_year`` at the end
    from ``growth_from`` on."""
    days = _days(start, end)
    t = np.clip((days - np.datetime64(growth_from)).astype(float)
                / (days[-1] - np.datetime64(growth_from)).astype(float), 0, 1)
    per_day = (early_per_year + t * (late_per_year - early_per_year)) / 365.25
    return _nonzero(days, rng.poisson(per_day))


def steady(rng: np.random.Generator, start: str, end: str, per_day: float
           ) -> tuple[np.ndarray, np.ndarray]:
    days = _days(start, end)
    return _nonzero(days, rng.poisson(per_day, days.size))


def scattered(rng: np.random.Generator, start: str, end: str, n: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` single records on uniformly random days (e.g. old 'most read' headlines)."""
    days = _days(start, end)
    picked = rng.choice(days, size=n)
    return np.unique(picked, return_counts=True)


def combine(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    days = np.concatenate([p[0] for p in parts])
    records = np.concatenate([p[1] for p in parts])
    unique, inverse = np.unique(days, return_inverse=True)
    return unique, np.bincount(inverse, weights=records).astype(np.int64)
