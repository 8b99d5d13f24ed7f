"""The SQL that turns GDELT export lines into event rows: column layouts, checks, mapping.

Each line arrives as one string; ``select_sql`` splits it on tabs and produces, in one SELECT,
exactly the event columns plus three private ones the adapter reads: ``_ordinal`` (the line's
number among the lines DuckDB read), ``_problem`` (``field<US>reason`` of the first problem, NULL
for a good row) and ``_raw`` (the line, for rejected rows only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hybridwatch.model import gdelt_extra
from hybridwatch.model.domains import cameo_domain_sql
from hybridwatch.model.times import FUTURE_TOLERANCE
from hybridwatch.model.targets import list_from_scalar_sql

#: The 61 columns of a GDELT 2.0 events export, in file order.
GDELT2_COLUMNS = gdelt_extra.GDELT2_COLUMNS
#: The 58 columns of a GDELT 1.0 daily export; files before April 2013 stop at DATEADDED (57).
GDELT1_COLUMNS = gdelt_extra.GDELT1_COLUMNS

#: Separates field name and reason in ``_problem`` (a tab-split value never holds it).
FIELD_SEP = "\x1f"
#: The delimiter lines are read with, so each line is one value: no GDELT field contains it.
LINE_DELIMITER = "\x01"

# Source columns that become event fields (``model.gdelt_extra``); every other non-empty column
# goes to ``extra``, or with the record to the store's side table.
_MAPPED = gdelt_extra.MAPPED
_NAMED = _MAPPED | {"Actor1CountryCode", "Actor2CountryCode", "ActionGeo_CountryCode"}


@dataclass(frozen=True)
class Layout:
    """One GDELT export format: its columns and the field counts a valid line may have."""

    label: str                      # "GDELT 2.0 events export"
    columns: tuple[str, ...]
    field_counts: tuple[int, ...]

    @property
    def expected(self) -> str:
        return " or ".join(str(n) for n in self.field_counts)


GDELT2 = Layout("GDELT 2.0 events export", GDELT2_COLUMNS, (61,))
GDELT1 = Layout("GDELT 1.0 events export", GDELT1_COLUMNS, (57, 58))


def scan_arguments(plain: Path, max_record_bytes: int) -> str:
    """Arguments of a ``read_csv`` of one VARCHAR per line; DuckDB itself refuses lines that
    are not UTF-8, longer than ``max_record_bytes``, or hold the delimiter U+0001."""
    quoted = str(plain).replace("'", "''")
    return (f"'{quoted}', delim='{LINE_DELIMITER}', header=false, columns={{'line': 'VARCHAR'}}, "
            "quote='', escape='', comment='', auto_detect=false, compression='none', "
            f"max_line_size={max_record_bytes}")


def select_sql(scan: str, layout: Layout, *, escape_json: bool, skip_refused: bool,
               not_after: datetime, rejects: tuple[str, str] | None = None,
               side_table: bool = False) -> str:
    """The normalising SELECT over ``read_csv(scan)``.

    ``escape_json`` must be true when the file holds a byte JSON strings escape (``"``, ``\\``,
    control characters): values then go through ``to_json``, else they are quoted as they
    stand, which is several times cheaper. ``skip_refused`` lets DuckDB skip lines it cannot
    read (the caller has counted them); otherwise such a line is an error, never a silent gap.
    Rows dated after ``not_after`` (the ingest time plus a day) are rejected. ``rejects``
    (a table and a scan table) has DuckDB log the lines it cannot read there instead, with
    their line numbers. ``side_table``: see ``rows_sql``.
    """
    refused = (f"store_rejects=true, rejects_table='{rejects[0]}', rejects_scan='{rejects[1]}'"
               if rejects else f"ignore_errors={str(skip_refused).lower()}")
    lines = (f"SELECT ordinality AS _ordinal, line AS _line, string_split(line, '\t') AS p "
             f"FROM read_csv({scan}, {refused}) WITH ORDINALITY "
             "WHERE line IS NOT NULL")
    return rows_sql(lines, layout, escape_json=escape_json, not_after=not_after,
                    side_table=side_table)


def rows_sql(lines: str, layout: Layout, *, escape_json: bool, not_after: datetime,
             side_table: bool = False) -> str:
    """The normalising SELECT over ``lines``: a relation of ``_ordinal`` (the record's number),
    ``_line`` (its text, for rejected rows) and ``p``, the record's fields as a list of strings
    in ``layout`` order ('' for empty). Line-split TSV and parsed CSV both feed it.

    With ``side_table`` the unmapped columns stay in ``record``, the good row's line verbatim,
    for the store's side table (``model.gdelt_extra``), and ``extra`` is NULL."""
    index = {name: i for i, name in enumerate(layout.columns, start=1)}
    named = ",\n    ".join(f"nullif(p[{index[name]}], '') AS \"{name}\""
                           for name in layout.columns if name in _NAMED)
    if side_table:
        side, passed = "NULL::VARCHAR AS _extra", ", CASE WHEN _problem IS NULL THEN _line END AS record"
    else:
        side, passed = f"{extra_sql(layout, escape_json)} AS _extra", ""
    return f"""
WITH lines AS (
  {lines}
), cols AS (
  SELECT _ordinal, _line, len(p) AS _n_fields, {side},
    {named}
  FROM lines
), typed AS (
  SELECT c.*,
    try_strptime(CASE WHEN length("SQLDATE") = 8 THEN "SQLDATE" END, '%Y%m%d') AS _occurred,
    CASE WHEN length("EventCode") BETWEEN 2 AND 4 AND TRY_CAST("EventCode" AS INTEGER) >= 0
         THEN {cameo_domain_sql('"EventCode"')} END AS _domain,
    TRY_CAST("GoldsteinScale" AS DOUBLE) AS _goldstein,
    TRY_CAST("ActionGeo_Lat" AS DOUBLE) AS _lat, TRY_CAST("ActionGeo_Long" AS DOUBLE) AS _lon,
    split_part("SOURCEURL", '/', 3) AS _host,  -- scheme:, '', host: far cheaper than a regexp
    a1.code AS _a1_known, a1.iso3 AS _a1_iso3, a2.code AS _a2_known, a2.iso3 AS _a2_iso3,
    g.code AS _geo_known, g.iso3 AS _geo_iso3
  FROM cols c
  LEFT JOIN cameo a1 ON a1.code = c."Actor1CountryCode"
  LEFT JOIN cameo a2 ON a2.code = c."Actor2CountryCode"
  LEFT JOIN fips g ON g.code = c."ActionGeo_CountryCode"
), checked AS (
  SELECT *, {problem_sql(layout, not_after)} AS _problem FROM typed
)
SELECT
  md5('gdelt:' || "GLOBALEVENTID") AS event_id, 'gdelt' AS source,
  "GLOBALEVENTID" AS source_record_id, _occurred AS occurred_at, 'day' AS occurred_precision,
  NULL::TIMESTAMP AS ended_at, "Actor1Code" AS actor_code, "Actor1Name" AS actor_name,
  _a1_iso3 AS actor_iso3, {list_from_scalar_sql('_a2_iso3')} AS target_iso3s, NULL::VARCHAR AS target_sector,
  "ActionGeo_FullName" AS location_name, _geo_iso3 AS location_iso3, _lat AS lat, _lon AS lon,
  _domain AS domain, "EventCode" AS source_type, _goldstein AS intensity,
  CASE WHEN _goldstein IS NOT NULL THEN 'goldstein' END AS intensity_kind,
  NULL::VARCHAR AS title,
  CASE WHEN NOT contains("SOURCEURL", '://') THEN "SOURCEURL"  -- GDELT 1.0: "BBC Monitoring"
       WHEN contains(_host, ':') OR contains(_host, '?') OR contains(_host, '@')
         OR contains(_host, '#')  -- rare: a port, query or user; a regexp only for those
       THEN nullif(lower(regexp_extract("SOURCEURL", '^[^:/?#]+://(?:[^/?#@]*@)?([^/?#:]+)', 1)), '')
       ELSE nullif(lower(_host), '') END AS source_name,
  CASE WHEN contains("SOURCEURL", '://') THEN "SOURCEURL" END AS source_url,
  NULL::VARCHAR AS tlp, _extra AS extra,
  _ordinal, _problem, CASE WHEN _problem IS NOT NULL THEN _line END AS _raw{passed}
FROM checked"""


def problem_sql(layout: Layout, not_after: datetime) -> str:
    """A CASE naming the first problem of a row as ``field<US>reason`` (NULL if none)."""
    sep = FIELD_SEP
    latest = f"TIMESTAMP '{not_after:%Y-%m-%d %H:%M:%S}'"
    ingest = not_after - FUTURE_TOLERANCE
    future = (f"dated after its ingest time (' || strftime(_occurred, '%Y-%m-%d %H:%M') || "
              f"' is later than {ingest:%Y-%m-%d %H:%M} UTC + {FUTURE_TOLERANCE.days} day)'")

    def shown(column: str) -> str:  # the value as Python's repr would show it: ('20191399')
        return f"' (''' || \"{column}\" || ''')'"

    def bad_number(column: str, parsed: str, limit: int) -> str:
        return (f"WHEN \"{column}\" IS NOT NULL AND {parsed} IS NULL "
                f"THEN '{column}{sep}not a number' || {shown(column)} "
                f"WHEN NOT {parsed} BETWEEN -{limit} AND {limit} "
                f"THEN '{column}{sep}out of range' || {shown(column)} ")

    def unknown(column: str, known: str, system: str) -> str:
        return (f"WHEN \"{column}\" IS NOT NULL AND {known} IS NULL "
                f"THEN '{column}{sep}unknown {system} country code' || {shown(column)} ")

    counts = ", ".join(str(n) for n in layout.field_counts)
    return (
        f"CASE WHEN _n_fields NOT IN ({counts}) "
        f"THEN '{sep}expected {layout.expected} tab-separated fields, found ' || _n_fields "
        f"WHEN \"GLOBALEVENTID\" IS NULL THEN 'GLOBALEVENTID{sep}missing event id' "
        "WHEN TRY_CAST(\"GLOBALEVENTID\" AS UBIGINT) IS NULL "
        f"THEN 'GLOBALEVENTID{sep}not an event id' || {shown('GLOBALEVENTID')} "
        f"WHEN \"SQLDATE\" IS NULL THEN 'SQLDATE{sep}missing date' "
        f"WHEN _occurred IS NULL THEN 'SQLDATE{sep}not a date' || {shown('SQLDATE')} "
        f"WHEN _occurred > {latest} THEN 'SQLDATE{sep}{future} "
        f"WHEN \"EventCode\" IS NULL THEN 'EventCode{sep}missing CAMEO event code' "
        f"WHEN _domain IS NULL THEN 'EventCode{sep}not a CAMEO event code' || {shown('EventCode')} "
        + bad_number("GoldsteinScale", "_goldstein", 10)
        + bad_number("ActionGeo_Lat", "_lat", 90)
        + bad_number("ActionGeo_Long", "_lon", 180)
        + unknown("Actor1CountryCode", "_a1_known", "CAMEO")
        + unknown("Actor2CountryCode", "_a2_known", "CAMEO")
        + unknown("ActionGeo_CountryCode", "_geo_known", "FIPS 10-4")
        + "END"
    )


def extra_sql(layout: Layout, escape_json: bool) -> str:
    """A JSON object of every unmapped, non-empty column, values as the strings they are.

    One ``concat`` per row, which skips NULL arguments so an empty column adds nothing: far
    cheaper than a concatenation per field or a CASE per row choosing how to quote. DATEADDED
    (always present) opens the object, so every other key can follow a comma.
    """
    first = layout.columns.index("DATEADDED") + 1
    if escape_json:
        parts = [f"'{{\"DATEADDED\":', coalesce(to_json(nullif(p[{first}], ''))::VARCHAR, 'null')"]
    else:
        parts = [f"'{{\"DATEADDED\":', coalesce('\"' || nullif(p[{first}], '') || '\"', 'null')"]
    for i, name in enumerate(layout.columns, start=1):
        if name in _MAPPED or i == first:
            continue
        if escape_json:
            parts += [f"CASE WHEN p[{i}] <> '' THEN ',\"{name}\":' END",
                      f"to_json(nullif(p[{i}], ''))::VARCHAR"]
        else:
            parts += [f"CASE WHEN p[{i}] <> '' THEN ',\"{name}\":\"' END", f"p[{i}]",
                      f"CASE WHEN p[{i}] <> '' THEN '\"' END"]
    return f"concat({', '.join(parts)}, '}}')"
