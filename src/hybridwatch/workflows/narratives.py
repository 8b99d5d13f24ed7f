"""Narrative synchronisation on a store: who pushes which narrative, who leads, and convergence.

Reads the articles with their narratives (``hybridwatch narratives build`` assigns them) and
their outlets' groups (``model/outlet_groups.toml`` or the user's file), then runs
``analyses.narrative_sync.synchronisation``, whose significance is the coincidence machinery's.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from hybridwatch.analyses.narrative_sync import synchronisation
from hybridwatch.analyses.seeding import fingerprint_arrays, resolve_seed
from hybridwatch.errors import SelectorError
from hybridwatch.model.outlet_groups import load_outlet_groups, outlet_group
from hybridwatch.store import EventStore
from hybridwatch.store.narratives_store import dated_article_assignments
from hybridwatch.workflows.coverage import AnalysisWindow, analysis_window, store_coverage


def narrative_sync(store: EventStore, *, a: str = "ru_state", b: str = "cn_state",
                   control: str | None = "control", fdr: float = 0.05,
                   n_surrogates: int = 1000, period: str = "M",
                   outlet_groups_path: Path | None = None,
                   random_state: int | None = None, since: date | None = None,
                   until: date | None = None, techniques: bool = True) -> dict[str, Any]:
    """Synchronisation of actors ``a`` and ``b`` per shared narrative, against ``control``.

    The days analysed default to those both groups cover: a group covers the union of its
    outlets' dense coverage, and the window is the intersection of the two groups' (stray old
    headlines do not stretch it); ``since``/``until`` (inclusive) override it. Without
    ``random_state`` the seed derives from the articles and the parameters.

    Returns the JSON contract: ``narratives`` (one per narrative both push: ``narrative``,
    ``lead_actor``, ``lag_days``, ``p_value``, ``q_value``, ``significant``,
    ``beyond_control``, ``evidence``; synchronised ones also ``techniques``, their DISARM
    techniques, each ``technique``, ``name``, ``tactic``, ``confidence``, ``evidence``,
    ``headlines_tagged`` — unless ``techniques`` is false), ``too_little_data``,
    ``convergence``, ``parameters``, ``disarm`` (the framework version used).
    """
    rows = dated_article_assignments(store)
    if not rows:
        raise SelectorError("the store holds no articles (ingest some, then run "
                            "`hybridwatch narratives build`)")
    if all(row[3] is None for row in rows):
        raise SelectorError("no article has a narrative yet: run `hybridwatch narratives build`")
    groups = load_outlet_groups(outlet_groups_path)
    article_ids, days, outlets, narratives = zip(*rows)
    group_of = {outlet: outlet_group(outlet, groups) for outlet in set(outlets)}
    present = {g for g in group_of.values() if g}
    for name in (a, b) + ((control,) if control else ()):
        if name not in present:
            raise SelectorError(f"no articles from outlets of group {name!r} (groups present: "
                                f"{', '.join(sorted(present)) or 'none'}); check the outlet "
                                "groups file")
    window = _group_window(store, group_of, a, b, since, until)
    day_arr = np.asarray(days, dtype="datetime64[D]")
    inside = (day_arr >= np.datetime64(window.start)) & (day_arr <= np.datetime64(window.end))
    columns = {"article_id": np.asarray(article_ids, dtype=object)[inside],
               "published_day": day_arr[inside],
               "group": np.asarray([group_of[o] for o in outlets], dtype=object)[inside],
               "narrative_id": np.asarray(narratives, dtype=object)[inside]}
    seed = resolve_seed(random_state, "narrative_sync",
                        fingerprint_arrays(*columns.values()), a, b, control, fdr,
                        n_surrogates, period)
    result = synchronisation(columns, a=a, b=b, control=control, fdr=fdr,
                             n_surrogates=n_surrogates, period=period, random_state=seed)
    data = result.to_dict()
    if techniques:   # the DISARM techniques of each synchronised narrative, tagged once here
        from hybridwatch.model.disarm import disarm_framework
        from hybridwatch.workflows.narrative_disarm import narrative_techniques

        synced = [item for item in data.get("narratives") or () if item.get("significant")]
        tags = narrative_techniques(store, [item["narrative"] for item in synced])
        for item in synced:
            item["techniques"] = tags.get(item["narrative"], [])
        data["disarm"] = {"version": disarm_framework().version,
                          "tagged": "synchronised narratives"}
    return {**data, "window": window.to_dict(),
            "warnings": list(window.warnings) + list(data.get("warnings") or [])}


def _group_window(store: EventStore, group_of: dict[str, str | None], a: str, b: str,
                  since: date | None, until: date | None) -> AnalysisWindow:
    """Each group covers the union of its outlets' dense coverage; the window is the
    intersection of the two groups'."""
    outlets = store_coverage(store, "articles")
    coverage = {}
    for group in (a, b):
        mine = [outlets[o] for o, g in group_of.items() if g == group and o in outlets]
        coverage[group] = mine[0].replace(
            source=group, dense_first=min(c.dense_first for c in mine),
            dense_last=max(c.dense_last for c in mine), weekly_cycle=None)
    window = analysis_window(store, [{a: 1}, {b: 1}], since=since, until=until,
                             coverage=coverage, kind="articles", what="groups")
    named = sorted(o for o, g in group_of.items() if g in (a, b) and o in outlets)
    return AnalysisWindow(window.start, window.end, window.reason + " (outlets: "
                          + ", ".join(named) + ")", tuple(named), window.warnings)
