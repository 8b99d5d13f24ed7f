"""No oracle anywhere (issue #14 §3), played as the attacker over EVERY route of the app.

A viewer cleared for GREEN wants one field of a RED record: the actor's name, the day, the
target, the source (and the domain). The RED record is an event (a STIX campaign with its
intrusion set, target and source) and the findings built on it: a RED episode, a RED
coinciding pair, a RED judgement, a RED screening match, and run summaries that count them
honestly (``n_significant``, ``n_events`` per series, warnings quoting totals, training counts).

Three stores hold the same GREEN events and findings: ``secret_a`` and ``secret_b`` also hold
the RED record, with every secret field different; ``green_only`` does not. The routes are
enumerated from the app itself (a new route is attacked automatically), and each is called
with every parameter it takes set to each guess an attacker would try (the secrets, wrong
guesses, days around the RED day, every finding, event and STIX id of the stores).

* ``secret_a`` and ``secret_b`` must answer every request identically: nothing a GREEN viewer
  receives depends on a field of the RED record (non-interference).
* Against ``green_only`` the attacker learns only what docs/security.md declares: how many
  records are withheld (``withheld``), and that a run's summary is partial
  (``summary_withheld``, with fields left out); every field it does receive equals the
  GREEN-only store's.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from stix_campaigns import campaign_objects

from hybridwatch.store import EventStore
from hybridwatch.store.access_store import create_token
from hybridwatch.store.findings_store import FindingItem, save_run
from hybridwatch.workflows.ingest import ingest_file

GREEN_DAYS = [f"2024-03-{d:02d}" for d in (1, 2, 4, 5, 11, 12, 20)]
GREEN = {"actor": "Fancy Bear", "target": "DEU", "source": "Open Desk", "domain": "cyber"}
#: the secrets: every field differs between the two RED twins
SECRETS = {
    "secret_a": {"day": "2024-03-07", "actor": "Secret Bear", "target": "EST",
                 "source": "Covert Desk", "domain": "military"},
    "secret_b": {"day": "2024-03-15", "actor": "Hidden Wolf", "target": "FIN",
                 "source": "Dark Desk", "domain": "economy"},
}
WRONG = {"day": "2024-03-09", "actor": "Nobody", "target": "LVA", "source": "No Desk",
         "domain": "space"}
CREATED = datetime(2024, 4, 1, 12, 0, 0)
#: a RED-cleared admin token per store (made before the app opens it)
admins: dict[str, str] = {}


def _objects(level: str, day: str, actor: str, target: str, source: str, domain: str,
             k: int) -> list[dict]:
    return campaign_objects(level, day, actor, target, source, domain, k,
                            name=f"campaign {level} {k}")


def _events(store: EventStore) -> dict[str, list[str]]:
    rows = store._con.execute("SELECT tlp, event_id FROM events ORDER BY occurred_at, event_id"
                             ).fetchall()
    out: dict[str, list[str]] = {"green": [], "red": []}
    for tlp, event_id in rows:
        out[tlp].append(event_id)
    return out


def _record(store: EventStore, kind: str, summary: dict[str, Any], items: list[tuple]) -> None:
    """A run with deterministic id and time (so twin stores can be compared byte for byte);
    each item is ``(key, item, tlp)``: the store raises it to what it cites."""
    run_id = save_run(store, kind, summary, [FindingItem(k, i, t) for k, i, t in items])
    fixed = hashlib.md5(kind.encode()).hexdigest()
    store._con.execute("UPDATE findings SET run_id = ? WHERE run_id = ?", [fixed, run_id])
    store._con.execute("UPDATE finding_runs SET run_id = ?, created_at = ? WHERE run_id = ?",
                      [fixed, CREATED, run_id])


def _findings(store: EventStore, secret: dict[str, str] | None) -> None:
    """The findings an analyst at RED would have recorded; summaries count everything."""
    ids = _events(store)
    red = secret is not None
    every = ids["green"] + ids["red"]
    fingerprint = hashlib.sha256(json.dumps([every, secret]).encode()).hexdigest()
    window = {"start": "2024-03-01", "end": "2024-03-20", "n_days": 20, "reason": "fixed",
              "sources": ["stix"]}
    green_ep = {"start": "2024-03-01", "end": "2024-03-05", "targets": [GREEN["target"]],
                "domains": [GREEN["domain"]], "p_value": 0.01, "n_events": len(ids["green"]),
                "event_ids": ids["green"], "signals": [{"where": GREEN["target"],
                                                        "where_kind": "target",
                                                        "domain": GREEN["domain"]}]}
    episodes = [("green", green_ep, "clear")]
    if red:
        episodes.append(("red", {
            "start": secret["day"], "end": secret["day"], "targets": [secret["target"]],
            "domains": [secret["domain"]], "p_value": 0.001, "n_events": len(ids["red"]),
            "event_ids": ids["red"], "signals": [{"where": secret["target"],
                                                  "where_kind": "target",
                                                  "domain": secret["domain"]}]}, "clear"))
    _record(store, "episodes", {
        "start": "2024-03-01", "end": "2024-03-20", "window": window, "counted": "all events",
        "parameters": {"alpha": 0.05}, "provenance": {"input_sha256": fingerprint},
        "warnings": [f"{len(every)} events scanned, {len(episodes)} episodes"]}, episodes)

    green_label = f"domain={GREEN['domain']} target={GREEN['target']}"
    pairs = [("g", {"a": green_label, "b": f"source={GREEN['source']}", "p_value": 0.01,
                    "q_value": 0.02, "significant": True, "best_lag_days": 1}, "green")]
    n_events = {green_label: len(ids["green"])}
    if red:
        red_label = f"domain={secret['domain']} target={secret['target']}"
        pairs.append(("r", {"a": red_label, "b": green_label, "p_value": 0.001,
                            "q_value": 0.002, "significant": True, "best_lag_days": 0}, "red"))
        n_events[red_label] = len(ids["red"])
    significant = sum(1 for _, p, _ in pairs if p["significant"])
    _record(store, "coincidences", {
        "start": "2024-03-01", "end": "2024-03-20", "window": window, "window_days": 3,
        "lags": [0, 1], "null": "block", "n_surrogates": 99, "fdr": 0.05, "random_state": 7,
        "series": sorted(n_events), "n_events": n_events, "n_event_days": n_events,
        "n_pairs": len(pairs), "n_testable": len(pairs), "n_significant": significant,
        "untestable": [], "input_sha256": fingerprint,
        "warnings": [f"at FDR 0.05 over {len(pairs)} pairs"]},
        [(f"{p['b']} -> {p['a']}", p, t) for _, p, t in pairs])

    judgements = [(GREEN["target"], {"target": GREEN["target"], "probability": 0.3,
                                     "statement": "likely", "phia_term": "unlikely",
                                     "evidence": [{"kind": "event", "event_id": ids["green"][0],
                                                   "date": GREEN_DAYS[0], "label": "seen"}]},
                   "clear")]
    if red:
        judgements.append((secret["target"], {
            "target": secret["target"], "probability": 0.8,
            "statement": f"{secret['actor']} likely to act", "phia_term": "likely",
            "evidence": [{"kind": "event", "event_id": e, "date": secret["day"],
                          "label": secret["actor"]} for e in ids["red"]]}, "clear"))
    _record(store, "assessment", {
        "as_of": "2024-03-20", "horizon_days": 30, "caution": "open sources",
        "evidence_tlp": "red", "parameters": {"baseline_days": 365},
        "modelled_targets": [t for t, _, _ in judgements],
        "models": {"episode": {"base_rate": len(every) / 100}},
        "backtest": {"n_forecasts": len(every), "skill": 0.1}, "warnings": []}, judgements)

    matches = [(f"{GREEN['actor']}|1", {"name": GREEN["actor"], "entry_id": "1",
                                         "listed_name": GREEN["actor"], "score": 0.9,
                                         "tlp": "green"}, "green")]
    if red:
        matches.append((f"{secret['actor']}|2", {"name": secret["actor"], "entry_id": "2",
                                                  "listed_name": secret["actor"], "score": 0.95,
                                                  "tlp": "red"}, "red"))
    _record(store, "screening", {"n_names": len(matches), "lists": ["list.csv"],
                                 "warnings": []}, matches)
    # kinds the RED record plays no part in: the same run in every store
    _record(store, "convergence", {"a": "RUS", "b": "CHN", "freq": "month", "warnings": []},
            [("2024-03", {"period": "2024-03", "index": 0.2, "low": 0.1, "high": 0.3}, "clear")])
    _record(store, "narrative_sync", {"a": "ru_state", "b": "cn_state", "warnings": []},
            [("n1", {"narrative": "n1", "significant": True, "lead_actor": "ru_state",
                     "lag_days": 2}, "clear")])


def _store(folder: Path, secret: dict[str, str] | None) -> Path:
    folder.mkdir()
    objects = []
    for k, day in enumerate(GREEN_DAYS):
        objects += _objects("green", day, GREEN["actor"], GREEN["target"], GREEN["source"],
                            GREEN["domain"], k)
    if secret:
        objects += _objects("red", secret["day"], secret["actor"], secret["target"],
                            secret["source"], secret["domain"], 0)
    bundle = folder / "bundle.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--" + "0" * 8 +
                                  "-0000-4000-8000-000000000000", "objects": objects}))
    db = folder / "s.duckdb"
    with EventStore(db) as store:
        ingest_file(store, bundle)
        # the ingest's own time and id differ between stores: pin them
        store._con.execute("UPDATE ingest_log SET started_at = ?, finished_at = ?",
                          [CREATED, CREATED])
        _findings(store, secret)
    return db


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    from fastapi.testclient import TestClient

    from hybridwatch.web.app import create_app

    base = tmp_path_factory.mktemp("oracle-all")
    clients = {}
    admins.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("secret_a", "secret_b", "green_only"):
            db = _store(base / name, SECRETS.get(name))
            with EventStore(db) as store:
                made = create_token(store, role="viewer", name="attacker", clearance="green")
                admins[name] = create_token(store, role="admin", name="red reader").token
            client = TestClient(create_app(db, audit_flush_seconds=0))  # as served: cached
            client.headers["Authorization"] = f"Bearer {made.token}"
            clients[name] = (client, made.record.token_id)
    yield clients


# -- the routes, from the app itself --------------------------------------------------------

def _routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves, walking included routers."""
    found: list[tuple[str, str]] = []

    def walk(routes, prefix: str = "") -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(inner.routes, prefix)
                continue
            path = getattr(route, "path", None)
            for method in sorted(getattr(route, "methods", None) or ()):
                if path and method not in ("HEAD", "OPTIONS"):
                    found.append((method, prefix + path))

    walk(app.router.routes)
    return sorted(set(found))


