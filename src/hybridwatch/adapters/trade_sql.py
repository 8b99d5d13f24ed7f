"""Shared machinery of the trade adapters (UN Comtrade, CEPII BACI): one DuckDB SELECT turns the
file into trade-flow rows plus two private columns, ``_problem`` (``field<US>reason`` of the first
problem, NULL for a good row) and ``_skip`` (why a row is left out on purpose: an aggregate
partner, a breakdown of another row). Ingest runs it inside the store's connection
(``TradeSqlSource``: a counting pass, then one ``INSERT … SELECT``); ``stream`` yields it as
Arrow batches with rejections for other readers. Both give the same rows and rejections.

Rows DuckDB's CSV reader itself refuses (a wrong number of fields, bad quoting) come from its
``reject_errors`` table with their line and verbatim text; rows the SELECT rejects are looked up
by line number for their verbatim text.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from hybridwatch.adapters.base import Batch, ReadOptions, Rejection, SqlSource
from hybridwatch.errors import FormatError
from hybridwatch.model.trade import (
    AGGREGATE_CODES,
    AGGREGATE_ISO,
    TRADE_FLOW_SCHEMA,
    numeric_to_iso3,
)

FIELD_SEP = "\x1f"


def sql_text(path: Path) -> str:
    return str(path).replace("'", "''")


def connect(options: ReadOptions) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for one file."""
    con = duckdb.connect(config={"memory_limit": options.memory_limit})
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


def _map_literal(table: dict[str, str]) -> str:
    items = ", ".join(f"'{k}': '{v}'" for k, v in sorted(table.items()))
    return f"MAP {{{items}}}"


def numeric_map(extra: dict[str, str] | None = None) -> str:
    """A DuckDB MAP literal numeric code → ISO3 (lookups in a MAP keep the file's row order,
    which a join would not promise)."""
    return _map_literal({**(extra or {}), **numeric_to_iso3()})


def known_iso3() -> set[str]:
    from hybridwatch.model.countries import lookup_rows

    return {v for _, v in lookup_rows("iso3") if v}


def _list_literal(values) -> str:
    return "[" + ", ".join(f"'{v}'" for v in sorted(values)) + "]"


@dataclass(frozen=True)
class Header:
    """The column names of a delimited file's first line and its delimiter."""

    columns: list[str]
    delimiter: str


def read_header(path: Path, *, shown: Path | None = None) -> Header:
    """The first line parsed as CSV, with the delimiter (comma, tab or semicolon) that splits
    it into most columns; a byte-order mark is dropped. Errors name ``shown`` (the input file
    when ``path`` is its expanded copy), else ``path``."""
    with open(path, "rb") as handle:
        first = handle.readline(1 << 20).decode("utf-8-sig", errors="replace").rstrip("\r\n")
    best = max((",", "\t", ";"), key=lambda d: len(next(csv.reader([first], delimiter=d))))
    columns = [c.strip() for c in next(csv.reader([first], delimiter=best))]
    if len(columns) < 2:
        raise FormatError(shown or path, "not a delimited file with a header line",
                          locator="line 1")
    # DuckDB binds the columns by name: an empty name gets DuckDB's own ``column<N>``, and a
    # name given twice is ambiguous, so the file is refused naming it (not a binder error)
    columns = [c or f"column{n}" for n, c in enumerate(columns)]
    seen: dict[str, int] = {}
    for n, name in enumerate(columns, start=1):
        first = seen.setdefault(name.lower(), n)
        if first != n:
            raise FormatError(shown or path, f"column {name!r} appears twice in the header "
                                             f"(columns {first} and {n}); rename one",
                              locator="line 1")
    return Header(columns, best)


#: Where ``scan`` keeps the lines DuckDB refuses (temporary tables of the connection).
REJECTS = ("reject_errors", "reject_scans")


def scan(path: Path, header: Header, options: ReadOptions, *, rejects: bool = True,
         rejects_tables: tuple[str, str] = REJECTS) -> str:
    """``read_csv`` of every column as VARCHAR; unreadable lines go to ``rejects_tables``
    (or are skipped silently, ``rejects=False``, for a pass after they were counted)."""
    spec = ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for c in header.columns)
    delim = "\\t" if header.delimiter == "\t" else header.delimiter
    refused = (f"store_rejects=true, rejects_table='{rejects_tables[0]}', "
               f"rejects_scan='{rejects_tables[1]}'" if rejects else "ignore_errors=true")
    return (f"read_csv('{sql_text(path)}', header=true, columns={{{spec}}}, delim=E'{delim}', "
            "quote='\"', escape='\"', auto_detect=false, compression='none', "
            f"{refused}, max_line_size={options.max_record_bytes}, "
            "null_padding=false, strict_mode=true)")


