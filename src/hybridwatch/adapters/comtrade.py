"""UN Comtrade CSV downloads (monthly or annual, any flows in one file) → ``trade_flows`` rows.

Detected from the header (``period``, ``cmdCode``, ``flowCode``, ``primaryValue`` and a reporter
column). Countries come from ``reporterISO``/``partnerISO`` when they hold an ISO3 code, else from
the numeric ``reporterCode``/``partnerCode`` (M49, with Comtrade's own variants such as 842 USA,
251 France, 490 "Other Asia, nes" = Taiwan). Left out on purpose, counted as skipped: aggregate
partners or reporters (World, EU, "areas nes"), commodity ``TOTAL``, flows other than X, M, RX
and RM (DX, FM … are breakdowns of them), and breakdown rows by second partner, mode of transport
or customs procedure (only their totals 0 / C00 are kept, so nothing is counted twice).
"""

from __future__ import annotations

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
    read_header,
    scan,
    stream,
)
from hybridwatch.errors import FormatError

SOURCE = "comtrade"
REQUIRED = ("period", "cmdCode", "flowCode", "primaryValue")
LABEL = "UN Comtrade CSV"


def _sniff_columns(head: bytes) -> set[str]:
    first = decode_head(head).split("\n", 1)[0].lstrip("\ufeff")
    for delim in (",", "\t", ";"):
        if delim in first:
            return {c.strip().strip('"') for c in first.split(delim)}
    return set()


def _col(columns: set[str], name: str) -> str | None:
    return name if name in columns else None


def comtrade_select(scan_sql: str, columns: list[str]) -> str:
    """The normalising SELECT over a Comtrade CSV (all columns VARCHAR)."""
    cols = set(columns)
    reporter = country_sql(_col(cols, "reporterISO"), _col(cols, "reporterCode"), "r")
    partner = country_sql(_col(cols, "partnerISO"), _col(cols, "partnerCode"), "p")
    sep = FIELD_SEP

    def opt(name: str, default: str = "NULL") -> str:
        return f'"{name}"' if name in cols else default

    freq = ("CASE upper(trim(\"freqCode\")) WHEN 'M' THEN 'month' WHEN 'A' THEN 'year' END"
            if "freqCode" in cols else
            "CASE length(trim(period)) WHEN 6 THEN 'month' WHEN 4 THEN 'year' END")
    breakdown = []
    if "partner2Code" in cols:
        breakdown.append("WHEN coalesce(TRY_CAST(trim(\"partner2Code\") AS BIGINT), 0) <> 0 "
                         "THEN 'breakdown by second partner'")
    if "motCode" in cols:
        breakdown.append("WHEN coalesce(TRY_CAST(trim(\"motCode\") AS BIGINT), 0) <> 0 "
                         "THEN 'breakdown by mode of transport'")
    if "customsCode" in cols:
        breakdown.append("WHEN coalesce(nullif(trim(\"customsCode\"), ''), 'C00') <> 'C00' "
                         "THEN 'breakdown by customs procedure'")
    if "mosCode" in cols:
        breakdown.append("WHEN coalesce(TRY_CAST(trim(\"mosCode\") AS BIGINT), 0) <> 0 "
                         "THEN 'breakdown by mode of supply'")

    def shown(expr: str) -> str:
        return f"' (''' || coalesce({expr}, '') || ''')'"

    reporter_shown = shown(f"coalesce({opt('reporterISO')}, {opt('reporterCode')})")
    partner_shown = shown(f"coalesce({opt('partnerISO')}, {opt('partnerCode')})")
    return f"""
WITH src AS (SELECT ordinality - 1 AS _ordinal, * FROM {scan_sql} WITH ORDINALITY),
typed AS (
  SELECT src.*, {reporter}, {partner},
    {freq} AS _freq,
    upper(trim("flowCode")) AS _flow_code,
    CASE upper(trim("flowCode")) WHEN 'X' THEN 'export' WHEN 'M' THEN 'import'
         WHEN 'RX' THEN 're-export' WHEN 'RM' THEN 're-import' END AS _flow,
    trim("cmdCode") AS _product,
    TRY_CAST(trim("primaryValue") AS DOUBLE) AS _value,
    TRY_CAST(nullif(trim({opt('qty')}), '') AS DOUBLE) AS _qty,
    TRY_CAST(nullif(trim({opt('netWgt')}), '') AS DOUBLE) AS _netwgt
  FROM src
), dated AS (
  SELECT *, {aggregate_sql("r")}, {aggregate_sql("p")}, CASE _freq
      WHEN 'month' THEN CASE WHEN length(trim(period)) = 6 THEN
           TRY_CAST(substr(trim(period), 1, 4) || '-' || substr(trim(period), 5, 2) || '-01'
                    AS DATE) END
      WHEN 'year' THEN CASE WHEN length(trim(period)) = 4 THEN
           TRY_CAST(trim(period) || '-01-01' AS DATE) END END AS _period
  FROM typed
), checked AS (
  SELECT *,
    CASE WHEN period IS NULL OR trim(period) = '' THEN 'period{sep}missing period'
         WHEN _freq IS NULL THEN 'freqCode{sep}not M or A' || {shown('"freqCode"' if "freqCode" in cols else "NULL")}
         WHEN _period IS NULL THEN 'period{sep}not a ' || CASE _freq WHEN 'month' THEN 'YYYYMM month'
                                   ELSE 'YYYY year' END || {shown('period')}
         WHEN r_iso3 IS NULL AND NOT r_aggregate
           THEN 'reporterISO{sep}unknown country code' || {reporter_shown}
         WHEN p_iso3 IS NULL AND NOT p_aggregate
           THEN 'partnerISO{sep}unknown country code' || {partner_shown}
         WHEN "flowCode" IS NULL OR trim("flowCode") = '' THEN 'flowCode{sep}missing flow'
         WHEN "cmdCode" IS NULL OR trim("cmdCode") = '' THEN 'cmdCode{sep}missing commodity code'
         WHEN upper(_product) <> 'TOTAL' AND NOT (length(_product) IN (2, 4, 6)
                                                  AND TRY_CAST(_product AS UBIGINT) IS NOT NULL
                                                  AND _product NOT LIKE '+%')
           THEN 'cmdCode{sep}not an HS code of 2, 4 or 6 digits' || {shown('"cmdCode"')}
         WHEN "primaryValue" IS NULL OR trim("primaryValue") = ''
           THEN 'primaryValue{sep}missing trade value'
         WHEN _value IS NULL THEN 'primaryValue{sep}not a number' || {shown('"primaryValue"')}
         WHEN _value < 0 THEN 'primaryValue{sep}negative trade value' || {shown('"primaryValue"')}
    END AS _problem,
    CASE WHEN r_aggregate OR p_aggregate THEN 'aggregate reporter or partner'
         WHEN upper(_product) = 'TOTAL' THEN 'all-commodity total'
         WHEN _flow IS NULL THEN 'flow ' || _flow_code || ' (a breakdown of X, M, RX or RM)'
         {' '.join(breakdown)}
    END AS _skip
  FROM dated
)
SELECT
  md5(concat_ws(':', '{SOURCE}', r_iso3, p_iso3, _flow, _product, _freq, _period)) AS flow_id,
  '{SOURCE}' AS source, r_iso3 AS reporter_iso3, p_iso3 AS partner_iso3, _flow AS flow,
  _product AS product, nullif(trim({opt('cmdDesc')}), '') AS product_desc,
  nullif(trim({opt('classificationCode')}), '') AS classification,
  _period AS period, _freq AS period_freq, _value AS value_usd,
  CASE WHEN _flow IN ('import', 're-import') THEN 'CIF' ELSE 'FOB' END AS valuation,
  _qty AS quantity, nullif(trim({opt('qtyUnitAbbr')}), '') AS quantity_unit,
  _netwgt AS net_weight_kg,
  _ordinal, _problem, _skip
FROM checked"""


