"""Property tests of every operation in /openapi.json (schemathesis v4, through the ASGI app):
the JSON API under /api/ and the TAXII 2.1 server under /taxii2/.

Valid inputs must answer with a documented status, the declared content type and a body that
matches the declared schema; invalid inputs (negative generation) must be refused with a 4xx in
the operation's error shape (the API's JSON error, or TAXII's error message) — never a 500.
(schemathesis' pytest plugin does not load on pytest 9, so the operations' Hypothesis
strategies are driven directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from web_helpers import bearer

from hybridwatch.outputs.stix_export import export_stix
from hybridwatch.web.deps import open_cursor_store
from hybridwatch.web.taxii import COLLECTION_ID, TAXII_MEDIA_TYPE

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
                database=None)
TAXII_OPERATIONS = 8
# Accept headers and whether the TAXII routes must serve them (None: no header at all)
ACCEPTS = {None: True, TAXII_MEDIA_TYPE: True, "application/taxii+json": True,
           "application/json": True, "*/*": True, "application/*": True,
           "text/html, application/taxii+json;version=2.1;q=0.5": True,
           "application/taxii+json;version=2.0": False, "text/html": False,
           "application/json;q=0": False, "application/taxii+json; version=\"2.1\"; q=0": False}
VALID_CHECKS = {"excluded_checks": [
    # semantic limits that OpenAPI cannot state (an opaque cursor or page token, the series'
    # period cap, match[version]'s words and times) answer a documented 422 (TAXII: 400), so
    # schema-valid data may be refused
    schemathesis.checks.positive_data_acceptance]}


@pytest.fixture(scope="module")
def operations(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found = [op for op in (result.ok() for result in schema.get_all_operations())
             if op.path.startswith(("/api/", "/taxii2/"))]
    assert len([op for op in found if op.path.startswith("/api/")]) >= 18
    assert len([op for op in found if op.path.startswith("/taxii2/")]) == TAXII_OPERATIONS
    return found


@pytest.fixture(scope="module")
def stix_ids(app) -> list[str]:
    """Ids of real objects of every type in the collection, from the export itself."""
    store = open_cursor_store(app)
    try:
        objects = export_stix(store, tlp="red").objects
    finally:
        store.close()
    by_type: dict[str, list[str]] = {}
    for obj in objects:
        by_type.setdefault(obj["type"], []).append(obj["id"])
    return sorted(ids[0] for ids in by_type.values())


def _protect_fixtures(case) -> None:
    if case.method == "DELETE":
        case.path_parameters = {"token_id": "0" * 12}  # never revoke the fixtures' tokens


def _real_ids(case, object_id: str) -> None:
    """Point a TAXII case at the real collection (and a real object): random ids only ever
    reach the 404 branch."""
    if "collection_id" in (case.path_parameters or {}):
        case.path_parameters["collection_id"] = COLLECTION_ID
    if "object_id" in (case.path_parameters or {}):
        case.path_parameters["object_id"] = object_id


def _content_type(response) -> str:
    return response.headers["content-type"][0]  # schemathesis keeps every value of a header


def _taxii_error(response, status: int | None = None) -> dict:
    """The response is a TAXII error message (of ``status``); returns it."""
    assert _content_type(response) == TAXII_MEDIA_TYPE, response.text
    body = response.json()
    assert set(body) == {"title", "description", "http_status"}, body
    assert body["http_status"] == str(status or response.status_code)
    assert body["title"]
    return body


def test_valid_requests_conform_to_the_schema(operations, tokens, stix_ids):
    statuses: dict[str, set[int]] = {}
    for operation in operations:
        @given(case=operation.as_strategy(), real=st.booleans(),
               object_id=st.sampled_from(stix_ids))
        @settings(max_examples=6 if operation.path.startswith("/api/") else 12, **SETTINGS)
        def check(case, real, object_id):
            _protect_fixtures(case)
            if real:
                _real_ids(case, object_id)
            response = case.call_and_validate(headers=bearer(tokens["admin"]), **VALID_CHECKS)
            statuses.setdefault(case.operation.path, set()).add(response.status_code)

        check()
    taxii = {path: found for path, found in statuses.items() if path.startswith("/taxii2/")}
    assert len(taxii) == TAXII_OPERATIONS
    assert all(200 in found for found in taxii.values()), taxii  # every success path ran


def test_taxii_accept_header_decides_406(operations, tokens, stix_ids):
    for operation in (op for op in operations if op.path.startswith("/taxii2/")):
        @given(case=operation.as_strategy(), accept=st.sampled_from(sorted(ACCEPTS, key=str)))
        @settings(max_examples=12, **SETTINGS)
        def check(case, accept):
            _real_ids(case, stix_ids[0])
            case.query = {}  # no filters: any refusal comes from the Accept header
            headers = bearer(tokens["viewer"]) | ({"Accept": accept} if accept else {})
            response = case.call_and_validate(headers=headers, **VALID_CHECKS)
            if ACCEPTS[accept]:
                assert response.status_code in (200, 404), (accept, response.text)
            else:
                _taxii_error(response, 406)
            assert _content_type(response) == TAXII_MEDIA_TYPE

        check()


def test_invalid_requests_get_4xx_in_the_error_shape(operations, tokens, stix_ids):
    tested = set()
    for operation in operations:
        taxii = operation.path.startswith("/taxii2/")

        @given(case=operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
               real=st.booleans())
        @settings(max_examples=8 if taxii else 5, **SETTINGS)
        def check(case, real):
            _protect_fixtures(case)
            taxii = case.operation.path.startswith("/taxii2/")
            if taxii and real:
                _real_ids(case, stix_ids[-1])
            response = case.call(headers=bearer(tokens["viewer"]))
            assert response.status_code < 500, (case.method, case.path, response.text)
            if taxii:
                case.validate_response(response, **VALID_CHECKS)
            if taxii and response.status_code >= 400 and response.status_code != 401:
                _taxii_error(response)  # a negative case may also drop the token: a 401
            elif response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"}
                assert body["error"]["status"] == response.status_code

        try:
            check()
        except Unsatisfiable:
            continue  # no parameters, nothing invalid to send
        tested.add(operation.path)
    assert len([path for path in tested if path.startswith("/api/")]) >= 12
    # every TAXII operation: those without parameters still get a dropped or spoiled token
    assert len([path for path in tested if path.startswith("/taxii2/")]) == TAXII_OPERATIONS


def test_without_a_token_protected_operations_answer_401(operations):
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=2, **SETTINGS)
        def check(case):
            response = case.call()
            if case.path == "/api/health":
                assert response.status_code == 200
                return
            assert response.status_code == 401, (case.method, case.path, response.text)
            assert response.json()["error"]["code"] == "unauthorized"
            case.validate_response(response, **VALID_CHECKS)

        check()
