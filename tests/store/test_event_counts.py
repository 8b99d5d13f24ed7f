"""The pre-aggregated daily counts (``event_day_counts``) equal a COUNT over the events for every
(target, domain, source, day, TLP level) after every kind of write: ingests of new files, a
later version that replaces a stored event and tightens its marking, an earlier version that
only tightens it, a ``--replace``, and rows written by another route (rebuilt on open)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tlp_truth import TLP_IDS

from hybridwatch.store import EventStore
from hybridwatch.store.event_counts import TABLE
from hybridwatch.workflows.ingest import ingest_file

HEADER = "date,id,title,countries,keywords,languages,outlets\n"
COUNTRIES = ("Poland", "Germany", "Lithuania", "Ukraine", "France")
ID_OF = {level: marking_id for marking_id, level in TLP_IDS.items()}
CAMPAIGN = "campaign--6a7b6b1c-52b5-4a36-9d0b-1d2a7d1b9c11"
CREATOR = "identity--0c2d1f60-0000-4000-8000-00000000a1fa"


def _cases(path: Path, n: int, seed: int, *, first_id: int = 0) -> Path:
    """``n`` EUvsDisinfo cases on random days of March–April 2024, naming 0-3 countries."""
    rng = random.Random(seed)
    rows = []
    for i in range(first_id, first_id + n):
        day = f"2024-{rng.choice((3, 4)):02d}-{rng.randint(1, 28):02d}"
        named = "+".join(rng.sample(COUNTRIES, rng.randint(0, 3)))
        rows.append(f"{day},https://euvsdisinfo.eu/report/c{i}/,Case {i},{named},NATO,Russian,RT")
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _campaign(path: Path, modified: str, level: str, country: str, first_seen: str) -> Path:
    """A STIX bundle with one version of the campaign, marked ``level``, targeting ``country``."""
    location = {"type": "location", "spec_version": "2.1", "id":
                f"location--00000000-0000-4000-8000-0000000000{country.lower()}",
                "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                "country": country}
    objects = [{"type": "identity", "spec_version": "2.1", "id": CREATOR, "name": "Alpha CERT",
                "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                "identity_class": "organization"}, location,
               {"type": "campaign", "spec_version": "2.1", "id": CAMPAIGN, "name": "Campaign",
                "created": "2024-03-01T00:00:00.000Z", "modified": modified,
                "first_seen": first_seen, "created_by_ref": CREATOR,
                "object_marking_refs": [ID_OF[level]]},
               {"type": "relationship", "spec_version": "2.1", "relationship_type": "targets",
                "id": f"relationship--00000000-0000-4000-8000-{abs(hash(modified)) % 10**12:012d}",
                "created": modified, "modified": modified, "source_ref": CAMPAIGN,
                "target_ref": location["id"]}]
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--" + CAMPAIGN.split("--")[1],
                                "objects": objects}))
    return path


_PER_TARGET = ("unnest(CASE WHEN len(target_iso3s) = 0 THEN [NULL]::VARCHAR[] "
               "ELSE target_iso3s END) AS u(target)")


def _from_counts(store: EventStore) -> list[tuple]:
    return sorted(store._con.execute(
        f"SELECT target, domain, source, day, coalesce(tlp, 'clear'), sum(n_events)::BIGINT "
        f"FROM {TABLE}, {_PER_TARGET} GROUP BY ALL HAVING sum(n_events) > 0").fetchall(),
        key=repr)


def _from_events(store: EventStore) -> list[tuple]:
    return sorted(store._con.execute(
        f"SELECT target, domain, source, CAST(occurred_at AS DATE), coalesce(tlp, 'clear'), "
        f"count(*) FROM events, {_PER_TARGET} GROUP BY ALL").fetchall(), key=repr)


def _check(store: EventStore) -> list[tuple]:
    counted = _from_events(store)
    assert _from_counts(store) == counted
    totals = store._con.execute(f"SELECT (SELECT sum(n_events) FROM {TABLE}), "
                               "(SELECT count(*) FROM events)").fetchall()[0]
    assert totals[0] == totals[1]  # each event once in the totals, whatever its targets
    return counted


def _campaign_rows(counted: list[tuple]) -> list[tuple]:
    return [row for row in counted if row[2] == "stix"]


def test_counts_equal_a_count_over_events_after_every_kind_of_write(tmp_path):
    path = tmp_path / "s.duckdb"
    with EventStore(path) as store:
        ingest_file(store, _cases(tmp_path / "a.csv", 300, seed=1))
        first = _check(store)
        assert len({row[3] for row in first}) > 40 and len({row[0] for row in first}) == 6
        # a second file over the same days: those days are recomputed, not double counted
        ingest_file(store, _cases(tmp_path / "b.csv", 200, seed=2, first_id=300))
        assert sum(r[-1] for r in _check(store)) > sum(r[-1] for r in first)

        ingest_file(store, _campaign(tmp_path / "v1.json", "2024-03-01T00:00:00.000Z", "green",
                                     "DE", "2024-03-03T00:00:00Z"))
        assert [(r[0], r[4]) for r in _campaign_rows(_check(store))] == [("DEU", "green")]
        # a later version: replaces the event (another target, another day) and tightens it
        ingest_file(store, _campaign(tmp_path / "v2.json", "2024-03-05T00:00:00.000Z", "red",
                                     "PL", "2024-03-09T00:00:00Z"))
        rows = _campaign_rows(_check(store))
        assert [(r[0], str(r[3]), r[4]) for r in rows] == [("POL", "2024-03-09", "red")]
        # an earlier version arriving late: keeps the fields, the marking stays at red
        ingest_file(store, _campaign(tmp_path / "v0.json", "2024-02-01T00:00:00.000Z", "amber",
                                     "FR", "2024-03-01T00:00:00Z"))
        assert [r[4] for r in _campaign_rows(_check(store))] == ["red"]

        # --replace of a file: its earlier rows go, the table is rebuilt
        ingest_file(store, _cases(tmp_path / "a.csv", 100, seed=3), replace=True)
        _check(store)
        # rows written by another route: the counts no longer add up, rebuilt on open
        store._con.execute("DELETE FROM events WHERE source = 'euvsdisinfo' AND "
                          "occurred_at < '2024-03-10'")
    with EventStore(path) as store:
        _check(store)
    with EventStore(path, read_only=True) as store:
        _check(store)
