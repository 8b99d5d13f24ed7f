"""GDELT's unmapped columns, kept beside the events in a side table keyed by event.

A GDELT event maps ten of its 57–61 columns to event fields; the others (the second actor, the
three geographies, mentions, tone, DATEADDED …) are kept too. As a JSON object per event
(``extra``) they were most of what an ingest wrote: every value quoted, every key repeated on
every row. The side table ``gdelt_extra`` keeps instead each stored event's record verbatim,
the tab-separated line as it stood in the file, which ingest has in hand anyway: one string
per event and nothing to build. A table of one typed column per GDELT field was measured too:
51 columns cost more to write than the JSON (docs/BENCHMARKS.md).

Readers see the same as before: ``extra_json_sql`` rebuilds, in SQL, exactly the JSON object
the adapter writes into ``extra`` (every non-empty unmapped column as the string it was, in
file order, ``DATEADDED`` first and always present), and the store puts it in ``extra``
wherever an event is shown or exported. ``typed_view_sql`` offers the columns typed, parsed on
read.
"""

from __future__ import annotations

#: The side table.
TABLE = "gdelt_extra"
#: A view of the side table with one typed column per GDELT field (parsed on read).
TYPED_VIEW = "gdelt_extra_typed"

_ACTOR = ("Code", "Name", "CountryCode", "KnownGroupCode", "EthnicCode", "Religion1Code",
          "Religion2Code", "Type1Code", "Type2Code", "Type3Code")
_EVENT = ("IsRootEvent", "EventCode", "EventBaseCode", "EventRootCode", "QuadClass",
          "GoldsteinScale", "NumMentions", "NumSources", "NumArticles", "AvgTone")
_GEO2 = ("Type", "FullName", "CountryCode", "ADM1Code", "ADM2Code", "Lat", "Long", "FeatureID")
_GEO1 = tuple(f for f in _GEO2 if f != "ADM2Code")  # GDELT 1.0 has no ADM2Code


def _columns(geo: tuple[str, ...]) -> tuple[str, ...]:
    return (("GLOBALEVENTID", "SQLDATE", "MonthYear", "Year", "FractionDate")
            + tuple(f"Actor{n}{f}" for n in (1, 2) for f in _ACTOR) + _EVENT
            + tuple(f"{g}_{f}" for g in ("Actor1Geo", "Actor2Geo", "ActionGeo") for f in geo)
            + ("DATEADDED", "SOURCEURL"))


#: The 61 columns of a GDELT 2.0 events export, in file order.
GDELT2_COLUMNS = _columns(_GEO2)
#: The 58 columns of a GDELT 1.0 daily export; files before April 2013 stop at DATEADDED (57).
GDELT1_COLUMNS = _columns(_GEO1)

#: Source columns that become event fields; every other non-empty column goes to ``extra``.
#: The country codes stay in extra too: CAMEO regions ("EUR") and FIPS codes say more than
#: the ISO3.
MAPPED = frozenset({"GLOBALEVENTID", "SQLDATE", "Actor1Code", "Actor1Name", "EventCode",
                    "GoldsteinScale", "ActionGeo_FullName", "ActionGeo_Lat", "ActionGeo_Long",
                    "SOURCEURL"})

_INTEGER = {"MonthYear", "Year", "IsRootEvent", "QuadClass", "NumMentions", "NumSources",
            "NumArticles", "Actor1Geo_Type", "Actor2Geo_Type", "ActionGeo_Type"}
_DOUBLE = {"FractionDate", "AvgTone", "GoldsteinScale", "Actor1Geo_Lat", "Actor1Geo_Long",
           "Actor2Geo_Lat", "Actor2Geo_Long", "ActionGeo_Lat", "ActionGeo_Long"}


def ddl() -> str:
    """``CREATE TABLE`` of the side table: the event's id, the ingest that stored it and its
    record, verbatim."""
    return (f"CREATE TABLE IF NOT EXISTS {TABLE} (\n"
            "  event_id VARCHAR NOT NULL,\n"
            "  ingest_id BIGINT,\n"
            "  record VARCHAR NOT NULL USING COMPRESSION zstd  -- the event's line as it stood in the file (tab-separated"
            "\n                            -- fields: 61 for GDELT 2.0, 57 or 58 for GDELT 1.0)\n"
            ");\n")


def _fields(alias: str) -> str:
    return f"string_split({alias}.record, chr(9))"


def _json(p: str, columns: tuple[str, ...]) -> str:
    index = {name: i for i, name in enumerate(columns, start=1)}
    dateadded = index["DATEADDED"]
    parts = [f"'{{\"DATEADDED\":', coalesce(to_json(nullif({p}[{dateadded}], ''))::VARCHAR, "
             "'null')"]
    for name, i in index.items():
        if name in MAPPED or name == "DATEADDED":
            continue
        parts.append(f"CASE WHEN {p}[{i}] <> '' THEN ',\"{name}\":' || to_json({p}[{i}])::VARCHAR "
                     "END")
    return f"concat({', '.join(parts)}, '}}')"


def extra_json_sql(alias: str) -> str:
    """The ``extra`` JSON object of the side-table row ``alias``: every non-empty unmapped
    column as its text, in file order, ``DATEADDED`` first and always present (null when
    empty) — the object the GDELT adapter writes (``adapters.gdelt_sql.extra_sql``)."""
    return (f"(SELECT CASE WHEN len(p) = 61 THEN {_json('p', GDELT2_COLUMNS)} "
            f"ELSE {_json('p', GDELT1_COLUMNS)} END FROM (SELECT {_fields(alias)} AS p))")


def merged_extra_sql(events: str, side: str) -> str:
    """An event's ``extra`` as readers see it: its own (``events``.extra) or, for a GDELT
    event whose record is in the side table (``side``, LEFT JOINed on event_id), the JSON
    object of its unmapped columns."""
    return (f"coalesce({events}.extra, CASE WHEN {side}.event_id IS NOT NULL "
            f"THEN {extra_json_sql(side)} END)")


def typed_view_sql() -> str:
    """``CREATE VIEW`` of the side table with every GDELT 2.0 field as a typed column
    (INTEGER, DOUBLE or VARCHAR; NULL when empty or not of its type), parsed on read. A
    GDELT 1.0 record has no ADM2Codes (NULL) and its other fields where they stand."""
    def column(name: str) -> str:
        two = GDELT2_COLUMNS.index(name) + 1
        one = GDELT1_COLUMNS.index(name) + 1 if name in GDELT1_COLUMNS else None
        text = (f"p[{two}]" if one == two else
                f"CASE WHEN len(p) = 61 THEN p[{two}] ELSE "
                f"{f'p[{one}]' if one else 'NULL'} END")
        kind = "INTEGER" if name in _INTEGER else "DOUBLE" if name in _DOUBLE else None
        value = f"nullif({text}, '')"
        return (f"TRY_CAST({value} AS {kind})" if kind else value) + f' AS "{name}"'

    columns = ",\n  ".join(column(name) for name in GDELT2_COLUMNS)
    return (f"CREATE VIEW IF NOT EXISTS {TYPED_VIEW} AS SELECT event_id, ingest_id,\n  {columns}\n"
            f"FROM (SELECT event_id, ingest_id, {_fields(TABLE)} AS p FROM {TABLE})")
