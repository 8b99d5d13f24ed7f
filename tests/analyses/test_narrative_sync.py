"""Narrative synchronisation against independent truth: the demo scenario's planted narratives
(labels from its ground truth and headline templates, no clustering) and synthetic null corpora."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from hybridwatch.analyses.narrative_sync import (
    SyncResult,
    burst_days,
    convergence,
    cross_correlation,
    narrative_shares,
    synchronisation,
)
from hybridwatch.demo.scenario import generate_scenario
from hybridwatch.demo.scenario_texts import (
    BACKGROUND_EN,
    BACKGROUND_NATIVE,
    EPISODE_ARTICLES,
)

SEEDS = (7, 11)


# --------------------------------------------------------------------------- true labels

def _template_patterns() -> list[tuple[re.Pattern, str]]:
    out = []
    for group, templates in BACKGROUND_EN.items():
        for i, template in enumerate(templates):
            rx = re.sub(r"\\\{(\w+)\\\}", r".+", re.escape(template))
            out.append((re.compile(f"^{rx}$"), f"bg:{group}:{i}"))
    return out


def true_assignments(scenario_dir: Path) -> tuple[dict[str, np.ndarray], dict]:
    """Each article's true narrative: planted id from ground truth, episode key or background
    headline template by exact title match."""
    truth = json.loads((scenario_dir / "ground_truth.json").read_text(encoding="utf-8"))
    planted = {aid: n["id"] for n in truth["narratives"]
               for aid in n["leader_articles"] + n["follower_articles"]}
    exact = {t: f"episode:{key}" for key, (_, en, native) in EPISODE_ARTICLES.items()
             for t in (*en, *(x for v in native.values() for x in v))}
    exact |= {t: f"bg:native:{lang}:{i}" for lang, titles in BACKGROUND_NATIVE.items()
              if lang != "en" for i, t in enumerate(titles)}
    patterns = _template_patterns()
    cols: dict[str, list] = {"published_day": [], "group": [], "narrative_id": [],
                             "article_id": []}
    for line in (scenario_dir / "articles" / "articles.jsonl").read_text("utf-8").splitlines():
        rec = json.loads(line)
        label = planted.get(rec["id"]) or exact.get(rec["title"])
        label = label or next((lab for rx, lab in patterns if rx.match(rec["title"])), None)
        day = datetime.fromisoformat(rec["published_at"]).astimezone(UTC).date()
        for key, value in (("published_day", day), ("group", rec["outlet_group"]),
                           ("narrative_id", label), ("article_id", rec["id"])):
            cols[key].append(value)
    out = {k: np.array(v, dtype=object) for k, v in cols.items()}
    out["published_day"] = np.array(cols["published_day"], dtype="datetime64[D]")
    return out, truth


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> list[tuple[dict, dict]]:
    out = []
    for seed in SEEDS:
        folder = tmp_path_factory.mktemp(f"scenario{seed}")
        generate_scenario(folder, random_state=seed)
        out.append(true_assignments(folder))
    return out


# --------------------------------------------------------------------------- synthetic corpora

def synthetic(rng: np.random.Generator, *, n_narratives: int = 10, n_days: int = 364,
              shared_news: bool = True, n_planted: int = 0) -> dict[str, np.ndarray]:
    """Three groups with background output and ``n_narratives`` topics all of them cover, with no
    actor-specific synchronisation. With ``shared_news`` each topic has 4 news days on which every
    group (control included) publishes a burst the same day and the next; otherwise each group's
    bursts fall on its own random days (same topics, independent timing). The first ``n_planted``
    topics also get a synchronised campaign: ru_state for 6 days, cn_state 2 days later, control
    silent."""
    days, groups, labels = [], [], []

    def add(group: str, day_counts: np.ndarray, label: str) -> None:
        idx = np.repeat(np.arange(n_days), day_counts)
        days.extend(idx.tolist())
        groups.extend([group] * idx.size)
        labels.extend([label] * idx.size)

    news = [rng.choice(n_days - 2, 4, replace=False) for _ in range(n_narratives)]
    for group in ("ru_state", "cn_state", "control"):
        add(group, rng.poisson(15, n_days), f"bg:{group}")
        for j in range(n_narratives):
            counts = rng.poisson(0.2, n_days)
            starts = news[j] if shared_news else rng.choice(n_days - 2, 4, replace=False)
            for s in starts:
                counts[s:s + 2] += rng.poisson(4, 2) + 1
            if j < n_planted and group != "control":
                first = 100 + 20 * j + (2 if group == "cn_state" else 0)
                counts[first:first + 6] += rng.poisson(4, 6) + 2
            add(group, counts, f"topic-{j}")
    start = np.datetime64("2024-01-01")
    return {"published_day": start + np.array(days, dtype="timedelta64[D]"),
            "group": np.array(groups, dtype=object), "narrative_id": np.array(labels, dtype=object),
            "article_id": np.array([f"s{i}" for i in range(len(days))], dtype=object)}


def shift_follower(cols: dict, truth: dict, rng: np.random.Generator) -> dict:
    """The null: each planted narrative's follower articles moved by a random multiple of 7 days
    so that they start at least 28 days away from the leader's (same topics, no alignment)."""
    out = {k: v.copy() for k, v in cols.items()}
    first, last = out["published_day"].min(), out["published_day"].max()
    for story in truth["narratives"]:
        rows = np.isin(out["article_id"], story["follower_articles"])
        lead = np.datetime64(story["leader_start"])
        days = out["published_day"][rows]
        options = [7 * k for k in range(-40, 41)
                   if abs((days.min() + 7 * k) - lead) >= np.timedelta64(28, "D")
                   and days.min() + 7 * k >= first and days.max() + 7 * k <= last]
        out["published_day"][rows] = days + np.timedelta64(int(rng.choice(options)), "D")
    return out