def _parameters(app) -> dict[tuple[str, str], list[dict[str, Any]]]:
    spec = app.openapi()
    return {(method.upper(), path): op.get("parameters", [])
            for path, ops in spec["paths"].items() for method, op in ops.items()}


def _schemas(parameter: dict[str, Any]) -> list[dict[str, Any]]:
    schema = parameter.get("schema", {})
    return [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]


def _strings() -> list[str]:
    out = []
    for secret in (*SECRETS.values(), WRONG, GREEN):
        out += [secret["actor"], secret["actor"][:3], secret["target"], secret["source"],
                secret["domain"], secret.get("day", GREEN_DAYS[0])]
    return [*dict.fromkeys(out + ["red", "green", "red,green", "campaign", "intrusion-set"])]


def _days() -> list[str]:
    days = {GREEN_DAYS[0], WRONG["day"]}
    for secret in SECRETS.values():
        day = date.fromisoformat(secret["day"])
        days |= {(day + timedelta(days=d)).isoformat() for d in (-1, 0, 1)}
    return sorted(days)


def _values(parameter: dict[str, Any], ids: dict[str, list[str]]) -> list[Any]:
    """The guesses for one parameter, by its name and schema."""
    name = parameter["name"]
    if parameter["in"] == "path":
        pools = {"finding_id": ids["findings"], "event_id": ids["events"],
                 "object_id": ids["stix"], "collection_id": ids["collections"],
                 "narrative_id": ["n1"], "token_id": ["0" * 32]}
        return pools.get(name, ["x"])
    values: list[Any] = []
    for schema in _schemas(parameter):
        kind, pattern = schema.get("type"), schema.get("pattern")
        if "enum" in schema:
            values += schema["enum"]
        elif kind == "boolean":
            values += ["true", "false"]
        elif kind == "array":
            values += [[v] for v in [*_red_stix(ids)[:2], "campaign", "intrusion-set"]]
        elif schema.get("format") in ("date", "date-time"):
            values += _days()
        elif name == "added_after":
            values += [f"{x['day']}T00:00:00Z" for x in (*SECRETS.values(), WRONG)]
        elif kind == "string" and name not in ("cursor", "next"):
            values += [v for v in _strings() if pattern is None or re.fullmatch(pattern, v)]
            if name == "period":
                values += [f"{d}..{d}" for d in (*(x["day"] for x in SECRETS.values()),
                                                   WRONG["day"])]
    return [*{json.dumps(v): v for v in values}.values()]


