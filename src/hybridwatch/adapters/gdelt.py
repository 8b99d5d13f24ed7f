"""GDELT event exports (2.0 fifteen-minute files, 1.0 daily files), parsed and normalised in DuckDB.

GDELT publishes 100–200k events a day, so no Python runs per row: DuckDB reads each line as one
string (``WITH ORDINALITY`` numbers them), splits it on tabs, checks and maps every field in one
SELECT, and the result streams out as Arrow batches. Python only touches rejected rows.

Line numbers: DuckDB itself refuses a few lines (bad UTF-8, longer than ``max_record_bytes``, a
U+0001 control character, which is the delimiter we read with). A first counting pass collects
those, so the ordinal of every other line converts to its exact line number while streaming.
Blank lines are skipped silently, as in every text adapter.
"""

from __future__ import annotations

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
from typing import ClassVar

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from hybridwatch.adapters.base import Adapter, Batch, ReadOptions, Rejection
from hybridwatch.adapters.textio import open_bytes, read_head
from hybridwatch.errors import FormatError, InputError
from hybridwatch.model.countries import lookup_rows
from hybridwatch.model.domains import cameo_domain_sql
from hybridwatch.model.schema import EVENT_COLUMNS, EVENT_SCHEMA

__all__ = ["GDELT1_COLUMNS", "GDELT2_COLUMNS", "Gdelt1Adapter", "Gdelt2Adapter", "ADAPTERS"]

_ACTOR = ("Code", "Name", "CountryCode", "KnownGroupCode", "EthnicCode", "Religion1Code",
          "Religion2Code", "Type1Code", "Type2Code", "Type3Code")
_EVENT = ("IsRootEvent", "EventCode", "EventBaseCode", "EventRootCode", "QuadClass",
          "GoldsteinScale", "NumMentions", "NumSources", "NumArticles", "AvgTone")
_GEO2 = ("Type", "FullName", "CountryCode", "ADM1Code", "ADM2Code", "Lat", "Long", "FeatureID")
_GEO1 = tuple(f for f in _GEO2 if f != "ADM2Code")  # GDELT 1.0 has no ADM2Code


def _columns(geo: tuple[str, ...]) -> tuple[str, ...]:
    return (("GLOBALEVENTID", "SQLDATE", "MonthYear", "Year", "FractionDate")
            + tuple(f"Actor{n}{f}" for n in (1, 2) for f in _ACTOR) + _EVENT
            + tuple(f"{g}_{f}" for g in ("Actor1Geo", "Actor2Geo", "ActionGeo") for f in geo)
            + ("DATEADDED", "SOURCEURL"))


#: The 61 columns of a GDELT 2.0 events export, in file order.
GDELT2_COLUMNS = _columns(_GEO2)
#: The 58 columns of a GDELT 1.0 daily export; files before April 2013 stop at DATEADDED (57).
GDELT1_COLUMNS = _columns(_GEO1)

# Source columns that become event fields; every other non-empty column goes to ``extra``. The
# country codes stay in extra too: CAMEO regions ("EUR") and FIPS codes say more than the ISO3.
_MAPPED = {"GLOBALEVENTID", "SQLDATE", "Actor1Code", "Actor1Name", "EventCode", "GoldsteinScale",
           "ActionGeo_FullName", "ActionGeo_Lat", "ActionGeo_Long", "SOURCEURL"}
# Measures written into ``extra`` as JSON numbers (everything else stays a string, "043" too).
_INTEGERS = {"MonthYear", "Year", "IsRootEvent", "QuadClass", "NumMentions", "NumSources",
             "NumArticles", "Actor1Geo_Type", "Actor2Geo_Type", "ActionGeo_Type"}
_DECIMALS = {"FractionDate", "AvgTone", "Actor1Geo_Lat", "Actor1Geo_Long", "Actor2Geo_Lat",
             "Actor2Geo_Long"}
_DELIMITER = "\x01"  # lines are read whole: no GDELT field contains U+0001
_FIELD_SEP = "\x1f"  # between field name and reason in the SQL ``_problem`` column


