"""Acceptance (issue 11, §2 "where" and §4 "hostile"): an independent multi-source scenario
(``where_scenario``, not the demo's generator) in the real formats, ingested and scanned as an
analyst would.

The planted cross-target episode: a military surge coded only by its place in the Taiwan Strait
(GDELT ActionGeo on the sea, no Actor2, no country), ONE STIX campaign against Germany and a
burst of EUvsDisinfo cases about Poland. The analyst declares the wheres of interest (DEU, POL,
Taiwan Strait) as targets and as one group, and lowers ``min_series_events`` to 5 because cyber
campaigns against one country are sparse (with the default of 10, the German cyber series is
often too thin to be scanned at all).

Matching rule, fixed before the seeds were run: an episode is found if its window overlaps the
planted days widened by one day on each side, it holds the three planted domains, and its
military signal is "Taiwan Strait" with where_kind "theatre". Measured on seeds 0–19: recall
18/20 = 0.90; the null twins (the same background, no plants) gave an episode in 0/20 datasets
at alpha = 0.05. With ``min_series_events=10`` recall was 15–16/20 (the single five-day campaign
is weak evidence against a target with campaigns every few weeks, and a sparse series is not
scanned): that is the limit of a k-th-largest-score scan, not of the "where".
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.workflows.coordination import detect_episodes

from where_scenario import generate, write_surge

GROUP = ["DEU", "POL", "Taiwan Strait"]
SEEDS = range(20)
ALPHA = 0.05


def _scan(store: EventStore, seed: int, **options) -> list[dict]:
    return detect_episodes(store, alpha=ALPHA, targets=GROUP, target_groups=[GROUP],
                           min_series_events=5, step_down=False, random_state=seed,
                           **options).to_dict()["episodes"]


def _found(episode: dict, planted) -> bool:
    first, last = planted.start - timedelta(days=1), planted.end + timedelta(days=1)
    overlaps = episode["start"] <= last.isoformat() and first.isoformat() <= episode["end"]
    signals = {(s["where"], s["where_kind"], s["domain"]) for s in episode["signals"]}
    return (overlaps and {"cyber", "information", "military"} <= set(episode["domains"])
            and ("Taiwan Strait", "theatre", "military") in signals)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """Per seed: the null twin's episodes, then (plants ingested into the same store) the
    planted dataset's episodes."""
    results = []
    for seed in SEEDS:
        root: Path = tmp_path_factory.mktemp(f"where{seed}")
        scenario = generate(root, seed=seed, days=200)
        with EventStore(root / "store.duckdb") as store:
            for path, format_name in scenario.background:
                ingest_file(store, path, format=format_name)
            null = _scan(store, seed)
            for path, format_name in scenario.plant_files:
                ingest_file(store, path, format=format_name)
            planted = _scan(store, seed)
        results.append({"scenario": scenario, "null": null, "planted": planted})
    return results


@pytest.mark.slow
def test_location_only_military_member_is_recalled(runs) -> None:
    hits = [any(_found(e, run["scenario"].planted) for e in run["planted"]) for run in runs]
    assert sum(hits) / len(hits) >= 0.9, f"recall {sum(hits)}/{len(hits)}"


@pytest.mark.slow
def test_null_twins_give_episodes_at_most_at_alpha(runs) -> None:
    with_episode = sum(bool(run["null"]) for run in runs)
    # Binomial(20, 0.05): 4 or more has probability 0.016
    assert with_episode <= 3, f"{with_episode}/{len(runs)} null datasets gave an episode"


@pytest.mark.slow
def test_episodes_count_no_cooperative_event_by_default(runs) -> None:
    """Every dataset holds a cooperative burst in the Strait and cooperative rows against
    targets; none of them is behind an episode unless asked for."""
    cooperative_events = 0
    for run in runs:
        cooperative = {hashlib.md5(f"gdelt:{gid}".encode()).hexdigest()
                       for gid in run["scenario"].cooperative_gdelt_ids}
        assert len(cooperative) > 500
        for episode in run["planted"] + run["null"]:
            cooperative_events += len(cooperative & set(episode["event_ids"]))
    assert cooperative_events == 0


def test_include_cooperative_counts_them_and_says_so(tmp_path: Path) -> None:
    """The cooperative burst in the Strait (24 extra talks/cooperation rows over three days,
    diplomacy and economy), with a hostile military surge there on the same days, is a
    two-domain episode of "Taiwan Strait" only when cooperative events are counted."""
    scenario = generate(tmp_path, seed=3, days=200)
    surge = write_surge(tmp_path / "surge2.export.CSV", scenario.cooperative_burst, (6, 6, 6),
                        "Taiwan Strait")
    with EventStore(tmp_path / "store.duckdb") as store:
        for path, format_name in (*scenario.background, surge):
            ingest_file(store, path, format=format_name)
        options = dict(targets=["Taiwan Strait"], min_domains=2, n_surrogates=99,
                       random_state=3, step_down=False)
        hostile = detect_episodes(store, **options).to_dict()
        every = detect_episodes(store, include_cooperative=True, **options).to_dict()
    assert hostile["counted"] == "hostile events"
    assert not hostile["parameters"]["include_cooperative"]
    assert every["counted"] == "all events (hostile and cooperative)"
    assert every["parameters"]["include_cooperative"]
    cooperative = {hashlib.md5(f"gdelt:{gid}".encode()).hexdigest()
                   for gid in scenario.cooperative_gdelt_ids}
    assert not any(cooperative & set(e["event_ids"]) for e in hostile["episodes"])
    assert any(cooperative & set(e["event_ids"]) for e in every["episodes"])
    for episode in every["episodes"]:
        assert {s["where_kind"] for s in episode["signals"]} == {"theatre"}