def _red_stix(ids: dict[str, list[str]]) -> list[str]:
    """The RED campaign and intrusion set the attacker guesses the ids of."""
    return [i for i in ids["stix"] if i.endswith("-8000-r00000000000")
            and i.startswith(("campaign--", "intrusion-set--"))]


def _requests(app, ids) -> list[tuple[str, str, dict[str, Any]]]:
    """Every route with each parameter set to each guess in turn (the others at their
    defaults), and for the event routes the combinations an attacker narrows with."""
    specs = _parameters(app)
    out = []
    for method, path in _routes(app):
        if not path.startswith(("/api", "/taxii2")) or path.startswith("/api/docs"):
            continue
        params = specs.get((method, path), [])
        in_path = [p for p in params if p["in"] == "path"]
        in_query = [p for p in params if p["in"] == "query"]
        paths = [path]
        for parameter in in_path:
            paths = [p.replace("{" + parameter["name"] + "}", str(v)) for p in paths
                     for v in _values(parameter, ids)]
        for concrete in paths:
            out.append((method, concrete, {}))
            # every id bare; the query guesses on the route itself, or on a RED record's id
            # and the first id (the other ids add requests, not attacks)
            if in_path and concrete != paths[0] and not any(r in concrete
                                                            for r in _red_stix(ids)):
                continue
            for parameter in in_query:
                out += [(method, concrete, {parameter["name"]: v})
                        for v in _values(parameter, ids)]
            names = {p["name"] for p in in_query}
            if {"since", "until", "tlp", "target"} <= names:
                for secret in SECRETS.values():
                    out.append((method, concrete, {"since": secret["day"],
                                                   "until": secret["day"], "tlp": "red"}))
                    out.append((method, concrete, {"target": secret["target"],
                                                   "actor_name": secret["actor"]}))
    return out


