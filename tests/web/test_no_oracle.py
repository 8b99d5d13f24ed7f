"""No oracle in aggregates (issue #14 §3), played as the attacker: a viewer cleared for GREEN
tries to learn one field of a RED event — its actor's name, its day, its target, its source,
its domain — through every event endpoint and filter.

Independent truth: the same requests against a twin store that holds only the GREEN events.
Every answer must be the same in both stores, but for ``withheld``, which is one number per
caller (the store's events above the clearance, never filtered) and so equal across all
requests."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from stix_campaigns import campaign_objects

from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.store.access_store import create_token

GREEN_DAYS = [f"2024-03-{d:02d}" for d in (1, 2, 4, 5, 11, 12, 20)]
#: The secrets: what the attacker wants to learn about the RED events.
RED = [{"day": "2024-03-07", "actor": "Secret Bear", "target": "EST", "source": "Covert Desk",
        "domain": "maritime"},
       {"day": "2001-01-01", "actor": "Old Ghost", "target": "FIN", "source": "Covert Desk",
        "domain": "economic"}]  # at the edge of the store: it would stretch its span


def _objects(level: str, day: str, actor: str, target: str, source: str, domain: str,
             k: int) -> list[dict]:
    return campaign_objects(level, day, actor, target, source, domain, k,
                            name=f"campaign {k}")


def _store(folder: Path, with_red: bool) -> Path:
    folder.mkdir()
    objects = []
    for k, day in enumerate(GREEN_DAYS):
        objects += _objects("green", day, "Fancy Bear", "DEU", "Open Desk", "cyber", k)
    if with_red:
        for k, red in enumerate(RED):
            objects += _objects("red", red["day"], red["actor"], red["target"], red["source"],
                                red["domain"], k)
    bundle = folder / "bundle.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--" + "0" * 8 +
                                  "-0000-4000-8000-000000000000", "objects": objects}))
    db = folder / "s.duckdb"
    with EventStore(db) as store:
        ingest_file(store, bundle)
    return db


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    from fastapi.testclient import TestClient

    from hybridwatch.web.app import create_app

    clients = {}
    base = tmp_path_factory.mktemp("oracle")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, with_red in (("with_red", True), ("green_only", False)):
            db = _store(base / name, with_red)
            with EventStore(db) as store:
                token = create_token(store, role="viewer", name="attacker",
                                     clearance="green").token
            client = TestClient(create_app(db, cache_entries=0))
            client.headers["Authorization"] = f"Bearer {token}"
            clients[name] = client
    yield clients


def _guesses() -> list[dict[str, str]]:
    """Filters an attacker tries: for each secret, the right guess (and a wrong one)."""
    tries: list[dict[str, str]] = [{}, {"tlp": "red"}, {"tlp": "red,green"}]
    for red in RED:
        day = red["day"]
        tries += [{"actor_name": red["actor"]}, {"actor_name": red["actor"][:3]},
                  {"actor_name": "Nobody"}, {"target": red["target"]}, {"target": "LVA"},
                  {"source": red["source"]}, {"source": "Open Desk"},
                  {"domain": red["domain"]}, {"domain": "space"},
                  {"since": day}, {"until": day}, {"since": day, "until": "2024-03-08"},
                  {"target": red["target"], "tlp": "red", "since": day}]
    return tries


ENDPOINTS = [("/api/events", {"limit": "100"}), ("/api/series", {"freq": "day"}),
             ("/api/series", {"freq": "month", "by": "target_iso3"}),
             ("/api/counts", {"by": "actor_iso3"}), ("/api/counts", {"by": "source"}),
             ("/api/counts", {"by": "target_iso3"})]


def _answer(response) -> tuple[int, object]:
    body = response.json()
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "withheld"}
    return response.status_code, body


@pytest.mark.parametrize("path,fixed", ENDPOINTS)
def test_filters_on_red_fields_teach_a_green_viewer_nothing(twins, path, fixed):
    withheld = set()
    for guess in _guesses():
        params = {**fixed, **guess}
        attacked = twins["with_red"].get(path, params=params)
        truth = twins["green_only"].get(path, params=params)
        assert _answer(attacked) == _answer(truth), (path, params)
        if attacked.status_code == 200:
            withheld.add(attacked.json()["withheld"])
    # one number whatever the filter: the store's RED events (campaigns and intrusion sets)
    assert withheld == {_red_events(twins)}


def test_overview_and_single_events_teach_nothing(twins):
    overview = {name: client.get("/api/overview").json() for name, client in twins.items()}
    assert overview["with_red"]["events"]["withheld"] == _red_events(twins)
    for view in overview.values():
        view["events"].pop("withheld")
        view.pop("withheld")
    assert overview["with_red"] == overview["green_only"]
    con = twins["with_red"].app.state.store._con.cursor()
    red_ids = [r[0] for r in con.execute("SELECT event_id FROM events WHERE tlp = 'red'"
                                         ).fetchall()]
    assert len(red_ids) == 2 * len(RED)
    for event_id in red_ids:  # a RED id answers as an id that does not exist
        hidden = twins["with_red"].get(f"/api/events/{event_id}")
        absent = twins["with_red"].get(f"/api/events/{'f' * 32}")
        assert hidden.status_code == absent.status_code == 404
        assert hidden.json()["error"]["message"].replace(event_id, "X") == \
            absent.json()["error"]["message"].replace("f" * 32, "X")



def _red_events(twins) -> int:
    con = twins["with_red"].app.state.store._con.cursor()
    return con.execute("SELECT count(*) FROM events WHERE tlp = 'red'").fetchall()[0][0]