# --------------------------------------------------------------------------- unit behaviour

def test_shares_count_by_hand() -> None:
    day = np.array(["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-03"], "datetime64[D]")
    table = pa.table({"published_day": pa.array(day), "group": ["ru_state", "ru_state",
                      "cn_state", "ru_state"], "narrative_id": ["x", None, "x", "y"]})
    sh = narrative_shares(table, groups=("ru_state", "cn_state"))
    assert sh.narratives == ("x", "y") and sh.days.size == 3
    assert sh.counts["ru_state"].tolist() == [[1, 0], [0, 0], [0, 1]]
    assert sh.totals["ru_state"].tolist() == [2, 0, 1]
    assert sh.shares["ru_state"][0].tolist() == [0.5, 0.0]
    assert sh.shares["cn_state"][0].tolist() == [1.0, 0.0]


def test_cross_correlation_finds_shift() -> None:
    x = np.random.default_rng(0).random(100)
    y = np.roll(x, 3)  # y follows x by 3 days
    xc = cross_correlation(x, y, range(-5, 6))
    assert int(np.nanargmax(xc)) - 5 == 3 and xc.max() > 0.99


def test_burst_rule() -> None:
    counts = np.zeros(60, int)
    counts[40:46] = 5
    totals = np.full(60, 20)
    bursts = burst_days(counts, counts / totals)
    assert bursts[40] and bursts[41] and not bursts[:40].any() and not bursts[46:].any()


def test_too_little_data_is_listed_not_guessed() -> None:
    day = np.array(["2024-01-01"] * 3 + ["2024-01-02"] * 2, "datetime64[D]")
    cols = {"published_day": day, "group": np.array(["ru_state"] * 3 + ["cn_state"] * 2, object),
            "narrative_id": np.array(["x"] * 5, object)}
    result = synchronisation(cols, n_surrogates=50, random_state=0)
    assert result.narratives == ()
    assert result.too_little_data[0]["narrative"] == "x"
    assert result.too_little_data[0]["n_ru_state"] == 3
    assert result.too_little_data[0]["n_cn_state"] == 2


def test_convergence_overlap_by_hand() -> None:
    day = np.array(["2024-01-01"] * 6, "datetime64[D]")
    cols = {"published_day": day,
            "group": np.array(["ru_state", "ru_state", "cn_state", "cn_state", "control",
                               "control"], object),
            "narrative_id": np.array(["x", "y", "x", "x", "z", "y"], object)}
    (row,) = convergence(cols, n_bootstrap=50, random_state=0)
    # ru = {x: .5, y: .5}, cn = {x: 1}: overlap .5; ru–control .5 (y), cn–control 0
    assert row["period"] == "2024-01" and row["value"] == 0.5
    assert row["a_control_value"] == 0.5 and row["b_control_value"] == 0.0
    assert row["control_value"] == 0.5 and row["low"] <= 0.5 <= row["high"]


# --------------------------------------------------------------------------- demo scenario