class ComtradeAdapter(Adapter):
    name = "comtrade"
    description = "UN Comtrade CSV download (monthly or annual, HS) → trade flows"
    kind = "trade_flows"

    def sniff(self, path: Path, head: bytes) -> int:
        columns = _sniff_columns(head)
        has_reporter = bool({"reporterISO", "reporterCode"} & columns)
        return 95 if has_reporter and set(REQUIRED) <= columns else 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        # a .gz/.zip is expanded first under the decompression limits (DuckDB would expand a
        # .gz unbounded); the SQL then reads the plain copy
        with plain_copy(path, options.scratch_dir) as plain:
            header = self._header(plain, path)
            con = connect(options)
            try:
                yield from stream(con, path, comtrade_select(scan(plain, header, options),
                                                             header.columns),
                                  options, LABEL, text_path=plain)
            finally:
                con.close()

    def sql_source(self, path: Path, options: ReadOptions) -> TradeSqlSource | None:
        if is_compressed(path):
            return None   # ``read`` expands it within the limits first
        header = self._header(path, path)
        return TradeSqlSource(path, header, options,
                              lambda scan_sql: comtrade_select(scan_sql, header.columns), LABEL)

    @staticmethod
    def _header(plain: Path, path: Path) -> Header:
        header = read_header(plain, shown=path)
        columns = header.columns
        missing = [c for c in REQUIRED if c not in columns]
        if not {"reporterISO", "reporterCode"} & set(columns):
            missing.append("reporterISO or reporterCode")
        if not {"partnerISO", "partnerCode"} & set(columns):
            missing.append("partnerISO or partnerCode")
        if missing:
            raise FormatError(path, f"missing column(s) {', '.join(missing)} (not a UN "
                                    "Comtrade download?)", locator="line 1")
        return header


ADAPTERS = [ComtradeAdapter()]
