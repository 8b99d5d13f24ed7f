"""Versions of a record: which of two copies of one STIX id or MISP uuid is the later one.

A version is text that sorts in time order: the UTC instant as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.
Adapters write it to ``extra.record_version``; ingest compares it to keep the latest fields
and the most restrictive marking ever seen (``store.versions``). Pure: no I/O.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from hybridwatch.model.times import parse_time

#: The key of ``extra`` that holds a record's version.
VERSION_KEY = "record_version"
#: The key of ``extra`` that holds the marking of this version alone, when the record's ``tlp``
#: is more restrictive because an earlier version in the same file was (see ``store.versions``).
OWN_TLP_KEY = "version_tlp"

_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")  # STIX allows nanoseconds; we keep microseconds


def version_text(stamp: datetime) -> str:
    """The sortable text of a naive-UTC or aware instant."""
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc).replace(tzinfo=None)
    return (f"{stamp.year:04d}-{stamp.month:02d}-{stamp.day:02d}T{stamp.hour:02d}:"
            f"{stamp.minute:02d}:{stamp.second:02d}.{stamp.microsecond:06d}Z")


def stix_version(obj: dict) -> str | None:
    """The version of a STIX object: its ``modified`` (else ``created``); None if neither parses."""
    for prop in ("modified", "created"):
        value = obj.get(prop)
        if isinstance(value, str):
            try:
                return version_text(parse_time(_LONG_FRACTION.sub(r"\1", value))[0])
            except (ValueError, OverflowError):
                continue
    return None


def epoch_version(value: object) -> str | None:
    """The version of a MISP record: its epoch-seconds ``timestamp``; None if it is not one."""
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or len(text) > 11:
        return None
    try:
        return version_text(datetime.fromtimestamp(int(text), tz=timezone.utc))
    except (ValueError, OverflowError, OSError):
        return None
