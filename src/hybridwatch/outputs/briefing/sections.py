"""One view-model builder per kind of finding: the stored run, as the reader may see it.

Builders only select, order and format what the findings store holds (never recompute): each
returns a plain dict the template renders. A kind that has never been run gives a section that
says so and names the command that runs it. Kinds with their own builder (and template block)
are listed in ``SECTION_BUILDERS``; every other registered kind gets ``generic``, a table of
its declared ``display`` fields.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hybridwatch.model.countries import country_name
from hybridwatch.model.finding_kinds import get_kind
import hybridwatch.outputs.briefing.charts as charts
from hybridwatch.outputs.briefing.judgement_text import confidence_reasons, judgement_sentence
from hybridwatch.outputs.briefing.period import Period
from hybridwatch.store.findings_store import FindingRun

#: Rows a generic section lists (the API and the STIX export carry all of them).
GENERIC_ROWS = 50
#: A list cell longer than this shows its first items and its length.
LIST_CELL_ITEMS = 6


def name_of(iso3: str) -> str:
    try:
        return country_name(iso3)
    except ValueError:
        return iso3


def pct(value: float | None) -> str:
    """0.634 → '63%'; None or NaN → '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * float(value):.0f}%"


def num(value: float | None, digits: int = 3) -> str:
    """A number with ``digits`` significant digits; None or NaN → '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.{digits}g}"


def _defaults(item: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``item`` with every key the template reads present (None when the run omitted it)."""
    return {**dict.fromkeys(keys), **item}


def base(kind: str, run: FindingRun | None, db: str) -> dict[str, Any]:
    """What every section shows: whether the analysis ran, when, what was withheld, warnings."""
    how_to_run = get_kind(kind).how_to_run(db)
    if run is None:
        return {"kind": kind, "ran": False, "how_to_run": how_to_run,
                "withheld": 0, "warnings": [], "created_at": None, "window": None}
    return {"kind": kind, "ran": True, "how_to_run": how_to_run,
            "withheld": run.withheld, "warnings": list(run.summary.get("warnings") or []),
            "summary_withheld": run.summary.get("summary_withheld"),
            "window": run.summary.get("window"),
            "created_at": run.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            "run_id": run.run_id}


