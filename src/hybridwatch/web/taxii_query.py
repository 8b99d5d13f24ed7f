"""Parsing a TAXII request: its filters and page, as FastAPI dependencies of the routes in
``hybridwatch.web.taxii``. Every malformed value raises ``TaxiiError`` (a TAXII 400), never a
500: times are parsed as RFC 3339 here rather than with ``datetime.fromisoformat``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Query

MAX_PAGE = 1000
_NEXT_PATTERN = r"^[A-Za-z0-9_-]+={0,2}$"  # our page tokens: URL-safe base64
# an RFC 3339 date-time, or a full date (its midnight, UTC)
_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d):(\d\d)(\.\d+)?"
                      r"(?:([Zz])|([+-])(\d\d):(\d\d)))?", re.ASCII)
# STIX times compare as text: these sort before / after every real one
_BEFORE_ALL, _AFTER_ALL = "0000-00-00T00:00:00.000Z", "9999-99-99T99:99:99.999Z"


class TaxiiError(Exception):
    """Answer with a TAXII error message resource."""

    def __init__(self, status: int, title: str, description: str = "") -> None:
        super().__init__(title)
        self.status, self.title, self.description = status, title, description


def taxii_time(text: str) -> str:
    """An RFC 3339 time (or date: its midnight UTC) as a STIX time in UTC with milliseconds
    (``0999-01-01T00:00:00.000Z``), comparable as text with ``date_added`` values;
    ``ValueError`` if it is neither.

    Own parser rather than ``datetime.fromisoformat``: RFC 3339 allows ``z``, ``t``, leap
    seconds and offsets that leave datetime's range, which must not become 400s or 500s."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    year, month, day, hour, minute, second = (int(g or 0) for g in match.groups()[:6])
    fraction = (match.group(7) or ".")[1:]
    when = datetime(year, month, day, hour, minute, min(second, 59),
                    int((fraction + "000000")[:6]))
    if second == 60:  # a leap second: later than every millisecond of the 59th
        when = when.replace(microsecond=999_999)
    if match.group(9):
        hours, minutes = int(match.group(10)), int(match.group(11))
        if hours > 23 or minutes > 59:
            raise ValueError(f"not an RFC 3339 offset: {text!r}")
        sign = 1 if match.group(9) == "+" else -1
        try:
            when -= sign * timedelta(hours=hours, minutes=minutes)
        except OverflowError:  # before year 1 or after 9999 in UTC
            return _BEFORE_ALL if sign > 0 else _AFTER_ALL
    return (f"{when.year:04d}-{when.month:02d}-{when.day:02d}T{when.hour:02d}:"
            f"{when.minute:02d}:{when.second:02d}.{when.microsecond // 1000:03d}Z")


@dataclass(frozen=True)
class TaxiiQuery:
    """A request's filters and page, parsed and checked."""

    added_after: str | None = None        # STIX time
    limit: int = MAX_PAGE
    start: int = 0                        # offset decoded from ``next``
    types: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    spec_versions: frozenset[str] | None = None
    versions: frozenset[str] | None = None  # STIX times; None = every version


def _items(values: list[str] | None) -> frozenset[str] | None:
    """Comma-separated values, possibly repeated (``match[type]=a,b&match[type]=c``)."""
    found = frozenset(i.strip() for v in values or () for i in v.split(",") if i.strip())
    return found or None


def _versions(values: list[str] | None) -> frozenset[str] | None:
    wanted = _items(values) or frozenset()
    words = wanted & {"first", "last", "all"}
    try:
        times = frozenset(taxii_time(v) for v in wanted - words)
    except ValueError:
        raise TaxiiError(400, "bad match[version]", "expected first, last, all or RFC 3339 "
                                                    f"times, got {','.join(sorted(wanted))!r}") \
            from None
    # every object has one version, which is its first, its last and all of them
    return None if words or not times else times


def _start(token: str | None) -> int:
    if token is None:
        return 0
    try:
        digits = base64.urlsafe_b64decode(token.encode()).decode("ascii")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        digits = ""
    if not digits.isdigit() or len(digits) > 12:  # no sign, no spaces: an offset we made
        raise TaxiiError(400, "bad next", f"not a page token of this server: {token!r}")
    return int(digits)


def paging(added_after: str = Query(
               None, json_schema_extra={"anyOf": [{"format": "date-time"}, {"format": "date"}]},
               description="only objects added after this time (RFC 3339; a date means its "
                           "midnight, UTC)"),
           limit: int = Query(None, ge=1, description=f"objects per page (at most {MAX_PAGE}; "
                                                      "more counts as the maximum)"),
           next: str = Query(None, pattern=_NEXT_PATTERN, max_length=64,  # TAXII's name
                             description="the `next` of the previous page"),
           match_spec_version: list[str] = Query(
               None, alias="match[spec_version]",
               description="STIX versions, comma-separated (every object here is 2.1)"),
           ) -> TaxiiQuery:
    """FastAPI dependency: the filters every listing takes, and the page."""
    after = None
    if added_after is not None:
        try:
            after = taxii_time(added_after)
        except ValueError:
            raise TaxiiError(400, "bad added_after", f"not an RFC 3339 time: {added_after!r}") \
                from None
    return TaxiiQuery(added_after=after, limit=min(limit or MAX_PAGE, MAX_PAGE),
                      start=_start(next), spec_versions=_items(match_spec_version))


def version_match(match_version: list[str] = Query(
        None, alias="match[version]",
        description="first, last, all, or RFC 3339 times (comma-separated); an object's "
                    "version is its modified (else created) time")) -> frozenset[str] | None:
    """FastAPI dependency: ``match[version]``."""
    return _versions(match_version)


def id_type_match(
        match_type: list[str] = Query(None, alias="match[type]",
                                      description="STIX types, comma-separated"),
        match_id: list[str] = Query(None, alias="match[id]",
                                    description="STIX ids, comma-separated"),
) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """FastAPI dependency: ``match[type]`` and ``match[id]``."""
    return _items(match_type), _items(match_id)
