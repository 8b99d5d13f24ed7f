"""Where an event happened, in SQL: its theatre and the "where" the episode scan counts it for.

``install(con, theatres)`` loads the theatre table (``model.theatres``) into TEMP tables and
creates the TEMP VIEW ``located_events``: every event column plus

- ``theatre``: the smallest theatre whose polygon holds the event's coordinates; for an event
  without coordinates, the smallest theatre one of whose place names its ``location_name``
  contains; else NULL. The point-in-polygon test is a ray-casting join of the distinct
  coordinates with the polygon edges (after a bounding-box join), so it is one query over the
  whole table, never a loop over rows.
- ``wheres`` (``VARCHAR[]``) and ``where_kind``: the event's targets if it names any
  (``target``); else its location country (``location``); else its theatre (``theatre``); else
  an empty list and NULL.

The view is computed when queried, so it always reflects the events and the theatre table of
this connection (``--theatres FILE`` / ``$HYBRIDWATCH_THEATRES``).
"""

from __future__ import annotations

import duckdb

from hybridwatch.model.targets import TARGETS_COLUMN
from hybridwatch.model.theatres import Theatre, theatre_tables

VIEW = "located_events"
WHERE_KINDS = ("target", "location", "theatre")

#: The targets an event names, as a list (empty: none): the stored list (model.targets).
TARGETS_SQL = f"e.{TARGETS_COLUMN}"

#: The located events as one query over ``events`` and the theatre tables (DuckDB SQL; the
#: Spark engine runs it through ``store.spark.duckdb_sql_on_spark``).
LOCATED_SQL = f"""
WITH points AS (
  SELECT DISTINCT lat, lon FROM events WHERE lat IS NOT NULL AND lon IS NOT NULL
), in_box AS (
  SELECT p.lat, p.lon, b.theatre, b.rank FROM points p JOIN temp.theatre_boxes b
    ON p.lat BETWEEN b.min_lat AND b.max_lat AND p.lon BETWEEN b.min_lon AND b.max_lon
), inside AS (              -- ray casting: an odd number of edges crossed eastwards
  SELECT i.lat, i.lon, i.theatre, i.rank FROM in_box i JOIN temp.theatre_edges g
    ON g.theatre = i.theatre AND ((g.y1 > i.lat) <> (g.y2 > i.lat))
   AND i.lon < (g.x2 - g.x1) * (i.lat - g.y1) / (g.y2 - g.y1) + g.x1
  GROUP BY i.lat, i.lon, i.theatre, i.rank HAVING count(*) % 2 = 1
), by_point AS (
  SELECT lat, lon, arg_min(theatre, rank) AS theatre FROM inside GROUP BY lat, lon
), names AS (
  SELECT DISTINCT location_name FROM events
  WHERE location_name IS NOT NULL AND (lat IS NULL OR lon IS NULL)
), by_name AS (
  SELECT n.location_name, arg_min(a.theatre, a.rank) AS theatre
  FROM names n JOIN temp.theatre_aliases a ON regexp_matches(n.location_name, a.pattern)
  GROUP BY n.location_name
), placed AS (
  SELECT e.*, coalesce(bp.theatre, bn.theatre) AS theatre
  FROM events e
  LEFT JOIN by_point bp ON e.lat = bp.lat AND e.lon = bp.lon
  LEFT JOIN by_name bn ON (e.lat IS NULL OR e.lon IS NULL) AND e.location_name = bn.location_name
)
SELECT e.*,
  CASE WHEN array_length({TARGETS_SQL}) > 0 THEN {TARGETS_SQL}
       WHEN e.location_iso3 IS NOT NULL THEN [e.location_iso3]
       WHEN e.theatre IS NOT NULL THEN [e.theatre]
       ELSE []::VARCHAR[] END AS wheres,
  CASE WHEN array_length({TARGETS_SQL}) > 0 THEN 'target'
       WHEN e.location_iso3 IS NOT NULL THEN 'location'
       WHEN e.theatre IS NOT NULL THEN 'theatre' END AS where_kind
FROM placed e
"""
_VIEW_SQL = f"CREATE OR REPLACE TEMP VIEW {VIEW} AS {LOCATED_SQL}"


def install(con: duckdb.DuckDBPyConnection, theatres: tuple[Theatre, ...]) -> None:
    """(Re)create the theatre TEMP tables and the ``located_events`` view on ``con``."""
    for name, table in theatre_tables(theatres).items():
        con.register("_hw_theatre_input", table)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _hw_theatre_input")
        finally:
            con.unregister("_hw_theatre_input")
    con.execute(_VIEW_SQL)


def event_days_sql(selected: str, *, spread_days: int, hostile_sql: str | None) -> str:
    """SQL of one row per (event, where, day) of the events in ``selected`` (a SELECT over
    ``located_events``): ``event_id, day, where_name, where_kind, domain``.

    An event with an end (a campaign's last_seen) counts on each day it is active, up to its
    first ``spread_days`` days: a five-day campaign is five days of activity, a years-long one
    is not a plateau the baselines must absorb. ``hostile_sql`` (a predicate) keeps hostile
    events only; None keeps all."""
    keep = f"WHERE {hostile_sql}" if hostile_sql else ""
    last = max(int(spread_days), 1) - 1
    return f"""
SELECT event_id, CAST(d.day AS DATE) AS day, where_name, where_kind, domain FROM (
  SELECT event_id, domain, where_kind, unnest(wheres) AS where_name,
    CAST(occurred_at AS DATE) AS first_day,
    greatest(CAST(occurred_at AS DATE),
             least(CAST(coalesce(ended_at, occurred_at) AS DATE),
                   CAST(occurred_at AS DATE) + {last})) AS last_day
  FROM ({selected}) AS s {keep}
) AS x, unnest(generate_series(x.first_day, x.last_day, INTERVAL 1 DAY)) AS d(day)
"""
