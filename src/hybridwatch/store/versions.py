"""Versions and markings of records seen more than once: a newer version wins, a marking only
tightens.

A STIX id or MISP uuid can arrive again with a later ``modified``/``timestamp`` (adapters write
it to ``extra.record_version``, ``model.versions``). At ingest:

* **Fields**: a later version replaces the stored event (every column: fields, targets,
  marking); an equal or earlier one is a duplicate.
* **Marking**: ``record_markings`` keeps, per record id, the most restrictive marking ever seen
  and the latest version seen. Every copy of the id raises it, whatever its version and
  whichever file it came in; it never goes down by itself, and it survives ``--replace``.
  The one way down is an explicit **re-release**: a version later than every one seen, in a
  file whose detached signature verified against the trust store (``ingest --trust``), by the
  record's own producer (STIX ``created_by_ref`` is the signer's STIX identity; MISP: the
  creator organisation is the signer's organisation). Its own marking then stands, and copies
  older than it no longer count.

Everything is columnar SQL over the staged Parquet of one file; records with neither a
version nor a marking (GDELT, ACLED …) never enter the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from hybridwatch.model.tlp import known_rank_sql, level_of_rank_sql, rank_sql
from hybridwatch.model.versions import OWN_TLP_KEY, VERSION_KEY
from hybridwatch.store.event_counts import note_changing_events
from hybridwatch.store.schema import MARKINGS_DDL


#: Sources whose records carry versions (``extra.record_version``).
VERSIONED_SOURCES = ("stix", "misp")

def _rank(expression: str) -> str:
    return f"({rank_sql(expression)})"


def _version(alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return f"json_extract_string({prefix}extra, '$.{VERSION_KEY}')"


@dataclass(frozen=True)
class Signer:
    """Who signed the file being ingested (a verified detached signature): may re-release
    records it produced."""

    stix_identity_id: str
    org: str


@dataclass
class VersionCounts:
    updated: int = 0       # stored events replaced by a later version
    tightened: int = 0     # stored events whose marking became more restrictive
    released: int = 0      # stored events re-released at a less restrictive marking


def winner_order() -> str:
    """ORDER BY of the copy of one id that a file keeps: the latest version, then file order."""
    return f"{_version()} DESC NULLS LAST, _row"


def prepare_versions(con: duckdb.DuckDBPyConnection, source: str, signer: Signer | None
            ) -> VersionCounts:
    """Before the staged rows (``source``, a SQL relation) are inserted: update the marking
    ledger and delete the stored events a later version replaces. ``finish_versions`` applies the
    ledger's markings after the insert."""
    con.execute(MARKINGS_DDL)
    sources = ", ".join(f"'{s}'" for s in VERSIONED_SOURCES)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _hw_incoming AS
        SELECT event_id, {_rank('tlp')} AS r,
               coalesce({known_rank_sql(f"json_extract_string(extra, '$.{OWN_TLP_KEY}')")},
                        {_rank('tlp')}) AS own_r,
               {_version()} AS version,
               (CAST(? AS BOOLEAN)
                AND (json_extract_string(extra, '$.created_by_ref') = ?
                     OR (source = 'misp' AND source_name = ?))) AS released
        FROM {source} WHERE tlp IS NOT NULL OR source IN ({sources})""",
                [signer is not None, signer.stix_identity_id if signer else "",
                 signer.org if signer else ""])
    if not con.execute("SELECT count(*) FROM _hw_incoming").fetchall()[0][0]:
        con.execute("CREATE OR REPLACE TEMP TABLE _hw_marks AS "
                    "SELECT NULL::VARCHAR AS event_id, 0 AS rank, 0 AS r0, FALSE AS seen "
                    "WHERE FALSE")
        return VersionCounts()
    # stored copies of these ids may be replaced or re-marked: their days' counts are redone
    note_changing_events(con, "SELECT event_id FROM _hw_incoming")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _hw_marks AS
        WITH agg AS (SELECT event_id, max(version) AS vmax FROM _hw_incoming GROUP BY event_id),
        prior AS (
            SELECT a.event_id, a.vmax,
                   coalesce({known_rank_sql('l.tlp')},
                            CASE WHEN e.event_id IS NOT NULL THEN {_rank('e.tlp')} END) AS r0,
                   CASE WHEN l.record_id IS NOT NULL THEN l.latest_version
                        ELSE {_version('e')} END AS latest0,
                   l.released_version AS rel0, l.released_by AS by0,
                   (l.record_id IS NOT NULL OR e.event_id IS NOT NULL) AS seen
            FROM agg a
            LEFT JOIN record_markings l ON l.record_id = a.event_id
            LEFT JOIN events e ON e.event_id = a.event_id),
        rel AS (
            SELECT v.event_id, max(v.version) AS rel_new FROM _hw_incoming v
            JOIN prior p USING (event_id)
            WHERE v.released AND v.version = p.vmax
              AND (p.latest0 IS NULL OR v.version > p.latest0)
            GROUP BY v.event_id)
        SELECT p.event_id, any_value(p.seen) AS seen, any_value(p.r0) AS r0,
               any_value(r.rel_new) AS rel_new,
               CASE WHEN any_value(r.rel_new) IS NOT NULL
                    THEN max(CASE WHEN v.version = r.rel_new
                                  THEN (CASE WHEN v.released THEN v.own_r ELSE v.r END) END)
                    ELSE greatest(coalesce(any_value(p.r0), 0),
                                  coalesce(max(CASE WHEN p.rel0 IS NULL OR v.version IS NULL
                                                     OR v.version >= p.rel0 THEN v.r END), 0))
               END AS rank,
               greatest(any_value(p.latest0), any_value(p.vmax)) AS latest,
               coalesce(any_value(r.rel_new), any_value(p.rel0)) AS released_version,
               CASE WHEN any_value(r.rel_new) IS NOT NULL THEN ? ELSE any_value(p.by0) END
                   AS released_by
        FROM prior p LEFT JOIN rel r USING (event_id) JOIN _hw_incoming v USING (event_id)
        GROUP BY p.event_id""", [signer.stix_identity_id if signer else None])
    con.execute("DELETE FROM record_markings WHERE record_id IN "
                "(SELECT event_id FROM _hw_marks)")
    con.execute(f"""
        INSERT INTO record_markings
        SELECT event_id, {level_of_rank_sql('rank')}, latest,
               released_version, released_by, now()::TIMESTAMP FROM _hw_marks""")
    # a later version replaces the stored event: it goes now, the insert brings the new one
    updated = con.execute(f"""
        DELETE FROM events o USING (
            SELECT event_id, max(version) AS vmax FROM _hw_incoming GROUP BY event_id) n
        WHERE o.event_id = n.event_id AND n.vmax > {_version('o')}""").fetchall()[0][0]
    return VersionCounts(updated=updated)


def finish_versions(con: duckdb.DuckDBPyConnection, counts: VersionCounts) -> VersionCounts:
    """After the insert: every event of the file's ids takes its ledger marking."""
    changed = con.execute("""
        SELECT count(*) FILTER (WHERE m.seen AND m.rank > m.r0),
               count(*) FILTER (WHERE m.seen AND m.rank < m.r0)
        FROM _hw_marks m""").fetchall()[0]
    con.execute(f"""
        UPDATE events e SET tlp = {level_of_rank_sql('m.rank')}
        FROM _hw_marks m
        WHERE e.event_id = m.event_id AND {_rank('e.tlp')} <> m.rank""")
    con.execute("DROP TABLE IF EXISTS _hw_incoming")
    con.execute("DROP TABLE IF EXISTS _hw_marks")
    return VersionCounts(updated=counts.updated, tightened=changed[0], released=changed[1])
