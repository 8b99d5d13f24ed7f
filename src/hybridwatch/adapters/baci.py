"""CEPII BACI HS6 files (``t,i,j,k,v,q``) → ``trade_flows`` rows.

BACI reconciles each flow from both sides' declarations into one FOB value: one row per year
(``t``), exporter (``i``), importer (``j``) and HS6 product (``k``), value ``v`` in thousands of
US dollars and quantity ``q`` in metric tons. Rows become ``export`` flows reported by the
exporter with valuation ``reconciled``. Countries are BACI's numeric codes: BACI's own country
table (``country_codes_V*.csv`` beside the data file, columns ``country_code`` and
``country_iso3``) is read when present, else the built-in M49 table with BACI's variants.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from hybridwatch.adapters.base import Adapter, Batch, ReadOptions
from hybridwatch.adapters.textio import decode_head, is_compressed, plain_copy
from hybridwatch.adapters.trade_sql import (
    FIELD_SEP,
    Header,
    TradeSqlSource,
    aggregate_sql,
    connect,
    country_sql,
    known_iso3,
    numeric_map,
    read_header,
    scan,
    stream,
)
from hybridwatch.errors import FormatError

SOURCE = "baci"
COLUMNS = ("t", "i", "j", "k", "v", "q")
LABEL = "CEPII BACI CSV"


def country_table(path: Path) -> dict[str, str]:
    """BACI's own country table beside the file (``country_codes_V*.csv``), code → ISO3, only
    rows whose ISO3 is a real code (BACI writes e.g. S19 for 490); empty when absent. The
    built-in codes keep precedence over it."""
    tables = sorted(path.parent.glob("country_codes_V*.csv"))
    if not tables:
        return {}
    known = known_iso3()
    try:
        with open(tables[-1], newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        return {str(int(r["country_code"])): r["country_iso3"].strip().upper() for r in rows
                if r.get("country_code", "").strip().isdigit()
                and r.get("country_iso3", "").strip().upper() in known}
    except (OSError, KeyError, ValueError) as exc:
        raise FormatError(tables[-1], f"cannot read BACI country table ({exc})") from None


def baci_select(scan_sql: str, extra_codes: dict[str, str]) -> str:
    sep = FIELD_SEP
    numeric = numeric_map(extra_codes)

    def shown(column: str) -> str:
        return f"' (''' || coalesce(\"{column}\", '') || ''')'"

    return f"""
WITH src AS (SELECT ordinality - 1 AS _ordinal, * FROM {scan_sql} WITH ORDINALITY),
typed AS (
  SELECT src.*,
    TRY_CAST(trim(t) AS INTEGER) AS _year,
    CAST(TRY_CAST(trim(i) AS BIGINT) AS VARCHAR) AS _i,
    CAST(TRY_CAST(trim(j) AS BIGINT) AS VARCHAR) AS _j,
    CASE WHEN regexp_full_match(trim(k), '[0-9]{{5,6}}') THEN lpad(trim(k), 6, '0') END AS _k,
    TRY_CAST(trim(v) AS DOUBLE) AS _v,
    TRY_CAST(nullif(nullif(trim(q), ''), 'NA') AS DOUBLE) AS _q
  FROM src
), joined AS (
  SELECT *, {country_sql(None, "i", "r", numeric)}, {country_sql(None, "j", "p", numeric)}
  FROM typed
), checked AS (
  SELECT *, {aggregate_sql("r")}, {aggregate_sql("p")}
  FROM joined
), final AS (
  SELECT *,
    CASE WHEN _year IS NULL OR _year NOT BETWEEN 1900 AND 2100
           THEN 't{sep}not a year' || {shown('t')}
         WHEN r_iso3 IS NULL AND NOT r_aggregate THEN 'i{sep}unknown BACI country code' || {shown('i')}
         WHEN p_iso3 IS NULL AND NOT p_aggregate THEN 'j{sep}unknown BACI country code' || {shown('j')}
         WHEN _k IS NULL THEN 'k{sep}not an HS6 code' || {shown('k')}
         WHEN _v IS NULL THEN 'v{sep}not a number' || {shown('v')}
         WHEN _v < 0 THEN 'v{sep}negative trade value' || {shown('v')}
         WHEN _q IS NULL AND nullif(nullif(trim(q), ''), 'NA') IS NOT NULL
           THEN 'q{sep}not a number' || {shown('q')}
    END AS _problem,
    CASE WHEN r_aggregate OR p_aggregate THEN 'aggregate exporter or importer' END AS _skip
  FROM checked
)
SELECT
  md5(concat_ws(':', '{SOURCE}', r_iso3, p_iso3, 'export', _k, 'year', _year)) AS flow_id,
  '{SOURCE}' AS source, r_iso3 AS reporter_iso3, p_iso3 AS partner_iso3, 'export' AS flow,
  _k AS product, NULL::VARCHAR AS product_desc, NULL::VARCHAR AS classification,
  make_date(_year, 1, 1) AS period, 'year' AS period_freq, _v * 1000 AS value_usd,
  'reconciled' AS valuation, _q AS quantity,
  CASE WHEN _q IS NOT NULL THEN 't' END AS quantity_unit,
  _q * 1000 AS net_weight_kg,
  _ordinal, _problem, _skip
FROM final"""


class BaciAdapter(Adapter):
    name = "baci"
    description = "CEPII BACI HS6 trade (t,i,j,k,v,q; reconciled annual flows) → trade flows"
    kind = "trade_flows"

    def sniff(self, path: Path, head: bytes) -> int:
        first = decode_head(head).split("\n", 1)[0].lstrip("\ufeff")
        columns = tuple(c.strip().strip('"') for c in first.split(","))
        return 95 if columns == COLUMNS else 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        # a .gz/.zip is expanded first under the decompression limits (DuckDB would expand a
        # .gz unbounded); the SQL then reads the plain copy, the country table sits by ``path``
        with plain_copy(path, options.scratch_dir) as plain:
            header = self._header(plain, path)
            con = connect(options)
            try:
                select = baci_select(scan(plain, header, options), country_table(path))
                yield from stream(con, path, select, options, LABEL, text_path=plain)
            finally:
                con.close()

    def sql_source(self, path: Path, options: ReadOptions) -> TradeSqlSource | None:
        if is_compressed(path):
            return None   # ``read`` expands it within the limits first
        header, codes = self._header(path, path), country_table(path)
        return TradeSqlSource(path, header, options,
                              lambda scan_sql: baci_select(scan_sql, codes), LABEL)

    @staticmethod
    def _header(plain: Path, path: Path) -> Header:
        header = read_header(plain, shown=path)
        if tuple(header.columns) != COLUMNS:
            missing = [c for c in COLUMNS if c not in header.columns]
            named = f"missing column(s) {', '.join(missing)}; " if missing else ""
            raise FormatError(path, f"{named}expected the columns {','.join(COLUMNS)} of a "
                                    f"BACI file, found {','.join(header.columns)}",
                              locator="line 1")
        return header


ADAPTERS = [BaciAdapter()]
