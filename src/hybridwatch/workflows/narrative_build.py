"""Build or update the store's narratives: fit (or reuse) the model, assign articles, save.

The clustering lives in ``analyses.narratives``; the tables in ``store.narratives_store``. This
module joins them and owns the model's serialised form (an ``.npz`` blob, no pickle).
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from hybridwatch.analyses.narratives import (
    ClusterParams, NarrativeModel, fit_narratives, label_terms, make_label, outlet_boilerplate,
    update_narratives,
)
from hybridwatch.analyses.text_repr import TextRepresentation
from hybridwatch.store import EventStore
from hybridwatch.store.narratives_store import (
    StoredModel, article_outlets, ensure_tables, narrative_count, pending_articles,
    reset_narratives,
    save_narrative_update, stored_model,
)


@dataclass(frozen=True)
class NarrativeBuild:
    """What one ``build_narratives`` call did."""

    model: str
    refit: bool                   # True when the representation was fitted in this call
    articles_considered: int      # articles that had no narrative before this call
    assigned_existing: int        # of those, joined a narrative that already existed
    assigned_new: int             # of those, placed in a narrative opened by this call
    unassigned: int               # left without a narrative (noise; retried next build)
    new_narratives: list[str] = field(default_factory=list)
    narratives_total: int = 0
    seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_narratives(store: EventStore, *, model: str | None = None, random_state: int = 0,
                     rebuild: bool = False, params: ClusterParams | None = None) -> NarrativeBuild:
    """Cluster the articles that have no narrative yet.

    With no stored model (or ``rebuild``), fit the representation and cluster everything.
    Otherwise assign new articles to existing narratives when similar enough and open new
    narratives (next unused ids) only for the rest; earlier assignments never change.
    ``model`` defaults to the stored model's, or ``concepts`` (cross-lingual) for a first
    build; ``tfidf`` is the fallback (see docs/narratives.md).
    """
    started = time.perf_counter()
    ensure_tables(store)
    if rebuild:
        reset_narratives(store)
    fitted = load_model(store)
    model = model or (fitted.representation.model if fitted is not None else "concepts")
    params = params or ClusterParams.for_model(model, random_state=random_state)
    if fitted is not None and fitted.representation.model != model:
        raise ValueError(f"the store's narratives use the {fitted.representation.model!r} model, "
                         f"not {model!r}; pass rebuild=True (--rebuild) to start over")
    ids, texts = pending_articles(store)
    refit = fitted is None
    if not texts:
        update = None
    elif refit:
        fitted, update = fit_narratives(texts, params, model=model)
    else:
        update = update_narratives(fitted, texts, params)
    if update is None:
        return NarrativeBuild(model, False, 0, 0, 0, 0, [], narrative_count(store),
                              round(time.perf_counter() - started, 3), asdict(params))
    new = set(update.new_narratives)
    assigned_new = sum(1 for n in update.narrative_ids if n in new)
    unassigned = sum(1 for n in update.narrative_ids if n is None)
    _save(store, fitted, params, ids, texts, update, model)
    return NarrativeBuild(model, refit, len(ids), len(ids) - assigned_new - unassigned,
                          assigned_new, unassigned, list(update.new_narratives),
                          narrative_count(store), round(time.perf_counter() - started, 3),
                          asdict(params))


def _save(store: EventStore, fitted: NarrativeModel, params: ClusterParams, ids: list[str],
          texts: list[str], update, model: str) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    keep = [i for i, n in enumerate(update.narrative_ids) if n is not None]
    assignments = pa.table({
        "article_id": pa.array([ids[i] for i in keep], pa.string()),
        "narrative_id": pa.array([update.narrative_ids[i] for i in keep], pa.string()),
        "similarity": pa.array([float(update.similarities[i]) for i in keep], pa.float64())})
    new = update.new_narratives
    # each outlet's site furniture ("Feature:", "most read" …) is judged over all the
    # narratives of this update and left out of the new narratives' labels
    outlets = article_outlets(store, ids)
    terms = label_terms(texts, [n if n in set(new) else None for n in update.narrative_ids],
                        outlets=outlets, boilerplate=outlet_boilerplate(
                            texts, list(update.narrative_ids), outlets))
    narratives = pa.table({
        "narrative_id": new,
        "label": [make_label(terms.get(n, [])) for n in new],
        "terms": [json.dumps(terms.get(n, []), ensure_ascii=False) for n in new],
        "size": pa.array([0] * len(new), pa.int64()),
        "created_at": pa.array([now] * len(new), pa.timestamp("us")),
        "model": [model] * len(new)})
    buffer = io.BytesIO()
    np.savez_compressed(buffer, ids=np.array(fitted.narrative_ids, dtype=str),
                        centroids=fitted.centroids, thresholds=fitted.thresholds,
                        next_number=np.array(fitted.next_number))
    save_narrative_update(store, assignments, narratives, StoredModel(
        model, now, json.dumps(asdict(params)), fitted.representation.to_bytes(),
        buffer.getvalue()))


def load_model(store: EventStore) -> NarrativeModel | None:
    """The stored narrative model, or None when narratives were never built."""
    stored = stored_model(store)
    if stored is None:
        return None
    representation = TextRepresentation.from_bytes(stored.representation)
    with np.load(io.BytesIO(stored.narratives), allow_pickle=False) as data:
        return NarrativeModel(representation, data["ids"].tolist(),
                              data["centroids"].astype(np.float32),
                              data["thresholds"].astype(np.float32), int(data["next_number"]))