def _breakdown(parts: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Per-domain or per-sector probabilities, most probable first."""
    return [{"name": k, "phia_term": v.get("phia_term"), "confidence": v.get("confidence"),
             "probability_text": pct(v.get("probability"))}
            for k, v in sorted((parts or {}).items(),
                               key=lambda kv: (-(kv[1].get("probability") or 0.0), kv[0]))]


def _skill(backtest: dict[str, Any]) -> dict[str, Any]:
    """A backtest's skill in words: ``none`` (point estimate ≤ 0 or unknown), ``unproven``
    (its interval reaches 0) or ``shown``."""
    skill, low = backtest.get("skill"), backtest.get("skill_low")
    if skill is None or (isinstance(skill, float) and math.isnan(skill)) or skill <= 0:
        verdict = "none"
    elif low is not None and low <= 0:
        verdict = "unproven"
    else:
        verdict = "shown"
    interval = (f" (90% interval {num(low, 2)} to {num(backtest.get('skill_high'), 2)})"
                if low is not None else "")
    return {"skill_verdict": verdict, "skill_text": num(skill, 2) + interval}


def assessment(run: FindingRun | None, db: str) -> dict[str, Any]:
    """Key judgements, most probable first, with the backtest and the caution."""
    section = base("assessment", run, db)
    if run is None:
        return section
    summary = run.summary
    backtest = dict(summary.get("backtest") or {})
    skill = _skill(backtest)
    if not backtest and summary.get("summary_withheld"):
        # the backtest read records above the reader's level (#14): say so, not "–" figures
        skill["skill_verdict"] = "withheld"
    caveat_shown = skill["skill_verdict"] != "shown"      # a no-skill or skill-not-shown box
    judgements = []
    for item in sorted(run.items, key=lambda i: (-(i.get("probability") or 0.0), i["target"])):
        judgements.append({
            **_defaults(item, "outcome", "statement", "phia_term", "phia_phrase", "confidence",
                        "low", "high"),
            "sentence": judgement_sentence(item) or item.get("statement"),
            "anchor": f"f-{item['finding_id']}",
            "target_name": item.get("name") or name_of(item["target"]),
            "probability_text": pct(item.get("probability")),
            "range_text": f"{pct(item.get('low'))}–{pct(item.get('high'))}",
            "confidence_reasons": confidence_reasons(item, caveat_shown=caveat_shown),
            "drivers": [{**d, "value_text": num(d.get("value")),
                         "contribution_text": num(d.get("contribution"), 2)}
                        for d in item.get("drivers") or []],
            "domains": _breakdown(item.get("domains")),
            "sectors": _breakdown(item.get("sectors")),
            "evidence": list(item.get("evidence") or []),
            "review": item.get("review")})
    by_outcome = [{"outcome": name, **b, **_skill(b)}
                  for name, b in sorted((backtest.get("by_outcome") or {}).items())]
    section.update({
        "judgements": judgements, "caution": summary.get("caution"),
        "horizon_days": summary.get("horizon_days"), "as_of": summary.get("as_of"),
        "backtest": backtest, "by_outcome": by_outcome, **skill,
        "no_skill": skill["skill_verdict"] == "none",
        "parameters": summary.get("parameters") or {},
        "modelled_targets": list(summary.get("modelled_targets") or []),
        "reliability_svg": (charts.reliability_chart(backtest["reliability"])
                            if backtest.get("reliability") else None)})
    return section


def convergence(run: FindingRun | None, db: str, period: Period | None) -> dict[str, Any]:
    """The convergence index by period, with band, components and confidence."""
    section = base("convergence", run, db)
    if run is None:
        return section
    summary = run.summary
    rows = sorted(({**_defaults(item, "index", "low", "high", "confidence"),
                    "components": item.get("components") or {},
                    "anchor": f"f-{item['finding_id']}"} for item in run.items
                   if period is None or period.contains_label(str(item["period"]))),
                  key=lambda item: str(item["period"]))
    components = list(summary.get("components") or
                      sorted({k for r in rows for k in r["components"]}))
    latest = next((r for r in reversed(rows) if r.get("index") is not None), None)
    section.update({
        "a": summary.get("a"), "b": summary.get("b"), "freq": summary.get("freq"),
        "weights": summary.get("weights") or {}, "components": components, "rows": rows,
        "descriptions": summary.get("descriptions") or {},
        "outside_period": len(run.items) - len(rows), "latest": latest,
        "parameters": summary.get("parameters") or {},
        "svg": charts.convergence_chart(rows, components) if rows else None})
    return section


def episodes(run: FindingRun | None, db: str, period: Period | None) -> dict[str, Any]:
    """Episodes meeting the period, oldest first and numbered, with a timeline."""
    section = base("episodes", run, db)
    if run is None:
        return section
    shown = sorted((e for e in run.items
                    if period is None or period.overlaps(e["start"], e["end"])),
                   key=lambda e: (e["start"], e["end"], e["finding_id"]))
    shown = [{**_defaults(e, "n_events"), "number": n, "anchor": f"f-{e['finding_id']}",
              "p_text": num(e.get("p_value")), "statistic_text": num(e.get("statistic")),
              "where_text": where_text(e)}
             for n, e in enumerate(shown, start=1)]
    first = _day(period.first if period and period.first else run.summary.get("start"),
                 min((e["start"] for e in shown), default=None))
    last = _day(period.last if period and period.last else run.summary.get("end"),
                max((e["end"] for e in shown), default=None))
    section.update({
        "items": shown, "outside_period": len(run.items) - len(shown),
        "start": run.summary.get("start"), "end": run.summary.get("end"),
        "parameters": run.summary.get("parameters") or {},
        "provenance": run.summary.get("provenance") or {},
        # runs stored before the hostility rule counted every event: never call them hostile
        "counted": run.summary.get("counted") or "all events",
        "svg": charts.episodes_timeline(shown, first, last) if shown and first and last
        else None})
    return section


def where_text(episode: dict[str, Any]) -> str:
    """'military: Taiwan Strait (theatre); cyber: DEU (target)' — each signal's domain, where and
    the dimension it used; the targets alone for episodes stored before "where" existed."""
    signals = episode.get("signals") or []
    if not signals or "where_kind" not in signals[0]:
        return ", ".join(episode.get("targets") or [])
    return "; ".join(f"{s['domain']}: {s['where']} ({s['where_kind']})" for s in signals)


def _day(value: Any, fallback: Any) -> date | None:
    value = value if value is not None else fallback
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def coincidences(run: FindingRun | None, db: str) -> dict[str, Any]:
    """Significant coinciding pairs (B precedes A), strongest first."""
    section = base("coincidences", run, db)
    if run is None:
        return section
    significant = sorted((p for p in run.items if p.get("significant")),
                         key=lambda p: (p.get("q_value") or 1.0, p.get("p_value") or 1.0))
    summary = run.summary
    section.update({
        "pairs": [{**_defaults(p, "best_lag_days"), "anchor": f"f-{p['finding_id']}",
                   "precursor_text": pct(p.get("precursor_rate")),
                   "trigger_text": pct(p.get("trigger_rate")),
                   "p_text": num(p.get("p_value")), "q_text": num(p.get("q_value"))}
                  for p in significant],
        "n_tested": len(run.items), "start": summary.get("start"), "end": summary.get("end"),
        "parameters": {k: summary.get(k) for k in ("window_days", "lags", "null", "n_surrogates",
                                                   "fdr", "combination", "random_state")
                       if k in summary}})
    return section


def narratives(run: FindingRun | None, db: str, period: Period | None,
               catalogue: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Narratives two actor groups push in step, with labels and example headlines."""
    section = base("narrative_sync", run, db)
    if run is None:
        return section
    summary = run.summary
    rows = []
    for item in sorted((i for i in run.items if i.get("significant")),
                       key=lambda i: (i.get("q_value") or 1.0, i["narrative"])):
        narrative = catalogue.get(item["narrative"], {})
        rows.append({**_defaults(item, "lead_actor", "lag_days", "beyond_control"),
                     "anchor": f"f-{item['finding_id']}",
                     "label": narrative.get("label") or item["narrative"],
                     "terms": narrative.get("terms") or [],
                     "examples": narrative.get("examples") or [],
                     # DISARM techniques tagged when the run was recorded (None: not tagged)
                     "techniques": item.get("techniques"),
                     "q_text": num(item.get("q_value")), "p_text": num(item.get("p_value"))})
    monthly = [r for r in summary.get("convergence") or []
               if period is None or period.contains_label(str(r["period"]))]
    a, b = summary.get("a", "a"), summary.get("b", "b")
    section.update({
        "rows": rows, "n_tested": len(run.items), "a": a, "b": b,
        "control": summary.get("control"),
        "disarm": summary.get("disarm"),
        "too_little_data": summary.get("too_little_data") or [],
        "parameters": summary.get("parameters") or {},
        "svg": charts.narrative_convergence_chart(monthly, a, b) if monthly else None})
    return section


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return num(value)
    if isinstance(value, str) and value.count(",") >= LIST_CELL_ITEMS:
        value = value.split(",")
    if isinstance(value, (list, tuple)):
        if len(value) > LIST_CELL_ITEMS:   # e.g. the 27 EU members of an origin group
            return ", ".join(str(v) for v in value[:3]) + f", … ({len(value)} in all)"
        return ", ".join(str(v) for v in value)
    return "–" if value is None else str(value)


def generic(kind: str, run: FindingRun | None, db: str) -> dict[str, Any]:
    """Any registered kind without its own builder: its items' ``display`` fields as a table
    (only the significant ones when the kind has a significance field), in stored order."""
    declared = get_kind(kind)
    section = {**base(kind, run, db), "title": declared.title, "noun": declared.noun,
               "description": declared.description, "columns": list(declared.display),
               "optional": declared.optional}
    if run is None:
        return section
    flag = declared.significant_field
    shown = [i for i in run.items if flag is None or i.get(flag)]
    section.update({
        "rows": [{"anchor": f"f-{item['finding_id']}", "tlp": item["tlp"],
                  "cells": [_cell(item.get(column)) for column in declared.display]}
                 for item in shown[:GENERIC_ROWS]],
        "n_items": len(run.items), "n_shown": len(shown),
        "more": max(0, len(shown) - GENERIC_ROWS), "significant_only": flag is not None,
        "caution": run.summary.get("caution"),
        "parameters": run.summary.get("parameters") or {},
        "figures": SECTION_FIGURES[kind](run) if kind in SECTION_FIGURES else []})
    return section


def supply_figures(run: FindingRun) -> list[dict[str, str]]:
    """The supply run's charts: flows before and after the break, and where the origin's
    goods went (origin → transit → destination), from the stored diversion evidence."""
    from hybridwatch.model.trade import COUNTRY_GROUPS
    from hybridwatch.outputs.briefing import supply_charts

    test = run.summary.get("diversion_test") or {}
    start = test.get("break_month")
    if not start or not supply_charts.chosen_vias(run.items):
        return []
    origin_codes = tuple(test.get("origin") or ())
    origin = next((name for name, group in COUNTRY_GROUPS.items()
                   if tuple(group) == origin_codes and len(origin_codes) > 1),
                  ",".join(origin_codes))
    args = {"origin": origin, "destination": test.get("destination") or "?",
            "direct": test.get("direct_flow"), "start": str(start)}
    return [{"svg": supply_charts.flows_before_after(run.items, **args),
             "caption": f"Mean monthly value of the direct flow and of each transit country's "
                        f"two legs over the {test.get('parameters', {}).get('pre_months', '?')} "
                        f"months before {start} and the "
                        f"{test.get('parameters', {}).get('post_months', '?')} months from it."},
            {"svg": supply_charts.diversion_sankey(run.items, **args),
             "caption": "Origin → transit country → destination from the break on: band width "
                        "is the leg's mean monthly value; the pale band is the direct flow. "
                        "Leads for an analyst, not proof of evasion."}]


#: Kinds rendered by ``generic`` that add charts of their own above the table.
SECTION_FIGURES: dict[str, Callable[[FindingRun], list[dict[str, str]]]] = {
    "supply": supply_figures,
}


@dataclass(frozen=True)
class SectionInput:
    """What section builders get besides the run."""

    db: str
    period: Period | None = None
    catalogue: dict[str, dict[str, Any]] = field(default_factory=dict)


#: Kinds with their own section (and template block); the others render through ``generic``.
SECTION_BUILDERS: dict[str, Callable[[FindingRun | None, SectionInput], dict[str, Any]]] = {
    "assessment": lambda run, given: assessment(run, given.db),
    "convergence": lambda run, given: convergence(run, given.db, given.period),
    "episodes": lambda run, given: episodes(run, given.db, given.period),
    "coincidences": lambda run, given: coincidences(run, given.db),
    "narrative_sync": lambda run, given: narratives(run, given.db, given.period,
                                                    given.catalogue),
}


def build_section(kind: str, run: FindingRun | None, given: SectionInput) -> dict[str, Any]:
    builder = SECTION_BUILDERS.get(kind)
    return builder(run, given) if builder else generic(kind, run, given.db)
