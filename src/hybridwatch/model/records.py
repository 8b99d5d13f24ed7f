"""The records an input yields, shared by adapters (which make them) and the store (which keeps
them): accepted rows as Arrow batches, rejected ones verbatim with their reason."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

if TYPE_CHECKING:
    import duckdb

RecordKind = Literal["events", "articles", "trade_flows"]


@dataclass(frozen=True)
class Rejection:
    """One record an adapter could not turn into an event, kept verbatim with its reason."""

    reason: str
    raw: str
    line: int | None = None          # 1-based line where the record starts, for text formats
    record: str | None = None        # record locator where lines mean nothing ("object 12 (campaign--…)")
    field: str | None = None         # the field at fault, if one is

    def locator(self) -> str:
        if self.line is not None:
            return f"line {self.line}"
        return f"record {self.record}" if self.record else "record"

    def message(self, path: str) -> str:
        what = f"{self.field}: {self.reason}" if self.field else self.reason
        return f"{path} {self.locator()}: {what}"


@dataclass
class Batch:
    """A slice of one file's records: accepted rows as Arrow, rejected ones as ``Rejection``s."""

    kind: RecordKind
    table: pa.Table
    rejections: list[Rejection] = field(default_factory=list)
    skipped: int = 0        # records a filter left out on purpose (e.g. a mapping's skip_if_empty)
    #: records kept with a value set to null on purpose (a mapping's lenient country), each as
    #: "line 5: victims: target_iso3: unknown country 'Narnia' (name); set to null (lenient)"
    warnings: list[str] = field(default_factory=list)
    exploded: int = 0       # rows beyond one per record (a mapping's explode: one per item)
    #: finding runs the file carries (a hybridwatch STIX export); ingest restores them into the
    #: findings store. Each: kind, run_id, created_at, summary, items (see adapters.stix_findings)
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.table.num_rows - self.exploded + len(self.rejections) + self.skipped


class SqlSource(ABC):
    """A file as one SELECT over DuckDB's own readers, run in the store's connection.

    ``select`` yields the columns of ``kind``'s table plus ``_ordinal`` (file order, from 0),
    ``_problem`` (``field<US>reason`` of the first problem, NULL for a good row) and ``_skip``
    (why a row is left out on purpose, else NULL). Ingest writes it once to a staging Parquet
    file with DuckDB's ``COPY``, counts and quarantines from there, and inserts the good rows
    with one ``INSERT … SELECT``: no row crosses into Python.
    """

    kind: RecordKind
    key: str                   # the id column (first in file order wins)
    #: a table of the store that keeps some columns of each stored row beside it, keyed by
    #: ``key`` (GDELT's unmapped columns, ``model.gdelt_extra``), and those columns; a store
    #: without that table (a Parquet lake) reads the file through the adapter's ``read``
    side_table: str | None = None
    side_columns: tuple[str, ...] = ()

    def prepare(self, scratch: Path) -> None:  # noqa: B027 (optional hook)
        """Before ``select``: a folder of the ingest (its staging folder, removed after it, also
        after a kill) for temporary files, e.g. an unpacked archive. Sources that need none
        need not override it."""

    @abstractmethod
    def select(self, con: duckdb.DuckDBPyConnection) -> str:
        """The SELECT over the file, run once in ``con``; lines DuckDB refuses are kept
        aside for ``rejections``."""

    @abstractmethod
    def rejections(self, con: duckdb.DuckDBPyConnection, problems: list[tuple[int, str]]
                   ) -> tuple[int, list[Rejection]]:
        """After ``select`` ran: the number of lines DuckDB refused, and the rejections (those
        lines and the rows with a ``(_ordinal, _problem)`` in ``problems``) in file order."""

    def quarantine_sql(self, con: duckdb.DuckDBPyConnection, rows: str) -> tuple[int, str] | None:
        """After ``select`` ran and its rows were staged as the relation ``rows``: the number
        of lines DuckDB refused and a SELECT of every rejection as ``line, record, field,
        reason, raw`` (any order: ingest numbers them by line), so quarantine rows are built
        in SQL. None (the default): ingest asks ``rejections`` instead."""
        return None

    def close(self, con: duckdb.DuckDBPyConnection) -> None:  # noqa: B027 (optional hook)
        """After ingest read the rejections: drop what ``select`` left in ``con`` (temporary
        tables, settings). Sources that leave nothing need not override it."""
