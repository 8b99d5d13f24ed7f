"""C2PA verdicts of media, and the articles and events that reference that media.

A verdict is keyed by the media's SHA-256 and, when known, the URL it was found at. An article or
event *references* a media item when its own URL (``articles.url``, ``events.source_url``) is the
media URL, or when its ``extra`` JSON names the media URL or hash (an ``image`` or ``media``
field from the source, say). The join is one SQL query, not a loop over records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timezone

import pyarrow as pa

from hybridwatch.store.store import EventStore

__all__ = ["media_references", "media_verdicts", "record_verdicts"]


def _has_table(store: EventStore) -> bool:
    return store.has_table("media_provenance")


def record_verdicts(store: EventStore, verdicts: Iterable[dict]) -> int:
    """Keep the latest verdict per (media hash, URL); one transaction for all of them."""
    rows = [(v["media_sha256"], v.get("url"), v.get("file"), v["state"],
             (v.get("signer") or {}).get("common_name"), v.get("claim_generator"),
             json.dumps(v, ensure_ascii=False, sort_keys=True),
             datetime.now(timezone.utc).replace(tzinfo=None)) for v in verdicts]
    con = store._con
    con.execute("BEGIN TRANSACTION")
    try:
        for row in rows:
            con.execute("DELETE FROM media_provenance WHERE media_sha256 = ? "
                        "AND coalesce(url, '') = coalesce(?, '')", [row[0], row[1]])
        if rows:
            con.executemany("INSERT INTO media_provenance VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(rows)


def media_verdicts(store: EventStore) -> pa.Table:
    """Every recorded verdict (without the JSON detail), newest first."""
    if not _has_table(store):
        return pa.table({c: pa.array([], pa.string()) for c in
                         ("media_sha256", "url", "file", "state", "signer", "claim_generator")})
    return store._con.sql(
        "SELECT media_sha256, url, file, state, signer, claim_generator, checked_at "
        "FROM media_provenance ORDER BY checked_at DESC, media_sha256").to_arrow_table()


_REFERENCES_SQL = """
WITH media AS (SELECT media_sha256, url, state, signer, claim_generator FROM media_provenance)
SELECT 'article' AS kind, a.article_id AS record_id, a.title, a.url AS record_url,
       m.media_sha256, m.url AS media_url, m.state, m.signer, m.claim_generator
FROM articles a JOIN media m
  ON (m.url IS NOT NULL AND (a.url = m.url OR strpos(coalesce(a.extra, ''), m.url) > 0))
  OR strpos(coalesce(a.extra, ''), m.media_sha256) > 0
UNION ALL
SELECT 'event', e.event_id, e.title, e.source_url,
       m.media_sha256, m.url, m.state, m.signer, m.claim_generator
FROM events e JOIN media m
  ON (m.url IS NOT NULL AND (e.source_url = m.url OR strpos(coalesce(e.extra, ''), m.url) > 0))
  OR strpos(coalesce(e.extra, ''), m.media_sha256) > 0
ORDER BY kind, record_id, media_sha256
"""


def media_references(store: EventStore) -> pa.Table:
    """Articles and events with the verdict of each media item they reference."""
    if not _has_table(store):
        return pa.table({c: pa.array([], pa.string()) for c in
                         ("kind", "record_id", "title", "record_url", "media_sha256",
                          "media_url", "state", "signer", "claim_generator")})
    return store._con.sql(_REFERENCES_SQL).to_arrow_table()
