"""What every adapter is: a format name, a sniffer, and a reader that yields Arrow batches.

An adapter never raises for one bad record: it yields a ``Rejection`` (kept verbatim in
quarantine) and goes on. It raises ``InputError``/``FormatError`` only when the file as a whole
cannot be read (empty, wrong format, missing columns, corrupt archive).
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from hybridwatch.adapters.textio import DecompressionLimits
from hybridwatch.model.domains import DOMAINS
# re-exported: every adapter builds these
from hybridwatch.model.records import Batch, RecordKind, Rejection, SqlSource  # noqa: F401
from hybridwatch.model.targets import target_list
from hybridwatch.model.schema import (
    ARTICLE_SCHEMA, EVENT_SCHEMA, INTENSITY_KINDS, PRECISIONS, TLP_LEVELS, record_id_hash,
)
from hybridwatch.model.times import future_reason, latest_plausible, to_naive_utc

@dataclass(frozen=True)
class ReadOptions:
    """Per-ingest settings an adapter may use."""

    mapping_path: Path | None = None      # TOML mapping for the ``mapped`` adapter
    batch_rows: int = 100_000             # rows per yielded batch for columnar adapters
    max_record_bytes: int = 1 << 20       # longer records are rejected ("oversized line"),
                                          # checked while reading
    #: a compressed input may expand to at most this many bytes, and at most this many times
    #: its own size (``textio.DecompressionLimits``); beyond either the file is refused
    max_expanded_bytes: int = DecompressionLimits.max_bytes
    max_expansion_ratio: float = DecompressionLimits.max_ratio
    memory_limit: str = "400MB"           # DuckDB memory cap for SQL-based adapters
    #: when the file is ingested (naive UTC; None: now). Records dated more than
    #: ``model.times.FUTURE_TOLERANCE`` after it are rejected ("dated after its ingest time").
    ingest_time: datetime | None = None
    #: a folder for an adapter's temporary files (unpacked archives, DuckDB spill); ingest
    #: passes its staging folder, so a killed ingest leaves them where the next one cleans up
    scratch_dir: Path | None = None

    def decompression_limits(self) -> DecompressionLimits:
        return DecompressionLimits(max_bytes=self.max_expanded_bytes,
                                   max_ratio=self.max_expansion_ratio)

    def not_after(self) -> datetime:
        """The latest date a record of this ingest may carry."""
        return latest_plausible(self.ingest_time)


class RecordError(ValueError):
    """Raised inside an adapter for one bad record; the adapter turns it into a ``Rejection``."""

    def __init__(self, field_name: str | None, reason: str) -> None:
        self.field = field_name
        self.reason = reason
        super().__init__(f"{field_name}: {reason}" if field_name else reason)


#: What converting one malformed record can raise (a number where text was expected, a list
#: where an object was …). Adapters catch these around one record's conversion and quarantine
#: that record with the reason: one bad record never sinks a file.
RECORD_FAULTS = (RecordError, AttributeError, TypeError, KeyError, IndexError, ValueError,
                 OverflowError, RecursionError)


def record_error(exc: BaseException) -> RecordError:
    """``exc`` as the ``RecordError`` its record is quarantined with."""
    if isinstance(exc, RecordError):
        return exc
    text = str(exc)[:200]
    return RecordError(None, f"malformed record ({type(exc).__name__}{': ' + text if text else ''})")


class Adapter(ABC):
    """A reader for one input format. Subclasses set ``name`` and implement ``sniff`` and ``read``."""

    name: ClassVar[str]                       # the ``--format`` value
    description: ClassVar[str]                # one line for ``hybridwatch formats`` and the docs
    kind: ClassVar[RecordKind] = "events"     # which table the rows go to

    @abstractmethod
    def sniff(self, path: Path, head: bytes) -> int:
        """How sure (0–100) this adapter is that ``head`` (the file's first 64 KiB,
        decompressed) is its format. 0 means no."""

    @abstractmethod
    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        """Yield batches of accepted rows and rejections, in file order."""

    def sql_source(self, path: Path, options: ReadOptions) -> SqlSource | None:
        """The whole file as one DuckDB SELECT that ingest runs inside the store's own
        connection (no rows pass through Python), or None to be read through ``read``. Both
        must give the same rows and rejections."""
        return None

    def settings_digest(self, options: ReadOptions) -> str | None:
        """sha256 of the settings that change what this adapter makes of a file (a mapping's
        content), or None when it has none. Part of the ingest fingerprint, so the same file
        read with a corrected mapping is ingested again."""
        return None


class RowBuilder:
    """Collects rows as dicts, checks them against the model, and emits Arrow tables.

    Row-wise adapters (STIX, MISP, CSV formats) use it; ``append`` raises ``RecordError`` for a
    row that breaks the model, so the adapter can reject that one record and go on. A record
    dated after ``not_after`` (``ReadOptions.not_after()``: the ingest time plus a day's
    tolerance; default now) breaks it too.
    """

    def __init__(self, kind: RecordKind, source: str, *,
                 not_after: datetime | None = None) -> None:
        self.kind = kind
        self.source = source
        self.not_after = not_after if not_after is not None else latest_plausible()
        self.schema = EVENT_SCHEMA if kind == "events" else ARTICLE_SCHEMA
        self._id_column = "event_id" if kind == "events" else "article_id"
        self._columns: dict[str, list[Any]] = {name: [] for name in self.schema.names}
        # checked on append, so one record of the wrong type never breaks a whole batch
        self._text = [f.name for f in self.schema if f.type == pa.string()]
        self._numbers = [f.name for f in self.schema if f.type == pa.float64()]

    def __len__(self) -> int:
        return len(self._columns[self._id_column])

    def append(self, row: Mapping[str, Any]) -> None:
        """Check ``row`` (keys are schema column names; missing keys are null) and keep it."""
        unknown = set(row) - set(self.schema.names)
        if unknown:
            raise ValueError(f"not columns of the {self.kind} schema: {sorted(unknown)}")
        checked = dict(row)
        record_id = checked.get("source_record_id")
        if record_id is None or str(record_id).strip() == "":
            raise RecordError("source_record_id", "missing record id")
        checked["source_record_id"] = str(record_id)
        checked["source"] = self.source
        checked[self._id_column] = record_id_hash(self.source, checked["source_record_id"])
        if self.kind == "events":
            checked["target_iso3s"] = target_list(checked.get("target_iso3s"))
            _check_event(checked)
            _check_not_future(checked, "occurred_at", self.not_after)
        else:
            _check_article(checked)
            _check_not_future(checked, "published_at", self.not_after)
        extra = checked.get("extra")
        if extra is not None and not isinstance(extra, str):
            checked["extra"] = json.dumps(extra, ensure_ascii=False, sort_keys=True, default=str) \
                if extra else None
        for name in self._text:
            checked[name] = _as_text(name, checked.get(name))
        for name in self._numbers:
            value = checked.get(name)
            if value is not None and (isinstance(value, bool) or
                                      not isinstance(value, (int, float))):
                raise RecordError(name, f"not a number ({str(value)[:40]!r})")
        for name, values in self._columns.items():
            values.append(checked.get(name))

    def truncate(self, rows: int) -> None:
        """Drop the rows appended after the first ``rows`` (a record that failed half-way)."""
        for values in self._columns.values():
            del values[rows:]

    def flush(self) -> pa.Table:
        """Return the rows collected so far as a table and start afresh."""
        table = pa.table(self._columns, schema=self.schema)
        self._columns = {name: [] for name in self.schema.names}
        return table


def _as_text(name: str, value: Any) -> str | None:
    """A text column's value: text as is, a number as its text (a MISP ``info`` of 7);
    anything else (a list, an object) is no text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise RecordError(name, f"not text (a {type(value).__name__})")


