"""Any CSV or Parquet table, read through a TOML mapping from its columns to event fields.

A mapping (full reference in ``docs/mapping.md``)::

    [source]
    name = "pla_sorties"        # the events' ``source``
    format = "csv"              # csv | parquet; optional, else from the file suffix
    delimiter = ","             # csv only; optional
    kind = "events"             # events (default) | articles

    [fields]                    # event (or article) field = where its value comes from
    source_record_id = "{date}"                          # a string with {col}: a template
    occurred_at = { column = "date", format = "%Y/%m/%d" }  # strptime format(s); optional
    title = "headline"                                   # a plain string: a column name
    domain = { const = "military" }                      # a constant, checked when loaded
    target_iso3 = { column = "victims", system = "name", split = "+" }  # a list cell: targets
    source_type = { column = "kind", map = { "AIR" = "air_incursion" } }  # values mapped first
    # or: source_record_id = { hash_of = ["date", "source", "url"] }  (md5 of several columns)
    # a country field may be lenient (unknown → null, with a warning), a field conditional:
    # target_iso3 = [{ column = "side_b", when = { side_a = "RUS" } },
    #                { column = "side_a", when = { side_b = "RUS" } }]
    # and one field may explode a list cell into one event per item (explode = true)

    [filter]
    skip_if_empty = ["pla_aircraft_sorties"]  # rows with any of these empty are skipped, silently
    skip_if = { status = ["retracted", "duplicate"] }  # rows with these values are skipped

    [extra]
    exclude = ["year", "month"]               # unmapped columns left out of ``extra``
    rename = { "國家" = "countries_zh" }       # keys to use in ``extra``

The rule for strings is explicit: a plain string is always a column name (a template if it holds
``{``); constants are always written ``{ const = ... }``. Every column the mapping does not use
goes, when non-empty, into ``extra``. Required: ``source_record_id``, ``occurred_at``, ``domain``
for events; ``source_record_id``, ``outlet``, ``published_at`` for articles. The precision of
``occurred_at`` comes from its format unless ``occurred_precision`` is mapped.

Errors: a bad mapping (unknown field or key, bad constant, a column the file lacks) raises
``MappingError`` naming the mapping file and key, before any data row is read. A bad value in
one row (date, number, country) rejects that row, naming its line (CSV) or row (Parquet) and
the column. Rows that repeat a ``source_record_id`` get the same ``event_id``; the store keeps
one and counts the others as duplicates.
"""

from __future__ import annotations

import hashlib
import json
import math
import string
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hybridwatch.adapters.base import (
    RECORD_FAULTS,
    record_error,
    Adapter,
    Batch,
    ReadOptions,
    RecordError,
    RecordKind,
    Rejection,
    RowBuilder,
)
from hybridwatch.adapters.textio import iter_csv_records, read_csv_header
from hybridwatch.errors import InputError, MappingError
from hybridwatch.model.countries import SYSTEMS, to_iso3
from hybridwatch.model.domains import normalise_domain
from hybridwatch.model.schema import INTENSITY_KINDS, PRECISIONS, TLP_LEVELS
from hybridwatch.model.targets import target_list
from hybridwatch.model.times import parse_time, to_naive_utc

FLUSH_ROWS = 50_000
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "mappings"
_TYPES = {  # field → value type, per record kind
    "events": {
        "source_record_id": "text", "occurred_at": "time", "occurred_precision": "precision",
        "ended_at": "time", "actor_code": "text", "actor_name": "text", "actor_iso3": "country",
        "target_iso3": "country", "target_sector": "text", "location_name": "text",
        "location_iso3": "country", "lat": "number", "lon": "number", "domain": "domain",
        "source_type": "text", "intensity": "number", "intensity_kind": "intensity_kind",
        "title": "text", "source_name": "text", "source_url": "text", "tlp": "tlp"},
    "articles": {
        "source_record_id": "text", "outlet": "text", "published_at": "time", "title": "text",
        "text": "text", "language": "text", "url": "text"},
}
_REQUIRED = {"events": ("source_record_id", "occurred_at", "domain"),
             "articles": ("source_record_id", "outlet", "published_at")}