# -- comparing answers ------------------------------------------------------------------------

def _normal(text: str, token_id: str, folder: str) -> str:
    """The answer with what differs between any two stores by construction (the attacker's
    own token id, the store's folder, the moment of the request) replaced."""
    text = text.replace(token_id, "TOKEN").replace(folder, "FOLDER")
    today = datetime.now(timezone.utc).date()
    for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
        text = re.sub(re.escape(day.isoformat()) + r"[T ][0-9:.]+Z?", "NOW", text)
    return text


def _answer(client, token_id: str, method: str, path: str, params: dict[str, Any]):
    response = client.request(method, path, params=params)
    text = _normal(response.text, token_id, str(client.app.state.db_path.parent))
    try:
        body: Any = json.loads(text)
    except json.JSONDecodeError:
        body = text
    return response.status_code, body


DISCLOSED = {"withheld", "summary_withheld"}


def _learns_nothing_more(seen: Any, truth: Any, where: str) -> None:
    """Every field the attacker receives equals the GREEN-only store's, but for the declared
    disclosures (how much is withheld, that a summary is partial)."""
    if isinstance(seen, dict) and isinstance(truth, dict):
        for key, value in seen.items():
            if key in DISCLOSED:
                continue
            assert key in truth, f"{where}: {key!r} appears only with the RED record"
            _learns_nothing_more(value, truth[key], f"{where}.{key}")
    elif isinstance(seen, list) and isinstance(truth, list):
        assert len(seen) == len(truth), f"{where}: {len(seen)} items vs {len(truth)}"
        for n, (a, b) in enumerate(zip(seen, truth)):
            _learns_nothing_more(a, b, f"{where}[{n}]")
    else:
        assert seen == truth, f"{where}: {seen!r} != {truth!r}"


