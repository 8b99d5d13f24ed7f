"""Narratives in the store: build or update them from the articles table, and list them.

Tables (created on first use):

- ``narratives``: one row a narrative: id (``n0001`` …, never renumbered), label, terms (JSON
  list), size (articles assigned), created_at, model.
- ``article_narratives``: one row an assigned article: its narrative and cosine similarity to
  the narrative's centroid. Articles without a row are unassigned (new, or noise so far).
- ``narrative_model``: one row: the fitted representation (an ``.npz`` blob, no pickle) and the
  narratives' centroids, thresholds and next id number, so later builds assign new articles
  to the same narratives.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from hybridwatch.analyses.narratives import (
    ClusterParams,
    NarrativeModel,
    fit_narratives,
    label_terms,
    make_label,
    update_narratives,
)
from hybridwatch.analyses.text_repr import TextRepresentation
from hybridwatch.model.outlet_groups import outlet_group
from hybridwatch.store.store import EventStore

DDL = """
CREATE TABLE IF NOT EXISTS narratives (
  narrative_id VARCHAR, label VARCHAR, terms VARCHAR, size BIGINT, created_at TIMESTAMP,
  model VARCHAR);
CREATE TABLE IF NOT EXISTS article_narratives (
  article_id VARCHAR, narrative_id VARCHAR, similarity DOUBLE);
CREATE TABLE IF NOT EXISTS narrative_model (
  model VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP, params VARCHAR,
  representation BLOB, narratives BLOB);
