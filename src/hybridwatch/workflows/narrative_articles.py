"""The articles of one narrative, most typical first: ``hybridwatch narratives articles ID``."""

from __future__ import annotations

from typing import Any

from hybridwatch.errors import SelectorError
from hybridwatch.model.outlet_groups import outlet_group
from hybridwatch.store import EventStore
from hybridwatch.store.narratives_store import (
    articles_of_narrative, narrative_exists, narrative_ids,
)


def narrative_articles(store: EventStore, narrative_id: str, *, outlet_groups: dict[str, str],
                       limit: int | None = None) -> list[dict[str, Any]]:
    """Each article assigned to ``narrative_id``: ``article_id``, ``url``, ``title``,
    ``language``, ``outlet``, ``actor_group`` (None outside every group), ``published_at``
    (ISO, UTC) and ``similarity`` (cosine to the narrative's centre), most similar first."""
    if not narrative_exists(store, narrative_id):
        known = narrative_ids(store)
        raise SelectorError(f"no narrative {narrative_id!r} in this store"
                            + (f" (ids look like {', '.join(known)})" if known else
                               " (run `hybridwatch narratives build` first)"))
    rows = articles_of_narrative(store, narrative_id, limit=limit)
    return [{"article_id": article_id, "url": url, "title": title, "language": language,
             "outlet": outlet, "actor_group": outlet_group(outlet, outlet_groups, url=url),
             "published_at": published.isoformat() if published else None,
             "similarity": round(float(similarity), 6)}
            for article_id, url, title, language, outlet, published, similarity in rows]