_SPEC_KEYS = {"column", "const", "template", "hash_of", "format", "system", "map", "split",
              "explode", "lenient", "when"}
#: Fields that hold a list of values (``split`` without ``explode`` is for these only).
_LIST_FIELDS = {"target_iso3"}

_SOURCES = ("column", "const", "template", "hash_of")


def _choice(choices: tuple[str, ...], what: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        value = text.strip().lower()
        value = {"white": "clear", "tlp:white": "clear"}.get(value, value).removeprefix("tlp:")
        if value not in choices:
            raise ValueError(f"not a {what} ({text!r}; expected one of: {', '.join(choices)})")
        return value
    return check


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"not a number ({value!r})") from None
    return None if math.isnan(number) else number


def _time(value: Any, formats: tuple[str, ...] | None) -> tuple[datetime, str]:
    if isinstance(value, datetime):
        return to_naive_utc(value), "second"
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day), "day"
    return parse_time(str(value), formats=formats)


@dataclass(frozen=True)
class FieldSpec:
    """Where one event field's value comes from, and how it is converted."""

    target: str
    type: str
    column: str | None = None
    const: Any = None
    template: str | None = None
    hash_of: tuple[str, ...] = ()
    formats: tuple[str, ...] | None = None
    system: str = "auto"
    value_map: dict[str, Any] = field(default_factory=dict)
    split: str | None = None        # a list cell: the separator between its items
    explode: bool = False           # one event per item of the list cell
    lenient: bool = False           # an unknown country becomes null, with a warning
    when: tuple[tuple[str, tuple[str, ...]], ...] = ()  # column → accepted raw values (AND)

    def applies(self, row: dict[str, Any]) -> bool:
        """Whether this alternative's ``when`` holds for ``row`` (always, without one)."""
        return all(_text(row[column]) in values for column, values in self.when)

    def items(self, raw: Any) -> list[str]:
        """The items of a list cell (``split``), blanks dropped."""
        if raw is None:
            return []
        return [part.strip() for part in str(raw).split(self.split) if part.strip()]

    @property
    def columns(self) -> tuple[str, ...]:
        """The source columns this field reads."""
        if self.column is not None:
            return (self.column,)
        if self.template is not None:
            return tuple(name for _, name, _, _ in string.Formatter().parse(self.template)
                         if name is not None)
        return self.hash_of

    @property
    def condition_columns(self) -> tuple[str, ...]:
        return tuple(column for column, _ in self.when)

    def convert(self, value: Any) -> tuple[Any, str | None]:
        """``(typed value, precision or None)``; ``ValueError`` with the reason if it is bad."""
        if isinstance(value, str):
            value = value.strip()
            value = self.value_map.get(value, value)
        if value is None or value == "":
            return None, None
        if self.type == "time":
            return _time(value, self.formats)
        converters: dict[str, Callable[[Any], Any]] = {
            "text": lambda v: str(v), "number": _number, "domain": normalise_domain,
            "country": lambda v: to_iso3(str(v), self.system),
            "precision": _choice(PRECISIONS, "precision"),
            "intensity_kind": _choice(INTENSITY_KINDS, "intensity kind"),
            "tlp": _choice(TLP_LEVELS, "TLP 2.0 level"),
        }
        return converters[self.type](value if self.type == "number" else str(value)), None

    def raw(self, row: dict[str, Any]) -> Any:
        """This field's raw value in ``row`` (before conversion)."""
        if self.column is not None:
            return row[self.column]
        if self.template is not None:
            return self.template.format_map({k: _text(row[k]) for k in self.columns})
        if self.hash_of:
            joined = "\x1f".join(_text(row[k]) for k in self.hash_of)
            return hashlib.md5(joined.encode("utf-8")).hexdigest()
        return self.const


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class Mapping:
    """A loaded, checked mapping file."""

    path: Path
    source: str
    kind: RecordKind
    format: str | None
    delimiter: str
    fields: dict[str, tuple[FieldSpec, ...]]   # field → alternatives, the first that applies
    skip_if_empty: tuple[str, ...] = ()
    skip_if: tuple[tuple[str, tuple[str, ...]], ...] = ()
    extra_exclude: frozenset[str] = frozenset()
    extra_rename: dict[str, str] = field(default_factory=dict)

    def error(self, key: str, reason: str) -> MappingError:
        return MappingError(f"{self.path}: {key}: {reason}")

    def used_columns(self) -> set[str]:
        return {name for specs in self.fields.values() for spec in specs
                for name in spec.columns + spec.condition_columns}

    def check_columns(self, header: list[str], data_path: Path) -> None:
        """``MappingError`` naming the key whose column ``header`` lacks."""
        present = set(header)
        keys = [(f"fields.{t}", s.columns + s.condition_columns)
                for t, specs in self.fields.items() for s in specs]
        keys += [("filter.skip_if_empty", self.skip_if_empty),
                 ("filter.skip_if", tuple(column for column, _ in self.skip_if))]
        for key, columns in keys:
            for column in columns:
                if column not in present:
                    shown = ", ".join(header[:15]) + (" …" if len(header) > 15 else "")
                    raise self.error(key, f"no column {column!r} in {data_path} (it has: "
                                          f"{shown}){_delimiter_hint(header, self.delimiter)}")

    def convert(self, row: dict[str, Any], warnings: list[str] | None = None
                ) -> list[dict[str, Any]] | None:
        """The events (or articles) of ``row``: one, or one per item of an exploded list cell;
        None if a filter skips it; ``RecordError`` if bad. Lenient fields append to
        ``warnings`` what they set to null."""
        if any(_text(row[name]) == "" for name in self.skip_if_empty):
            return None
        if any(_text(row[name]) in values for name, values in self.skip_if):
            return None
        notes = warnings if warnings is not None else []
        out: dict[str, Any] = {}
        exploded: tuple[str, list[tuple[str, Any]]] | None = None
        for target, alternatives in self.fields.items():
            spec = next((s for s in alternatives if s.applies(row)), None)
            if spec is None:  # no alternative applies: no value
                value, precision = None, None
            elif spec.split is not None:
                items = [(item, _lenient(spec, target, item, notes))
                         for item in spec.items(spec.raw(row))]
                if spec.explode:
                    exploded = (target, items)
                    value, precision = None, None
                else:
                    value, precision = [v for _, v in items], None
            else:
                value, precision = _lenient(spec, target, spec.raw(row), notes, both=True)
            if value is None and target in _REQUIRED[self.kind]:
                raise RecordError((spec.column if spec else None) or target, f"{target}: empty")
            out[target] = value
            if target == "occurred_at" and "occurred_precision" not in self.fields:
                out["occurred_precision"] = precision
        used = self.used_columns()
        out["extra"] = {self.extra_rename.get(k, k): (v.strip() if isinstance(v, str) else v)
                        for k, v in row.items()
                        if k not in used and k not in self.extra_exclude and _text(v) != ""}
        events = [out]
        if exploded is not None and exploded[1]:
            target, items = exploded
            # each item its own event, its id the row's id and the item as written
            events = [{**out, target: value,
                       "source_record_id": f"{out['source_record_id']}#{item}"}
                      for item, value in items]
        for event in events:
            if "target_iso3" in event:  # the mapping's one field or list; the event's list
                event["target_iso3s"] = target_list(event.pop("target_iso3"))
        return events