"""
#: headline text used for an article: its title, or the start of its text when untitled
_TEXT_SQL = "coalesce(nullif(trim(a.title), ''), left(a.text, 300), '')"


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


def ensure_tables(store: EventStore) -> bool:
    """Create the narrative tables if missing; False when they are missing and the store is
    read-only (nothing built yet)."""
    present = {r[0] for r in store.con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name IN "
        "('narratives', 'article_narratives', 'narrative_model')").fetchall()}
    if len(present) == 3:
        return True
    try:
        store.con.execute(DDL)
    except duckdb.Error:  # read-only store without narratives
        return False
    return True


def build_narratives(store: EventStore, *, model: str = "tfidf", random_state: int = 0,
                     rebuild: bool = False, params: ClusterParams | None = None) -> NarrativeBuild:
    """Cluster the articles that have no narrative yet.

    With no stored model (or ``rebuild``), fit the representation and cluster everything.
    Otherwise assign new articles to existing narratives when similar enough and open new
    narratives (next unused ids) only for the rest; earlier assignments never change.
    """
    started = time.perf_counter()
    params = params or ClusterParams(random_state=random_state)
    ensure_tables(store)
    if rebuild:
        for table in ("article_narratives", "narratives", "narrative_model"):
            store.con.execute(f"DELETE FROM {table}")
    fitted = load_model(store)
    if fitted is not None and fitted.representation.model != model:
        raise ValueError(f"the store's narratives use the {fitted.representation.model!r} model, "
                         f"not {model!r}; pass rebuild=True (--rebuild) to start over")
    ids, texts = _pending_articles(store)
    refit = fitted is None
    if not texts:
        update = None
    elif refit:
        fitted, update = fit_narratives(texts, params, model=model)
    else:
        update = update_narratives(fitted, texts, params)
    if update is None:
        return NarrativeBuild(model, False, 0, 0, 0, 0, [], _count(store),
                              round(time.perf_counter() - started, 3), asdict(params))
    new = set(update.new_narratives)
    assigned_new = sum(1 for n in update.narrative_ids if n in new)
    unassigned = sum(1 for n in update.narrative_ids if n is None)
    _write(store, fitted, params, ids, texts, update, model)
    return NarrativeBuild(model, refit, len(ids), len(ids) - assigned_new - unassigned,
                          assigned_new, unassigned, list(update.new_narratives), _count(store),
                          round(time.perf_counter() - started, 3), asdict(params))


def _pending_articles(store: EventStore) -> tuple[list[str], list[str]]:
    rows = store.con.execute(
        f"SELECT a.article_id, {_TEXT_SQL} FROM articles a "
        "ANTI JOIN article_narratives n ON a.article_id = n.article_id "
        "ORDER BY a.published_at, a.article_id").fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


def _write(store: EventStore, fitted: NarrativeModel, params: ClusterParams, ids: list[str],
           texts: list[str], update, model: str) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    keep = [i for i, n in enumerate(update.narrative_ids) if n is not None]
    assignments = pa.table({
        "article_id": pa.array([ids[i] for i in keep], pa.string()),
        "narrative_id": pa.array([update.narrative_ids[i] for i in keep], pa.string()),
        "similarity": pa.array([float(update.similarities[i]) for i in keep], pa.float64())})
    terms = label_terms(texts, [n if n in set(update.new_narratives) else None
                                for n in update.narrative_ids])
    rows = pa.table({
        "narrative_id": update.new_narratives,
        "label": [make_label(terms.get(n, [])) for n in update.new_narratives],
        "terms": [json.dumps(terms.get(n, []), ensure_ascii=False) for n in update.new_narratives],
        "size": pa.array([0] * len(update.new_narratives), pa.int64()),
        "created_at": pa.array([now] * len(update.new_narratives), pa.timestamp("us")),
        "model": [model] * len(update.new_narratives)})
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_hw_assign", assignments)
        con.register("_hw_narr", rows)
        con.execute("INSERT INTO article_narratives SELECT * FROM _hw_assign")
        con.execute("INSERT INTO narratives SELECT * FROM _hw_narr")
        con.execute("UPDATE narratives SET size = coalesce(c.n, 0) FROM (SELECT narrative_id, "
                    "count(*) AS n FROM article_narratives GROUP BY narrative_id) c "
                    "WHERE narratives.narrative_id = c.narrative_id")
        _save_model(store, fitted, params, model, now)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_hw_assign")
        con.unregister("_hw_narr")


def _save_model(store: EventStore, fitted: NarrativeModel, params: ClusterParams, model: str,
                now: datetime) -> None:
    created = store.con.execute("SELECT min(created_at) FROM narrative_model").fetchall()[0][0]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, ids=np.array(fitted.narrative_ids, dtype=str),
                        centroids=fitted.centroids, thresholds=fitted.thresholds,
                        next_number=np.array(fitted.next_number))
    store.con.execute("DELETE FROM narrative_model")
    store.con.execute("INSERT INTO narrative_model VALUES (?, ?, ?, ?, ?, ?)",
                      [model, created or now, now, json.dumps(asdict(params)),
                       fitted.representation.to_bytes(), buffer.getvalue()])


def load_model(store: EventStore) -> NarrativeModel | None:
    """The stored narrative model, or None when narratives were never built."""
    if not ensure_tables(store):
        return None
    row = store.con.execute(
        "SELECT representation, narratives FROM narrative_model").fetchall()
    if not row:
        return None
    representation = TextRepresentation.from_bytes(bytes(row[0][0]))
    with np.load(io.BytesIO(bytes(row[0][1])), allow_pickle=False) as data:
        return NarrativeModel(representation, data["ids"].tolist(),
                              data["centroids"].astype(np.float32),
                              data["thresholds"].astype(np.float32), int(data["next_number"]))


def _count(store: EventStore) -> int:
    return store.con.execute("SELECT count(*) FROM narratives").fetchall()[0][0]


def list_narratives(store: EventStore, *, outlet_groups: dict[str, str],
                    limit: int | None = None, n_examples: int = 3) -> list[dict[str, Any]]:
    """Narratives, largest first, each with ``id``, ``label``, ``terms``, ``size``, ``by_actor``
    (group → article count; outlets outside every group count as ``other``) and ``examples``
    (distinct headlines closest to the narrative's centre, with outlet and date)."""
    if not ensure_tables(store):
        return []
    sql = ("SELECT narrative_id, label, terms, size, created_at, model FROM narratives "
           "ORDER BY size DESC, narrative_id")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    narratives = store.con.execute(sql).fetchall()
    by_outlet = store.con.execute(
        "SELECT n.narrative_id, a.outlet, count(*) FROM article_narratives n "
        "JOIN articles a USING (article_id) GROUP BY ALL").fetchall()
    actors: dict[str, dict[str, int]] = {}
    for narrative_id, outlet, count in by_outlet:
        group = outlet_group(outlet, outlet_groups) or "other"
        bucket = actors.setdefault(narrative_id, {})
        bucket[group] = bucket.get(group, 0) + count
    examples = _examples(store, n_examples)
    return [{"id": n, "label": label, "terms": json.loads(terms or "[]"), "size": size,
             "created_at": created.isoformat() if created else None, "model": model,
             "by_actor": dict(sorted(actors.get(n, {}).items(), key=lambda kv: (-kv[1], kv[0]))),
             "examples": examples.get(n, [])}
            for n, label, terms, size, created, model in narratives]


def _examples(store: EventStore, n_examples: int) -> dict[str, list[dict[str, Any]]]:
    rows = store.con.execute(
        "SELECT narrative_id, article_id, title, outlet, published_at FROM ("
        "  SELECT *, row_number() OVER (PARTITION BY narrative_id ORDER BY similarity DESC,"
        "                               published_at, article_id) AS rank FROM ("
        f"   SELECT n.narrative_id, n.similarity, a.article_id, {_TEXT_SQL} AS title, a.outlet,"
        "           a.published_at"
        "    FROM article_narratives n JOIN articles a USING (article_id)"
        "    QUALIFY row_number() OVER (PARTITION BY n.narrative_id, title"  # one per headline
        "                               ORDER BY n.similarity DESC, a.article_id) = 1)) "
        "WHERE rank <= ? ORDER BY narrative_id, rank", [n_examples]).fetchall()
    out: dict[str, list[dict[str, Any]]] = {}
    for narrative_id, article_id, title, outlet, published_at in rows:
        out.setdefault(narrative_id, []).append(
            {"article_id": article_id, "title": title, "outlet": outlet,
             "published_at": published_at.isoformat() if published_at else None})
    return out


def article_assignments(store: EventStore) -> dict[str, str]:
    """article_id → narrative_id for every assigned article."""
    if not ensure_tables(store):
        return {}
    return dict(store.con.execute(
        "SELECT article_id, narrative_id FROM article_narratives").fetchall())
