"""The articles of one narrative, most typical first: ``hybridwatch narratives articles ID``."""

from __future__ import annotations

from typing import Any

from hybridwatch.errors import SelectorError
from hybridwatch.model.outlet_groups import outlet_group
from hybridwatch.store import EventStore
from hybridwatch.store.narratives_store import ensure_tables


def narrative_articles(store: EventStore, narrative_id: str, *, outlet_groups: dict[str, str],
                       limit: int | None = None) -> list[dict[str, Any]]:
    """Each article assigned to ``narrative_id``: ``article_id``, ``url``, ``title``,
    ``language``, ``outlet``, ``actor_group`` (None outside every group), ``published_at``
    (ISO, UTC) and ``similarity`` (cosine to the narrative's centre), most similar first."""
    if not ensure_tables(store) or not store.con.execute(
            "SELECT 1 FROM narratives WHERE narrative_id = ?", [narrative_id]).fetchall():
        known = [] if not ensure_tables(store) else [r[0] for r in store.con.execute(
            "SELECT narrative_id FROM narratives ORDER BY narrative_id LIMIT 5").fetchall()]
        raise SelectorError(f"no narrative {narrative_id!r} in this store"
                            + (f" (ids look like {', '.join(known)})" if known else
                               " (run `hybridwatch narratives build` first)"))
    sql = ("SELECT a.article_id, a.url, a.title, a.language, a.outlet, a.published_at, "
           "n.similarity FROM article_narratives n JOIN articles a USING (article_id) "
           "WHERE n.narrative_id = ? ORDER BY n.similarity DESC, a.published_at, a.article_id")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    rows = store.con.execute(sql, [narrative_id]).fetchall()
    return [{"article_id": article_id, "url": url, "title": title, "language": language,
             "outlet": outlet, "actor_group": outlet_group(outlet, outlet_groups, url=url),
             "published_at": published.isoformat() if published else None,
             "similarity": round(float(similarity), 6)}
            for article_id, url, title, language, outlet, published, similarity in rows]
