"""The loop every header-row CSV adapter shares: records → converted rows → batches + rejections."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from hybridwatch.adapters.base import (
    RECORD_FAULTS, Batch, RecordKind, Rejection, RowBuilder, record_error,
)
from hybridwatch.adapters.textio import CsvRecord

FLUSH_ROWS = 50_000


def csv_batches(records: Iterator[CsvRecord], header: list[str], *, kind: RecordKind,
                source: str, convert: Callable[[dict[str, str]], Mapping[str, Any]],
                flush_rows: int = FLUSH_ROWS, not_after: datetime | None = None
                ) -> Iterator[Batch]:
    """Turn each record into a row with ``convert`` (which raises ``RecordError`` for a bad one);
    unreadable, ragged and bad records become rejections that keep the raw text; records dated
    after ``not_after`` (default: a day from now) are rejected too."""
    builder = RowBuilder(kind, source, not_after=not_after)
    rejections: list[Rejection] = []
    for record in records:
        if record.fields is None:
            rejections.append(Rejection(record.problem or "unreadable", record.raw,
                                        line=record.line))
        elif len(record.fields) != len(header):
            rejections.append(Rejection(
                f"ragged row: {len(record.fields)} fields, header has {len(header)}",
                record.raw, line=record.line))
        else:
            try:
                builder.append(convert(dict(zip(header, record.fields))))
            except RECORD_FAULTS as caught:
                exc = record_error(caught)
                rejections.append(Rejection(exc.reason, record.raw, line=record.line,
                                            field=exc.field))
        if len(builder) + len(rejections) >= flush_rows:
            yield Batch(kind, builder.flush(), rejections)
            rejections = []
    if len(builder) or rejections:
        yield Batch(kind, builder.flush(), rejections)
