"""Analyst review, the human in the loop: a verdict through the CLI or the API (analyst role and
above), in the audit log; rejected findings leave the briefing and are counted in its annex
with their notes; judgements say who reviewed them; reviews travel in STIX as opinions."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from stix_store import shared_store

from hybridwatch.cli import cli
from hybridwatch.outputs.briefing import build_context, html_from_context
from hybridwatch.outputs.stix_export import export_stix, main_stix_id
from hybridwatch.store import EventStore
from hybridwatch.store.access_store import audit_entries, create_token


@pytest.fixture
def reviewed(tmp_path_factory, tmp_path: Path):
    """A copy of the STIX test store, DEU's judgement rejected and TWN's confirmed by CLI."""
    info = shared_store(tmp_path_factory)
    path = tmp_path / "store.duckdb"
    shutil.copy(info["path"], path)
    deu, twn = info["assessment"]["DEU"], info["assessment"]["TWN"]
    runner = CliRunner()
    rejected = runner.invoke(cli, ["review", deu[:10], "--verdict", "rejected", "--note",
                                   "the green episode was a scheduled exercise",
                                   "--analyst", "alice", "--db", str(path), "--json"])
    assert rejected.exit_code == 0, rejected.output
    confirmed = runner.invoke(cli, ["review", twn, "--verdict", "confirmed", "--analyst", "bob",
                                    "--db", str(path), "--json"])
    assert confirmed.exit_code == 0, confirmed.output
    return path, deu, twn, json.loads(rejected.stdout)


def test_cli_review_is_recorded_and_audited(reviewed) -> None:
    path, deu, _, review = reviewed
    assert (review["finding_id"], review["kind"], review["verdict"], review["analyst"]) == (
        deu, "assessment", "rejected", "alice")
    with EventStore(path, read_only=True) as store:
        entries = audit_entries(store, action="review")
    assert {(e["name"], e["resource"]) for e in entries} >= {("alice", f"findings/{deu}")}
    listed = json.loads(CliRunner().invoke(cli, ["findings", "list", "--kind", "assessment",
                                                 "--db", str(path), "--json"]).stdout)["runs"]
    assert listed[0]["reviewed"] is True
    # a rejection needs a reason; an unknown finding is named
    runner = CliRunner()
    bare = runner.invoke(cli, ["review", deu, "--verdict", "rejected", "--analyst", "x",
                               "--db", str(path)])
    assert bare.exit_code == 2 and "needs a note" in bare.output
    unknown = runner.invoke(cli, ["review", "0123456789abcdef", "--verdict", "confirmed",
                                  "--analyst", "x", "--db", str(path)])
    assert unknown.exit_code == 4 and "no finding" in unknown.output


def test_rejected_findings_leave_the_briefing_and_the_annex_counts_them(reviewed) -> None:
    path, deu, twn, _ = reviewed
    with EventStore(path, read_only=True) as store:
        ctx = build_context(store, tlp="red")       # TWN's judgement is RED by its evidence
        amber = build_context(store, tlp="amber")
    assert amber["assessment"]["judgements"] == []            # DEU rejected, TWN above AMBER
    (twn_judgement,) = ctx["assessment"]["judgements"]        # DEU's is gone
    assert twn_judgement["target"] == "TWN"
    assert twn_judgement["review"]["verdict"] == "confirmed"
    assert twn_judgement["review"]["analyst"] == "bob"
    assert [(r["key"], r["analyst"]) for r in ctx["rejected"]] == [("DEU", "alice")]
    html = html_from_context(ctx)
    assert f'id="f-{deu}"' not in html
    assert "Rejected by analysts (1)" in html and "a scheduled exercise" in html
    assert "Reviewed: <b>confirmed</b> by bob" in html


def test_reviews_travel_in_stix_as_opinions(reviewed) -> None:
    path, deu, twn, _ = reviewed
    with EventStore(path, read_only=True) as store:
        bundle = export_stix(store, tlp="red").bundle
    opinions = {tuple(o["object_refs"]): o for o in bundle["objects"]
                if o["type"] == "opinion" and o.get("authors")}
    rejected = opinions[(main_stix_id("assessment", deu),)]
    assert rejected["opinion"] == "disagree" and rejected["authors"] == ["alice"]
    assert "scheduled exercise" in rejected["explanation"]
    assert opinions[(main_stix_id("assessment", twn),)]["opinion"] == "agree"
    with EventStore(path, read_only=True) as store:
        green = export_stix(store, tlp="green").to_json()
    assert "bob" not in green        # TWN's judgement (RED by its evidence) is not shared


def test_api_review_needs_the_analyst_role(reviewed) -> None:
    from hybridwatch.web.app import create_app

    path, deu, _, _ = reviewed
    with EventStore(path) as store:
        tokens = {role: create_token(store, role=role, name=f"{role} one").token
                  for role in ("viewer", "analyst")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    app = create_app(path)
    with TestClient(app) as client:
        def post(role: str, finding: str, body: dict):
            return client.post(f"/api/findings/{finding}/reviews", json=body,
                               headers={"Authorization": f"Bearer {tokens[role]}"})

        assert post("viewer", deu, {"verdict": "confirmed"}).status_code == 403
        assert post("analyst", "f" * 32, {"verdict": "confirmed"}).status_code == 404
        assert post("analyst", deu, {"verdict": "maybe"}).status_code == 422
        assert post("analyst", deu, {"verdict": "rejected"}).status_code == 422   # no note
        done = post("analyst", deu, {"verdict": "confirmed", "note": "rechecked"})
        assert done.status_code == 201, done.text
        assert done.json()["analyst"] == "analyst one"
        detail = client.get(f"/api/findings/{deu}",
                            headers={"Authorization": f"Bearer {tokens['analyst']}"}).json()
        assert [r["verdict"] for r in detail["reviews"]] == ["rejected", "confirmed"]
        store = app.state.store     # the server holds the store: read through its connection
        entries = audit_entries(store, action="review")
        assert any(e["name"] == "analyst one" and e["role"] == "analyst" for e in entries)
        ctx = build_context(store, tlp="amber")   # the latest verdict counts: DEU is back
    assert "DEU" in [j["target"] for j in ctx["assessment"]["judgements"]]