def _lenient(spec: FieldSpec, target: str, raw: Any, notes: list[str], *,
             both: bool = False) -> Any:
    """``spec.convert(raw)``'s value (with its precision if ``both``): ``RecordError`` for a bad
    value, except that a lenient country field notes the unknown country and gives null."""
    where = spec.column or target
    try:
        converted = spec.convert(raw)
    except ValueError as exc:
        if not spec.lenient:
            raise RecordError(where, f"{target}: {exc}") from None
        notes.append(f"{where}: {target}: {exc}; set to null (lenient)")
        converted = (None, None)
    return converted if both else converted[0]


def shipped_mappings() -> dict[str, Path]:
    """The mappings shipped in ``hybridwatch/mappings`` by name ("pla_sorties": its path)."""
    return {p.stem: p for p in sorted(SHIPPED_DIR.glob("*.toml"))}


def _delimiter_hint(header: list[str], delimiter: str) -> str:
    """A hint when the header looks split on the wrong delimiter."""
    if len(header) == 1 and any(c in header[0] for c in ",;\t|" if c != delimiter):
        return f"; check [source] delimiter (now {delimiter!r})"
    return ""


def mapping_file(path: Path) -> Path:
    """The mapping file ``path`` names: itself, or a shipped mapping for a bare name."""
    path = Path(path)
    if not path.exists() and path.parent == Path(".") and path.stem in shipped_mappings():
        return shipped_mappings()[path.stem]
    return path


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; ``MappingError`` names the file, key and reason.

    A bare name that is no file ("pla_sorties") names a shipped mapping.
    """
    path = mapping_file(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"{path}: no such mapping file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise MappingError(f"{path}: not valid TOML (nested too deeply to read)") from None

    def fail(key: str, reason: str) -> MappingError:
        return MappingError(f"{path}: {key}: {reason}")

    _only(doc, {"source", "fields", "filter", "extra"}, "", fail)
    src = _table(doc, "source", fail)
    _only(src, {"name", "format", "delimiter", "kind"}, "source.", fail)
    name = src.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("source.name", "required: the events' source name, e.g. \"pla_sorties\"")
    kind = src.get("kind", "events")
    if kind not in _TYPES:
        raise fail("source.kind", f"{kind!r} is not events or articles")
    fmt = src.get("format")
    if fmt not in (None, "csv", "parquet"):
        raise fail("source.format", f"{fmt!r} is not csv or parquet")
    delimiter = src.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise fail("source.delimiter", f"{delimiter!r} is not one character")
    specs = {target: _alternatives(kind, target, value, fail)
             for target, value in _table(doc, "fields", fail).items()}
    for required in _REQUIRED[kind]:
        if required not in specs:
            raise fail(f"fields.{required}", f"required for {kind} but not mapped")
    exploding = [t for t, alternatives in specs.items() if any(s.explode for s in alternatives)]
    if len(exploding) > 1:
        raise fail(f"fields.{exploding[1]}.explode",
                   f"only one field may explode a row (also {exploding[0]})")
    flt, extra = doc.get("filter", {}), doc.get("extra", {})
    _only(flt, {"skip_if_empty", "skip_if"}, "filter.", fail)
    _only(extra, {"exclude", "rename"}, "extra.", fail)
    return Mapping(path, name.strip(), kind, fmt, delimiter, specs,
                   tuple(_str_list(flt.get("skip_if_empty", []), "filter.skip_if_empty", fail)),
                   _conditions(flt.get("skip_if", {}), "filter.skip_if", fail),
                   frozenset(_str_list(extra.get("exclude", []), "extra.exclude", fail)),
                   dict(extra.get("rename", {})))


def _conditions(value: Any, key: str, fail: Callable[..., MappingError]
                ) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``{ column = "value" | ["v1", "v2"] }`` as ``((column, values), ...)``."""
    if not isinstance(value, dict):
        raise fail(key, 'must be a table of column = value or [values], e.g. { status = "void" }')
    found = []
    for column, values in value.items():
        values = [values] if isinstance(values, str) else values
        if not _is_str_list(values) or not values:
            raise fail(f"{key}.{column}", "must be a string or a list of strings")
        found.append((column, tuple(v.strip() for v in values)))
    return tuple(found)


