"""The ``--period`` of a briefing: inclusive first and last day, either end open."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hybridwatch.errors import SelectorError


@dataclass(frozen=True)
class Period:
    """Days ``first`` … ``last`` (both inclusive, UTC); ``None`` leaves that end open."""

    first: date | None = None
    last: date | None = None

    @classmethod
    def parse(cls, text: str | None) -> Period | None:
        """``2025-01-01..2025-06-30``, ``2025-01-01..`` or ``..2025-06-30``; None for no period."""
        if text is None or not text.strip():
            return None
        if ".." not in text:
            raise SelectorError(f"--period: {text!r} is not FIRST..LAST "
                                "(e.g. 2025-01-01..2025-06-30; either end may be left out)")
        first_text, last_text = (part.strip() for part in text.split("..", 1))
        period = cls(_day(first_text, text), _day(last_text, text))
        if period.first and period.last and period.first > period.last:
            raise SelectorError(f"--period: {text!r} ends before it starts")
        if period.first is None and period.last is None:
            raise SelectorError(f"--period: {text!r} gives neither a first nor a last day")
        return period

    @property
    def since(self) -> datetime | None:
        """Inclusive lower bound as a timestamp."""
        return datetime.combine(self.first, datetime.min.time()) if self.first else None

    @property
    def until(self) -> datetime | None:
        """Exclusive upper bound as a timestamp (the day after ``last``)."""
        return (datetime.combine(self.last + timedelta(days=1), datetime.min.time())
                if self.last else None)

    def overlaps(self, start: str | date | None, end: str | date | None) -> bool:
        """Whether the span ``start`` … ``end`` (inclusive days; ISO text or dates) meets it."""
        start_day, end_day = _as_day(start), _as_day(end if end is not None else start)
        if self.first and end_day is not None and end_day < self.first:
            return False
        return not (self.last and start_day is not None and start_day > self.last)

    def contains_label(self, label: str) -> bool:
        """Whether a period label of a time series (``YYYY-MM`` month, ``YYYY-MM-DD`` day or
        ``YYYY`` year) meets the period; labels of other shapes are kept."""
        try:
            if len(label) == 7:
                first = date.fromisoformat(f"{label}-01")
                last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) \
                    - timedelta(days=1)
            elif len(label) == 4:
                first, last = date(int(label), 1, 1), date(int(label), 12, 31)
            else:
                first = last = date.fromisoformat(label[:10])
        except ValueError:
            return True
        return self.overlaps(first, last)

    def label(self) -> str:
        return f"{self.first or '…'} to {self.last or '…'}"

    def to_dict(self) -> dict[str, str | None]:
        return {"first": self.first and self.first.isoformat(),
                "last": self.last and self.last.isoformat()}


def _day(text: str, whole: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SelectorError(f"--period: {text!r} in {whole!r} is not a date; use YYYY-MM-DD") \
            from None


def _as_day(value: str | date | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def findings_span(sections: Iterable[dict]) -> tuple[date | None, date | None]:
    """The first and last day the shown findings analysed: each section's ``window`` (else its
    ``start``/``end``), and an assessment's ``as_of``. (None, None) when nothing ran."""
    firsts: list[date] = []
    lasts: list[date] = []
    for section in sections:
        if not section.get("ran"):
            continue
        window = section.get("window") or {}
        start = window.get("start") or section.get("start")
        end = window.get("end") or section.get("end") or section.get("as_of")
        if start:
            firsts.append(_as_day(start))
        if end:
            lasts.append(_as_day(end))
        for row in section.get("rows") or []:     # convergence: its periods
            label = str(row.get("period") or "")
            if len(label) == 7 and row.get("index") is not None:
                month = date.fromisoformat(f"{label}-01")
                firsts.append(month)
                lasts.append((month.replace(day=28) + timedelta(days=4)).replace(day=1)
                             - timedelta(days=1))
    return (min(firsts) if firsts else None), (max(lasts) if lasts else None)


def title_period(period: Period | None, ctx: dict) -> dict[str, str | None]:
    """What the title block says the briefing covers, as dates: the ``--period`` when given,
    else the span the findings shown analysed (never "everything in the store")."""
    from hybridwatch.model.phrasing import date_range

    if period is not None:
        first, last = period.first, period.last
        basis = "the briefing period (--period)"
    else:
        first, last = findings_span(v for v in ctx.values()
                                    if isinstance(v, dict) and "ran" in v and "kind" in v)
        basis = "the days the findings below analysed"
    text = date_range(first, last)
    return {"text": text or None, "basis": basis if text else None,
            "first": first.isoformat() if first else None,
            "last": last.isoformat() if last else None}