#: Plausible intensity per kind; beyond it a value is a typo or an attack (``fatalities=1e400``).
INTENSITY_RANGES = {"goldstein": (-10.0, 10.0), "fatalities": (0.0, 1e6),
                    "threat_level": (1.0, 4.0), "sorties": (0.0, 1e5)}


def _check_event(row: dict[str, Any]) -> None:
    if not isinstance(row.get("occurred_at"), datetime):
        raise RecordError("occurred_at", "missing date")
    if row.get("occurred_precision") not in PRECISIONS:
        raise RecordError("occurred_precision", f"not one of {PRECISIONS}")
    ended = row.get("ended_at")
    if ended is not None and ended < row["occurred_at"]:
        raise RecordError("ended_at", f"ends ({ended:%Y-%m-%d}) before it starts "
                                      f"({row['occurred_at']:%Y-%m-%d})")
    if row.get("domain") not in DOMAINS:
        raise RecordError("domain", f"not a hybrid-threat domain ({row.get('domain')!r})")
    kind = row.get("intensity_kind")
    if kind is not None and kind not in INTENSITY_KINDS:
        raise RecordError("intensity_kind", f"not one of {INTENSITY_KINDS}")
    if row.get("tlp") is not None and row["tlp"] not in TLP_LEVELS:
        raise RecordError("tlp", f"not a TLP 2.0 level ({row['tlp']!r})")
    for name in ("lat", "lon", "intensity"):
        value = row.get(name)
        if value is not None and not math.isfinite(value):
            raise RecordError(name, f"not a finite number ({value})")
    for name in ("lat", "lon"):
        value = row.get(name)
        limit = 90 if name == "lat" else 180
        if value is not None and not -limit <= value <= limit:
            raise RecordError(name, f"out of range ({value})")
    low, high = INTENSITY_RANGES.get(kind, (-1e15, 1e15))
    if row.get("intensity") is not None and not low <= row["intensity"] <= high:
        raise RecordError("intensity", f"{row['intensity']:g} is outside the plausible range of "
                                       f"{kind or 'an intensity'} ({low:g} to {high:g})")


def _check_not_future(row: dict[str, Any], name: str, not_after: datetime) -> None:
    value = to_naive_utc(row[name])
    if value > not_after:
        raise RecordError(name, future_reason(value, not_after))


def _check_article(row: dict[str, Any]) -> None:
    if not isinstance(row.get("published_at"), datetime):
        raise RecordError("published_at", "missing date")
    if not row.get("outlet"):
        raise RecordError("outlet", "missing outlet")
    if not (row.get("title") or row.get("text")):
        raise RecordError("title", "article has neither title nor text")
