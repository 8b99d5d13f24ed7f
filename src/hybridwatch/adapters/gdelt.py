"""GDELT event exports (2.0 fifteen-minute files, 1.0 daily files), parsed and normalised in DuckDB.

GDELT publishes 100–200k events a day, so no Python runs per row: DuckDB reads each line as one
string (``WITH ORDINALITY`` numbers them), splits it on tabs, checks and maps every field in one
SELECT (``gdelt_sql``), and the result streams out as Arrow batches. Python touches only the
rejected rows.

One pass over the bytes comes first (while a .zip is unpacked, or over the plain file): it tells
whether the file holds anything JSON must escape, and whether DuckDB may refuse lines (bad UTF-8,
lines over ``max_record_bytes``, the U+0001 the lines are read with). Only then does a counting
pass collect the refused lines, so that every other line's ordinal converts to its exact line
number while streaming. Blank lines are skipped silently, as in every text adapter.
"""

from __future__ import annotations

import codecs
import shutil
import tempfile
import zipfile
import zlib
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from hybridwatch.adapters.base import Adapter, Batch, ReadOptions, Rejection, SqlSource
from hybridwatch.adapters.gdelt_sql import (
    FIELD_SEP,
    GDELT1,
    GDELT1_COLUMNS,
    GDELT2,
    GDELT2_COLUMNS,
    Layout,
    scan_arguments,
    select_sql,
)
from hybridwatch.adapters.textio import HEAD_BYTES, decompression_limits, open_bytes, read_head
from hybridwatch.errors import FormatError, InputError
from hybridwatch.model import gdelt_extra
from hybridwatch.model.countries import lookup_rows
from hybridwatch.model.schema import EVENT_COLUMNS, EVENT_SCHEMA

__all__ = ["ADAPTERS", "GDELT1_COLUMNS", "GDELT2_COLUMNS", "Gdelt1Adapter", "Gdelt2Adapter"]

_CHUNK_BYTES = 1 << 24


class _GdeltAdapter(Adapter):
    layout: ClassVar[Layout]

    def sniff(self, path: Path, head: bytes) -> int:
        first = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r").split(b"\t")
        if (len(first) in self.layout.field_counts and first[0].isdigit()
                and len(first[1]) == 8 and first[1].isdigit()):
            return 95
        return 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        _check_field_counts(path, read_head(path), self.layout)
        with _plain_file(path, options) as (plain, survey), _connect(options) as con:
            scan = scan_arguments(plain, options.max_record_bytes)
            refused = _refused_lines(con, path, scan) if survey.suspect else []
            sql = select_sql(scan, self.layout, escape_json=survey.needs_escaping,
                             skip_refused=survey.suspect, not_after=options.not_after())
            yield from _stream(con, path, plain, sql, refused, options)


    def sql_source(self, path: Path, options: ReadOptions) -> SqlSource | None:
        """The export as one SELECT inside the store's connection, each record kept verbatim
        for the store's side table (``GdeltSqlSource``); an archive is unpacked first, under
        the decompression limits."""
        return GdeltSqlSource(path, self.layout, options)


