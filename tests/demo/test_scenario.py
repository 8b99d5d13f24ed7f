"""The demo scenario: deterministic, in real formats, its planted structure visible in the files."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from hybridwatch.adapters import get_adapter
from hybridwatch.adapters.base import ReadOptions
from hybridwatch.demo.scenario import (
    EPISODES,
    SERIES,
    ScenarioFiles,
    background_counts,
    generate_scenario,
)
from hybridwatch.demo.scenario_formats import GOLDSTEIN
from hybridwatch.model.countries import to_iso3
from hybridwatch.model.domains import cameo_domain

DATA = (Path(__file__).parents[2] / ".." / "shared" / "data").resolve()
START = date(2024, 1, 1)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> ScenarioFiles:
    return generate_scenario(tmp_path_factory.mktemp("seed7"), random_state=7)


@pytest.fixture(scope="module")
def truth(scenario: ScenarioFiles) -> dict:
    return json.loads(scenario.ground_truth.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def gdelt_rows(scenario: ScenarioFiles) -> list[list[str]]:
    return [line.split("\t") for line in scenario.gdelt.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def articles(scenario: ScenarioFiles) -> list[dict]:
    return [json.loads(line) for line in scenario.articles.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def cases(scenario: ScenarioFiles) -> list[dict]:
    with open(scenario.euvsdisinfo, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_differs(scenario: ScenarioFiles, tmp_path: Path) -> None:
    again = generate_scenario(tmp_path / "again", random_state=7)
    first, second = _files(scenario.root), _files(again.root)
    assert sorted(first) == sorted(second) and len(first) == 9
    assert first == second
    other = _files(generate_scenario(tmp_path / "other", random_state=8).root)
    for name in ("gdelt/scenario.export.CSV", "stix/bundle.json", "euvsdisinfo/cases.csv",
                 "articles/articles.jsonl", "mapped/pla_sorties.csv", "ground_truth.json",
                 "gdelt/convergence.export.CSV", "trade/comtrade_monthly.csv"):
        assert other[name] != first[name], name
    assert other["mapped/pla_sorties.toml"] == first["mapped/pla_sorties.toml"]


def test_size_in_range(gdelt_rows: list, articles: list, cases: list, truth: dict) -> None:
    events = len(gdelt_rows) + len(cases) + truth["days"]
    assert 20_000 <= events + len(articles) <= 60_000
    assert 15_000 <= len(gdelt_rows) <= 40_000 and len(articles) > 5_000


def test_gdelt_rows_are_valid_gdelt2(gdelt_rows: list[list[str]]) -> None:
    assert {len(r) for r in gdelt_rows} == {61}
    if (DATA / "gdelt_samples_and_lookups").is_dir():  # same width as a real export
        real = DATA / "gdelt_samples_and_lookups" / "samples" / "20191024143000.export.CSV"
        assert len(real.read_text(encoding="utf-8").splitlines()[0].split("\t")) == 61
    ids = [r[0] for r in gdelt_rows]
    assert len(set(ids)) == len(ids)
    fips = set()
    for r in gdelt_rows:
        code, base, root, quad, goldstein = r[26], r[27], r[28], int(r[29]), float(r[30])
        assert code in GOLDSTEIN and base == code[:3] and root == code[:2]
        assert goldstein == GOLDSTEIN[code]
        assert quad == 1 + sum(int(root) > limit for limit in (5, 9, 14))
        assert r[2] == r[1][:6] and r[3] == r[1][:4]
        assert r[59][:8] >= r[1]                      # DATEADDED not before the event date
        assert int(r[31]) >= int(r[33]) >= int(r[32]) >= 1  # mentions ≥ articles ≥ sources
        fips.add(r[53])
        assert cameo_domain(code) in {"diplomacy", "information", "military", "social",
                                      "political", "economy"}
    assert fips <= {"GM", "PL", "TW", "CH", "RS", "US"}
    assert {to_iso3(code, "fips") for code in fips} <= {"DEU", "POL", "TWN", "CHN", "RUS", "USA"}
    actors = {to_iso3(r[7], "cameo") for r in gdelt_rows}
    assert actors == {"RUS", "CHN", "DEU", "POL", "TWN", "USA"}
    assert all(r[60].startswith("https://") for r in gdelt_rows)


def test_stix_bundle_parses_strictly_with_tlp2(scenario: ScenarioFiles) -> None:
    stix2 = pytest.importorskip("stix2")
    bundle = stix2.parse(scenario.stix.read_text(encoding="utf-8"), allow_custom=False)
    by_id = {o.id: o for o in bundle.objects}
    markings = {o.id for o in bundle.objects if o.type == "marking-definition"}
    assert "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb" in markings  # TLP:GREEN
    assert "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421" in markings  # TLP:AMBER
    sets = {o.name: o for o in bundle.objects if o.type == "intrusion-set"}
    assert sorted(sets) == ["APT-DEMO-CN", "APT-DEMO-RU"]
    rels = [o for o in bundle.objects if o.type == "relationship"]
    origin = {r.source_ref: by_id[r.target_ref].country for r in rels
              if r.relationship_type == "originates-from"}
    assert origin == {sets["APT-DEMO-RU"].id: "RU", sets["APT-DEMO-CN"].id: "CN"}
    hamburg = [o for o in bundle.objects if o.type == "campaign" and "Hamburg" in o.name]
    assert len(hamburg) == 1
    ends = [(r.relationship_type, by_id[r.target_ref])
            for r in rels if r.source_ref == hamburg[0].id]
    assert ("attributed-to", sets["APT-DEMO-RU"]) in ends
    targets = [t for kind, t in ends if kind == "targets"]
    assert [t.country for t in targets if t.type == "location"] == ["DE"]
    assert [t.sectors for t in targets if t.type == "identity"] == [["transportation"]]
    for obj in bundle.objects:
        if obj.type == "campaign":
            assert obj.last_seen >= obj.first_seen
            assert len(obj.object_marking_refs) == 1 and obj.object_marking_refs[0] in markings


def test_euvsdisinfo_header_and_cells(scenario: ScenarioFiles, cases: list[dict]) -> None:
    header = scenario.euvsdisinfo.read_text(encoding="utf-8").splitlines()[0]
    assert header == "date,id,title,countries,keywords,languages,outlets"
    if (DATA / "euvsdisinfo_cknabs").is_dir():
        real = (DATA / "euvsdisinfo_cknabs" / "posts.csv").read_text(encoding="utf-8-sig")
        assert header == real.splitlines()[0]
    for case in cases:
        names = case["countries"].split("+")
        assert {to_iso3(n, "name") for n in names} <= {"RUS", "DEU", "POL", "UKR", "LTU"}
        assert case["id"].startswith("https://euvsdisinfo.eu/report/")
    assert [c["date"] for c in cases] == sorted((c["date"] for c in cases), reverse=True)


def test_ground_truth_records_exist(scenario, truth, gdelt_rows, articles, cases) -> None:
    present = {
        "gdelt": {r[0] for r in gdelt_rows}, "euvsdisinfo": {c["id"] for c in cases},
        "articles": {a["id"] for a in articles},
        "stix": {o["id"] for o in json.loads(scenario.stix.read_text())["objects"]},
        "pla_sorties": {line.split(",")[0]
                        for line in scenario.pla_csv.read_text().splitlines()[1:]},
    }
    assert len(truth["episodes"]) >= 4
    for episode in truth["episodes"]:
        assert len(episode["domains"]) >= 3, episode["id"]
        assert (date.fromisoformat(episode["end"]) - date.fromisoformat(episode["start"])).days <= 5
        for source, ids in episode["records"].items():
            assert ids and set(ids) <= present[source], (episode["id"], source)
    for coupling in truth["couplings"]:
        for source, ids in coupling["b_records"].items():
            assert set(ids) <= present[source]
    for story in truth["narratives"]:
        planted = set(story["leader_articles"]) | set(story["follower_articles"])
        assert planted <= present["articles"]
    assert truth["seed"] == 7 and truth["start"] == "2024-01-01" and truth["days"] == 365


def _gdelt_day(row: list[str]) -> int:
    return (date(int(row[1][:4]), int(row[1][4:6]), int(row[1][6:])) - START).days


def _daily(days: list[int], n_days: int = 365) -> np.ndarray:
    return np.bincount(np.asarray(days, dtype=int), minlength=n_days)[:n_days]


def _day(text: str) -> int:
    return (date.fromisoformat(text[:10]) - START).days


def test_assessment_episode_is_in_the_files(scenario, truth, gdelt_rows, articles, cases) -> None:
    episode = next(e for e in truth["episodes"] if e["id"] == "hamburg-strait-poland")
    assert set(episode["targets_iso3"]) == {"DEU", "TWN", "POL"}
    assert {"cyber", "military", "information"} <= set(episode["domains"])
    first, last = _day(episode["start"]), _day(episode["end"])
    window = slice(first, last + 1)

    # a Chinese show of force in the Taiwan Strait: CAMEO 15x, actor CHN, ActionGeo TW
    posture = _daily([_gdelt_day(r) for r in gdelt_rows
                      if r[28] == "15" and r[7] == "CHN" and r[53] == "TW"])
    # Russian disinformation cases aimed at Poland, and ru_state stories about Poland
    poland = _daily([_day(c["date"]) for c in cases if "Poland" in c["countries"].split("+")])
    about_poland = ("Pol", "Warsaw", "Польск")
    ru_poland = _daily([_utc_day(a) for a in articles if a["outlet_group"] == "ru_state"
                        and any(word in a["title"] for word in about_poland)])
    sorties = np.array([int(line.split(",")[1]) for line in
                        scenario.pla_csv.read_text().splitlines()[1:]])
    for series in (posture, poland, ru_poland, sorties):
        outside = np.delete(series, np.r_[first - 3:last + 4])
        assert series[window].max() >= 5 * max(outside.mean(), 0.2)
    stix = json.loads(scenario.stix.read_text())["objects"]
    hamburg = next(o for o in stix if o.get("name", "").startswith("Operation Harbour Fog"))
    assert first <= _day(hamburg["first_seen"]) <= last


def test_planted_episodes_stand_out(truth, gdelt_rows, cases) -> None:
    gdelt_by_id = {r[0]: r for r in gdelt_rows}
    for episode in truth["episodes"]:
        first, last = _day(episode["start"]), _day(episode["end"])
        planted = [gdelt_by_id[i] for i in episode["records"].get("gdelt", [])]

        def key(r):
            return (r[7], r[17], cameo_domain(r[26]))

        for series_key in sorted({key(r) for r in planted}):
            series = _daily([_gdelt_day(r) for r in gdelt_rows if key(r) == series_key])
            inside = series[first:last + 1].sum()
            baseline = np.delete(series, np.r_[first:last + 1]).mean() * (last - first + 1)
            assert inside >= 3 * baseline + 5, (episode["id"], series_key)


def test_planted_hits_follow_the_strength_rule() -> None:
    """The generator's documented rule: every planted (episode, series) adds within three days at
    least twice the 99th percentile of that series' background 3-day sums, the latter
    taken from 40 simulated background years (independent of the planted constants)."""
    rng = np.random.default_rng(0)
    years = np.concatenate([background_counts(rng, SERIES, START, 365) for _ in range(40)], axis=1)
    q99 = {spec.key: np.quantile(np.convolve(row, np.ones(3), "valid"), 0.99)
           for spec, row in zip(SERIES, years)}
    for episode in EPISODES:
        planted: dict[str, np.ndarray] = {}   # series → planted events per day of the episode
        for hit in episode.hits:
            if hit.series in q99:
                days = planted.setdefault(hit.series, np.zeros(episode.duration_days + 3))
                days[hit.offset:hit.offset + hit.n_days] += 1 if hit.label else hit.per_day
        for key, per_day in planted.items():
            added = np.convolve(per_day, np.ones(3), "valid").max()
            assert added >= 2 * q99[key], (episode.id, key, added, q99[key])


def test_weekly_cycle(gdelt_rows: list, articles: list) -> None:
    weekday = np.array([(START + timedelta(days=d)).weekday() for d in range(365)])
    diplomacy = _daily([_gdelt_day(r) for r in gdelt_rows
                        if cameo_domain(r[26]) == "diplomacy"])
    news = _daily([_utc_day(a) for a in articles])
    for series in (diplomacy, news):
        ratio = series[weekday < 5].mean() / series[weekday >= 5].mean()
        assert 1.4 < ratio < 2.5
    social = _daily([_gdelt_day(r) for r in gdelt_rows
                     if cameo_domain(r[26]) == "social"])
    assert social[weekday >= 5].mean() > social[weekday < 5].mean()  # protests peak at weekends


def test_background_is_overdispersed(gdelt_rows: list) -> None:
    counts = _daily([_gdelt_day(r) for r in gdelt_rows
                     if r[7] == "USA" and r[17] == "CHN"])
    assert counts.var() > 1.5 * counts.mean()  # bursty, not Poisson


def test_couplings_raise_coincidence_rates(scenario, truth, cases) -> None:
    stix = json.loads(scenario.stix.read_text())["objects"]
    by_id = {o["id"]: o for o in stix}
    country_of = {}
    for rel in stix:
        if rel["type"] != "relationship" or rel["relationship_type"] != "targets":
            continue
        target = by_id[rel["target_ref"]]
        if target["type"] == "location":
            country_of[rel["source_ref"]] = target["country"]
    names = {o["id"]: o["name"] for o in stix if o["type"] == "intrusion-set"}
    actor_of = {r["source_ref"]: names[r["target_ref"]] for r in stix if r["type"] == "relationship"
                and r["relationship_type"] == "attributed-to"}
    a_days = sorted({_day(o["first_seen"]) for o in stix if o["type"] == "campaign"
                     and country_of[o["id"]] == "DE" and actor_of[o["id"]] == "APT-DEMO-RU"})
    b_days = _daily([_day(c["date"]) for c in cases if c["countries"].split("+")[-1] == "Germany"])
    coupling = next(c for c in truth["couplings"] if c["id"] == "cyber-DEU-then-disinfo-DEU")
    assert coupling["probability"] == 0.6 and coupling["lag_days"] == [1, 3]

    def share_followed(shift: int) -> float:
        hits = [b_days[d + shift + 1:d + shift + 4].sum() > 0
                for d in a_days if 0 <= d + shift and d + shift + 4 <= 365]
        return float(np.mean(hits))
    planted = share_followed(0)
    null = np.mean([share_followed(s) for s in (-60, -40, 30, 45, 90)])
    assert planted > 0.6 and planted > null + 0.25


def test_narratives_lead_and_follow(truth: dict, articles: list) -> None:
    by_id = {a["id"]: a for a in articles}
    assert {s["id"] for s in truth["narratives"]} >= {"western-biolabs", "nato-provocation"}
    for story in truth["narratives"]:
        lead = [by_id[i] for i in story["leader_articles"]]
        follow = [by_id[i] for i in story["follower_articles"]]
        assert {a["outlet_group"] for a in lead} == {story["leader"]}
        assert {a["outlet_group"] for a in follow} == {story["follower"]}
        assert min(map(_utc_day, follow)) - min(map(_utc_day, lead)) == story["lag_days"]
        english = [a for a in lead + follow if a["language"] == "en"]
        assert all(any(k in a["title"].lower() for k in story["keywords"]["en"]) for a in english)
    languages = Counter(a["language"] for a in articles)
    assert set(languages) == {"en", "ru", "zh"} and languages["ru"] > 300 and languages["zh"] > 300


def _utc_day(article: dict) -> int:
    """The UTC day offset of an article's local ISO time."""
    moment = datetime.fromisoformat(article["published_at"]).astimezone(UTC)
    return (moment.date() - START).days


