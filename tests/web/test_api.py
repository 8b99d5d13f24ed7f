"""The REST API against independent truth: SQL on the store, the Ibis series, the findings."""

from __future__ import annotations

import pytest

from hybridwatch.model.schema import TLP_LEVELS
from web_helpers import assert_error, bearer, visible_sql

VIEWER_LEVELS = ("clear", "green", "amber")


# -- authentication and the error shape -------------------------------------------------------

@pytest.mark.parametrize("headers, why", [
    ({}, "missing"), ({"Authorization": "Bearer hw_nope_nope"}, "unknown"),
    ({"Authorization": "Bearer not-a-token"}, "malformed"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "wrong scheme"),
])
def test_bad_tokens_get_401_in_the_error_shape(client, headers, why):
    error = assert_error(client.get("/api/events", headers=headers), 401)
    assert error["code"] == "unauthorized"


def test_revoked_token_is_refused(client, tokens):
    assert_error(client.get("/api/me", headers=bearer(tokens["revoked"])), 401)


def test_wrong_secret_for_a_real_token_id_is_refused(client, tokens):
    token_id = tokens["admin"].split("_")[1]
    assert_error(client.get("/api/me", headers=bearer(f"hw_{token_id}_wrongsecret")), 401)


@pytest.mark.parametrize("query", [
    "domain=notadomain", "target=GERMANYY", "limit=0", "limit=100000", "since=garbage",
    "cursor=%%%", "cursor=abc", "order=sideways", "tlp=purple",
    "actor=R1S",
])
def test_malformed_event_queries_get_422(client, tokens, query):
    error = assert_error(client.get(f"/api/events?{query}", headers=bearer(tokens["viewer"])),
                         422)
    assert error["code"] == "invalid_request"


@pytest.mark.parametrize("path", ["/api/events", "/api/series", "/api/counts",
                                  "/api/episodes"])
def test_a_bad_domain_gets_the_friendly_message(client, tokens, path):
    """The message docs/web.md shows, naming the value and the choices, not a pattern."""
    from hybridwatch.model.domains import DOMAINS

    error = assert_error(client.get(path, params={"domain": "cyberr"},
                                    headers=bearer(tokens["viewer"])), 422)
    assert error["message"].startswith("domain: unknown domain 'cyberr' (expected one of: ")
    assert all(domain in error["message"] for domain in DOMAINS)
    assert "pattern" not in error["message"] and "^" not in error["message"]


def test_a_country_name_filters_as_its_code(client, tokens):
    headers = bearer(tokens["viewer"])
    by_code = client.get("/api/events", params={"target": "DEU", "limit": 5}, headers=headers)
    by_name = client.get("/api/events", params={"target": "Germany", "limit": 5},
                         headers=headers)
    assert by_name.status_code == 200 and by_name.json()["events"] == by_code.json()["events"]
    assert by_code.json()["total"] > 0
    error = assert_error(client.get("/api/events", params={"target": "Atlantis"},
                                    headers=headers), 422)
    assert error["message"].startswith("target: 'Atlantis' is neither")


def test_series_refuses_too_many_periods(client, tokens):
    error = assert_error(client.get("/api/series?freq=day&since=1990-01-01&until=2030-01-01",
                                    headers=bearer(tokens["viewer"])), 422)
    assert "coarser freq" in error["message"]


def test_unknown_routes_and_ids_get_404_in_the_shape(client, tokens):
    assert_error(client.get("/api/nothing", headers=bearer(tokens["viewer"])), 404)
    assert_error(client.get("/api/events/0000", headers=bearer(tokens["viewer"])), 404)
    assert_error(client.get("/api/episodes/0000", headers=bearer(tokens["viewer"])), 404)


# -- events --------------------------------------------------------------------------------------

