"""GDELT events as CSV with a header and quoted fields: R (``write.csv``) and BigQuery exports.

GDELT itself publishes tab-separated files without a header (``adapters.gdelt``); analysts who
pull GDELT 1.0 (or 2.0) events from BigQuery or through R get commas, a header row, quotes
around text, sometimes an extra first column of row names, and ``NA`` for missing values. This
adapter reads those: DuckDB parses the CSV (no Python per row), the header names the columns
(matched to GDELT's names without regard to case; unknown columns are ignored; absent optional
columns are empty), and the fields then go through the very SQL that normalises GDELT's own
files (``gdelt_sql.rows_sql``), so the two give the same events.

Which layout: GDELT 2.0 when the header has ``Actor1Geo_ADM2Code``, else GDELT 1.0.
Missing values: an empty cell or an unquoted ``NA`` (R's marker); a quoted ``"NA"`` stays the
text NA (FIPS ``NA`` is a code). A record is one line (GDELT fields hold no line breaks); a
rejected record is quarantined as its line, verbatim.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from hybridwatch.adapters.base import Adapter, Batch, ReadOptions, Rejection
from hybridwatch.adapters.gdelt import _accepted, _connect, _LineReader
from hybridwatch.adapters.gdelt_sql import FIELD_SEP, GDELT1, GDELT2, Layout, rows_sql
from hybridwatch.adapters.textio import decode_head, plain_copy
from hybridwatch.errors import FormatError, InputError

#: Columns without which a row cannot be an event.
REQUIRED = ("GLOBALEVENTID", "SQLDATE", "EventCode")


def _header(head: bytes) -> list[str]:
    first = decode_head(head).split("\n", 1)[0].rstrip("\r")
    return next(csv.reader([first]), [])


def _layout(header: list[str]) -> Layout:
    names = {name.strip().lower() for name in header}
    return GDELT2 if "actor1geo_adm2code" in names else GDELT1


class GdeltCsvAdapter(Adapter):
    """GDELT 1.0/2.0 events as comma-separated values with a header row."""

    name = "gdelt-csv"
    description = ("GDELT 1.0/2.0 events as CSV with a header and quoted fields "
                   "(R write.csv, BigQuery exports)")

    def sniff(self, path: Path, head: bytes) -> int:
        names = {name.strip().lower() for name in _header(head)}
        return 96 if {"globaleventid", "sqldate", "eventcode"} <= names else 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        # a .gz/.zip is expanded first under the decompression limits (DuckDB reads no zip and
        # would expand a .gz unbounded)
        with plain_copy(path, options.scratch_dir) as plain:
            yield from self._read_plain(plain, path, options)

    def _read_plain(self, plain: Path, path: Path, options: ReadOptions) -> Iterator[Batch]:
        with open(plain, "rb") as handle:
            header = _header(handle.read(1 << 16))
        layout = _layout(header)
        position = {name.strip().lower(): i for i, name in enumerate(header)}
        missing = [c for c in REQUIRED if c.lower() not in position]
        if missing:
            raise FormatError(path, f"not a GDELT CSV export: no column {', '.join(missing)} "
                                    f"in the header ({', '.join(header[:8])} …)")
        # DuckDB names columns by position, so duplicate or empty header names do no harm
        columns = {f"c{i}": "VARCHAR" for i in range(len(header))}
        fields = ", ".join(f"coalesce(c{position[c.lower()]}, '')" if c.lower() in position
                           else "''" for c in layout.columns)
        quoted = str(plain).replace("'", "''")
        lines = (f"SELECT ordinality + 1 AS _ordinal, NULL::VARCHAR AS _line, [{fields}] AS p "
                 f"FROM read_csv('{quoted}', header=true, columns={columns}, delim=',', "
                 "quote='\"', escape='\"', nullstr=['NA', ''], allow_quoted_nulls=false, "
                 "auto_detect=false, strict_mode=false, null_padding=true, compression='none', "
                 f"max_line_size={options.max_record_bytes}) WITH ORDINALITY")
        sql = rows_sql(lines, layout, escape_json=True, not_after=options.not_after())
        with _connect(options) as con:
            yield from _stream(con, path, plain, sql, options)


def _stream(con: duckdb.DuckDBPyConnection, path: Path, plain: Path, sql: str,
            options: ReadOptions) -> Iterator[Batch]:
    """One ``Batch`` per Arrow batch; rejected rows carry their line read back from the file
    (``plain``: the file itself or its expanded copy; errors name ``path``)."""
    reader = _LineReader(plain)
    try:
        for record_batch in con.sql(sql).to_arrow_reader(options.batch_rows):
            yield Batch("events", _accepted(record_batch), _rejections(record_batch, reader))
    except duckdb.Error as exc:
        raise InputError(path, f"cannot parse as CSV ({str(exc).splitlines()[0]})") from exc
    finally:
        reader.close()


def _rejections(record_batch: pa.RecordBatch, reader: _LineReader) -> list[Rejection]:
    problem = record_batch.column("_problem")
    if problem.null_count == len(problem):
        return []
    rows = [(line, text) for line, text in zip(record_batch.column("_ordinal").to_pylist(),
                                               problem.to_pylist()) if text is not None]
    raw = reader.lines([line for line, _ in rows])
    found = []
    for line, text in rows:
        field, reason = text.split(FIELD_SEP, 1)
        found.append(Rejection(reason=reason, line=line, field=field or None,
                               raw=raw[line].decode("utf-8", errors="backslashreplace")))
    return found


ADAPTERS = (GdeltCsvAdapter(),)
