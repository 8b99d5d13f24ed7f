"""TAXII 2.1 over the demo store, exercised with taxii2-client as a real client against uvicorn on
loopback; ``hybridwatch pull`` ingests from it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.outputs.stix_export import export_stix
from hybridwatch.store import EventStore
from hybridwatch.web.deps import open_cursor_store
from hybridwatch.web.taxii import COLLECTION_ID, TAXII_MEDIA_TYPE

from tlp_truth import LEVELS, TLP_IDS
OBJECTS = f"/taxii2/hybridwatch/collections/{COLLECTION_ID}/objects/"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _auth(token: str):
    """A bearer token for taxii2-client (the test's reference client)."""
    import requests

    class BearerAuth(requests.auth.AuthBase):
        def __call__(self, request):
            request.headers["Authorization"] = f"Bearer {token}"
            return request

    return BearerAuth()


def everything(client, url: str, headers: dict[str, str], **params) -> list[dict]:
    """Every object of a paged TAXII answer, following ``next``."""
    found, token = [], None
    while True:
        query = {**params, "limit": 1000, **({"next": token} if token else {})}
        body = client.get(url, params=query, headers=headers).json()
        found += body["objects"]
        if not body["more"]:
            return found
        token = body["next"]


def _expected(app, tlp: str):
    store = open_cursor_store(app)
    try:
        return export_stix(store, tlp=tlp)
    finally:
        store.close()


def _level(obj: dict) -> str:
    return max((TLP_IDS[r] for r in obj.get("object_marking_refs", []) if r in TLP_IDS),
               key=LEVELS.index, default="clear")


def test_taxii2_client_pages_through_the_viewers_objects(app, live_server, tokens) -> None:
    from taxii2client.v21 import Server, as_pages

    server = Server(f"{live_server}/taxii2/", auth=_auth(tokens["viewer"]))
    root = server.default
    assert root.url == f"{live_server}/taxii2/hybridwatch/"
    assert TAXII_MEDIA_TYPE in root.versions
    (collection,) = root.collections
    assert (collection.id, collection.can_read, collection.can_write) == \
        (COLLECTION_ID, True, False)
    pages = list(as_pages(collection.get_objects, per_request=100))
    objects = [o for page in pages for o in page["objects"]]
    expected = _expected(app, "amber")  # a viewer's clearance
    assert len(pages) > 1 and all(page["more"] for page in pages[:-1])
    assert sorted(o["id"] for o in objects) == sorted(o["id"] for o in expected.objects)
    assert max(LEVELS.index(_level(o)) for o in objects) == LEVELS.index("amber")
    manifest = [r for page in as_pages(collection.get_manifest, per_request=250)
                for r in page["objects"]]
    assert [r["id"] for r in manifest] == [o["id"] for o in objects]  # one order: date added
    dates = [r["date_added"] for r in manifest]
    assert dates == sorted(dates)


def test_clearance_decides_what_each_token_sees(client, tokens) -> None:
    seen = {}
    for name in ("viewer_green", "viewer", "analyst", "admin"):
        answer = client.get(OBJECTS + "?limit=10", headers=bearer(tokens[name]))
        assert answer.status_code == 200
        assert answer.headers["content-type"] == TAXII_MEDIA_TYPE
        seen[name] = everything(client, OBJECTS, bearer(tokens[name]))
    ceilings = {"viewer_green": "green", "viewer": "amber", "analyst": "amber+strict",
                "admin": "red"}
    for name, objects in seen.items():
        assert all(LEVELS.index(_level(o)) <= LEVELS.index(ceilings[name]) for o in objects)
    assert any(_level(o) == "red" for o in seen["admin"])
    assert len(seen["viewer_green"]) < len(seen["viewer"]) <= len(seen["admin"])


def test_filters_and_headers(client, tokens) -> None:
    headers = bearer(tokens["admin"])
    campaigns = client.get(OBJECTS + "?match[type]=campaign,report", headers=headers).json()
    assert campaigns["objects"] and \
        {o["type"] for o in campaigns["objects"]} == {"campaign", "report"}
    first = client.get(OBJECTS + "?limit=5", headers=headers)
    body = first.json()
    assert len(body["objects"]) == 5 and body["more"] and body["next"]
    last_added = first.headers["X-TAXII-Date-Added-Last"]
    assert first.headers["X-TAXII-Date-Added-First"] <= last_added
    later = {o["id"] for o in everything(client, OBJECTS, headers, added_after=last_added)}
    manifest = everything(client, OBJECTS.replace("objects/", "manifest/"), headers)
    assert later == {r["id"] for r in manifest if r["date_added"] > last_added}
    wanted = body["objects"][2]["id"]
    one = client.get(OBJECTS + f"?match[id]={wanted}", headers=headers).json()["objects"]
    assert [o["id"] for o in one] == [wanted]
    direct = client.get(OBJECTS + f"{wanted}/", headers=headers).json()
    assert direct["objects"] == one
    versions = client.get(OBJECTS + f"{wanted}/versions/", headers=headers).json()
    assert versions["versions"] == [one[0].get("modified", one[0].get("created"))]


def test_errors(client, tokens) -> None:
    assert client.get("/taxii2/").status_code == 401
    assert client.get("/taxii2/", headers=bearer(tokens["revoked"])).status_code == 401
    wrong = client.get("/taxii2/", headers={**bearer(tokens["viewer"]),
                                            "Accept": "application/taxii+json;version=2.0"})
    assert wrong.status_code == 406 and wrong.json()["http_status"] == "406"
    missing = client.get("/taxii2/hybridwatch/collections/nope/objects/",
                         headers=bearer(tokens["viewer"]))
    assert missing.status_code == 404 and "findings" in missing.json()["description"]
    bad = client.get(OBJECTS + "?added_after=yesterday", headers=bearer(tokens["viewer"]))
    assert bad.status_code == 400
    # an object above the caller's clearance is as absent as one that does not exist
    red = next(o["id"] for o in client.get(OBJECTS + "?limit=1000",
                                           headers=bearer(tokens["admin"])).json()["objects"]
               if _level(o) == "red")
    assert client.get(OBJECTS + f"{red}/", headers=bearer(tokens["viewer"])).status_code == 404


def test_pull_ingests_a_collection_through_the_normal_path(app, live_server, tokens,
                                                           tmp_path: Path) -> None:
    db = tmp_path / "partner.duckdb"
    runner = CliRunner()
    result = runner.invoke(cli, ["pull", f"{live_server}/taxii2/", "--collection", "findings",
                                 "--token", tokens["viewer"], "--db", str(db), "--json", "-q"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["ingest"]["status"] == "ingested" and answer["ingest"]["findings"] >= 3
    with EventStore(db, read_only=True) as store:
        again = export_stix(store, tlp="amber")
    assert again.bundle == _expected(app, "amber").bundle  # the partner has what we shared
    result = runner.invoke(cli, ["pull", f"{live_server}/taxii2/hybridwatch/", "-c",
                                 COLLECTION_ID, "--token", tokens["viewer"], "--db", str(db),
                                 "--json", "-q"])
    assert json.loads(result.stdout)["ingest"]["status"] == "unchanged"
    result = runner.invoke(cli, ["pull", f"{live_server}/taxii2/", "-c", "findings",
                                 "--added-after", "2999-01-01T00:00:00Z", "--token",
                                 tokens["viewer"], "--db", str(db), "--json", "-q"])
    assert json.loads(result.stdout)["pulled"]["objects"] == 0
    result = runner.invoke(cli, ["pull", f"{live_server}/taxii2/", "--collection", "nope",
                                 "--token", tokens["viewer"], "--db", str(db)])
    assert result.exit_code == 3 and "no collection 'nope'" in result.output
    result = runner.invoke(cli, ["pull", f"{live_server}/taxii2/", "--collection", "findings",
                                 "--token", "hw_bad_token", "--db", str(db)])
    assert result.exit_code == 3 and "401" in result.output


def test_pull_from_our_own_server_keeps_targets(live_server, tokens, direct,
                                               tmp_path: Path) -> None:
    """export → serve → pull: every event that travelled as one of our sightings arrives with
    the targets it has in the serving store (once 919 of 954 arrived as "(unknown)")."""
    from hybridwatch.model.stix_findings import stix_uuid

    db = tmp_path / "partner.duckdb"
    result = CliRunner().invoke(cli, ["pull", f"{live_server}/taxii2/", "--collection",
                                      "findings", "--token", tokens["viewer"], "--db", str(db),
                                      "--json", "-q"])
    assert result.exit_code == 0, result.output
    with EventStore(db, read_only=True) as store:
        pulled = dict(store._con.execute(
            "SELECT source_record_id, list_sort(target_iso3s) FROM events "
            "WHERE source_type = 'sighting'").fetchall())
    truth = {f"sighting--{stix_uuid('sighting', 'event:' + event_id)}": sorted(targets or [])
             for event_id, targets in direct.execute(
                 "SELECT event_id, target_iso3s FROM events").fetchall()}
    shared = [sid for sid in pulled if sid in truth]
    assert len(shared) > 100
    assert {sid: pulled[sid] for sid in shared} == {sid: truth[sid] for sid in shared}
    with_targets = sum(bool(truth[sid]) for sid in shared)
    assert with_targets > 0.5 * len(shared)  # the demo's events mostly name a target


def test_edge_values_of_the_parameters(client, tokens) -> None:
    """Values that once answered 500, the wrong objects, or a 422 in the wrong shape."""
    headers = bearer(tokens["admin"])
    manifest = everything(client, OBJECTS.replace("objects/", "manifest/"), headers)

    def ids(**params) -> list[str]:
        answer = client.get(OBJECTS, params={"limit": 1000, **params}, headers=headers)
        assert answer.status_code == 200, answer.text
        return [o["id"] for o in answer.json()["objects"]]

    every = [r["id"] for r in manifest][:1000]
    # offsets that leave datetime's range, years before 1000, RFC 3339's "z" and leap second
    assert ids(added_after="0001-01-01T00:00:00+01:00") == every
    assert ids(added_after="0999-06-01T00:00:00Z") == every
    assert ids(added_after="9999-12-31T23:30:00-01:00") == []
    middle = manifest[len(manifest) // 2]["date_added"]  # e.g. 2025-03-01T12:00:00.000Z
    later = [r["id"] for r in manifest if r["date_added"] > middle][:1000]
    assert ids(added_after=middle.replace("T", "t").replace("Z", "z")) == later
    east = datetime.strptime(middle, "%Y-%m-%dT%H:%M:%S.%fZ") + timedelta(hours=1)
    shifted = east.isoformat(timespec="milliseconds") + "+01:00"
    assert ids(added_after=shifted) == later  # the same instant, one hour east
    day = middle[:10]
    assert ids(added_after=day) == \
        [r["id"] for r in manifest if r["date_added"] >= f"{day}T00:00:00.001Z"][:1000]
    # one object per version; a time picks the objects of that version
    version = client.get(OBJECTS + f"{every[-1]}/versions/", headers=headers).json()
    assert every[-1] in ids(**{"match[version]": version["versions"][0]})
    assert ids(**{"match[version]": "1900-01-01T00:00:00Z"}) == []
    assert ids(**{"match[version]": "last"}) == every
    both = client.get(OBJECTS, params=[("match[type]", "campaign"), ("match[type]", "report")],
                      headers=headers).json()["objects"]
    assert {o["type"] for o in both} == {"campaign", "report"}
    # a comma in the path is part of one id, not a list of two
    two = ",".join(every[:2])
    assert client.get(OBJECTS + f"{two}/", headers=headers).status_code == 404
    for bad in ({"limit": 0}, {"limit": "ten"}, {"next": "LTU="},  # base64 of "-5"
                {"next": "IDU="}, {"added_after": "yesterday"},
                {"added_after": "2024-01-01T25:00:00Z"}, {"match[version]": "newest"}):
        answer = client.get(OBJECTS, params=bad, headers=headers)
        assert answer.status_code == 400, (bad, answer.text)
        assert answer.headers["content-type"] == TAXII_MEDIA_TYPE
        assert set(answer.json()) == {"title", "description", "http_status"}
    refused = client.get("/taxii2/", headers={**headers, "Accept": "application/json;q=0"})
    assert refused.status_code == 406


def test_taxii_time_agrees_with_stix_time() -> None:
    """Where ``datetime`` can parse a time, the TAXII parser reads the same instant."""
    from datetime import timezone

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from hybridwatch.outputs.stix_objects import stix_time
    from hybridwatch.web.taxii_query import taxii_time

    offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
        lambda minutes: timezone(timedelta(minutes=minutes)))

    @given(st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30),
                        timezones=offsets))
    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    def check(moment):
        assert taxii_time(moment.isoformat()) == stix_time(moment)

    check()