@pytest.mark.parametrize("order", ["asc", "desc"])
def test_keyset_pages_cover_exactly_the_visible_events(client, tokens, direct, order):
    expected = [row[0] for row in direct.execute(
        f"SELECT event_id FROM events WHERE list_contains(target_iso3s, 'POL') AND "
        f"{visible_sql(VIEWER_LEVELS)} "
        f"ORDER BY occurred_at {order}, event_id {order}").fetchall()]
    # withheld is the store's events above the clearance, never filtered (no oracle)
    withheld = direct.execute(
        f"SELECT count(*) FROM events WHERE NOT {visible_sql(VIEWER_LEVELS)}").fetchall()[0][0]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"target": "POL", "limit": 700, "order": order, **({"cursor": cursor} if cursor
                                                                    else {})}
        page = client.get("/api/events", params=params, headers=bearer(tokens["viewer"])).json()
        assert page["total"] == len(expected) and page["withheld"] == withheld
        seen += [event["event_id"] for event in page["events"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == -(-len(expected) // 700)


def test_event_filters_match_sql(client, tokens, direct):
    params = {"domain": "cyber,information", "target": "DEU,POL", "since": "2024-03-01",
              "until": "2024-09-01", "source": "stix,gdelt", "limit": 1000}
    page = client.get("/api/events", params=params, headers=bearer(tokens["analyst"])).json()
    expected = [row[0] for row in direct.execute(
        "SELECT event_id FROM events WHERE domain IN ('cyber', 'information') AND "
        "(list_contains(target_iso3s, 'DEU') OR list_contains(target_iso3s, 'POL')) AND "
        "occurred_at >= '2024-03-01' AND "
        "occurred_at < '2024-09-01' AND (source IN ('stix', 'gdelt') OR source_name IN "
        "('stix', 'gdelt')) AND " + visible_sql(TLP_LEVELS[:4]) +
        " ORDER BY occurred_at, event_id").fetchall()]
    assert [e["event_id"] for e in page["events"]] == expected[:1000]
    assert page["total"] == len(expected)


def test_one_event_with_extra_and_clearance(client, tokens, direct):
    red_id = direct.execute("SELECT event_id FROM events WHERE tlp = 'red' LIMIT 1"
                            ).fetchall()[0][0]
    assert_error(client.get(f"/api/events/{red_id}", headers=bearer(tokens["analyst"])), 404)
    event = client.get(f"/api/events/{red_id}", headers=bearer(tokens["admin"])).json()
    assert event["event_id"] == red_id and event["tlp"] == "red"
    assert isinstance(event["extra"], dict)


# -- series and counts ---------------------------------------------------------------------------

@pytest.mark.parametrize("freq", ["day", "week", "month"])
def test_series_equals_the_ibis_event_counts(client, tokens, app, freq):
    """The API's SQL (rollup or table) against analyses.series.event_counts on Ibis."""
    from hybridwatch.analyses.series import event_counts
    from hybridwatch.web.deps import open_cursor_store

    answer = client.get("/api/series", params={"freq": freq, "by": "domain", "target": "DEU",
                                               "max_groups": 13},
                        headers=bearer(tokens["viewer"])).json()
    store = open_cursor_store(app)
    try:
        events = store.ibis_events()
        events = events.filter(events.tlp.isnull() | events.tlp.isin(list(VIEWER_LEVELS)))
        table = event_counts(events, freq=freq, by=["domain"],
                             selector={"target_iso3": "DEU"}).to_pyarrow().to_pylist()
    finally:
        store.close()
    expected = {(row["period"].date().isoformat(), row["domain"]): row["n_events"]
                for row in table}
    got = {(period, group): n for group, row in zip(answer["groups"], answer["counts"])
           for period, n in zip(answer["periods"], row) if n}
    assert got == expected
    assert answer["withheld"] > 0


def test_series_with_actor_filter_equals_the_events_table(client, tokens, direct):
    """Answered from the actor rollup; the same counts as SQL on the events."""
    answer = client.get("/api/series", params={"freq": "month", "actor": "RUS"},
                        headers=bearer(tokens["admin"])).json()
    rows = direct.execute("SELECT date_trunc('month', occurred_at)::DATE, count(*) FROM events "
                          "WHERE actor_iso3 = 'RUS' GROUP BY 1 ORDER BY 1").fetchall()
    assert answer["groups"] == [None]
    assert list(zip(answer["periods"], answer["counts"][0])) == \
        [(d.isoformat(), n) for d, n in rows]


def test_series_folds_small_groups_into_other(client, tokens, direct):
    answer = client.get("/api/series", params={"freq": "year", "by": "domain", "max_groups": 2},
                        headers=bearer(tokens["admin"])).json()
    assert answer["groups"][-1] == "(other)" and len(answer["groups"]) == 3
    assert sum(map(sum, answer["counts"])) == \
        direct.execute("SELECT count(*) FROM events").fetchall()[0][0]


def test_series_intensity_sums_match_sql(client, tokens, direct):
    answer = client.get("/api/series", params={"freq": "month", "intensity": "true",
                                               "source": "gdelt"},
                        headers=bearer(tokens["admin"])).json()
    rows = direct.execute("SELECT date_trunc('month', occurred_at)::DATE, sum(intensity) FROM "
                          "events WHERE source = 'gdelt' OR source_name = 'gdelt' "
                          "GROUP BY 1 ORDER BY 1").fetchall()
    assert answer["periods"] == [d.isoformat() for d, _ in rows]
    assert answer["intensity_sum"][0] == pytest.approx([s for _, s in rows])


def test_counts_by_target_match_sql(client, tokens, direct):
    answer = client.get("/api/counts", params={"by": "target_iso3", "domain": "military"},
                        headers=bearer(tokens["viewer"])).json()
    events = direct.execute(
        "SELECT target_iso3s FROM events WHERE domain = 'military' AND "
        f"{visible_sql(VIEWER_LEVELS)}").fetchall()
    rows: dict[str | None, int] = {}
    for (targets,) in events:  # once for each target an event names; none: a null key
        for target in targets or [None]:
            rows[target] = rows.get(target, 0) + 1
    assert {r["key"]: r["n_events"] for r in answer["counts"]} == rows
    assert answer["total"] == len(events)


# -- findings ------------------------------------------------------------------------------------

def test_episode_evidence_is_the_visible_events_of_the_episode(client, tokens, direct):
    episodes = client.get("/api/episodes", headers=bearer(tokens["viewer"])).json()
    assert episodes["available"] and episodes["items"]
    episode = episodes["items"][0]
    detail = client.get(f"/api/episodes/{episode['finding_id']}",
                        params={"evidence_limit": 1000},
                        headers=bearer(tokens["viewer"])).json()
    expected = [row[0] for row in direct.execute(
        "SELECT event_id FROM events WHERE event_id IN (SELECT unnest(?)) AND "
        f"{visible_sql(VIEWER_LEVELS)} ORDER BY occurred_at, event_id",
        [episode["event_ids"]]).fetchall()]
    assert [e["event_id"] for e in detail["evidence"]["events"]] == expected
    assert detail["evidence"]["withheld"] == len(episode["event_ids"]) - len(expected)


def test_episode_filters(client, tokens):
    every = client.get("/api/episodes", headers=bearer(tokens["admin"])).json()["items"]
    twn = client.get("/api/episodes", params={"target": "TWN"},
                     headers=bearer(tokens["admin"])).json()
    assert [e["finding_id"] for e in twn["items"]] == \
        [e["finding_id"] for e in every if "TWN" in e["targets"]]
    page = client.get("/api/episodes", params={"limit": 2, "offset": 1},
                      headers=bearer(tokens["admin"])).json()
    assert [e["finding_id"] for e in page["items"]] == [e["finding_id"] for e in every[1:3]]
    assert page["total_items"] == len(every)


def test_narratives_carry_labels_and_their_series_add_up(client, tokens, direct):
    answer = client.get("/api/narratives", headers=bearer(tokens["viewer"])).json()
    assert answer["available"] and all(item.get("label") for item in answer["items"])
    narrative = answer["items"][0]["narrative"]
    series = client.get(f"/api/narratives/{narrative}/series", params={"freq": "week"},
                        headers=bearer(tokens["viewer"])).json()
    total = direct.execute("SELECT count(*) FROM article_narratives WHERE narrative_id = ?",
                           [narrative]).fetchall()[0][0]
    assert sum(p["n_articles"] for p in series["points"]) == total
    assert_error(client.get("/api/narratives/n9999/series", headers=bearer(tokens["viewer"])),
                 404)


def test_coincidences_filter_significant(client, tokens):
    every = client.get("/api/coincidences", params={"limit": 500},
                       headers=bearer(tokens["admin"])).json()["items"]
    assert every
    for flag in (True, False):
        answer = client.get("/api/coincidences", params={"significant": str(flag).lower(),
                                                         "limit": 500},
                            headers=bearer(tokens["admin"])).json()
        assert [i["finding_id"] for i in answer["items"]] == \
            [i["finding_id"] for i in every if bool(i["significant"]) == flag]


@pytest.mark.parametrize("route,kind", [("/api/episodes", "episodes"),
                                        ("/api/coincidences", "coincidences"),
                                        ("/api/narratives", "narrative_sync"),
                                        ("/api/convergence", "convergence")])
def test_findings_say_which_days_they_analysed(client, tokens, direct, route, kind):
    import json

    answer = client.get(route, headers=bearer(tokens["viewer"])).json()
    stored = json.loads(direct.execute("SELECT summary FROM finding_runs WHERE kind = ?",
                                       [kind]).fetchall()[0][0])
    assert answer["window"] == stored["window"]
    assert {"start", "end", "reason", "sources"} <= set(answer["window"])
    assert answer["window"]["start"] <= answer["window"]["end"]


def test_overview_counts_agree_with_the_endpoints(client, tokens, direct):
    overview = client.get("/api/overview", headers=bearer(tokens["viewer"])).json()
    episodes = client.get("/api/episodes", headers=bearer(tokens["viewer"])).json()
    assert overview["episodes"] == {"count": episodes["total_items"],
                                    "withheld": episodes["withheld"]}
    assert overview["events"]["count"] == direct.execute(
        f"SELECT count(*) FROM events WHERE {visible_sql(VIEWER_LEVELS)}").fetchall()[0][0]


def test_briefing_is_served_at_the_token_clearance_or_unavailable(client, tokens):
    import importlib.util

    response = client.get("/api/briefings/latest", headers=bearer(tokens["viewer"]))
    module = importlib.util.find_spec("hybridwatch.outputs.briefing")
    available = module is not None and hasattr(
        __import__("hybridwatch.outputs.briefing", fromlist=["x"]), "render_briefing_html")
    if not available:
        assert_error(response, 503)
        return
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "TLP:RED" not in response.text


# -- tokens and audit ----------------------------------------------------------------------------

def test_admin_creates_and_revokes_tokens_through_the_api(client, tokens):
    made = client.post("/api/tokens", json={"role": "analyst", "name": "api-made",
                                            "clearance": "green"},
                       headers=bearer(tokens["admin"]))
    assert made.status_code == 201, made.text
    secret = made.json()["token"]
    me = client.get("/api/me", headers=bearer(secret)).json()
    assert (me["role"], me["clearance"]) == ("analyst", "green")
    listed = client.get("/api/tokens", headers=bearer(tokens["admin"])).json()["tokens"]
    assert all("token" not in t or t["token"] is None for t in listed)
    assert client.delete(f"/api/tokens/{me['token_id']}",
                         headers=bearer(tokens["admin"])).status_code == 200
    assert_error(client.get("/api/me", headers=bearer(secret)), 401)
    error = assert_error(client.post("/api/tokens", json={"role": "viewer", "clearance": "red"},
                                     headers=bearer(tokens["admin"])), 422)
    assert "at most TLP:AMBER" in error["message"]


def test_reads_are_audited_with_who_and_what(client, tokens):
    me = client.get("/api/me", headers=bearer(tokens["analyst"])).json()
    client.get("/api/events", params={"target": "LTU", "limit": 3},
               headers=bearer(tokens["analyst"]))
    entries = client.get("/api/audit", params={"token_id": me["token_id"], "limit": 5},
                         headers=bearer(tokens["admin"])).json()["entries"]
    latest = entries[0]
    assert (latest["name"], latest["role"], latest["action"], latest["resource"]) == \
        ("test analyst", "analyst", "read", "/api/events")
    assert latest["detail"]["filters"] == {"target": ["LTU"]}
    assert latest["detail"]["returned"] == 3


def test_start_up_warm_up_computes_what_the_dashboard_asks_first(app, client, tokens):
    from hybridwatch.web.app import _warm

    app.state.cache.clear()
    _warm(app)
    misses = app.state.cache.misses
    for params in ({"by": "target_iso3", "limit": 300}, {"by": "domain"},
                   {"by": "actor_iso3", "limit": 300}):
        assert client.get("/api/counts", params=params,
                          headers=bearer(tokens["viewer"])).status_code == 200
    client.get("/api/overview", headers=bearer(tokens["analyst"]))
    assert app.state.cache.misses == misses
