"""Tokens and the audit log in the store, and the ``token`` / ``audit`` commands."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.errors import SelectorError
from hybridwatch.store import EventStore
from hybridwatch.store.access_store import (
    audit, audit_entries, create_token, revoke_token, verify_token,
)


@pytest.fixture
def store(store_path):
    with EventStore(store_path) as opened:
        yield opened


def test_only_the_hash_of_the_secret_is_stored(store):
    made = create_token(store, role="analyst", name="desk 2")
    secret = made.token.split("_", 2)[2]
    rows = store._con.execute("SELECT * FROM api_tokens").fetchall()
    assert len(rows) == 1 and secret not in json.dumps(rows, default=str)
    assert rows[0][4] == hashlib.sha256(secret.encode()).hexdigest()
    assert made.record.clearance == "amber+strict"


def test_verify_accepts_only_the_exact_valid_token(store):
    made = create_token(store, role="viewer")
    assert verify_token(store, made.token).token_id == made.record.token_id
    assert verify_token(store, made.token + "x") is None
    assert verify_token(store, made.token.replace("hw_", "xx_")) is None
    assert verify_token(store, "hw_" + made.record.token_id) is None
    revoke_token(store, made.record.token_id)
    assert verify_token(store, made.token) is None


@pytest.mark.parametrize("role, clearance, expected", [
    ("viewer", None, "amber"), ("viewer", "green", "green"), ("viewer", "TLP:CLEAR", "clear"),
    ("analyst", None, "amber+strict"), ("admin", None, "red"), ("admin", "amber", "amber"),
])
def test_clearance_defaults_and_may_be_lowered(store, role, clearance, expected):
    assert create_token(store, role=role, clearance=clearance).record.clearance == expected


@pytest.mark.parametrize("role, clearance, reason", [
    ("viewer", "red", "at most TLP:AMBER"), ("viewer", "amber+strict", "at most TLP:AMBER"),
    ("analyst", "red", "at most TLP:AMBER+STRICT"), ("boss", None, "unknown role"),
    ("viewer", "purple", "not a TLP 2.0 level"),
])
def test_clearance_is_never_raised_above_the_role(store, role, clearance, reason):
    with pytest.raises(SelectorError, match=reason.replace("+", r"\+")):
        create_token(store, role=role, clearance=clearance)


def test_audit_entries_newest_first_with_filters(store):
    audit(store, action="read", resource="/api/events", token_id="a", name="n", role="viewer",
          detail={"returned": 3})
    audit(store, action="export", resource="/api/briefings/latest", token_id="b", status=200)
    entries = audit_entries(store)
    assert [e["action"] for e in entries] == ["export", "read"]
    assert audit_entries(store, token_id="a")[0]["detail"] == {"returned": 3}


def test_token_and_audit_commands(store_path):
    runner = CliRunner()
    made = runner.invoke(cli, ["token", "create", "--role", "viewer", "--name", "ops",
                               "--db", str(store_path), "--json"])
    assert made.exit_code == 0, made.output
    created = json.loads(made.output)
    assert created["token"].startswith("hw_") and created["clearance"] == "amber"
    listed = json.loads(runner.invoke(cli, ["token", "list", "--db", str(store_path),
                                            "--json"]).output)
    assert [t["token_id"] for t in listed["tokens"]] == [created["token_id"]]
    assert "token" not in listed["tokens"][0]
    too_high = runner.invoke(cli, ["token", "create", "--role", "viewer", "--clearance", "red",
                                   "--db", str(store_path)])
    assert too_high.exit_code == 2 and "at most TLP:AMBER" in too_high.output
    revoked = runner.invoke(cli, ["token", "revoke", created["token_id"], "--db",
                                  str(store_path), "--json"])
    assert json.loads(revoked.output)["revoked_at"]
    unknown = runner.invoke(cli, ["token", "revoke", "nope", "--db", str(store_path)])
    assert unknown.exit_code == 2 and "no such token" in unknown.output
    with EventStore(store_path) as opened:
        audit(opened, action="read", resource="/api/events", token_id=created["token_id"],
              name="ops", role="viewer")
    log = json.loads(runner.invoke(cli, ["audit", "--db", str(store_path), "--json"]).output)
    assert log["count"] == 1 and log["entries"][0]["name"] == "ops"


def test_serve_refuses_a_missing_store(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 4 and "no store here" in result.output