def test_planted_narratives_recalled_with_leader(scenarios) -> None:
    found = leader_ok = lag_ok = total = 0
    for cols, truth in scenarios:
        result = synchronisation(cols, n_surrogates=1000, random_state=1)
        rows = {r["narrative"]: r for r in result.narratives}
        for story in truth["narratives"]:
            total += 1
            row = rows.get(story["id"])
            if row and row["significant"] and row["beyond_control"]:
                found += 1
                leader_ok += row["lead_actor"] == story["leader"]
                lag_ok += row["lag_days"] == story["lag_days"]
                assert row["evidence"]["article_ids"]
                assert set(row["evidence"]["article_ids"]) <= set(
                    story["leader_articles"] + story["follower_articles"])
        # nothing but the planted narratives is shared by both actors in the true labels
        assert {r["narrative"] for r in result.narratives} <= {s["id"] for s in truth["narratives"]}
    print(f"recall {found}/{total}, leader {leader_ok}/{found}, exact lag {lag_ok}/{found}")
    assert found / total >= 0.8
    assert leader_ok / found >= 0.8
    assert lag_ok / found >= 0.8


def test_shifted_null_has_no_discoveries(scenarios) -> None:
    rng = np.random.default_rng(5)
    tests = false = 0
    for cols, truth in scenarios:
        for _ in range(5):
            result = synchronisation(shift_follower(cols, truth, rng), n_surrogates=200,
                                     random_state=int(rng.integers(1 << 30)))
            tests += len(result.narratives)
            false += sum(r["significant"] for r in result.narratives)
    print(f"shifted null: {false}/{tests} significant")
    assert tests >= 30 and false / tests <= 0.05


def test_demo_result_round_trips_json(scenarios) -> None:
    result = synchronisation(scenarios[0][0], n_surrogates=200, random_state=3)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert SyncResult.from_dict(data).to_dict() == result.to_dict()
    months = [c["period"] for c in result.convergence]
    assert months == sorted(months) and len(months) == 12
    # planted narratives raise the shared mass above zero in their months only
    assert max(c["value"] for c in result.convergence) > 0
    assert all(c["low"] <= c["value"] <= c["high"] for c in result.convergence)


# --------------------------------------------------------------------------- synthetic nulls

def test_shared_news_is_not_beyond_control() -> None:
    rng = np.random.default_rng(11)
    tests = aligned = beyond = 0
    for _ in range(4):
        result = synchronisation(synthetic(rng), n_surrogates=200,
                                 random_state=int(rng.integers(1 << 30)))
        tests += len(result.narratives)
        aligned += sum(r["significant"] for r in result.narratives)
        beyond += sum(r["beyond_control"] for r in result.narratives)
    print(f"shared news: {aligned}/{tests} aligned, {beyond}/{tests} beyond control")
    assert tests == 40
    assert aligned / tests >= 0.8  # shared news does align the actors ...
    assert beyond / tests <= 0.05  # ... but the control explains it


def test_campaign_on_top_of_shared_news_is_beyond_control() -> None:
    rng = np.random.default_rng(13)
    planted = beyond = leader = nulls = false = 0
    for _ in range(3):
        result = synchronisation(synthetic(rng, n_planted=5), n_surrogates=1000,
                                 random_state=int(rng.integers(1 << 30)))
        for row in result.narratives:
            if int(row["narrative"].split("-")[1]) < 5:
                planted += 1
                beyond += row["beyond_control"]
                leader += row["lead_actor"] == "ru_state"
            else:
                nulls += 1
                false += row["beyond_control"]
    print(f"campaigns over shared news: {beyond}/{planted} beyond control, leader {leader}/"
          f"{planted}; shared-news topics beyond control {false}/{nulls}")
    assert planted == nulls == 15
    assert beyond / planted >= 0.5 and leader / planted >= 0.8
    assert false / nulls <= 0.05


def test_independent_topics_false_discoveries() -> None:
    rng = np.random.default_rng(12)
    tests = false = raw = 0
    for _ in range(4):
        result = synchronisation(synthetic(rng, shared_news=False), n_surrogates=200,
                                 random_state=int(rng.integers(1 << 30)))
        tests += len(result.narratives)
        false += sum(r["significant"] for r in result.narratives)
        raw += sum(r["p_value"] <= 0.05 for r in result.narratives)
    print(f"independent topics: {false}/{tests} significant, {raw}/{tests} with p <= 0.05")
    assert tests == 40 and false / tests <= 0.05
    assert raw / tests <= 0.1  # the pair p-value itself is not anti-conservative
