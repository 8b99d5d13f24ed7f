"""The result contract every analysis result and workflow report shares. Pure: no I/O.

``AnalysisResult`` is the one frozen base of the analyses' results (scipy's frozen result
objects): every result carries ``parameters``, ``window`` (the days analysed, when the analysis
chose them), ``warnings``, ``provenance`` (input fingerprint, seed, code version), ``evidence``
(what the finding rests on) and ``run_id`` (once recorded), besides its own numbers. It has one
strict JSON form: ``to_json()`` writes every field, typed, through ``json_value`` (NaN and
infinity become null, numpy values plain Python — JSON has no NaN, and browsers and ``jq``
refuse it), and ``from_json()`` reads it back by the fields' type annotations (a null where a
float or a float array is declared is NaN again; dates, tuples, numpy arrays with their dtype
and nested results come back as they were), so ``from_json(to_json(r)) == r``. Keys keep one
order: the six contract fields first, then the result's own fields in declaration order.
A result's ``to_dict()``, where it has one, stays its public JSON view (CLI, API, stored
summaries); ``to_json`` is its complete state.

``RunReport`` is what a workflow hands to ``workflows.findings.record``: the finding kind, the
run's summary (parameters, the days analysed, warnings, provenance and the kind's own fields),
its items, optionally their TLP levels, and — once recorded — its ``run_id``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import types
import typing
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from hybridwatch.model.json_values import json_value

#: The fields every analysis result has, in the order its JSON form gives them.
CONTRACT_FIELDS = ("parameters", "window", "warnings", "provenance", "evidence", "run_id")


class ResultContract:
    """Mixin: strict JSON for a frozen result that defines ``to_dict`` (and ``from_dict``)."""

    def to_json(self) -> str:
        """Strict JSON (no NaN, no infinity), keys sorted."""
        data = self.to_dict()  # type: ignore[attr-defined]
        return json.dumps(json_value(data), sort_keys=True, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RunReport(ResultContract):
    """One run of an analysis as recorded: ``summary`` holds everything but the items
    (``parameters``, ``window``, ``warnings``, ``provenance`` and the kind's own fields)."""

    kind: str
    summary: dict[str, Any]
    items: tuple[dict[str, Any], ...]
    tlps: tuple[str, ...] | None = None     # per item; None: the kind's TLP rule decides
    run_id: str | None = None
    items_field: str = "items"              # the name the items go by in the JSON form

    def __post_init__(self) -> None:
        if self.tlps is not None and len(self.tlps) != len(self.items):
            raise ValueError(f"{self.kind}: {len(self.tlps)} TLP levels for "
                             f"{len(self.items)} items")

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.summary.get("parameters") or {})

    @property
    def window(self) -> dict[str, Any] | None:
        return self.summary.get("window")

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self.summary.get("warnings") or ())

    @property
    def provenance(self) -> dict[str, Any]:
        return dict(self.summary.get("provenance") or {})

    def with_run_id(self, run_id: str) -> RunReport:
        return replace(self, run_id=run_id)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of the analysis: its summary fields, its items under their own
        name (``episodes``, ``pairs`` …), and ``run_id`` once recorded."""
        return {**self.summary, self.items_field: [dict(i) for i in self.items],
                "run_id": self.run_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, kind: str | None = None,
                  items_field: str | None = None) -> RunReport:
        """Read ``to_dict()`` back; ``kind`` and ``items_field`` when the dict does not say
        (``to_json`` keeps them under ``_kind`` and ``_items_field``)."""
        kind = kind or data.get("_kind")
        items_field = items_field or data.get("_items_field") or "items"
        if not kind:
            raise ValueError("RunReport.from_dict: which finding kind? (pass kind=)")
        summary = {k: v for k, v in data.items()
                   if k not in (items_field, "run_id", "_kind", "_items_field")}
        return cls(kind, summary, tuple(data.get(items_field) or ()),
                   run_id=data.get("run_id"), items_field=items_field)

    def to_json(self) -> str:
        return json.dumps(json_value({**self.to_dict(), "_kind": self.kind,
                                      "_items_field": self.items_field}),
                          sort_keys=True, ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True, kw_only=True, eq=False)
class AnalysisResult:
    """The frozen base of every analysis result and workflow report (see the module docstring).

    Subclasses are ``@dataclass(frozen=True, eq=False)`` (they inherit ``__eq__``) and do not
    re-declare the contract fields except to narrow their type, keyword-only
    (``parameters: RiskParameters = field(kw_only=True)``). Equality is field by field, with
    NaN equal to NaN and numpy arrays equal when dtype, shape and values are.
    """

    parameters: Any = field(default_factory=dict)
    window: Any = None
    warnings: tuple[str, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[Any, ...] = ()
    run_id: str | None = None

    #: keys of untyped (``Any``) row dicts whose null is NaN (JSON cannot say NaN)
    _nan_keys: ClassVar[frozenset[str]] = frozenset()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name))
                   for f in dataclasses.fields(self))

    __hash__ = None  # type: ignore[assignment]  # results hold arrays and dicts

    def with_run_id(self, run_id: str) -> AnalysisResult:
        return replace(self, run_id=run_id)

    def to_json(self) -> str:
        """Strict JSON of every field (no NaN, no infinity), keys in the contract's order."""
        return json.dumps(json_value(_encode(self)), ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> AnalysisResult:
        """The result ``to_json`` wrote; ``ValueError`` naming the field that does not fit."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"{cls.__name__}.from_json: not a JSON object")
        return _decode_dataclass(cls, data, cls._nan_keys, cls.__name__)


def ordered_fields(cls: type) -> list[dataclasses.Field]:
    """The dataclass's fields in JSON order: the contract's first, then its own."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    first = [fields[n] for n in CONTRACT_FIELDS if n in fields] \
        if issubclass(cls, AnalysisResult) else []
    return first + [f for f in fields.values() if f.name not in CONTRACT_FIELDS or not first]


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in ordered_fields(type(value))}
    if isinstance(value, np.ndarray):
        return {"dtype": value.dtype.str, "shape": list(value.shape),
                "values": value.ravel().tolist()}
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _decode_dataclass(cls: type, data: dict[str, Any], nan_keys: frozenset[str],
                      where: str) -> Any:
    hints = _hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    values = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ValueError(f"{where}: field {f.name!r} is missing")
            continue
        values[f.name] = _decode(hints[f.name], data[f.name], nan_keys, f"{where}.{f.name}")
    return cls(**values)


