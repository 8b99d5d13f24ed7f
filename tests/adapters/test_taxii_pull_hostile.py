"""``hybridwatch pull`` against a hostile or broken TAXII 2.1 server.

A real HTTP server on loopback (``taxii_partner.Partner``) answers what each test makes it answer;
the real ``fetch_collection`` and ``hybridwatch pull`` run against it. Whatever the server does,
the client ends in a bundle or in one ``InputError`` naming the URL (and page, field) and the
reason: never a traceback, never a hang, never a half-written bundle. Objects that are not STIX
(not a JSON object, no id or type) travel in the bundle as served and the ingest quarantines
them, so a good object is never lost for a bad neighbour.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from taxii_partner import COLLECTION, OBJECTS, Answer, Partner, elapsed, stix

from hybridwatch.adapters.stix_taxii import fetch_collection
from hybridwatch.cli import cli
from hybridwatch.errors import InputError
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stix" / "hybrid_bundle.json"


@pytest.fixture
def partner():
    server = Partner()
    yield server
    server.close()


def fetch(partner: Partner, out: Path, path: str = "/taxii2/", **options):
    out.mkdir(exist_ok=True)
    options.setdefault("timeout_seconds", 2.0)
    return fetch_collection(partner.url + path, "partner", out, token="hw_secret", **options)


def refused(partner: Partner, out: Path, path: str = "/taxii2/", **options) -> str:
    """The message of the ``InputError`` the pull ends in; the output folder must hold nothing
    (no bundle, no partial file)."""
    with pytest.raises(InputError) as caught:
        fetch(partner, out, path, **options)
    assert list(out.iterdir()) == []
    message = str(caught.value)
    assert "\x1b" not in message and "\n" not in message
    return message


def bundle_objects(pulled) -> list:
    bundle = json.loads(pulled.path.read_text(encoding="utf-8"))
    assert bundle["type"] == "bundle" and bundle["id"].startswith("bundle--")
    return bundle["objects"]


# --- discovery, API root, collections ------------------------------------------------------

def test_a_healthy_partner_pages_into_one_bundle(partner, tmp_path) -> None:
    partner.serve_pages([stix(1), stix(2)], [stix(3)], [])
    pulled = fetch(partner, tmp_path / "out")
    assert bundle_objects(pulled) == [stix(1), stix(2), stix(3)]
    assert (pulled.objects, pulled.pages, pulled.collection_id) == (3, 3, COLLECTION)
    assert [p.name for p in (tmp_path / "out").iterdir()] == [f"taxii-{COLLECTION}.json"]
    # the token goes to the partner, the cursor back verbatim
    assert all(h.get("Authorization") == "Bearer hw_secret" for _, _, h in partner.requests)
    assert [q.get("next") for p, q, _ in partner.requests if p == OBJECTS] == [None, "1", "2"]


def test_an_api_root_url_works_too(partner, tmp_path) -> None:
    partner.serve_pages([stix(1)])
    pulled = fetch(partner, tmp_path / "out", "/api1/")
    assert bundle_objects(pulled) == [stix(1)] and pulled.api_root == partner.url + "/api1/"


@pytest.mark.parametrize(("route", "body", "expected"), [
    ("/taxii2/", b"<html>Please log in</html>", "not valid JSON"),
    ("/taxii2/", b"", "not valid JSON"),
    ("/taxii2/", [{"api_roots": ["/api1/"]}], "not a JSON object"),
    ("/taxii2/", {"title": "neither"}, "neither a TAXII discovery"),
    ("/taxii2/", {"title": "Partner", "api_roots": "/api1/"}, "api_roots: not a list"),
    ("/taxii2/", {"title": "Partner", "api_roots": [7]}, "api_roots: not a list of URLs"),
    ("/taxii2/", {"title": "Partner", "api_roots": []}, "lists no API root"),
    ("/api1/collections/", ["partner"], "not a JSON object"),
    ("/api1/collections/", {"collections": {"id": COLLECTION}}, "collections: not a list"),
    ("/api1/collections/", {"collections": [{"title": "partner", "can_read": True}]},
     "entry 0: id: missing"),
    ("/api1/collections/", {"collections": [{"id": "../../admin", "title": "partner"}]},
     "entry 0: id: not a usable collection id"),
    ("/api1/collections/", {"collections": ["partner", None]}, "no collection 'partner'"),
    ("/api1/collections/", {"collections": [{"id": COLLECTION, "title": "partner",
                                             "can_read": False}]}, "cannot be read"),
])
def test_metadata_of_the_wrong_shape_is_refused_by_name(partner, tmp_path, route, body,
                                                        expected) -> None:
    partner.routes[route] = Answer(body)
    message = refused(partner, tmp_path / "out")
    assert expected in message and partner.url + route in message


def test_a_collection_list_without_the_collection_names_the_malformed_entries(partner,
                                                                               tmp_path) -> None:
    partner.routes["/api1/collections/"] = Answer({"collections": [
        {"id": "other", "title": "Other"}, 42, {"title": "no id"}]})
    message = refused(partner, tmp_path / "out")
    assert "no collection 'partner'" in message and "Other (other)" in message
    assert "2 malformed entries skipped" in message


def test_an_empty_collection_list_is_no_collection(partner, tmp_path) -> None:
    partner.routes["/api1/collections/"] = Answer({})
    assert "collections: none" in refused(partner, tmp_path / "out")


@pytest.mark.parametrize(("content_type", "expected"), [
    ("text/html; charset=utf-8", "Content-Type 'text/html; charset=utf-8'"),
    ("application/json", "Content-Type 'application/json'"),
    ("application/taxii+json;version=2.0", "version=2.0"),
    (None, "no Content-Type"),
])
def test_a_wrong_content_type_is_refused(partner, tmp_path, content_type, expected) -> None:
    partner.routes["/taxii2/"] = Answer({"title": "Partner", "api_roots": ["/api1/"]},
                                        content_type=content_type)
    message = refused(partner, tmp_path / "out")
    assert expected in message and "application/taxii+json" in message


@pytest.mark.parametrize(("status", "expected"), [
    (401, "HTTP 401 Unauthorized"), (403, "HTTP 403 Forbidden"), (404, "HTTP 404 Not Found"),
    (500, "HTTP 500 Internal Server Error"), (503, "HTTP 503 Service Unavailable"),
])
def test_http_errors_are_named(partner, tmp_path, status, expected) -> None:
    partner.routes["/taxii2/"] = Answer({"title": f"refused \x1b[31mred\x1b[0m {status}",
                                         "description": "go away\nnow"}, status=status)
    message = refused(partner, tmp_path / "out")
    assert expected in message and partner.url + "/taxii2/" in message
    assert "refused" in message  # the server's own error title, cleaned of control characters
    if status in (401, 403):
        assert "token" in message


def test_a_server_error_on_a_later_page_names_the_page(partner, tmp_path) -> None:
    partner.serve_pages([stix(1)], [stix(2)], Answer({"title": "boom"}, status=500))
    message = refused(partner, tmp_path / "out")
    assert "page 3" in message and "HTTP 500" in message and OBJECTS in message


def test_a_same_origin_redirect_is_followed(partner, tmp_path) -> None:
    partner.routes["/taxii"] = Answer(status=301, headers={"Location": "/taxii2/"})
    partner.serve_pages([stix(1)])
    assert bundle_objects(fetch(partner, tmp_path / "out", "/taxii")) == [stix(1)]


def test_a_redirect_loop_stops(partner, tmp_path) -> None:
    partner.routes["/taxii2/"] = Answer(status=302, headers={"Location": "/loop/"})
    partner.routes["/loop/"] = Answer(status=302, headers={"Location": "/taxii2/"})
    assert "too many redirects" in refused(partner, tmp_path / "out")
    assert len(partner.requests) <= 10


def test_the_token_never_leaves_the_partners_origin(partner, tmp_path) -> None:
    """A redirect or an API root on another host is refused before anything is sent there:
    the bearer token is only for the server the user named."""
    elsewhere = Partner()
    try:
        partner.routes["/taxii2/"] = Answer(status=307,
                                            headers={"Location": elsewhere.url + "/taxii2/"})
        message = refused(partner, tmp_path / "out")
        assert "another origin" in message and elsewhere.url in message
        partner.routes["/taxii2/"] = Answer({"title": "Partner",
                                             "api_roots": [elsewhere.url + "/api1/"]})
        message = refused(partner, tmp_path / "out")
        assert "another origin" in message and f"hybridwatch pull {elsewhere.url}/api1/" in message
        partner.routes["/taxii2/"] = Answer({"title": "Partner", "api_roots": ["file:///etc/"]})
        assert "another origin" in refused(partner, tmp_path / "out")
        assert elsewhere.requests == []
    finally:
        elsewhere.close()


def test_only_http_urls_are_pulled(tmp_path) -> None:
    with pytest.raises(InputError, match="not an http"):
        fetch_collection("file:///etc/passwd", "partner", tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- object pages ---------------------------------------------------------------------------

def test_non_stix_objects_travel_to_the_ingest_with_the_good_ones(partner, tmp_path) -> None:
    odd = [1, "campaign", None, [stix(9)], {"type": "campaign"}, {"id": "campaign--x"}]
    partner.serve_pages([stix(1), *odd[:3]], Answer({"more": True, "next": "2"}),
                        [*odd[3:], stix(2)])
    pulled = fetch(partner, tmp_path / "out")
    assert bundle_objects(pulled) == [stix(1), *odd, stix(2)]  # as served: the ingest judges
    assert (pulled.objects, pulled.pages) == (8, 3)


def test_duplicate_ids_across_pages_are_kept_for_the_ingest_to_resolve(partner, tmp_path) -> None:
    newer = {**stix(1), "modified": "2024-04-01T00:00:00.000Z"}
    partner.serve_pages([stix(1), stix(2)], [stix(1), newer])
    assert bundle_objects(fetch(partner, tmp_path / "out")) == [stix(1), stix(2), stix(1), newer]


@pytest.mark.parametrize(("page", "expected"), [
    ({"objects": {"id": "campaign--x"}}, "objects: not a list"),
    ({"objects": "campaign"}, "objects: not a list"),
    (["objects"], "not a JSON object"),
    ({"objects": [], "more": "false"}, "more: not true or false"),
    ({"objects": [], "more": True}, "more: true but no next"),
    ({"objects": [], "more": True, "next": ""}, "more: true but no next"),
    ({"objects": [], "more": True, "next": ["1"]}, "next: not a string"),
])
def test_a_malformed_envelope_is_refused_by_page_and_field(partner, tmp_path, page,
                                                           expected) -> None:
    partner.serve_pages([stix(1)], Answer(page))
    message = refused(partner, tmp_path / "out")
    assert expected in message and "page 2" in message and OBJECTS in message


def test_a_next_that_repeats_stops_at_once(partner, tmp_path) -> None:
    partner.routes[OBJECTS] = lambda query: Answer({"objects": [stix(1)], "more": True,
                                                    "next": "again"})
    started = time.monotonic()
    message = refused(partner, tmp_path / "out")
    assert "next: 'again' repeats" in message and "page 2" in message
    assert elapsed(started) < 5 and len(partner.requests) < 10


def test_endless_fresh_cursors_stop_at_the_page_cap(partner, tmp_path) -> None:
    partner.routes[OBJECTS] = lambda query: Answer({
        "objects": [stix(1)], "more": True, "next": str(int(query.get("next", "0")) + 1)})
    message = refused(partner, tmp_path / "out", max_pages=5)
    assert "more than 5 pages" in message and "--added-after" in message
    assert sum(p == OBJECTS for p, _, _ in partner.requests) == 5


@pytest.mark.parametrize("action", [None, "chunked"])
def test_a_page_over_the_size_cap_is_refused(partner, tmp_path, action) -> None:
    big = {"objects": [{**stix(n), "description": "x" * 500} for n in range(10)]}
    partner.serve_pages([stix(1)], Answer(big, action=action))
    message = refused(partner, tmp_path / "out", max_page_bytes=2_000)
    assert "page 2" in message and "larger than 2,000 bytes" in message


def test_a_pull_over_the_total_cap_is_refused(partner, tmp_path) -> None:
    partner.serve_pages(*[[{**stix(n), "description": "x" * 500}] for n in range(6)])
    message = refused(partner, tmp_path / "out", max_total_bytes=2_000)
    assert "more than 2,000 bytes in all" in message


@pytest.mark.parametrize("action", ["hang", "drip"])
def test_a_server_that_never_finishes_times_out(partner, tmp_path, action) -> None:
    partner.serve_pages([stix(1)], Answer({"objects": []}, action=action))
    started = time.monotonic()
    message = refused(partner, tmp_path / "out", timeout_seconds=0.5)
    assert "timed out after 0.5 s" in message and "page 2" in message
    assert elapsed(started) < 4


def test_a_connection_dropped_mid_body_is_named(partner, tmp_path) -> None:
    partner.serve_pages([stix(1)], Answer({"objects": [stix(2)]}, action="drop"))
    message = refused(partner, tmp_path / "out")
    assert "page 2" in message and "connection closed" in message


@pytest.mark.parametrize(("body", "expected"), [
    (b'{"objects": [{"type": "campaign", "name": "\xff\xfe"}]}', "not UTF-8"),
    ('{"objects": [{"name": "x"}]}'.encode("utf-16"), "not UTF-8"),
    (b'{"objects": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    (b'{"objects": [{"confidence": NaN}]}', "NaN"),
    (b'{"objects": [{"confidence": -Infinity}]}', "-Infinity"),
    (b'{"objects": [{"confidence": 1e999}]}', "1e999"),
    (b'{"objects": [{"confidence": ' + b"9" * 5000 + b"}]}", "not valid JSON"),
    (b'{"objects": [{"name": "\\ud800"}]}', "lone surrogate"),
])
def test_bytes_that_are_not_clean_json_are_refused(partner, tmp_path, body, expected) -> None:
    partner.serve_pages([stix(1)], Answer(body))
    message = refused(partner, tmp_path / "out")
    assert expected in message and "page 2" in message


def test_a_failed_pull_leaves_the_previous_bundle_alone(partner, tmp_path) -> None:
    out = tmp_path / "keep"
    partner.serve_pages([stix(1)])
    previous = fetch(partner, out).path.read_bytes()
    partner.serve_pages([stix(1)], Answer(b"{", action="drop"))
    with pytest.raises(InputError):
        fetch(partner, out)
    assert [p.read_bytes() for p in out.iterdir()] == [previous]


# --- the command ----------------------------------------------------------------------------

def test_pull_ingests_the_good_objects_and_quarantines_the_rest(partner, tmp_path) -> None:
    good = json.loads(FIXTURE.read_text(encoding="utf-8"))["objects"]
    bad = [7, "campaign", {"type": "campaign", "name": "no id"}]
    twice = next(o for o in good if o.get("type") == "campaign")
    partner.serve_pages(good[:20], [*bad, *good[20:]], [twice])
    db = tmp_path / "store.duckdb"
    result = CliRunner().invoke(cli, ["pull", f"{partner.url}/taxii2/", "-c", "partner",
                                      "--token", "hw_secret", "--db", str(db), "--json", "-q"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["pulled"]["objects"] == len(good) + len(bad) + 1
    with EventStore(tmp_path / "direct.duckdb") as store:
        truth = ingest_file(store, FIXTURE, format="stix").to_dict()
    ingest = answer["ingest"]
    assert truth["ingested"] > 0
    assert ingest["ingested"] == truth["ingested"]  # no good object lost, the duplicate once
    assert ingest["quarantined"] == truth["quarantined"] + len(bad)


def test_pull_ends_a_hostile_exchange_in_one_line(partner, tmp_path) -> None:
    keep = tmp_path / "keep"
    partner.serve_pages([stix(1)], Answer({"objects": [], "more": True, "next": "1"}))
    result = CliRunner().invoke(cli, ["pull", f"{partner.url}/taxii2/", "-c", "partner",
                                      "--keep", str(keep), "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 3
    assert "Traceback" not in result.output and "next: '1' repeats" in result.output
    assert list(keep.iterdir()) == [] and not (tmp_path / "s.duckdb").exists()


def test_pull_timeout_is_an_option(partner, tmp_path) -> None:
    partner.routes["/taxii2/"] = Answer(action="hang")
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["pull", f"{partner.url}/taxii2/", "-c", "partner",
                                      "--timeout", "0.5", "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 3 and "timed out after 0.5 s" in result.output
    assert elapsed(started) < 4


# --- property: whatever the envelope, a faithful bundle or an InputError -------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8)
_objects = st.lists(st.one_of(st.builds(stix, st.integers(0, 10**6)), _json), max_size=4)
_envelope = st.fixed_dictionaries({}, optional={
    "objects": st.one_of(_objects, _json), "more": st.one_of(st.booleans(), _json),
    "next": st.one_of(st.sampled_from(["1", "2", "0", ""]), _json)})
_page = st.one_of(_envelope, _envelope, _envelope, _json, st.binary(max_size=40))


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(pages=st.lists(_page, min_size=1, max_size=3))
def test_any_envelope_gives_a_faithful_bundle_or_an_input_error(partner, tmp_path_factory,
                                                                 pages) -> None:
    served: list = []

    def answer(query: dict[str, str]) -> Answer:
        at = query.get("next", "0")
        page = pages[int(at)] if at.isdigit() and int(at) < len(pages) else {}
        served.append(page)
        return Answer(page)

    partner.routes[OBJECTS] = answer
    out = tmp_path_factory.mktemp("out")
    try:
        pulled = fetch(partner, out)
    except InputError as exc:
        assert str(exc) and list(out.iterdir()) == []
        event("refused")
        return
    event("pulled")
    expected = [obj for page in served for obj in page.get("objects", [])]
    assert bundle_objects(pulled) == expected and pulled.pages == len(served)


def test_pulling_objects_the_store_already_holds_adds_nothing(partner, tmp_path) -> None:
    """The first pull after an upgrade: the store holds the collection's objects from a bundle
    of another byte layout (here the fixture file, ingested directly), so the pulled bundle is
    a new file to the ingest, but its objects are known: none is stored twice; a second pull
    adds nothing either."""
    good = json.loads(FIXTURE.read_text(encoding="utf-8"))["objects"]
    partner.serve_pages(good[:20], good[20:])
    db = tmp_path / "store.duckdb"
    with EventStore(db) as store:
        first = ingest_file(store, FIXTURE, format="stix").to_dict()
        before = store._con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    assert first["ingested"] == before > 0
    for _ in range(2):
        result = CliRunner().invoke(cli, ["pull", f"{partner.url}/taxii2/", "-c", "partner",
                                          "--token", "hw_secret", "--db", str(db), "--json",
                                          "-q"])
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        assert answer["pulled"]["objects"] == len(good) and answer["ingest"]["ingested"] == 0
        with EventStore(db, read_only=True) as store:
            assert store._con.execute("SELECT count(*) FROM events").fetchall()[0][0] == before