def country_sql(iso_column: str | None, code_column: str | None, alias: str,
                numeric: str | None = None) -> str:
    """Expressions ``{alias}_iso3`` (from an ISO3 column, preferred, or a numeric M49 code
    column) and ``{alias}_aggregate`` (an aggregate such as World, or an area "nes")."""
    iso, agg = [], []
    if iso_column:
        value = f'upper(trim(coalesce("{iso_column}", \'\')))'
        iso.append(f"({_map_literal({c: c for c in known_iso3()})})[{value}]")
        agg.append(f"list_contains({_list_literal(AGGREGATE_ISO)}, {value})")
    if code_column:
        code = f'CAST(TRY_CAST(trim("{code_column}") AS BIGINT) AS VARCHAR)'
        iso.append(f"({numeric or numeric_map()})[{code}]")
        agg.append(f"list_contains({_list_literal(AGGREGATE_CODES)}, {code})")
    iso_expr = f"coalesce({', '.join(iso)})" if len(iso) > 1 else iso[0]
    # a real country code wins over an aggregate-looking ISO column (e.g. 490 with "S19"):
    # ``{alias}_aggregate_code`` is read only where ``{alias}_iso3`` is NULL (see aggregate_sql)
    return f"{iso_expr} AS {alias}_iso3, ({' OR '.join(agg)}) AS {alias}_aggregate_code"


def aggregate_sql(alias: str) -> str:
    """``{alias}_aggregate``, from the columns of ``country_sql`` (a later CTE)."""
    return f"({alias}_iso3 IS NULL AND {alias}_aggregate_code) AS {alias}_aggregate"


def stream(con: duckdb.DuckDBPyConnection, path: Path, select: str, options: ReadOptions,
           format_label: str, *, text_path: Path | None = None) -> Iterator[Batch]:
    """Run ``select`` and yield batches: good rows, rejections (verbatim) and skipped counts.
    ``text_path``: the file ``select`` reads when it is not ``path`` (an expanded copy; see
    ``textio.plain_copy``); messages always name ``path``."""
    try:
        reader = con.sql(select).to_arrow_reader(options.batch_rows)
        problems: list[tuple[int, str]] = []   # (ordinal among parsed rows, problem)
        for record_batch in reader:
            table = _required_present(pa.Table.from_batches([record_batch]))
            bad = pc.is_valid(table["_problem"])
            skip = pc.and_(pc.is_valid(table["_skip"]), pc.invert(bad))
            good = table.filter(pc.invert(pc.or_(bad, skip)))
            n_bad = pc.sum(bad).as_py() or 0
            if n_bad:
                rejected = table.filter(bad)
                problems.extend(zip(rejected["_ordinal"].to_pylist(),
                                    rejected["_problem"].to_pylist()))
            rows = good.select(TRADE_FLOW_SCHEMA.names).cast(TRADE_FLOW_SCHEMA)
            yield Batch("trade_flows", rows, skipped=pc.sum(skip).as_py() or 0)
        refused = _refused(con, REJECTS[0])
    except duckdb.Error as exc:
        raise FormatError(path, f"cannot read as {format_label} "
                                f"({str(exc).splitlines()[0]})") from None
    rejections = _rejections(con, text_path or path, problems, refused)
    if rejections:
        yield Batch("trade_flows", TRADE_FLOW_SCHEMA.empty_table(), rejections)


def _refused(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[int, str, str]]:
    """``(line, text, message)`` of the lines DuckDB's CSV reader refused, one per line (it
    may log one line several times, once per way it tried to read it)."""
    return con.execute(f"SELECT line, any_value(csv_line), min(error_message) FROM {table} "
                       "GROUP BY line ORDER BY line").fetchall()


