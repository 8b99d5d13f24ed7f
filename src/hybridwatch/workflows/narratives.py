"""Narrative synchronisation on a store: who pushes which narrative, who leads, and convergence.

Reads the articles with their narratives (``hybridwatch narratives build`` assigns them) and
their outlets' groups (``model/outlet_groups.toml`` or the user's file), then runs
``analyses.narrative_sync.synchronisation``, whose significance is the coincidence machinery's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hybridwatch.analyses.narrative_sync import synchronisation
from hybridwatch.errors import SelectorError
from hybridwatch.model.outlet_groups import load_outlet_groups, outlet_group
from hybridwatch.store import EventStore
from hybridwatch.store.narratives_store import ensure_tables


def narrative_sync(store: EventStore, *, a: str = "ru_state", b: str = "cn_state",
                   control: str | None = "control", fdr: float = 0.05,
                   n_surrogates: int = 1000, period: str = "M",
                   outlet_groups_path: Path | None = None,
                   random_state: int | None = None) -> dict[str, Any]:
    """Synchronisation of actors ``a`` and ``b`` per shared narrative, against ``control``.

    Returns the JSON contract: ``narratives`` (one per narrative both push: ``narrative``,
    ``lead_actor``, ``lag_days``, ``p_value``, ``q_value``, ``significant``,
    ``beyond_control``, ``evidence``), ``too_little_data``, ``convergence``, ``parameters``.
    """
    ensure_tables(store)
    rows = store.con.execute(
        "SELECT a.article_id, CAST(a.published_at AS DATE), a.outlet, n.narrative_id "
        "FROM articles a LEFT JOIN article_narratives n USING (article_id) "
        "ORDER BY a.published_at, a.article_id").fetchall()
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
    result = synchronisation(
        {"article_id": np.asarray(article_ids, dtype=object),
         "published_day": np.asarray(days, dtype="datetime64[D]"),
         "group": np.asarray([group_of[o] for o in outlets], dtype=object),
         "narrative_id": np.asarray(narratives, dtype=object)},
        a=a, b=b, control=control, fdr=fdr, n_surrogates=n_surrogates, period=period,
        random_state=random_state)
    return result.to_dict()