@dataclass(frozen=True)
class _Layout:
    label: str                      # "GDELT 2.0 events export"
    columns: tuple[str, ...]
    field_counts: tuple[int, ...]   # tab-separated fields a valid line has


class _GdeltAdapter(Adapter):
    layout: ClassVar[_Layout]

    def sniff(self, path: Path, head: bytes) -> int:
        first = head.split(b"\n", 1)[0].rstrip(b"\r").split(b"\t")
        if (len(first) in self.layout.field_counts and first[0].isdigit()
                and len(first[1]) == 8 and first[1].isdigit()):
            return 95
        return 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        _check_field_counts(path, read_head(path), self.layout)
        with _plain_file(path) as plain, _connect(options) as con:
            scan = _scan_sql(plain, options)
            structural = _structural_rejects(con, path, plain, scan)
            yield from _stream(con, path, plain, _select_sql(scan, self.layout), structural,
                               options)


class Gdelt2Adapter(_GdeltAdapter):
    """GDELT 2.0 events export (``*.export.CSV[.zip]``): 61 tab-separated columns."""

    name = "gdelt2"
    description = "GDELT 2.0 events export (*.export.CSV[.zip], 61 tab-separated columns)"
    layout = _Layout("GDELT 2.0 events export", GDELT2_COLUMNS, (61,))


class Gdelt1Adapter(_GdeltAdapter):
    """GDELT 1.0 daily events export: 57 tab-separated columns, 58 with SOURCEURL (April 2013 on)."""

    name = "gdelt1"
    description = "GDELT 1.0 daily events export (57/58 tab-separated columns)"
    layout = _Layout("GDELT 1.0 events export", GDELT1_COLUMNS, (57, 58))


# -- whole-file checks and set-up -----------------------------------------------------------------

def _check_field_counts(path: Path, head: bytes, layout: _Layout) -> None:
    """``FormatError`` unless some line of the first 64 KiB has the layout's field count."""
    lines = [line for line in head.split(b"\n") if line.strip()]
    if len(lines) > 1 and not head.endswith(b"\n"):
        lines = lines[:-1]  # the last line of the head may be cut off
    counts = Counter(line.count(b"\t") + 1 for line in lines[:200])
    if not any(count in layout.field_counts for count in counts):
        expected = " or ".join(str(n) for n in layout.field_counts)
        found = counts.most_common(1)[0][0]
        raise FormatError(path, f"not a {layout.label}: expected {expected} tab-separated "
                                f"columns, found {found} (checked {sum(counts.values())} lines)")


