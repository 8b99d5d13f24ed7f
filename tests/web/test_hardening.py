"""Issue #14 §7 on the web side: a strict Content-Security-Policy, 401s and TAXII version
requests in the audit log, no token in any log line, token names without control or bidi
characters, CSV exports that a spreadsheet will not run as formulas."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner
from web_helpers import bearer

from hybridwatch.cli import cli
from hybridwatch.errors import SelectorError
from hybridwatch.store import EventStore
from hybridwatch.store.access_store import create_token
from hybridwatch.web.log_redaction import RedactTokens, redact
from hybridwatch.web.taxii import COLLECTION_ID
from hybridwatch.workflows.ingest import ingest_file

OBJECTS = f"/taxii2/hybridwatch/collections/{COLLECTION_ID}/objects/"
TAXII = {"Accept": "application/taxii+json;version=2.1"}


def test_every_answer_carries_a_strict_content_security_policy(client, tokens):
    for path in ("/", "/api/events?limit=1", "/static/app.js", "/api/nothing-here"):
        answer = client.get(path, headers=bearer(tokens["viewer"]))
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
    briefing = client.get("/api/briefings/latest", headers=bearer(tokens["viewer"]))
    assert "script-src" not in briefing.headers["content-security-policy"]  # none at all
    assert "default-src 'none'" in briefing.headers["content-security-policy"]


def _audit(client, tokens, **params) -> list[dict]:
    client.app.state.audit.flush()
    return client.get("/api/audit", params={"limit": 50, **params},
                      headers=bearer(tokens["admin"])).json()["entries"]


def test_refused_requests_are_audited_without_the_credentials(client, tokens):
    forged = "hw_0123456789ab_" + "S" * 40
    client.get("/api/events?token=" + forged)                       # no header
    client.get("/taxii2/", headers={"Authorization": "Bearer " + forged})
    client.get("/api/events", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    entries = [e for e in _audit(client, tokens, action="denied") if e["status"] == 401]
    reasons = {(e["resource"], e["detail"]["reason"]) for e in entries}
    assert {("/api/events", "missing token"), ("/taxii2/", "invalid token")} <= reasons
    assert sum(e["resource"] == "/api/events" for e in entries) >= 2  # Basic counts as missing
    assert forged not in json.dumps(entries) and "dXNlcjpwYXNz" not in json.dumps(entries)


def test_taxii_versions_requests_are_audited(client, tokens):
    headers = {**bearer(tokens["viewer"]), **TAXII}
    wanted = client.get(OBJECTS + "?limit=1", headers=headers).json()["objects"][0]["id"]
    assert client.get(OBJECTS + f"{wanted}/versions/", headers=headers).status_code == 200
    me = client.get("/api/me", headers=bearer(tokens["viewer"])).json()
    resources = [e["resource"] for e in _audit(client, tokens, token_id=me["token_id"])]
    assert f"taxii:{COLLECTION_ID}/objects/{wanted}/versions" in resources


def test_no_log_line_holds_a_token():
    secret = "hw_0123456789ab_" + "x" * 43
    assert secret not in redact(f"GET /?token={secret} HTTP/1.1")
    assert redact("GET /?a=1&token=abc&b=2") == "GET /?a=1&token=[redacted]&b=2"
    # uvicorn's access log: '%s - "%s %s HTTP/%s" %d' with the path and query as an argument
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", f"/?token={secret}", "1.1", 200), None)
    RedactTokens().filter(record)
    assert secret not in record.getMessage() and "[redacted]" in record.getMessage()


@pytest.mark.parametrize("name", ["admin\u202e", "a\nFAKE LOG LINE", "tab\there", "\u2066x",
                                  "zero\u200bwidth"])
def test_token_names_refuse_control_and_bidi_characters(tmp_path, name):
    with EventStore(tmp_path / "s.duckdb") as store, pytest.raises(SelectorError, match="U+"):
        create_token(store, role="viewer", name=name)
    result = CliRunner().invoke(cli, ["token", "create", "--role", "viewer", "--name", name,
                                      "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 2


def test_events_csv_neutralises_formula_injection(tmp_path):
    bundle = tmp_path / "b.json"
    names = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "plain"]
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--" + "0" * 8 +
                                  "-0000-4000-8000-000000000000", "objects": [
        {"type": "campaign", "spec_version": "2.1", "name": name,
         "id": f"campaign--00000000-0000-4000-8000-{k:012d}",
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z"}
        for k, name in enumerate(names)]}))
    db = tmp_path / "s.duckdb"
    with EventStore(db) as store:
        ingest_file(store, bundle)
    out = CliRunner().invoke(cli, ["events", "--csv", "--db", str(db)]).stdout
    import csv
    import io

    titles = [row["title"] for row in csv.DictReader(io.StringIO(out))]
    assert sorted(titles) == sorted(["'" + n if n[0] in "=+-@" else n for n in names])