def _rejections(con: duckdb.DuckDBPyConnection, path: Path, problems: list[tuple[int, str]],
                refused: list[tuple[int, str, str]]) -> list[Rejection]:
    """Refused lines and rows the SELECT rejected, in line order."""
    rejections = [Rejection(f"unreadable CSV row: {message.splitlines()[0]}", raw or "",
                            line=int(line)) for line, raw, message in refused]
    if problems:
        try:
            rejections += _semantic_rejections(con, path, problems, sorted(int(r[0])
                                                                            for r in refused))
        except duckdb.Error:  # the raw lines cannot be read back: keep the rows' reasons
            rejections += [Rejection(p.partition(FIELD_SEP)[2], "", line=o + 2,
                                     field=p.partition(FIELD_SEP)[0] or None)
                           for o, p in problems]
    rejections.sort(key=lambda r: r.line or 0)
    return rejections


_REQUIRED = [f.name for f in TRADE_FLOW_SCHEMA if not f.nullable]


def _required_present(table: pa.Table) -> pa.Table:
    """Rows the SELECT let through (neither a problem nor skipped) with a required column still
    null (a hostile line the checks did not foresee) get a ``_problem`` instead of breaking
    the cast to the schema."""
    problem = table["_problem"]
    for name in _REQUIRED:
        if name not in table.column_names or not table[name].null_count:
            continue
        missing = pc.and_(pc.and_(pc.is_null(table[name]), pc.is_null(problem)),
                          pc.is_null(table["_skip"]))  # skipped rows (aggregates) stay skipped
        problem = pc.if_else(missing, pa.scalar(f"{name}{FIELD_SEP}missing", pa.string()),
                             problem)
    return table.set_column(table.column_names.index("_problem"), "_problem", problem)


class TradeSqlSource(SqlSource):
    """A trade file for ingest inside the store's connection (see ``SqlSource``).

    ``make_select`` turns a ``read_csv`` expression into the adapter's SELECT; the scan keeps
    refused lines in temporary tables of its own, dropped when they have been read.
    """

    kind = "trade_flows"
    key = "flow_id"
    _REJECTS = ("_hw_trade_rejects", "_hw_trade_reject_scans")

    def __init__(self, path: Path, header: Header, options: ReadOptions,
                 make_select: Callable[[str], str], format_label: str) -> None:
        self.path, self.header, self.options = path, header, options
        self.make_select, self.format_label = make_select, format_label

    def select(self, con: duckdb.DuckDBPyConnection) -> str:
        self._drop(con)
        return self.make_select(scan(self.path, self.header, self.options,
                                     rejects_tables=self._REJECTS))

    def rejections(self, con: duckdb.DuckDBPyConnection, problems: list[tuple[int, str]]
                   ) -> tuple[int, list[Rejection]]:
        try:
            refused = _refused(con, self._REJECTS[0])
        finally:
            self._drop(con)
        return len(refused), _rejections(con, self.path, problems, refused)

    def _drop(self, con: duckdb.DuckDBPyConnection) -> None:
        for table in self._REJECTS:
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _semantic_rejections(con: duckdb.DuckDBPyConnection, path: Path,
                         problems: list[tuple[int, str]], refused_lines: list[int]
                         ) -> list[Rejection]:
    """Rejections for rows the SELECT refused, with the line they stand on and its text.

    ``_ordinal`` counts parsed rows from 0; the line is ordinal + 2 (1-based, after the header)
    + the refused lines before it (assumes no quoted line breaks; trade files have none)."""
    lines = []
    for ordinal, _ in problems:
        line = ordinal + 2
        for refused in refused_lines:
            if refused <= line:
                line += 1
        lines.append(line)
    wanted = pa.table({"n": pa.array(lines, pa.int64())})
    con.register("_wanted", wanted)
    try:
        raw = dict(con.execute(
            f"SELECT ordinality, line FROM read_csv('{sql_text(path)}', delim='\x01', "
            "header=false, columns={'line': 'VARCHAR'}, quote='', escape='', "
            "auto_detect=false, compression='none', max_line_size=1048576, ignore_errors=true) "
            "WITH ORDINALITY "
            "WHERE ordinality IN (SELECT n FROM _wanted)").fetchall())
    finally:
        con.unregister("_wanted")
    out = []
    for (_, problem), line in zip(problems, lines):
        field, _, reason = problem.partition(FIELD_SEP)
        out.append(Rejection(reason, raw.get(line, ""), line=line, field=field or None))
    return out
