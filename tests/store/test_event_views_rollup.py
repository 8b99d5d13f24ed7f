"""Aggregates read from the daily rollups (``store.event_rollups``) equal the same aggregates
computed on the events table, for generated events with several targets each and every TLP level,
at each clearance: totals, withheld counts, per-value counts and series — through each rollup
(no target, one target, several, actors)."""

from __future__ import annotations

import random

import pytest

from hybridwatch.store import EventStore
from hybridwatch.store.event_filter import EventFilter
from hybridwatch.store.event_rollups import build_rollups
from hybridwatch.model.tlp import readable_sql
from hybridwatch.store.event_views import count_by, count_events, rollup_totals, series

TARGETS = ("DEU", "POL", "LTU", "UKR", "FRA")
DOMAINS = ("cyber", "military", "information", "economy")
LEVELS = ("clear", "green", "amber", "amber+strict", "red")
#: what the events carry: every level, and a marking that is none (no clearance reads it)
MARKINGS = (*LEVELS, "purple")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("rollup") / "s.duckdb"
    with EventStore(path) as writer:  # another route than ingest: rebuilt when next opened
        writer._con.execute(f"""
            INSERT INTO events (event_id, source, source_record_id, occurred_at,
                                occurred_precision, actor_iso3, target_iso3s, domain, intensity,
                                tlp)
            SELECT md5('e' || i), (['gdelt', 'acled', 'stix'])[1 + (hash(i * 3) % 3)::INT],
                   i::VARCHAR,
                   TIMESTAMP '2024-01-01' + to_seconds((hash(i * 5) % 8000000)::BIGINT),
                   'second', (['RUS', 'CHN'])[1 + (hash(i * 7) % 2)::INT],
                   list_distinct([{list(TARGETS)}[1 + (hash(i * 11 + j) % 5)::INT]
                                  for j in range(0, (hash(i * 13) % 3)::BIGINT)]),
                   {list(DOMAINS)}[1 + (hash(i * 17) % 4)::INT],
                   CASE WHEN hash(i * 19) % 4 = 0 THEN NULL
                        ELSE (hash(i * 23) % 21)::DOUBLE - 10 END,
                   CASE WHEN hash(i * 29) % 3 = 0 THEN NULL
                        ELSE {list(MARKINGS)}[1 + (hash(i * 31) % 6)::INT] END
            FROM range(6000) t(i)""")
    with EventStore(path) as opened:
        build_rollups(opened)
        yield opened


def _queries():
    rng = random.Random(4)
    out = [EventFilter(), EventFilter.parse(target="DEU"), EventFilter.parse(target="POL,LTU")]
    for _ in range(25):
        out.append(EventFilter.parse(
            domain=rng.choice([None, rng.choice(DOMAINS), "cyber,economy"]),
            target=rng.choice([None, rng.choice(TARGETS), rng.choice(TARGETS)]),
            actor=rng.choice([None, None, "RUS", "RUS,CHN"]),
            tlp=rng.choice([None, None, "clear,amber", "red"]),
            since=rng.choice([None, "2024-01-20", "2024-02-07"]),
            until=rng.choice([None, "2024-03-01", "2024-02-20"])))
    return out


@pytest.mark.parametrize("clearance", LEVELS)
def test_rollup_aggregates_equal_the_events_table(store, clearance):
    for query in _queries():
        assert count_events(store, query, clearance, rollup=True) == \
            count_events(store, query, clearance, rollup=False), query
        for by in ("domain", "target_iso3", "actor_iso3", "tlp"):
            assert count_by(store, query, clearance, by, rollup=True) == \
                count_by(store, query, clearance, by, rollup=False), (query, by)
        for by in (None, "domain", "tlp", "target_iso3", "actor_iso3"):
            fast = series(store, query, clearance, freq="week", by=by, max_groups=3,
                          rollup=True, intensity=True)
            slow = series(store, query, clearance, freq="week", by=by, max_groups=3,
                          rollup=False, intensity=True)
            assert fast["counts"] == slow["counts"] and fast["groups"] == slow["groups"]
            assert fast["withheld"] == slow["withheld"]
            for a, b in zip(fast["intensity_sum"], slow["intensity_sum"]):
                assert a == pytest.approx(b)
    total, withheld = count_events(store, EventFilter(), clearance, rollup=True)
    assert total + withheld == 6000
    first, last = store._con.execute(
        f"SELECT min(occurred_at)::DATE, max(occurred_at)::DATE FROM events "
        f"WHERE {readable_sql(clearance)}").fetchall()[0]
    assert rollup_totals(store, clearance) == (total, withheld, first, last)


def test_an_unknown_marking_is_withheld_from_every_clearance(store):
    purple = store._con.execute("SELECT count(*) FROM events WHERE tlp = 'purple'"
                                ).fetchall()[0][0]
    assert purple > 0
    _, withheld = count_events(store, EventFilter(), "red", rollup=True)
    assert withheld == purple



def test_rollups_equal_the_events_table_on_a_real_gdelt_export(shared_data, tmp_path):
    """The real GDELT 2.0 export (2,111 events, actors and targets as coded by GDELT, one
    day): the rollups' counts and series equal SQL on the events for its most frequent actors
    and targets, alone and combined."""
    from hybridwatch.workflows.ingest import ingest_file

    export = shared_data / "gdelt_samples_and_lookups" / "samples" / "20191024143000.export.CSV"
    with EventStore(tmp_path / "real.duckdb") as writer:
        ingest_file(writer, export)
    with EventStore(tmp_path / "real.duckdb") as real:
        build_rollups(real)
        actors = [a for a, in real._con.execute(
            "SELECT actor_iso3 FROM events WHERE actor_iso3 IS NOT NULL GROUP BY 1 "
            "ORDER BY count(*) DESC LIMIT 3").fetchall()]
        targets = [t for t, in real._con.execute(
            "SELECT unnest(target_iso3s) t FROM events GROUP BY 1 ORDER BY count(*) DESC "
            "LIMIT 3").fetchall()]
        queries = [EventFilter(), *(EventFilter.parse(actor=a) for a in actors),
                   *(EventFilter.parse(target=t) for t in targets),
                   EventFilter.parse(actor=actors[0], target=",".join(targets[:2])),
                   EventFilter.parse(domain="diplomacy", target=targets[0])]
        for query in queries:
            fast, slow = (count_events(real, query, "amber", rollup=r) for r in (True, False))
            assert fast == slow and (query == EventFilter() or fast[0] < 2111), query
            for by in ("domain", "actor_iso3", "target_iso3"):
                assert count_by(real, query, "amber", by, rollup=True) == \
                    count_by(real, query, "amber", by, rollup=False), (query, by)
            assert series(real, query, "amber", freq="day", by="domain", max_groups=5,
                          rollup=True)["counts"] == \
                series(real, query, "amber", freq="day", by="domain", max_groups=5)["counts"]
        assert count_events(real, EventFilter(), "amber", rollup=True)[0] == 2111