def _decode(hint: Any, value: Any, nan_keys: frozenset[str], where: str) -> Any:
    """``value`` (read from JSON) as the type ``hint`` declares."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        kinds = [a for a in args if a is not type(None)]
        return _decode(kinds[0] if len(kinds) == 1 else Any, value, nan_keys, where)
    if hint is Any or hint is object:
        return _untyped(value, nan_keys)
    if hint is float:
        return math.nan if value is None else float(value)
    if hint in (int, str, bool):
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise ValueError(f"{where}: expected {hint.__name__}, got {value!r}")
        return value
    if hint in (dt.date, dt.datetime):
        return hint.fromisoformat(value)
    if hint is np.ndarray:
        dtype = np.dtype(value["dtype"])
        raw = value["values"]
        if dtype.kind == "f":
            raw = [math.nan if v is None else v for v in raw]
        return np.asarray(raw, dtype=dtype).reshape(value["shape"])
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object, got {value!r}")
        keys = hint._nan_keys if issubclass(hint, AnalysisResult) else nan_keys
        return _decode_dataclass(hint, value, keys, where)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, nan_keys, where) for v in value)
        return tuple(_decode(a, v, nan_keys, where) for a, v in zip(args, value))
    if origin is list:
        return [_decode(args[0], v, nan_keys, where) for v in value]
    if origin is dict:
        return {k: _decode(args[1], v, nan_keys, f"{where}[{k!r}]") for k, v in value.items()}
    if origin is not None:              # e.g. Mapping[str, Any]
        return _untyped(value, nan_keys)
    raise ValueError(f"{where}: cannot read a {hint!r} from JSON")


def _untyped(value: Any, nan_keys: frozenset[str]) -> Any:
    """An untyped value: lists stay lists, objects dicts; ``nan_keys``' nulls become NaN."""
    if isinstance(value, dict):
        return {k: (math.nan if v is None and k in nan_keys else _untyped(v, nan_keys))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_untyped(v, nan_keys) for v in value]
    return value


def _same(a: Any, b: Any) -> bool:
    """Deep equality with NaN equal to NaN and numpy arrays compared by dtype, shape, values
    (numpy scalars as their Python values; an int and a float of the same value are equal)."""
    a = a.item() if isinstance(a, np.generic) else a
    b = b.item() if isinstance(b, np.generic) else b
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(_same(getattr(a, f.name), getattr(b, f.name))
                                          for f in dataclasses.fields(a))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b