def _alternatives(kind: str, target: str, value: Any, fail: Callable[..., MappingError]
                  ) -> tuple[FieldSpec, ...]:
    """A field's spec, or its conditional alternatives (a list, each with ``when`` but the
    last, the default, which may have none)."""
    if not isinstance(value, list):
        spec = _spec(kind, target, value, fail)
        return (spec,)
    if not value:
        raise fail(f"fields.{target}", "an empty list of alternatives")
    specs = tuple(_spec(kind, target, item, fail, index=i) for i, item in enumerate(value))
    for i, spec in enumerate(specs[:-1]):
        if not spec.when:
            raise fail(f"fields.{target}[{i}]", "only the last alternative may lack `when` "
                                                "(the ones after it would never apply)")
    return specs


def _table(doc: dict[str, Any], key: str, fail: Callable[..., MappingError]) -> dict[str, Any]:
    value = doc.get(key)
    if not isinstance(value, dict):
        raise fail(key, f"required: a [{key}] table")
    return value


def _only(table: Any, allowed: set[str], prefix: str, fail: Callable[..., MappingError]) -> None:
    if not isinstance(table, dict):
        raise fail(prefix.rstrip("."), "must be a table")
    for key in table:
        if key not in allowed:
            raise fail(f"{prefix}{key}",
                       f"unknown key (expected one of: {', '.join(sorted(allowed))})")


