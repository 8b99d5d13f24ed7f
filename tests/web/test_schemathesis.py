"""Property tests of every operation in /openapi.json (schemathesis v4, through the ASGI app).

Valid inputs must answer with a documented status, the declared content type and a body that
matches the declared schema; invalid inputs (negative generation) must be refused with a 4xx in
the JSON error shape — never a 500. (schemathesis' pytest plugin does not load on pytest 9, so
the operations' Hypothesis strategies are driven directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from web_helpers import bearer

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
                database=None)


@pytest.fixture(scope="module")
def operations(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # /taxii2/ has its own tests (tests/web/test_taxii.py) and media type
    found = [op for op in (result.ok() for result in schema.get_all_operations())
             if op.path.startswith("/api/")]
    assert len(found) >= 18
    return found


def _protect_fixtures(case) -> None:
    if case.method == "DELETE":
        case.path_parameters = {"token_id": "0" * 12}  # never revoke the fixtures' tokens


def test_valid_requests_conform_to_the_schema(operations, tokens):
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=6, **SETTINGS)
        def check(case):
            _protect_fixtures(case)
            # semantic limits that OpenAPI cannot state (an opaque cursor, the series' period
            # cap) answer a documented 422, so schema-valid data may be refused
            case.call_and_validate(headers=bearer(tokens["admin"]),
                                   excluded_checks=[schemathesis.checks.positive_data_acceptance])

        check()


def test_invalid_requests_get_4xx_in_the_error_shape(operations, tokens):
    tested = 0
    for operation in operations:
        @given(case=operation.as_strategy(schemathesis.GenerationMode.NEGATIVE))
        @settings(max_examples=5, **SETTINGS)
        def check(case):
            _protect_fixtures(case)
            response = case.call(headers=bearer(tokens["viewer"]))
            assert response.status_code < 500, (case.method, case.path, response.text)
            if response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error"}
                assert body["error"]["status"] == response.status_code

        try:
            check()
        except Unsatisfiable:
            continue  # no parameters, nothing invalid to send
        tested += 1
    assert tested >= 12


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

        check()
