"""Narratives in the store: their tables, reads and all-or-nothing writes (fitting them is
``workflows.narrative_build``'s job).

Tables (their DDL in ``store.schema``):

- ``narratives``: one row a narrative: id (``n0001`` …, never renumbered), label, terms (JSON
  list), size (articles assigned), created_at, model.
- ``article_narratives``: one row an assigned article: its narrative and cosine similarity to
  the narrative's centroid. Articles without a row are unassigned (new, or noise so far).
- ``narrative_model``: one row: the fitted representation (an ``.npz`` blob, no pickle) and the
  narratives' centroids, thresholds and next id number, so later builds assign new articles
  to the same narratives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from hybridwatch.model.outlet_groups import outlet_group
from hybridwatch.store.schema import NARRATIVES_DDL
from hybridwatch.store.store import EventStore

#: headline text used for an article: its title, or the start of its text when untitled
_TEXT_SQL = "coalesce(nullif(trim(a.title), ''), left(a.text, 300), '')"


@dataclass(frozen=True)
class StoredModel:
    """The narrative model as the store keeps it: serialised by ``workflows.narrative_build``."""

    model: str                # representation name (tfidf …)
    updated_at: datetime
    params: str               # JSON of the clustering parameters
    representation: bytes     # TextRepresentation.to_bytes()
    narratives: bytes         # .npz: ids, centroids, thresholds, next_number


def ensure_tables(store: EventStore) -> bool:
    """Create the narrative tables if missing; False when they are missing and the store is
    read-only (nothing built yet)."""
    present = {r[0] for r in store._con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name IN "
        "('narratives', 'article_narratives', 'narrative_model')").fetchall()}
    if len(present) == 3:
        return True
    try:
        store._con.execute(NARRATIVES_DDL)
    except duckdb.Error:  # read-only store without narratives
        return False
    return True


def reset_narratives(store: EventStore) -> None:
    """Forget every narrative, assignment and the model (``narratives build --rebuild``)."""
    for table in ("article_narratives", "narratives", "narrative_model"):
        store._con.execute(f"DELETE FROM {table}")


def pending_articles(store: EventStore) -> tuple[list[str], list[str]]:
    """(article ids, headline texts) of the articles without a narrative, oldest first."""
    rows = store._con.execute(
        f"SELECT a.article_id, {_TEXT_SQL} FROM articles a "
        "ANTI JOIN article_narratives n ON a.article_id = n.article_id "
        "ORDER BY a.published_at, a.article_id").fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


def article_outlets(store: EventStore, article_ids: list[str]) -> list[str | None]:
    """The outlet of each article, in the order of ``article_ids`` (None if unknown)."""
    rows = dict(store._con.execute(
        "SELECT article_id, outlet FROM articles WHERE article_id IN (SELECT unnest(?))",
        [article_ids]).fetchall())
    return [rows.get(i) for i in article_ids]


def save_narrative_update(store: EventStore, assignments: pa.Table, narratives: pa.Table,
                          model: StoredModel) -> None:
    """Add ``assignments`` (article_id, narrative_id, similarity) and new ``narratives`` (the
    table's columns), refresh the sizes and replace the stored model: all or nothing."""
    con = store._con
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_hw_assign", assignments)
        con.register("_hw_narr", narratives)
        con.execute("INSERT INTO article_narratives SELECT * FROM _hw_assign")
        con.execute("INSERT INTO narratives SELECT * FROM _hw_narr")
        con.execute("UPDATE narratives SET size = coalesce(c.n, 0) FROM (SELECT narrative_id, "
                    "count(*) AS n FROM article_narratives GROUP BY narrative_id) c "
                    "WHERE narratives.narrative_id = c.narrative_id")
        created = con.execute("SELECT min(created_at) FROM narrative_model").fetchall()[0][0]
        con.execute("DELETE FROM narrative_model")
        con.execute("INSERT INTO narrative_model VALUES (?, ?, ?, ?, ?, ?)",
                    [model.model, created or model.updated_at, model.updated_at, model.params,
                     model.representation, model.narratives])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_hw_assign")
        con.unregister("_hw_narr")


def stored_model(store: EventStore) -> StoredModel | None:
    """The stored model's serialised parts, or None when narratives were never built."""
    if not ensure_tables(store):
        return None
    row = store._con.execute("SELECT model, updated_at, params, representation, narratives "
                            "FROM narrative_model").fetchall()
    if not row:
        return None
    model, updated_at, params, representation, narratives = row[0]
    return StoredModel(model, updated_at, params, bytes(representation), bytes(narratives))


def narrative_count(store: EventStore) -> int:
    return store._con.execute("SELECT count(*) FROM narratives").fetchall()[0][0]


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
    narratives = store._con.execute(sql).fetchall()
    by_outlet = store._con.execute(
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
    rows = store._con.execute(
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
    return dict(store._con.execute(
        "SELECT article_id, narrative_id FROM article_narratives").fetchall())


def narrative_labels(store: EventStore) -> dict[str, str]:
    """narrative id → label, for the narratives that have one (empty when none were built)."""
    if not store.has_table("narratives"):
        return {}
    return {narrative_id: label for narrative_id, label in store._con.execute(
        "SELECT narrative_id, label FROM narratives").fetchall() if label}


def dated_article_assignments(store: EventStore) -> list[tuple]:
    """Every article, oldest first: ``(article_id, day published, outlet, narrative_id)``,
    the narrative None where the article has none yet."""
    ensure_tables(store)
    return store._con.execute(
        "SELECT a.article_id, CAST(a.published_at AS DATE), a.outlet, n.narrative_id "
        "FROM articles a LEFT JOIN article_narratives n USING (article_id) "
        "ORDER BY a.published_at, a.article_id").fetchall()


def narrative_exists(store: EventStore, narrative_id: str) -> bool:
    return store.has_table("narratives") and store.has_table("article_narratives") and bool(
        store._con.execute("SELECT count(*) FROM narratives WHERE narrative_id = ?",
                          [narrative_id]).fetchall()[0][0])


def narrative_outlet_counts(store: EventStore, narrative_id: str, freq: str
                            ) -> tuple[list[tuple], list[datetime]]:
    """Articles of a narrative per period (``freq``: day, week or month) and outlet, and every
    period from its first to its last (gaps included)."""
    if freq not in ("day", "week", "month"):
        raise ValueError(f"unknown period {freq!r}")
    rows = store._con.execute(
        f"SELECT date_trunc('{freq}', a.published_at) AS p, a.outlet, count(*) "
        "FROM article_narratives n JOIN articles a USING (article_id) "
        "WHERE n.narrative_id = ? GROUP BY ALL ORDER BY p", [narrative_id]).fetchall()
    periods = [p for (p,) in store._con.execute(
        f"SELECT unnest(generate_series(min(p), max(p), INTERVAL 1 {freq})) FROM ("
        f"SELECT date_trunc('{freq}', a.published_at) AS p FROM article_narratives n "
        "JOIN articles a USING (article_id) WHERE n.narrative_id = ?)", [narrative_id]
    ).fetchall()] if rows else []
    return rows, periods


def narrative_ids(store: EventStore, *, limit: int = 5) -> list[str]:
    """The first narrative ids, in order (examples for an error message)."""
    if not ensure_tables(store):
        return []
    return [r[0] for r in store._con.execute(
        "SELECT narrative_id FROM narratives ORDER BY narrative_id LIMIT ?", [int(limit)]
    ).fetchall()]


def articles_of_narrative(store: EventStore, narrative_id: str, *, limit: int | None = None
                          ) -> list[tuple]:
    """The articles assigned to a narrative, most similar to its centre first: ``(article_id,
    url, title, language, outlet, published_at, similarity)``."""
    sql = ("SELECT a.article_id, a.url, a.title, a.language, a.outlet, a.published_at, "
           "n.similarity FROM article_narratives n JOIN articles a USING (article_id) "
           "WHERE n.narrative_id = ? ORDER BY n.similarity DESC, a.published_at, a.article_id")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return store._con.execute(sql, [narrative_id]).fetchall()


def typical_headlines(store: EventStore, per_narrative: int,
                      narrative_ids: list[str] | None = None) -> list[tuple]:
    """Up to ``per_narrative`` titled headlines of each narrative (of ``narrative_ids`` if
    given), most typical first: ``(narrative_id, label, terms JSON, title)``."""
    if not ensure_tables(store):
        return []
    only = "" if narrative_ids is None else "AND n.narrative_id IN (SELECT unnest(?)) "
    params = ([] if narrative_ids is None else [list(narrative_ids)]) + [int(per_narrative)]
    return store._con.execute(
        "SELECT narrative_id, label, terms, title FROM (SELECT n.narrative_id, m.label, m.terms, "
        "a.title, row_number() OVER (PARTITION BY n.narrative_id ORDER BY n.similarity DESC, "
        "a.article_id) AS k FROM article_narratives n JOIN articles a USING (article_id) "
        "JOIN narratives m USING (narrative_id) WHERE a.title IS NOT NULL " + only +
        ") WHERE k <= ? ORDER BY narrative_id, k", params).fetchall()