def _str_list(value: Any, key: str, fail: Callable[..., MappingError]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(key, "must be a list of column names")
    return value


def _spec(kind: str, target: str, value: Any, fail: Callable[..., MappingError], *,
          index: int | None = None) -> FieldSpec:
    """One ``[fields]`` entry as a ``FieldSpec``; constants are checked here, once."""
    key = f"fields.{target}" + (f"[{index}]" if index is not None else "")
    if target == "target_iso3s":
        target = "target_iso3"  # the stored column's name reads as the field
    if target not in _TYPES[kind]:
        raise fail(key, f"not a field of {kind} (expected one of: {', '.join(_TYPES[kind])})")
    if isinstance(value, list):
        raise fail(key, "alternatives cannot nest")
    kind_type = _TYPES[kind][target]
    if isinstance(value, str):
        value = {"template": value} if "{" in value else {"column": value}
    if not isinstance(value, dict):
        raise fail(key, "must be a column name, a template, or a table "
                        "({ column = ... } / { const = ... } / { hash_of = [...] })")
    _only(value, _SPEC_KEYS, f"{key}.", fail)
    given = [name for name in _SOURCES if name in value]
    if len(given) != 1:
        raise fail(key, f"give exactly one of {', '.join(_SOURCES)} (got {given or 'none'})")
    formats = value.get("format")
    if isinstance(formats, str):
        formats = [formats]
    if formats is not None and (kind_type != "time" or not _is_str_list(formats)):
        raise fail(f"{key}.format", "only for time fields, a strptime format or a list of them")
    system = value.get("system", "auto")
    if "system" in value and (kind_type != "country" or system not in SYSTEMS):
        raise fail(f"{key}.system", f"only for country fields, one of: {', '.join(SYSTEMS)}")
    value_map = value.get("map", {})
    if not isinstance(value_map, dict):
        raise fail(f"{key}.map", "must be a table of source value = field value")
    split, explode, lenient = value.get("split"), value.get("explode", False), \
        value.get("lenient", False)
    if split is not None and (not isinstance(split, str) or not split):
        raise fail(f"{key}.split", 'the separator of the items of a list cell, e.g. "+", ","')
    if not isinstance(explode, bool) or (explode and split is None):
        raise fail(f"{key}.explode", "true or false, and only with split (the items to "
                                     "make one event each)")
    if split is not None and not explode and target not in _LIST_FIELDS:
        raise fail(f"{key}.split", f"{target} holds one value: add explode = true for one "
                                   f"event per item (lists: {', '.join(sorted(_LIST_FIELDS))})")
    if split is not None and target in ("source_record_id",):
        raise fail(f"{key}.split", "the record id cannot be split")
    if not isinstance(lenient, bool) or (lenient and kind_type != "country"):
        raise fail(f"{key}.lenient", "true or false, only for country fields")
    when = _conditions(value.get("when", {}), f"{key}.when", fail)
    spec = FieldSpec(target, kind_type, column=value.get("column"),
                     template=value.get("template"),
                     hash_of=tuple(_str_list(value.get("hash_of", []), f"{key}.hash_of", fail)),
                     formats=tuple(formats) if formats else None, system=system,
                     value_map=value_map, split=split, explode=explode, lenient=lenient,
                     when=when)
    if spec.template is not None:
        try:
            spec.columns
        except ValueError as exc:
            raise fail(f"{key}.template", f"not a template ({exc})") from None
    if "const" in value:  # kept as written (a TOML date keeps day precision), checked now
        spec = FieldSpec(target, kind_type, const=value["const"], when=when)
        try:
            spec.convert(spec.const)
        except ValueError as exc:
            raise fail(f"{key}.const", str(exc)) from None
    return spec


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


class MappedAdapter(Adapter):
    """Any CSV/Parquet table with a TOML mapping (``--mapping M.toml``)."""

    name = "mapped"
    description = "any CSV or Parquet table, with a TOML mapping of its columns (--mapping)"

    def sniff(self, path: Path, head: bytes) -> int:
        return 0  # chosen only with --format mapped or when a mapping is given

    def settings_digest(self, options: ReadOptions) -> str | None:
        """sha256 of the mapping file's bytes (None if there is none: ``read`` says why)."""
        if options.mapping_path is None:
            return None
        try:
            return hashlib.sha256(mapping_file(options.mapping_path).read_bytes()).hexdigest()
        except OSError:
            return None

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        if options.mapping_path is None:
            raise MappingError("the 'mapped' format needs a mapping file: pass --mapping M.toml "
                               "(see docs/mapping.md)")
        mapping = load_mapping(options.mapping_path)
        fmt = mapping.format or ("parquet" if path.suffix.lower() in (".parquet", ".pq")
                                 else "csv")
        rows = _parquet_rows(path, mapping) if fmt == "parquet" else _csv_rows(path, mapping,
                                                                                   options)
        yield from _batches(rows, mapping, options.not_after())


#: (locator kwargs for Rejection, the row as a dict or None, raw text, problem if unusable)
_Row = tuple[dict[str, Any], dict[str, Any] | None, str, str | None]


def _csv_rows(path: Path, mapping: Mapping, options: ReadOptions) -> Iterator[_Row]:
    records = iter_csv_records(path, delimiter=mapping.delimiter,
                               max_record_bytes=options.max_record_bytes)
    header = read_csv_header(records, path)
    mapping.check_columns(header, path)
    for record in records:
        where = {"line": record.line}
        if record.fields is None:
            yield where, None, record.raw, record.problem or "unreadable"
        elif len(record.fields) != len(header):
            yield where, None, record.raw, (f"ragged row: {len(record.fields)} fields, "
                                            f"header has {len(header)}")
        else:
            yield where, dict(zip(header, record.fields)), record.raw, None


def _parquet_rows(path: Path, mapping: Mapping) -> Iterator[_Row]:
    import pyarrow.parquet as pq  # core dependency; imported here to keep CSV ingest light

    try:
        parquet = pq.ParquetFile(path)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError ... for non-Parquet files
        raise InputError(path, f"not a readable Parquet file ({exc})") from None
    mapping.check_columns(parquet.schema_arrow.names, path)
    number = 0
    for batch in parquet.iter_batches(batch_size=FLUSH_ROWS):
        for row in batch.to_pylist():
            number += 1
            raw = json.dumps(row, ensure_ascii=False, default=str)
            yield {"record": f"row {number}"}, row, raw, None


def _batches(rows: Iterator[_Row], mapping: Mapping, not_after: datetime) -> Iterator[Batch]:
    builder = RowBuilder(mapping.kind, mapping.source, not_after=not_after)
    rejections: list[Rejection] = []
    warnings: list[str] = []
    skipped = exploded = 0
    for where, row, raw, problem in rows:
        if row is None:
            rejections.append(Rejection(problem or "unreadable", raw, **where))
            continue
        notes: list[str] = []
        try:
            converted = mapping.convert(row, notes)
            if converted is None:
                skipped += 1
                continue
            staged = len(builder)
            try:
                for event in converted:
                    builder.append(event)
            except RECORD_FAULTS:
                builder.truncate(staged)  # a row is kept whole or not at all
                raise
            exploded += len(converted) - 1
            place = f"line {where['line']}" if "line" in where else where["record"]
            warnings.extend(f"{place}: {note}" for note in notes)
        except RECORD_FAULTS as caught:
            exc = record_error(caught)
            rejections.append(Rejection(exc.reason, raw, field=exc.field, **where))
        if len(builder) + len(rejections) >= FLUSH_ROWS:
            yield Batch(mapping.kind, builder.flush(), rejections, skipped=skipped,
                        warnings=warnings, exploded=exploded)
            rejections, warnings, skipped, exploded = [], [], 0, 0
    if len(builder) or rejections or skipped:
        yield Batch(mapping.kind, builder.flush(), rejections, skipped=skipped,
                    warnings=warnings, exploded=exploded)


ADAPTERS = (MappedAdapter(),)
