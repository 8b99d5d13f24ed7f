"""The web server's in-memory daily rollups of the events, and the choice of the smallest one
that answers a query exactly.

Each rollup holds event counts (``n_events``) and intensity sums per UTC day (in
``occurred_at``, so the filters written for the events table run on it unchanged), TLP level
(``tlp``, and its rank in ``tlp_rank``: a clearance reads the rollup with one integer
comparison, ``visible_in_rollup``, instead of comparing the level's text: a third less time for
a count on one rollup, a tenth over the API benchmark's counts) and some event columns, sorted
so that the filter it serves reads only its own rows by zonemap:

=====================  ==============================================  ==========================
rollup                 keeps                                           answers
=====================  ==============================================  ==========================
``rollup_domain``      domain                                          no target or actor filter
``rollup_by_target``   domain, one target per row (sorted by target)   exactly one target
``event_rollup``       domain, the target list                         several targets, by target
``rollup_by_actor``    actor, domain, the target list (by actor)       actor filters, by actor
=====================  ==============================================  ==========================

The first three come from the store's ``event_day_counts`` (kept by ingest); the actor rollup
from one aggregation of the events when the server starts (``event_day_counts`` has no actor
column). A query filtering on anything else (``actor_name``, ``source``) or with a bound that is
not a midnight gets ``None``: it reads the events.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hybridwatch.model.targets import TARGET_COLUMN
from hybridwatch.model.tlp import rank_sql, readable_rank_sql
from hybridwatch.store.event_filter import EventFilter
from hybridwatch.store.store import EventStore

SCHEMA = "hw_web"


@dataclass(frozen=True)
class Rollup:
    name: str
    #: sort order: its first column's filters skip the other rows by zonemap
    order: tuple[str, ...]

    @property
    def table(self) -> str:
        return f"{SCHEMA}.{self.name}"


# the columns each keeps are those of its SELECT in ``build_rollups`` (table above)
DOMAIN_DAYS = Rollup("rollup_domain", ("domain", "occurred_at"))
TARGET_DAYS = Rollup("rollup_by_target", (TARGET_COLUMN, "domain", "occurred_at"))
TARGET_LIST_DAYS = Rollup("event_rollup", ("domain", "target_iso3s", "occurred_at"))
ACTOR_DAYS = Rollup("rollup_by_actor", ("actor_iso3", "occurred_at"))
#: Events per TLP level: the withheld count of any clearance reads five rows.
TLP_TOTALS_TABLE = f"{SCHEMA}.tlp_totals"
#: Every rollup's TLP rank (``model.tlp.rank_sql`` of its ``tlp``).
RANK_COLUMN = "tlp_rank"
#: Groupings a rollup can answer (``target_iso3`` by exploding its target list).
ROLLUP_GROUPS = (None, "domain", TARGET_COLUMN, "actor_iso3", "tlp")


def _midnight(value: datetime | None) -> bool:
    return value is None or value == datetime(value.year, value.month, value.day)


def visible_in_rollup(clearance: str) -> str:
    """SQL true for a rollup's rows readable at ``clearance`` (as ``readable_sql`` on ``tlp``)."""
    return readable_rank_sql(clearance, RANK_COLUMN)


def rollup_for(query: EventFilter, by: str | None) -> tuple[str, str, list[Any]] | None:
    """(table, condition, parameters) of the smallest rollup whose rows answer aggregates of
    ``query`` grouped by ``by`` exactly, or None when only the events can."""
    if (query.actor_name or query.sources or by not in ROLLUP_GROUPS
            or not _midnight(query.since) or not _midnight(query.until)):
        return None
    if query.actors or by == "actor_iso3":
        rollup = ACTOR_DAYS
    elif len(query.targets) == 1 and by != TARGET_COLUMN:
        # an event names a target once: its row of that target counts it exactly once
        clause, params = dataclasses.replace(query, targets=()).where()
        return (TARGET_DAYS.table, f"{clause} AND {TARGET_COLUMN} = ?",
                [*params, query.targets[0]])
    elif not query.targets and by != TARGET_COLUMN:
        rollup = DOMAIN_DAYS
    else:
        rollup = TARGET_LIST_DAYS
    return (rollup.table, *query.where())


def build_rollups(store: EventStore) -> dict[str, int]:
    """Build every rollup on the store's connection (in memory, for the life of the server);
    returns the rows of each.

    The day counts come from ``event_day_counts`` when it adds up to the events, else from the
    events (a lake, a read-only store written before the table existed)."""
    from hybridwatch.store.event_counts import TABLE, is_current

    con = store._con
    # compressed like a database file once checkpointed: the actor rollup of 10 million
    # events takes 49 MB instead of 408 MB, and text filters read dictionaries, not strings
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SCHEMA} (COMPRESS)")
    tlp = f"tlp, {rank_sql('tlp')}::UTINYINT AS {RANK_COLUMN}"  # the rank adds no groups
    if is_current(con):  # summed over sources: no rollup filters on them
        days = (f"SELECT day AS occurred_at, domain, target_iso3s, {tlp}, "
                f"sum(n_events) AS n_events, sum(intensity) AS intensity FROM {TABLE} "
                "GROUP BY ALL")
    else:
        days = (f"SELECT occurred_at::DATE AS occurred_at, domain, target_iso3s, {tlp}, "
                "count(*) AS n_events, sum(intensity) AS intensity FROM events GROUP BY ALL")
    sources = {
        TARGET_LIST_DAYS: days,
        DOMAIN_DAYS: f"SELECT occurred_at, domain, tlp, {RANK_COLUMN}, sum(n_events) AS "
                     f"n_events, sum(intensity) AS intensity FROM {TARGET_LIST_DAYS.table} "
                     "GROUP BY ALL",
        TARGET_DAYS: f"SELECT occurred_at, domain, {TARGET_COLUMN}, tlp, {RANK_COLUMN}, "
                     "sum(n_events) AS n_events, sum(intensity) AS intensity FROM "
                     f"(SELECT *, unnest(target_iso3s) AS {TARGET_COLUMN} "
                     f"FROM {TARGET_LIST_DAYS.table}) GROUP BY ALL",
        ACTOR_DAYS: "SELECT occurred_at::DATE AS occurred_at, actor_iso3, domain, target_iso3s, "
                    f"{tlp}, count(*) AS n_events, sum(intensity) AS intensity FROM events "
                    "GROUP BY ALL",
    }
    rows = {}
    for rollup in (TARGET_LIST_DAYS, DOMAIN_DAYS, TARGET_DAYS, ACTOR_DAYS):
        con.execute(f"CREATE OR REPLACE TABLE {rollup.table} AS SELECT * FROM "
                    f"({sources[rollup]}) ORDER BY {', '.join(rollup.order)}")
        rows[rollup.name] = con.execute(f"SELECT count(*) FROM {rollup.table}").fetchall()[0][0]
    con.execute(f"CREATE OR REPLACE TABLE {TLP_TOTALS_TABLE} AS SELECT tlp, {RANK_COLUMN}, "
                f"sum(n_events) AS n_events FROM {DOMAIN_DAYS.table} GROUP BY ALL")
    con.execute(f"CHECKPOINT {SCHEMA}")
    return rows