@contextmanager
def _plain_file(path: Path) -> Iterator[Path]:
    """``path`` itself if it is plain text, else its decompressed copy in a temporary folder
    (DuckDB reads no zip, and a seekable file lets it parse in parallel)."""
    with open(path, "rb") as probe:
        magic = probe.read(4)
    if not (magic.startswith(b"PK") or magic.startswith(b"\x1f\x8b")):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="hybridwatch-gdelt-") as folder:
        plain = Path(folder) / "export.tsv"
        try:
            with open_bytes(path) as source, open(plain, "wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
            raise InputError(path, f"truncated or corrupt archive ({exc})") from exc
        yield plain


@contextmanager
def _connect(options: ReadOptions) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the country lookups as tables ``cameo`` and ``fips``."""
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{options.memory_limit}'")
        con.execute("SET threads = 2")
        # DuckDB guesses a CSV has a few dozen rows and would build its join hash tables on the
        # file instead of the lookups (holding the whole file in memory): keep LEFT JOINs as written
        con.execute("SET disabled_optimizers = 'join_order,build_side_probe_side'")
        for system in ("cameo", "fips"):
            codes = dict(lookup_rows(system))  # a duplicate code would duplicate joined rows
            con.register(f"{system}_lookup", pa.table({"code": list(codes),
                                                       "iso3": list(codes.values())},
                                                      schema=pa.schema([("code", pa.string()),
                                                                        ("iso3", pa.string())])))
            con.execute(f"CREATE TABLE {system} AS SELECT * FROM {system}_lookup")
        yield con
    finally:
        con.close()


def _scan_sql(plain: Path, options: ReadOptions) -> str:
    """Arguments of a ``read_csv`` of one VARCHAR per line (bad UTF-8, oversized lines fail)."""
    quoted = str(plain).replace("'", "''")
    return (f"'{quoted}', delim='{_DELIMITER}', header=false, columns={{'line': 'VARCHAR'}}, "
            "quote='', escape='', comment='', auto_detect=false, compression='none', "
            f"max_line_size={options.max_record_bytes}")


# -- lines DuckDB refuses -------------------------------------------------------------------------

@dataclass(frozen=True)
class _Structural:
    line: int
    error_type: str
    message: str


def _structural_rejects(con: duckdb.DuckDBPyConnection, path: Path, plain: Path,
                        scan: str) -> list[_Structural]:
    """The lines DuckDB cannot read at all, from a counting pass with ``store_rejects``."""
    try:
        con.execute(f"SELECT count(*) FROM read_csv({scan}, store_rejects=true, "
                    "rejects_table='gdelt_rejects', rejects_scan='gdelt_scans')").fetchall()
        rows = con.execute("SELECT line, error_type, error_message "
                           "FROM gdelt_rejects ORDER BY line").fetchall()
    except duckdb.Error as exc:
        raise InputError(path, f"cannot read as text ({str(exc).splitlines()[0]})") from exc
    found: dict[int, _Structural] = {}  # one line can fail more than one check
    for line, error_type, message in rows:
        found.setdefault(int(line), _Structural(int(line), str(error_type), str(message)))
    return list(found.values())


def _structural_rejections(plain: Path, items: list[_Structural],
                           options: ReadOptions) -> list[Rejection]:
    """``Rejection``s whose raw text is each line's bytes read back from the file by number
    (DuckDB's own copy has bad bytes replaced and long lines cut)."""
    raw_lines = _read_lines(plain, {item.line for item in items})
    found = []
    for item in items:
        raw_bytes = raw_lines.get(item.line, b"")
        raw = raw_bytes.decode("utf-8", errors="backslashreplace")
        if item.error_type == "INVALID ENCODING":
            bad = _first_bad_byte(raw_bytes)
            reason = f"not UTF-8 text (byte 0x{bad:02x}); re-save the file as UTF-8"
        elif item.error_type == "LINE SIZE OVER MAXIMUM":
            reason = (f"oversized record ({len(raw_bytes):,} bytes > "
                      f"{options.max_record_bytes:,} bytes)")
        elif item.error_type == "TOO MANY COLUMNS":
            reason = "control character U+0001 in line"
        else:
            reason = f"unreadable line ({item.message})"
        found.append(Rejection(reason=reason, raw=raw, line=item.line))
    return found


def _read_lines(plain: Path, wanted: set[int]) -> dict[int, bytes]:
    """The given 1-based lines of ``plain``, without their line ends."""
    found: dict[int, bytes] = {}
    last = max(wanted, default=0)
    with open(plain, "rb") as stream:
        for number, line in enumerate(stream, start=1):
            if number in wanted:
                found[number] = line.removesuffix(b"\n").removesuffix(b"\r")
            if number >= last:
                break
    return found


def _first_bad_byte(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data[exc.start]
    return 0


# -- the normalising SELECT -----------------------------------------------------------------------

def _select_sql(scan: str, layout: _Layout) -> str:
    """One SELECT producing the event columns plus ``_ordinal``, ``_problem`` and ``_raw``."""
    fields = ",\n  ".join(f"nullif(p[{i}], '') AS \"{name}\""
                          for i, name in enumerate(layout.columns, start=1))
    counts = ", ".join(str(n) for n in layout.field_counts)
    expected = " or ".join(str(n) for n in layout.field_counts)
    return f"""
WITH lines AS (
  SELECT ordinality AS _ordinal, line AS _line, string_split(line, '\t') AS p
  FROM read_csv({scan}, ignore_errors=true) WITH ORDINALITY
  WHERE line IS NOT NULL
), cols AS (
  SELECT _ordinal, _line, len(p) AS _n_fields,
  {fields}
  FROM lines
), typed AS (
  SELECT c.*,
    try_strptime(CASE WHEN length("SQLDATE") = 8 THEN "SQLDATE" END, '%Y%m%d') AS _occurred,
    CASE WHEN length("EventCode") BETWEEN 2 AND 4 AND TRY_CAST("EventCode" AS INTEGER) >= 0
         THEN {cameo_domain_sql('"EventCode"')} END AS _domain,
    TRY_CAST("GoldsteinScale" AS DOUBLE) AS _goldstein,
    TRY_CAST("ActionGeo_Lat" AS DOUBLE) AS _lat, TRY_CAST("ActionGeo_Long" AS DOUBLE) AS _lon,
    a1.code AS _a1_known, a1.iso3 AS _a1_iso3, a2.code AS _a2_known, a2.iso3 AS _a2_iso3,
    g.code AS _geo_known, g.iso3 AS _geo_iso3
  FROM cols c
  LEFT JOIN cameo a1 ON a1.code = c."Actor1CountryCode"
  LEFT JOIN cameo a2 ON a2.code = c."Actor2CountryCode"
  LEFT JOIN fips g ON g.code = c."ActionGeo_CountryCode"
), checked AS (
  SELECT *, {_problem_sql(counts, expected)} AS _problem FROM typed
)
SELECT
  md5('gdelt:' || "GLOBALEVENTID") AS event_id, 'gdelt' AS source,
  "GLOBALEVENTID" AS source_record_id, _occurred AS occurred_at, 'day' AS occurred_precision,
  NULL::TIMESTAMP AS ended_at, "Actor1Code" AS actor_code, "Actor1Name" AS actor_name,
  _a1_iso3 AS actor_iso3, _a2_iso3 AS target_iso3, NULL::VARCHAR AS target_sector,
  "ActionGeo_FullName" AS location_name, _geo_iso3 AS location_iso3, _lat AS lat, _lon AS lon,
  _domain AS domain, "EventCode" AS source_type, _goldstein AS intensity,
  CASE WHEN _goldstein IS NOT NULL THEN 'goldstein' END AS intensity_kind,
  NULL::VARCHAR AS title,
  CASE WHEN contains("SOURCEURL", '://')
       THEN nullif(lower(split_part(split_part(split_part(split_part("SOURCEURL", '://', 2),
                                   '/', 1), '?', 1), ':', 1)), '')
       ELSE "SOURCEURL" END AS source_name,
  CASE WHEN contains("SOURCEURL", '://') THEN "SOURCEURL" END AS source_url,
  NULL::VARCHAR AS tlp,
  {_extra_sql(layout)} AS extra,
  _ordinal, _problem, CASE WHEN _problem IS NOT NULL THEN _line END AS _raw
FROM checked"""


def _problem_sql(counts: str, expected: str) -> str:
    """A CASE naming the first problem of a row as ``field<US>reason`` (NULL if none)."""
    sep = _FIELD_SEP

    def quoted(column: str) -> str:
        return f"' (''' || \"{column}\" || ''')'"

    def bad_number(column: str, parsed: str, limit: int) -> str:
        return (f"WHEN \"{column}\" IS NOT NULL AND {parsed} IS NULL "
                f"THEN '{column}{sep}not a number' || {quoted(column)} "
                f"WHEN NOT {parsed} BETWEEN -{limit} AND {limit} "
                f"THEN '{column}{sep}out of range' || {quoted(column)} ")

    def unknown(column: str, known: str, system: str) -> str:
        return (f"WHEN \"{column}\" IS NOT NULL AND {known} IS NULL "
                f"THEN '{column}{sep}unknown {system} country code' || {quoted(column)} ")

    return (
        "CASE "
        f"WHEN _n_fields NOT IN ({counts}) THEN '{sep}expected {expected} tab-separated "
        "fields, found ' || _n_fields "
        f"WHEN \"GLOBALEVENTID\" IS NULL THEN 'GLOBALEVENTID{sep}missing event id' "
        "WHEN TRY_CAST(\"GLOBALEVENTID\" AS UBIGINT) IS NULL "
        f"THEN 'GLOBALEVENTID{sep}not an event id' || {quoted('GLOBALEVENTID')} "
        f"WHEN \"SQLDATE\" IS NULL THEN 'SQLDATE{sep}missing date' "
        f"WHEN _occurred IS NULL THEN 'SQLDATE{sep}not a date' || {quoted('SQLDATE')} "
        f"WHEN \"EventCode\" IS NULL THEN 'EventCode{sep}missing CAMEO event code' "
        f"WHEN _domain IS NULL THEN 'EventCode{sep}not a CAMEO event code' || {quoted('EventCode')} "
        + bad_number("GoldsteinScale", "_goldstein", 10)
        + bad_number("ActionGeo_Lat", "_lat", 90)
        + bad_number("ActionGeo_Long", "_lon", 180)
        + unknown("Actor1CountryCode", "_a1_known", "CAMEO")
        + unknown("Actor2CountryCode", "_a2_known", "CAMEO")
        + unknown("ActionGeo_CountryCode", "_geo_known", "FIPS 10-4")
        + "END"
    )


def _extra_sql(layout: _Layout) -> str:
    """A JSON object of every unmapped, non-empty column, built by concatenation: ``concat_ws``
    drops the NULL fragments, so empty columns leave no key (cheaper than a struct + filter)."""
    fragments = []
    for name in layout.columns:
        if name in _MAPPED:
            continue
        column = f'"{name}"'
        if name in _INTEGERS:
            value = (f"coalesce(TRY_CAST({column} AS BIGINT)::VARCHAR, "
                     f"to_json({column})::VARCHAR)")
        elif name in _DECIMALS:
            value = (f"CASE WHEN isfinite(TRY_CAST({column} AS DOUBLE)) THEN "
                     f"TRY_CAST({column} AS DOUBLE)::VARCHAR ELSE to_json({column})::VARCHAR END")
        else:
            value = f"to_json({column})::VARCHAR"
        fragments.append(f"'\"{name}\":' || {value}")
    return "nullif('{' || concat_ws(',', " + ", ".join(fragments) + ") || '}', '{}')"


# -- streaming ------------------------------------------------------------------------------------

def _stream(con: duckdb.DuckDBPyConnection, path: Path, plain: Path, sql: str,
            structural: list[_Structural], options: ReadOptions) -> Iterator[Batch]:
    """Run ``sql`` and yield one ``Batch`` per Arrow batch, rejections merged in line order."""
    # rows before structural line j (1-based) number ``line_j - j``: a row with ordinal o comes
    # after every structural line whose threshold is below o
    thresholds = [item.line - j for j, item in enumerate(structural, start=1)]
    pending = 0  # index of the next structural rejection to hand out
    try:
        reader = con.sql(sql).to_arrow_reader(options.batch_rows)
        for record_batch in reader:
            ordinals = record_batch.column("_ordinal")
            last_line = _line_of(pc.max(ordinals).as_py() or 0, thresholds)
            rejections = _row_rejections(record_batch, thresholds)
            due = pending
            while due < len(structural) and structural[due].line < last_line:
                due += 1
            rejections += _structural_rejections(plain, structural[pending:due], options)
            pending = due
            rejections.sort(key=lambda r: r.line or 0)
            yield Batch("events", _accepted(record_batch), rejections)
    except duckdb.Error as exc:
        raise InputError(path, f"cannot parse ({str(exc).splitlines()[0]})") from exc
    if pending < len(structural):
        yield Batch("events", EVENT_SCHEMA.empty_table(),
                    _structural_rejections(plain, structural[pending:], options))


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
        field, reason = text.split(_FIELD_SEP, 1)
        found.append(Rejection(reason=reason, raw=raw, line=_line_of(ordinal, thresholds),
                               field=field or None))
    return found


ADAPTERS = (Gdelt2Adapter(), Gdelt1Adapter())
