"""``record(store, report)``: the one way an analysis run is recorded.

It takes a ``RunReport`` (``model.results``: the finding kind, the run's summary — parameters,
window, warnings, provenance and the kind's own fields — and its items), gives each item its TLP
level by the kind's registered rule (``model.finding_kinds.TLP_RULES``) unless the report
carries the levels, stores the run (earlier runs are kept) and returns the report with its
``run_id``. ``report_of`` turns a workflow's JSON contract into such a report.
"""

from __future__ import annotations

from typing import Any

from hybridwatch.analyses.selectors import parse_selector
from hybridwatch.analyses.series import select_events
from hybridwatch.errors import StoreError
from hybridwatch.model.finding_kinds import FindingKind
from hybridwatch.model.json_values import json_value
from hybridwatch.model.results import RunReport
from hybridwatch.model.tlp import most_restricted
from hybridwatch.store import EventStore
from hybridwatch.store.findings_store import items_of, save_run, store_kind, tlp_of_events
from hybridwatch.workflows.evidence import located_events


def report_of(kind: str, data: dict[str, Any], tlps: list[str] | None = None) -> RunReport:
    """A workflow's JSON contract (``to_dict()``) as the ``RunReport`` of ``kind``: the kind's
    items field holds the items, everything else is the summary."""
    declared = store_kind(kind)
    field = declared.items_field
    if field not in data:
        raise StoreError(f"{kind}: the result has no {field!r} (the kind's items)")
    return RunReport(kind, {k: v for k, v in data.items() if k not in (field, "run_id")},
                     tuple(data[field]), tuple(tlps) if tlps is not None else None,
                     items_field=field)


def record(store: EventStore, report: RunReport) -> RunReport:
    """Store ``report`` as a new run (earlier runs are kept); returns it with its run id."""
    declared = store_kind(report.kind)
    items = [json_value(dict(item)) for item in report.items]
    levels = list(report.tlps) if report.tlps is not None else item_levels(store, declared,
                                                                           items)
    run_id = save_run(store, declared.name, json_value(report.summary),
                      items_of(declared.name, items, levels))
    return report.with_run_id(run_id)


def item_levels(store: EventStore, kind: FindingKind, items: list[dict[str, Any]]
                ) -> list[str]:
    """Each item's TLP level by the kind's rule (``evidence`` levels come with the report:
    only the workflow knows which evidence it cited)."""
    if kind.tlp_rule == "events":
        return [tlp_of_events(store, item.get("event_ids") or []) for item in items]
    if kind.tlp_rule == "series":
        labels = sorted({item[side] for item in items for side in ("a", "b")})
        tlp = {label: series_tlp(store, label) for label in labels}
        return [most_restricted([tlp[item["a"]], tlp[item["b"]]]) for item in items]
    if kind.tlp_rule == "marked":
        missing = [kind.key(item) for item in items if not item.get("tlp")]
        if missing:
            raise StoreError(f"{kind.name}: items without their TLP level: {missing[:3]}")
        return [item["tlp"] for item in items]
    if kind.tlp_rule == "clear":
        return ["clear"] * len(items)
    raise StoreError(f"{kind.name}: its TLP rule ({kind.tlp_rule}) needs the levels the "
                     "workflow computed: pass them in the report (tlps)")


def series_tlp(store: EventStore, label: str) -> str:
    """The most restricted TLP level among the events of a selector's series."""
    selector = parse_selector(label)
    events = select_events(located_events(store, [selector]), selector)
    levels = events.select(events.tlp).distinct().to_pyarrow()["tlp"].to_pylist()
    return most_restricted(levels)
