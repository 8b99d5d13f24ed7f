"""Multi-domain episode detection: planted episodes are found, null data stays quiet.

The data come from ``episode_data``: a negative-binomial background with weekend dips, seasonal
waves, trends and Hawkes-like single-series bursts; planted episodes lift 3–4 domains for 2–5
days (single target, or spread over 2–3 targets of a declared group).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from episode_data import START, Planted, background, plant

from hybridwatch.analyses.baselines import expected_counts, weekday_factors, weekdays
from hybridwatch.analyses.episodes import EpisodesResult, find_episodes

TARGETS = ["DEU", "POL", "TWN", "FRA", "EST", "LTU", "JPN", "USA"]
DOMAINS = ["cyber", "military", "information", "political", "economy", "diplomacy"]


def _day(date: object) -> int:
    return int((np.datetime64(date, "D") - START).astype(int))


def _found(planted: Planted, result: EpisodesResult, min_domains: int = 3) -> bool:
    """A reported episode overlaps the planted window, names all its targets and ≥ k domains."""
    for episode in result.episodes:
        targets = {TARGETS.index(t) for t in episode.targets}
        domains = {DOMAINS.index(d) for d in episode.domains}
        if (_day(episode.start) <= planted.end and planted.start <= _day(episode.end)
                and planted.targets <= targets and len(domains & planted.domains) >= min_domains):
            return True
    return False


@pytest.fixture(scope="module")
def planted_runs() -> list[tuple[list[Planted], EpisodesResult]]:
    """Four 2-year datasets, 8 targets × 6 domains, each with 4 single-target and 2 cross-target
    episodes (cross ones within the declared DEU/POL/TWN group), strength 6 (rate × 7, at least
    5 extra events a day per domain)."""
    runs = []
    for seed in range(4):
        rng = np.random.default_rng(100 + seed)
        counts, dates, rate = background(rng, 730, len(TARGETS), len(DOMAINS))
        counts, planted = plant(rng, counts, rate, n_single=4, n_cross=2, strength=6.0,
                                cross_pool=(0, 1, 2))
        result = find_episodes(counts, dates=dates, targets=TARGETS, domains=DOMAINS,
                               target_groups=[["DEU", "POL", "TWN"]], n_surrogates=99,
                               random_state=seed)
        runs.append((planted, result))
    return runs


def test_planted_episodes_are_recalled(planted_runs) -> None:
    planted = [(p, result) for ps, result in planted_runs for p in ps]
    hits = sum(_found(p, result) for p, result in planted)
    assert len(planted) == 24
    assert hits / len(planted) >= 0.9, f"recall {hits}/{len(planted)}"
    cross = [(p, r) for p, r in planted if len(p.targets) > 1]
    assert sum(_found(p, r) for p, r in cross) >= len(cross) - 1


def test_reported_episodes_are_planted_ones(planted_runs) -> None:
    for planted, result in planted_runs:
        for episode in result.episodes:
            assert episode.p_value <= 0.05
            assert len(episode.domains) >= 3
            assert any(_day(episode.start) <= p.end and p.start <= _day(episode.end)
                       for p in planted), f"false episode {episode.start} {episode.targets}"


def test_cells_carry_the_evidence(planted_runs) -> None:
    """Cells are the (day, target, domain) counts inside the window; signals sum them."""
    _, result = planted_runs[0]
    episode = result.episodes[0]
    for signal in episode.signals:
        cells = [c for c in episode.cells
                 if c.target == signal.target and c.domain == signal.domain]
        assert sum(c.count for c in cells) == signal.observed
        assert signal.observed > signal.expected and signal.llr > 0
        assert all(episode.start <= c.date <= episode.end for c in cells)
        assert all(_day(c.date) == c.day_index for c in cells)


def test_null_data_family_wise_false_positives() -> None:
    """40 independent null datasets (1 year, 6 targets × 5 domains, same bursty background):
    with α = 0.05 the expected number reporting any episode is 2; P(≥ 5 | p = 0.05) ≈ 0.05.
    49 surrogates keep it fast: the Monte-Carlo p-value is exact for any number of them."""
    reporting = 0
    for seed in range(40):
        rng = np.random.default_rng(5000 + seed)
        counts, dates, _ = background(rng, 365, 6, 5)
        result = find_episodes(counts, dates=dates, targets=TARGETS[:6], domains=DOMAINS[:5],
                               n_surrogates=49, random_state=seed)
        reporting += bool(result.episodes)
    assert reporting <= 4


def test_step_down_recovers_episodes_the_first_round_misses() -> None:
    """Six episodes (strength 4) on 3 targets × 5 domains: in the single-round scan the shifted
    copies of the strong ones inflate the null and some weaker ones are missed; removing each
    round's episodes and rescanning finds them, without adding episodes that were not planted."""
    recall = {False: 0, True: 0}
    n_planted = 0
    for seed in range(4):
        rng = np.random.default_rng(400 + seed)
        counts, dates, rate = background(rng, 365, 3, 5)
        counts, planted = plant(rng, counts, rate, n_single=6, n_cross=0, strength=4.0)
        n_planted += len(planted)
        for step_down in (False, True):
            result = find_episodes(counts, dates=dates, targets=TARGETS[:3], domains=DOMAINS[:5],
                                   n_surrogates=99, random_state=seed, step_down=step_down)
            recall[step_down] += sum(_found(p, result) for p in planted)
            assert all(any(_day(e.start) <= p.end and p.start <= _day(e.end) for p in planted)
                       for e in result.episodes)
    assert n_planted == 24
    assert recall[True] >= 23 and recall[False] < recall[True], recall


