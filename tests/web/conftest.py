"""Shared fixtures of the web tests: one demo store (365 days, built once per session), tokens
of every role, the app on it, a TestClient and a live uvicorn server on loopback."""

from __future__ import annotations

import socket
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hybridwatch.store import EventStore
from hybridwatch.store.access_store import create_token, revoke_token

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo scenario (400 days) ingested and analysed as ``hybridwatch demo`` does:
    episodes, coincidences, narratives, the convergence index, the assessment and supply, with mixed
    TLP markings (the assessment cites evidence up to RED, so its items span the levels)."""
    from hybridwatch.adapters import ReadOptions
    from hybridwatch.demo.pipeline import ASSESSMENT_TARGETS, DEMO_GRID
    from hybridwatch.demo.scenario import generate_scenario
    from hybridwatch.workflows.ingest import ingest_file
    from hybridwatch.workflows.narrative_build import build_narratives
    from hybridwatch.workflows.coordination import coincide_grid, detect_episodes
    from hybridwatch.workflows.findings import (
        record_coincidences, record_episodes, record_narrative_sync,
    )
    from hybridwatch.workflows.assessment import run_assessment
    from hybridwatch.workflows.convergence import measure_convergence, record_convergence
    from hybridwatch.workflows.narratives import narrative_sync
    from hybridwatch.workflows.supply import SupplyQuery, record_supply, run_supply

    out = tmp_path_factory.mktemp("web-demo")
    files = generate_scenario(out, random_state=7, days=400)
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
        index, tlps = measure_convergence(store, random_state=7)
        record_convergence(store, index, tlps, a="RUS", b="CHN")
        run_assessment(store, random_state=7, evidence_tlp="red")
        # the demo's diversion (its trade file spans six years whatever the scenario's length)
        record_supply(store, run_supply(store, SupplyQuery(product="8542", destination="RUS")))
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


@contextmanager
def serve(app, *, lifespan: str = "off") -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a free loopback port; yields its base URL.
    ``lifespan="on"`` runs the app's start-up and shutdown (closing a store opened with
    ``create_app(..., close_on_shutdown=True)``)."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(app):
    """The same app served by uvicorn in a thread on a free loopback port."""
    with serve(app) as url:
        yield url


@pytest.fixture(scope="session")
def direct(app):
    """A cursor on the app's own connection, for independent SQL truth."""
    cursor = app.state.store._con.cursor()
    yield cursor
    cursor.close()