def _ids(worlds) -> dict[str, list[str]]:
    """Every id an attacker could try: the findings, events and STIX objects of all stores
    (the RED ones included, as if leaked), and ids that exist nowhere."""
    findings, events = set(), set()
    for client, _ in worlds.values():
        con = client.app.state.store._con.cursor()
        findings |= {r[0] for r in con.execute("SELECT finding_id FROM findings").fetchall()}
        events |= {r[0] for r in con.execute("SELECT event_id FROM events").fetchall()}
    stix = sorted({o["id"] for secret in (*SECRETS.values(), None) for k in range(2)
                   for o in _objects("red" if secret else "green",
                                     (secret or {}).get("day", GREEN_DAYS[0]), "a", "DEU", "s",
                                     "cyber", k)})
    client, _ = worlds["green_only"]
    collections = [c["id"] for c in client.get("/taxii2/hybridwatch/collections/").json()
                   .get("collections", [])]
    return {"findings": sorted(findings) + ["f" * 32], "events": sorted(events) + ["e" * 32],
            "stix": stix, "collections": collections + ["nope"]}


def test_every_route_and_filter_teaches_a_green_viewer_nothing(worlds):
    a_client, a_token = worlds["secret_a"]
    b_client, b_token = worlds["secret_b"]
    g_client, g_token = worlds["green_only"]
    app = a_client.app
    routes = _routes(app)
    # the enumeration reaches the routers included from every module
    for expected in ("/api/events", "/api/episodes/{finding_id}", "/api/overview",
                     "/api/briefings/latest", "/api/screening", "/api/findings/{finding_id}",
                     "/taxii2/hybridwatch/collections/{collection_id}/manifest/"):
        assert expected in {p for _, p in routes}, expected
    requests = _requests(app, _ids(worlds))
    statuses: dict[int, int] = {}
    for method, path, params in requests:
        a = _answer(a_client, a_token, method, path, params)
        b = _answer(b_client, b_token, method, path, params)
        assert a == b, (method, path, params)
        statuses[a[0]] = statuses.get(a[0], 0) + 1
        if path.startswith("/api/") and isinstance(a[1], (dict, list)):
            g = _answer(g_client, g_token, method, path, params)
            assert a[0] == g[0], (method, path, params)
            _learns_nothing_more(a[1], g[1], f"{method} {path} {params}")
        # and no answer spells a secret out (but for the attacker's own guess, echoed back)
        text = json.dumps(a[1]) if not isinstance(a[1], str) else a[1]
        asked = json.dumps(params) + path
        for secret in SECRETS.values():
            for field in ("actor", "source"):
                if secret[field] not in asked:
                    assert secret[field] not in text, (method, path, params, field)
    # the attack was real: hundreds of requests, and most of them answered
    assert len(requests) > 400 and statuses.get(200, 0) > 200, statuses


def test_run_summaries_count_only_what_the_caller_sees(worlds):
    """The summary leak of the issue: ``n_significant`` was 2 where 1 was visible and
    ``n_events`` counted hidden events. Now the counts are of the visible items and the rest
    is said to be withheld, without numbers."""
    client, _ = worlds["secret_a"]
    pairs = client.get("/api/coincidences").json()
    assert (pairs["total_items"], pairs["withheld"]) == (1, 1)
    assert pairs["n_significant"] == pairs["n_pairs"] == pairs["n_testable"] == 1
    for hidden in ("n_events", "n_event_days", "warnings", "input_sha256", "series"):
        assert hidden not in pairs
    assert "above your clearance" in pairs["summary_withheld"]
    assert not re.search(r"\d", pairs["summary_withheld"])
    episodes = client.get("/api/episodes").json()
    assert "provenance" not in episodes and "warnings" not in episodes
    judgements = client.get("/api/assessments").json()
    for hidden in ("models", "backtest", "modelled_targets"):
        assert hidden not in judgements
    # a kind whose sources carry no marking keeps its whole summary
    assert "summary_withheld" not in client.get("/api/narratives").json()
    # cleared for RED, the same store shows the whole summary
    full = client.get("/api/coincidences",
                      headers={"Authorization": f"Bearer {admins['secret_a']}"}).json()
    assert full["n_significant"] == 2 and "summary_withheld" not in full
    assert full["n_events"]["domain=military target=EST"] == 2
