"""One event filter for the CLI and the API: the same filter text selects the same events.

A small hand-made store; truth is the events counted by hand from the rows below.
"""

from __future__ import annotations

import json
import warnings

import pytest
from click.testing import CliRunner

from hybridwatch.adapters import ReadOptions
from hybridwatch.cli import cli
from hybridwatch.store import EventStore
from hybridwatch.store.access_store import create_token
from hybridwatch.workflows.ingest import ingest_file
from web_helpers import bearer

MAPPING = """
[source]
name = "incident_log"
format = "csv"

[fields]
source_record_id = "ref"
occurred_at = { column = "day", format = "%Y-%m-%d" }
domain = "domain"
actor_iso3 = { column = "actor", system = "auto" }
actor_name = "actor_name"
target_iso3 = { column = "victim", system = "auto" }
tlp = "tlp"
"""
# ref, day, domain, actor, actor_name, victim, tlp
ROWS = [
    ("1", "2024-01-02", "cyber", "RUS", "Fancy Bear unit", "DEU", "clear"),
    ("2", "2024-01-03", "cyber", "CHN", "APT Forty-one", "DEU", "green"),
    ("3", "2024-02-01", "military", "RUS", "Northern Fleet", "NOR", "clear"),
    ("4", "2023-12-30", "cyber", "RUS", "Sandworm", "POL", "amber"),
    ("5", "2024-03-05", "information", "CHN", "United Front work", "TWN", "clear"),
]
# filter → the refs it selects, counted by hand
CASES = [
    ({"actor": "RUS,CHN", "domain": "cyber"}, {"1", "2", "4"}),
    ({"target": "DEU", "since": "2024-01-03"}, {"2"}),
    ({"actor_name": "bear"}, {"1"}),
    ({"actor": "rus", "tlp": "clear,green"}, {"1", "3"}),
    ({"domain": "cyber,information", "until": "2024-01-03"}, {"1", "4"}),
]


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parity")
    csv_path, mapping = folder / "log.csv", folder / "log.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    csv_path.write_text("ref,day,domain,actor,actor_name,victim,tlp\n"
                        + "".join(",".join(row) + "\n" for row in ROWS), encoding="utf-8")
    db = folder / "store.duckdb"
    with EventStore(db) as store:
        assert ingest_file(store, csv_path, format="mapped",
                           options=ReadOptions(mapping_path=mapping)).ingested == len(ROWS)
        token = create_token(store, role="admin", name="parity", clearance="red").token
    return db, token


def _cli_refs(db, filters: dict[str, str]) -> set[str]:
    args = ["events", "--db", str(db), "--json"]
    for name, value in filters.items():
        args += [f"--{name.replace('_', '-')}", value]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return {row["source_record_id"] for row in json.loads(result.output)["events"]}


def _api_refs(db, token, filters: dict[str, str]) -> set[str]:
    from hybridwatch.web.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(create_app(db)) as client:
        answer = client.get("/api/events", params=filters, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return {row["source_record_id"] for row in answer.json()["events"]}


def test_cli_and_api_select_the_same_events(small_store):
    db, token = small_store
    cli_refs = [_cli_refs(db, filters) for filters, _ in CASES]   # before the app holds the file
    api_refs = [_api_refs(db, token, filters) for filters, _ in CASES]
    assert cli_refs == api_refs == [expected for _, expected in CASES]


def test_actor_is_a_country_code_and_the_cli_says_what_to_use_instead(small_store):
    db, _ = small_store
    result = CliRunner().invoke(cli, ["events", "--db", str(db), "--actor", "Fancy Bear"])
    assert result.exit_code == 2
    assert "--actor: 'Fancy Bear' is neither an ISO 3166 alpha-3 code" in result.output
    assert "--actor-name" in result.output
