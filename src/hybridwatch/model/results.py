"""The result contract every analysis result and workflow report shares. Pure: no I/O.

A result is a frozen dataclass (scipy's frozen result objects) with ``to_dict()``; this module
gives it one strict JSON form: ``to_json()`` writes it through ``json_value`` (NaN and infinity
become null, numpy values plain Python — JSON has no NaN, and browsers and ``jq`` refuse it),
``from_json()`` reads it back through the class's ``from_dict``.

``RunReport`` is what a workflow hands to ``workflows.findings.record``: the finding kind, the
run's summary (parameters, the days analysed, warnings, provenance and the kind's own fields),
its items, optionally their TLP levels, and — once recorded — its ``run_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from hybridwatch.model.json_values import json_value


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