class GdeltSqlSource(SqlSource):
    """A plain GDELT export for ingest inside the store's connection (see ``SqlSource``).

    The same SELECT as ``read`` (``gdelt_sql.select_sql``), with each good row's line verbatim
    for the store's side table (``model.gdelt_extra``) instead of the ``extra`` JSON. Lines DuckDB cannot
    read (not UTF-8, too long, a U+0001) are logged by the scan itself in a rejects table, so
    no pass over the bytes comes first; their raw bytes are read back from the file by line
    number (few lines, in Python), every other rejection is built in SQL from the staged rows.
    """

    kind = "events"
    key = "event_id"
    side_table = gdelt_extra.TABLE
    side_columns = ("record",)
    _REJECTS = ("_hw_gdelt_rejects", "_hw_gdelt_reject_scans")
    _REFUSED = "_hw_gdelt_refused"
    _TEMP = (*_REJECTS, _REFUSED, "cameo", "fips")

    def __init__(self, path: Path, layout: Layout, options: ReadOptions) -> None:
        self.path, self.layout, self.options = path, layout, options
        self.plain = path  # the text DuckDB reads: the file, or its unpacked copy

    def prepare(self, scratch: Path) -> None:
        """Unpack a .zip or .gz export into ``scratch`` (DuckDB reads no zip, and a plain file
        lets it parse in parallel), under the decompression limits of the options."""
        with open(self.path, "rb") as probe:
            if not probe.read(4).startswith((b"PK", b"\x1f\x8b")):
                return
        plain = scratch / "gdelt-export.tsv"
        with decompression_limits(self.options.decompression_limits()):
            try:
                with open_bytes(self.path) as source, open(plain, "wb") as target:
                    shutil.copyfileobj(source, target, _CHUNK_BYTES)
            except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
                raise InputError(self.path, f"truncated or corrupt archive ({exc})") from exc
        self.plain = plain

    def select(self, con: duckdb.DuckDBPyConnection) -> str:
        with decompression_limits(self.options.decompression_limits()):
            _check_field_counts(self.path, read_head(self.path), self.layout)
        self._drop(con)
        _create_lookups(con, "TEMP TABLE")
        con.execute(f"SET disabled_optimizers = '{_KEEP_JOINS}'")  # reset by quarantine_sql
        sql = select_sql(scan_arguments(self.plain, self.options.max_record_bytes), self.layout,
                         escape_json=True, skip_refused=False,
                         not_after=self.options.not_after(), rejects=self._REJECTS,
                         side_table=True)
        return f"SELECT *, NULL::VARCHAR AS _skip FROM ({sql})"

    def _refused(self, con: duckdb.DuckDBPyConnection) -> list[_Refused]:
        rows = con.execute(f"SELECT line, any_value(error_type), min(error_message) "
                           f"FROM {self._REJECTS[0]} GROUP BY line ORDER BY line").fetchall()
        return [_Refused(int(line), str(kind), str(message)) for line, kind, message in rows]

    def quarantine_sql(self, con: duckdb.DuckDBPyConnection, rows: str) -> tuple[int, str]:
        con.execute("RESET disabled_optimizers")
        refused = self._refused(con)
        reader = _LineReader(self.plain)
        try:
            kept = _refusals(reader, refused, self.options)
        finally:
            reader.close()
        con.execute(f"CREATE OR REPLACE TEMP TABLE {self._REFUSED} "
                    "(line BIGINT, reason VARCHAR, raw VARCHAR)")
        if kept:
            con.executemany(f"INSERT INTO {self._REFUSED} VALUES (?, ?, ?)",
                            [(r.line, r.reason, r.raw) for r in kept])
        # before refused line j (1-based) DuckDB read ``line_j - j`` lines (see ``_stream``)
        thresholds = [item.line - j for j, item in enumerate(refused, start=1)]
        line = (f"_ordinal + len(list_filter({thresholds}::BIGINT[], lambda t: t < _ordinal))"
                if thresholds else "_ordinal")
        sep = FIELD_SEP
        return len(refused), f"""
            SELECT {line} AS line, NULL::VARCHAR AS record,
                   nullif(split_part(_problem, '{sep}', 1), '') AS field,
                   substr(_problem, strpos(_problem, '{sep}') + 1) AS reason, _raw AS raw
            FROM {rows} WHERE _problem IS NOT NULL
            UNION ALL
            SELECT line, NULL, NULL, reason, raw FROM {self._REFUSED}"""

    def rejections(self, con: duckdb.DuckDBPyConnection, problems: list[tuple[int, str]]
                   ) -> tuple[int, list[Rejection]]:
        """The same rejections as ``quarantine_sql``, as objects: rows' raw text read back
        from the file by line number."""
        refused = self._refused(con)
        thresholds = [item.line - j for j, item in enumerate(refused, start=1)]
        reader = _LineReader(self.plain)
        try:
            found = _refusals(reader, refused, self.options)
            lines = [(_line_of(o, thresholds), p) for o, p in problems]
            raw = reader.lines([n for n, _ in lines]) if lines else {}
        finally:
            reader.close()
        for number, problem in lines:
            field, reason = problem.split(FIELD_SEP, 1)
            found.append(Rejection(reason=reason, line=number, field=field or None,
                                   raw=raw[number].decode("utf-8", errors="backslashreplace")))
        found.sort(key=lambda r: r.line or 0)
        return len(refused), found

    def close(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop the temporary tables of this source."""
        con.execute("RESET disabled_optimizers")
        self._drop(con)

    def _drop(self, con: duckdb.DuckDBPyConnection) -> None:
        for table in self._TEMP:
            con.execute(f"DROP TABLE IF EXISTS temp.{table}")


class Gdelt2Adapter(_GdeltAdapter):
    """GDELT 2.0 events export (``*.export.CSV[.zip]``): 61 tab-separated columns."""

    name = "gdelt2"
    description = "GDELT 2.0 events export (*.export.CSV[.zip], 61 tab-separated columns)"
    layout = GDELT2


class Gdelt1Adapter(_GdeltAdapter):
    """GDELT 1.0 daily events export: 57 tab-separated columns, 58 with SOURCEURL (April 2013 on)."""

    name = "gdelt1"
    description = "GDELT 1.0 daily events export (57/58 tab-separated columns)"
    layout = GDELT1


# -- whole-file checks --------------------------------------------------------------------------

def _check_field_counts(path: Path, head: bytes, layout: Layout) -> None:
    """``FormatError`` unless some line of the first 64 KiB has the layout's field count."""
    lines = head.split(b"\n")
    if len(head) == HEAD_BYTES:
        lines = lines[:-1]  # the last line of the head may be cut off
        if not lines:
            return  # one line longer than the head: leave it to the per-line checks
    counts = Counter(line.count(b"\t") + 1 for line in lines[:200] if line.strip())
    if not any(count in layout.field_counts for count in counts):
        found = counts.most_common(1)[0][0]
        raise FormatError(path, f"not a {layout.label}: expected {layout.expected} "
                                f"tab-separated columns, found {found} "
                                f"(checked {sum(counts.values())} lines)")


# JSON must escape '"', '\' and control characters; tab and line ends never reach a value
_JSON_ESCAPED = bytes(b for b in range(0x20) if b not in b"\t\n\r") + b'"\\'
_CONTROL = bytes(b for b in range(0x20) if b not in b"\t\n\r")


@dataclass
class _Survey:
    """What one pass over the bytes found out."""

    max_line_bytes: int
    needs_escaping: bool = False  # a byte JSON strings must escape
    suspect: bool = False         # DuckDB may refuse a line: not UTF-8, too long, a control char
    _run: int = 0                 # bytes of the current line seen so far

    def __post_init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def feed(self, chunk: bytes) -> None:
        # control characters are among the bytes JSON escapes: look for them only if those occur
        escaped = len(chunk.translate(None, _JSON_ESCAPED)) != len(chunk)
        self.needs_escaping |= escaped
        if self.suspect:
            return
        if escaped and len(chunk.translate(None, _CONTROL)) != len(chunk):
            self.suspect = True
        elif not chunk.isascii() or self._decoder.getstate()[0]:
            try:
                self._decoder.decode(chunk)
            except UnicodeDecodeError:
                self.suspect = True
        self._check_line_lengths(chunk)

    def _check_line_lengths(self, chunk: bytes) -> None:
        """Hop from newline to newline at most ``max_line_bytes`` apart; a longer gap is a
        line DuckDB refuses. Few hops, each one C-speed ``rfind``."""
        pos, run = 0, self._run
        while not self.suspect:
            window_end = pos + self.max_line_bytes - run
            if window_end >= len(chunk):
                last = chunk.rfind(b"\n", pos)
                self._run = len(chunk) - last - 1 if last >= 0 else run + len(chunk) - pos
                self.suspect = self._run >= self.max_line_bytes
                return
            last = chunk.rfind(b"\n", pos, window_end)
            if last < 0:
                self.suspect = True
                return
            pos, run = last + 1, 0


@contextmanager
def _plain_file(path: Path, options: ReadOptions) -> Iterator[tuple[Path, _Survey]]:
    """``path`` itself if it is plain text, else its unpacked copy in a temporary folder (DuckDB
    reads no zip, and a seekable file lets it parse in parallel), with the survey of its bytes."""
    survey = _Survey(max_line_bytes=options.max_record_bytes)
    with open(path, "rb") as probe:
        magic = probe.read(4)
    if not magic.startswith((b"PK", b"\x1f\x8b")):
        with open(path, "rb") as stream:
            while chunk := stream.read(_CHUNK_BYTES):
                survey.feed(chunk)
        yield path, survey
        return
    with tempfile.TemporaryDirectory(prefix="hybridwatch-gdelt-",
                                     dir=options.scratch_dir) as folder:
        plain = Path(folder) / "export.tsv"
        try:
            with open_bytes(path) as source, open(plain, "wb") as target:
                while chunk := source.read(_CHUNK_BYTES):
                    survey.feed(chunk)
                    target.write(chunk)
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
            raise InputError(path, f"truncated or corrupt archive ({exc})") from exc
        yield plain, survey


@contextmanager
def _connect(options: ReadOptions) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the country lookups as tables ``cameo`` and ``fips``."""
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{options.memory_limit}'")
        con.execute("SET threads = 2")
        if options.scratch_dir is not None:  # spill there, not into ./.tmp
            spill = str(Path(options.scratch_dir) / "duckdb-spill").replace("'", "''")
            con.execute(f"SET temp_directory = '{spill}'")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET disabled_optimizers = '{_KEEP_JOINS}'")
        _create_lookups(con, "TABLE")
        yield con
    finally:
        con.close()


#: DuckDB guesses a CSV has a few dozen rows and would build its join hash tables on the file,
#: not the lookups (holding the whole file in memory): these optimizers stay off, so the LEFT
#: JOINs run as written
_KEEP_JOINS = "join_order,build_side_probe_side"


def _create_lookups(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    """The country lookups as tables ``cameo`` and ``fips`` (``kind``: TABLE, or TEMP TABLE in
    the store's connection)."""
    for system in ("cameo", "fips"):
        # a VALUES list: registering an Arrow table costs more than the whole lookup
        codes = dict(lookup_rows(system))  # a duplicate code would duplicate joined rows
        rows = ", ".join(f"({_sql_text(code)}, {_sql_text(iso3)})"
                         for code, iso3 in codes.items())
        con.execute(f"CREATE OR REPLACE {kind} {system} AS SELECT * FROM (VALUES {rows}) "
                    "t(code, iso3)")


def _sql_text(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


# -- lines DuckDB refuses -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Refused:
    line: int
    error_type: str
    message: str


def _refused_lines(con: duckdb.DuckDBPyConnection, path: Path, scan: str) -> list[_Refused]:
    """The lines DuckDB cannot read at all, from a counting pass with ``store_rejects``."""
    try:
        con.execute(f"SELECT count(*) FROM read_csv({scan}, store_rejects=true, "
                    "rejects_table='gdelt_rejects', rejects_scan='gdelt_scans')").fetchall()
        rows = con.execute("SELECT line, error_type, error_message "
                           "FROM gdelt_rejects ORDER BY line").fetchall()
    except duckdb.Error as exc:
        raise InputError(path, f"cannot read as text ({str(exc).splitlines()[0]})") from exc
    found: dict[int, _Refused] = {}  # one line can fail more than one check
    for line, error_type, message in rows:
        found.setdefault(int(line), _Refused(int(line), str(error_type), str(message)))
    return list(found.values())


class _LineReader:
    """Reads chosen lines of a file, in increasing order, in one forward pass overall."""

    def __init__(self, plain: Path) -> None:
        self._plain = plain
        self._file: IO[bytes] | None = None
        self._number = 0  # lines read so far

    def lines(self, wanted: list[int]) -> dict[int, bytes]:
        """The given 1-based lines (each above those asked before), without line ends."""
        if self._file is None:
            self._file = open(self._plain, "rb")  # noqa: SIM115 (closed by close())
        found: dict[int, bytes] = {}
        for target in sorted(wanted):
            line = b""
            while self._number < target:
                line = self._file.readline()
                self._number += 1
            found[target] = line.removesuffix(b"\n").removesuffix(b"\r")
        return found

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _refusals(reader: _LineReader, items: list[_Refused],
              options: ReadOptions) -> list[Rejection]:
    """``Rejection``s whose raw text is each line's bytes read back from the file by number
    (DuckDB's own copy has bad bytes replaced and long lines cut)."""
    raw_lines = reader.lines([item.line for item in items])
    found = []
    for item in items:
        raw_bytes = raw_lines[item.line]
        if item.error_type == "INVALID ENCODING":
            reason = (f"not UTF-8 text (byte 0x{_first_bad_byte(raw_bytes):02x}); "
                      "re-save the file as UTF-8")
        elif item.error_type == "LINE SIZE OVER MAXIMUM":
            reason = (f"oversized record ({len(raw_bytes):,} bytes > "
                      f"{options.max_record_bytes:,} bytes)")
        elif item.error_type == "TOO MANY COLUMNS":
            reason = "control character U+0001 in line"
        else:
            reason = f"unreadable line ({item.message})"
        raw = raw_bytes.decode("utf-8", errors="backslashreplace")
        found.append(Rejection(reason=reason, raw=raw, line=item.line))
    return found


def _first_bad_byte(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data[exc.start]
    return 0


# -- streaming ----------------------------------------------------------------------------------

def _stream(con: duckdb.DuckDBPyConnection, path: Path, plain: Path, sql: str,
            refused: list[_Refused], options: ReadOptions) -> Iterator[Batch]:
    """Run ``sql`` and yield one ``Batch`` per Arrow batch, rejections in line order."""
    # before refused line j (1-based) DuckDB read ``line_j - j`` lines: a row with ordinal o
    # comes after every refused line whose threshold is below o
    thresholds = [item.line - j for j, item in enumerate(refused, start=1)]
    handed = 0  # refused lines already handed out
    reader = _LineReader(plain)
    try:
        for record_batch in con.sql(sql).to_arrow_reader(options.batch_rows):
            last_line = _line_of(pc.max(record_batch.column("_ordinal")).as_py() or 0,
                                 thresholds)
            due = handed
            while due < len(refused) and refused[due].line < last_line:
                due += 1
            rejections = (_row_rejections(record_batch, thresholds)
                          + _refusals(reader, refused[handed:due], options))
            handed = due
            rejections.sort(key=lambda r: r.line or 0)
            yield Batch("events", _accepted(record_batch), rejections)
        if handed < len(refused):
            yield Batch("events", EVENT_SCHEMA.empty_table(),
                        _refusals(reader, refused[handed:], options))
    except duckdb.Error as exc:
        raise InputError(path, f"cannot parse ({str(exc).splitlines()[0]})") from exc
    finally:
        reader.close()


def _line_of(ordinal: int, thresholds: list[int]) -> int:
    return ordinal + bisect_left(thresholds, ordinal)


def _accepted(record_batch: pa.RecordBatch) -> pa.Table:
    table = pa.Table.from_batches([record_batch])
    problem = table.column("_problem")
    if problem.null_count != table.num_rows:
        table = table.filter(pc.is_null(problem))
    return pa.Table.from_arrays([table.column(name) for name in EVENT_COLUMNS],
                                schema=EVENT_SCHEMA)


def _row_rejections(record_batch: pa.RecordBatch, thresholds: list[int]) -> list[Rejection]:
    problem = record_batch.column("_problem")
    if problem.null_count == len(problem):
        return []
    rejected = record_batch.filter(pc.is_valid(problem))
    found = []
    for ordinal, text, raw in zip(rejected.column("_ordinal").to_pylist(),
                                  rejected.column("_problem").to_pylist(),
                                  rejected.column("_raw").to_pylist()):
        field, reason = text.split(FIELD_SEP, 1)
        found.append(Rejection(reason=reason, raw=raw, line=_line_of(ordinal, thresholds),
                               field=field or None))
    return found


ADAPTERS = (Gdelt2Adapter(), Gdelt1Adapter())