def test_too_short_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 60"):
        generate_scenario(tmp_path, days=30)


@pytest.mark.parametrize("field", ["gdelt", "stix", "euvsdisinfo", "articles", "pla_csv"])
def test_each_file_reads_with_zero_rejections(scenario: ScenarioFiles, field: str) -> None:
    path, name, mapping = next(i for i in scenario.inputs() if i[0] == getattr(scenario, field))
    adapter = get_adapter(name)
    rows = rejections = 0
    for batch in adapter.read(path, ReadOptions(mapping_path=mapping)):
        rows += batch.table.num_rows
        rejections += len(batch.rejections)
    assert rejections == 0 and rows > 0


def test_stix_stays_inside_the_period_and_planted_windows_are_releasable(
        scenario: ScenarioFiles, truth: dict) -> None:
    """Every STIX date lies in the scenario's days (no stray 2018 "first seen"), and every
    campaign in a planted episode's window against its targets is marked at most AMBER, the
    level the demo briefs at; elsewhere the markings still reach AMBER+STRICT and RED."""
    bundle = json.loads(scenario.stix.read_text(encoding="utf-8"))
    first, last = truth["start"], truth["end"]
    objects = bundle["objects"]
    by_id = {o["id"]: o for o in objects}
    for obj in objects:
        if "first_seen" in obj:
            assert first <= obj["first_seen"][:10] <= last, (obj["type"], obj["first_seen"])
    level = {m["id"]: m["extensions"][next(iter(m["extensions"]))]["tlp_2_0"]
             for m in objects if m["type"] == "marking-definition"}
    targets = {}
    for rel in objects:
        if rel["type"] == "relationship" and rel["relationship_type"] == "targets":
            country = by_id[rel["target_ref"]].get("country")
            if country:
                targets[rel["source_ref"]] = country
    iso2 = {"DEU": "DE", "POL": "PL", "TWN": "TW"}
    seen_levels, checked = set(), 0
    for campaign in (o for o in objects if o["type"] == "campaign"):
        marking = level[campaign["object_marking_refs"][0]]
        seen_levels.add(marking)
        day = date.fromisoformat(campaign["first_seen"][:10])
        for episode in truth["episodes"]:
            start = date.fromisoformat(episode["start"]) - timedelta(days=3)
            end = date.fromisoformat(episode["end"]) + timedelta(days=3)
            if start <= day <= end and targets[campaign["id"]] in {
                    iso2.get(t, t) for t in episode["targets_iso3"]}:
                checked += 1
                assert marking in ("clear", "green", "amber"), (campaign["name"], marking)
    assert checked >= 5
    assert {"amber+strict", "red"} <= seen_levels
