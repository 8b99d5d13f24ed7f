"""Shared fixtures of the web tests: one demo store (365 days, built once per session), tokens
of every role, the app on it, a TestClient and a live uvicorn server on loopback."""

from __future__ import annotations

import socket
import threading
import time
import warnings
from pathlib import Path

import pytest
from hybridwatch.store import EventStore
from hybridwatch.store.access_store import create_token, revoke_token

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _assessment_item(target: str, p: float, tlp: str):
    from hybridwatch.store.findings_store import FindingItem

    return FindingItem(target, {
        "target": target, "outcome": "a coordinated multi-domain episode", "probability": p,
        "low": p / 2, "high": min(1.0, p * 1.5), "phia_term": "likely" if p > 0.55 else "unlikely",
        "confidence": "moderate", "statement": f"{target}: an episode within 30 days is "
        f"{'likely' if p > 0.55 else 'unlikely'} ({round(p * 100)}%).",
        "drivers": [{"name": "episodes_90d", "value": 2, "contribution": 0.4}],
        "evidence": [], "domains": {}}, tlp)


def _finding_shapes():
    """Assessment and convergence runs in the shapes documented for the findings store (their
    analyses are not part of the web layer; the API only renders what is stored)."""
    from hybridwatch.store.findings_store import FindingItem

    assessment = ({"horizon_days": 30, "as_of": "2024-12-30", "caution": "Do not over-react.",
                   "backtest": {"verdict": "better than climatology"}, "parameters": {},
                   "warnings": []},
                  [_assessment_item("DEU", 0.7, "clear"), _assessment_item("POL", 0.4, "amber"),
                   _assessment_item("TWN", 0.6, "red")])
    convergence = ({"a": "RUS", "b": "CHN", "freq": "month", "weights": {"narratives": 1.0},
                    "components": ["narratives"], "warnings": [], "parameters": {}},
                   [FindingItem(f"2024-{m:02d}", {
                       "period": f"2024-{m:02d}", "index": 0.1 * m, "low": 0.1 * m - 0.05,
                       "high": 0.1 * m + 0.05, "components": {"narratives": 0.1 * m},
                       "coverage": ["narratives"], "confidence": "low"},
                                "amber+strict" if m == 12 else "clear")
                    for m in range(1, 13)])
    return [("assessment", *assessment), ("convergence", *convergence)]


class _Shapes:
    def __iter__(self):
        return iter(_finding_shapes())


FINDING_SHAPES = _Shapes()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo scenario (365 days) ingested and analysed as ``hybridwatch demo`` does:
    episodes, coincidences and narratives with mixed TLP markings; plus an assessment and a
    convergence run in their documented item shapes (``FINDING_SHAPES``)."""
    from hybridwatch.adapters import ReadOptions
    from hybridwatch.commands.demo_command import ASSESSMENT_TARGETS, DEMO_GRID
    from hybridwatch.demo.scenario import generate_scenario
    from hybridwatch.store import ingest_file
    from hybridwatch.store.findings_store import save_run
    from hybridwatch.store.narratives_store import build_narratives
    from hybridwatch.workflows.coordination import coincide_grid, detect_episodes
    from hybridwatch.workflows.findings import (
        record_coincidences, record_episodes, record_narrative_sync,
    )
    from hybridwatch.workflows.narratives import narrative_sync

    out = tmp_path_factory.mktemp("web-demo")
    files = generate_scenario(out, random_state=7, days=365)
    db = out / "hybridwatch.duckdb"
    with EventStore(db) as store:
        for path, format_name, mapping in files.inputs():
            ingest_file(store, path, format=format_name,
                        options=ReadOptions(mapping_path=mapping))
        record_episodes(store, detect_episodes(store, target_groups=[ASSESSMENT_TARGETS],
                                               random_state=7, n_surrogates=99))
        record_coincidences(store, coincide_grid(store, DEMO_GRID, random_state=7,
                                                 n_surrogates=199))
        build_narratives(store, random_state=7)
        record_narrative_sync(store, narrative_sync(store, random_state=7))
        for kind, summary, items in FINDING_SHAPES:
            save_run(store, kind, summary, items)
    return db


@pytest.fixture(scope="session")
def tokens(demo_db) -> dict[str, str]:
    """Secrets by name: viewer, analyst, admin, viewer_green (clearance lowered), revoked."""
    with EventStore(demo_db) as store:
        made = {role: create_token(store, role=role, name=f"test {role}").token
                for role in ("viewer", "analyst", "admin")}
        made["viewer_green"] = create_token(store, role="viewer", name="green viewer",
                                            clearance="green").token
        revoked = create_token(store, role="admin", name="revoked admin")
        revoke_token(store, revoked.record.token_id)
        made["revoked"] = revoked.token
    return made


@pytest.fixture(scope="session")
def app(demo_db, tokens):
    from hybridwatch.web.app import create_app

    return create_app(demo_db)


@pytest.fixture(scope="session")
def client(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_server(app):
    """The same app served by uvicorn in a thread on a free loopback port."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def direct(app):
    """A cursor on the app's own connection, for independent SQL truth."""
    cursor = app.state.store.con.cursor()
    yield cursor
    cursor.close()