def test_result_round_trips_through_json(planted_runs) -> None:
    _, result = planted_runs[1]
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert EpisodesResult.from_dict(json.loads(json.dumps(data))) == result
    assert data["parameters"]["target_groups"] == [["DEU", "POL", "TWN"]]
    assert len(data["null_maxima"]["single"]) == 99


def test_same_seed_same_result() -> None:
    rng = np.random.default_rng(7)
    counts, dates, rate = background(rng, 200, 3, 4)
    counts, _ = plant(rng, counts, rate, n_single=2, n_cross=0, strength=6.0)
    first = find_episodes(counts, dates=dates, targets=TARGETS[:3], domains=DOMAINS[:4],
                          n_surrogates=49, random_state=3)
    again = find_episodes(counts, dates=dates, targets=TARGETS[:3], domains=DOMAINS[:4],
                          n_surrogates=49, random_state=3)
    assert first == again
    assert first.parameters.random_state == 3


def test_poisson_surrogates_find_a_strong_episode() -> None:
    rng = np.random.default_rng(11)
    counts, dates, rate = background(rng, 240, 3, 4)
    counts, planted = plant(rng, counts, rate, n_single=1, n_cross=0, strength=10.0)
    result = find_episodes(counts, dates=dates, targets=TARGETS[:3], domains=DOMAINS[:4],
                           n_surrogates=39, surrogate="poisson", random_state=0)
    assert _found(planted[0], result)


def test_degenerate_inputs_warn_instead_of_failing() -> None:
    dates = START + np.arange(5)
    short = find_episodes(np.ones((5, 2, 3), dtype=int), dates=dates, targets=TARGETS[:2],
                          domains=DOMAINS[:3])
    assert short.episodes == () and "only 5 days" in short.warnings[0]

    dates = START + np.arange(100)
    zeros = find_episodes(np.zeros((100, 2, 3), dtype=int), dates=dates, targets=TARGETS[:2],
                          domains=DOMAINS[:3])
    assert zeros.episodes == () and zeros.warnings

    sparse = np.zeros((100, 1, 3), dtype=int)
    sparse[::10, 0, :] = 1  # 10 events per series: scanned
    sparse[::20, 0, 2] = 0  # 5 events: not scanned, reported
    result = find_episodes(sparse, dates=dates, targets=["DEU"], domains=DOMAINS[:3],
                           n_surrogates=9)
    assert "DEU/information: only 5 events (< 10); not scanned" in result.warnings
    assert "fewer than 3 domains have a series" in result.warnings[0]

    two_domains = find_episodes(np.ones((100, 1, 2), dtype=int), dates=dates, targets=["DEU"],
                                domains=DOMAINS[:2])
    assert two_domains.episodes == () and "fewer than min_domains" in two_domains.warnings[0]


def test_bad_arguments_raise() -> None:
    dates = START + np.arange(30)
    counts = np.zeros((30, 2, 3), dtype=int)
    with pytest.raises(ValueError, match="does not match"):
        find_episodes(counts, dates=dates[:10], targets=TARGETS[:2], domains=DOMAINS[:3])
    with pytest.raises(ValueError, match="alpha"):
        find_episodes(counts, dates=dates, targets=TARGETS[:2], domains=DOMAINS[:3], alpha=2)
    with pytest.raises(ValueError, match="unknown: XXX"):
        find_episodes(counts, dates=dates, targets=TARGETS[:2], domains=DOMAINS[:3],
                      target_groups=[["DEU", "XXX"]])


def test_baseline_follows_level_and_weekday_but_not_the_window() -> None:
    """Flat 10/day on weekdays, 2/day at weekends, a 5-day spike of 100/day: the expectation is
    the weekday level everywhere, including inside the spike (it is left out of its own
    baseline)."""
    dates = START + np.arange(140)
    day_of_week = weekdays(dates)
    counts = np.where(day_of_week >= 5, 2, 10)[:, None, None].astype(float)
    counts[70:75] = 100
    expected = expected_counts(counts, dates, gap_days=7)
    factors = weekday_factors(counts, day_of_week)
    assert factors[5, 0, 0] < 0.5
    assert factors[0, 0, 0] > 1.0
    inside = expected[70:75, 0, 0]
    assert np.all(inside < 15), inside
    ratio = expected[:, 0, 0] / np.where(day_of_week >= 5, 2, 10)
    assert 0.8 < np.median(ratio) < 1.25
