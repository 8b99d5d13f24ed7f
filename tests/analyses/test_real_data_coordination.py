"""End-to-end coordination workflows on the real EuRepoC, EUvsDisinfo and PLA sortie files.

Structure only (rates, p- and q-values in range, evidence that exists, counts that match the
CSV read independently): whether anything is significant is a finding, not a test.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest

from hybridwatch.adapters.base import ReadOptions
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.workflows.coordination import coincide, coincide_grid, detect_episodes

REPO = Path(__file__).resolve().parents[2]
PLA_MAPPING = REPO / "src" / "hybridwatch" / "mappings" / "pla_sorties.toml"
EUREPOC = "eurepoc_v1_1/EuRepoC_Global_Database_1.1.csv"
EUVSDISINFO = "euvsdisinfo_cknabs/posts.csv"
PLA = "pla_taiwan_activity/merged_comprehensive_data_M.csv"
SINCE, UNTIL = date(2020, 10, 1), date(2021, 2, 18)   # PLA daily bulletins ∩ EUvsDisinfo


@pytest.fixture(scope="module")
def store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("real") / "real.duckdb"
    with EventStore(path) as writable:
        ingest_file(writable, shared_data / EUREPOC)
        ingest_file(writable, shared_data / EUVSDISINFO)
        ingest_file(writable, shared_data / PLA, format="mapped",
                    options=ReadOptions(mapping_path=PLA_MAPPING))
    with EventStore(path, read_only=True) as opened:
        yield opened


def euvsdisinfo_rows_in_period(shared_data: Path) -> tuple[int, int]:
    """(cases, distinct days) of posts.csv dated in [SINCE, UNTIL], read with the csv module."""
    with open(shared_data / EUVSDISINFO, newline="", encoding="utf-8") as handle:
        days = [date.fromisoformat(row["date"]) for row in csv.DictReader(handle)]
    inside = [d for d in days if SINCE <= d <= UNTIL]
    return len(inside), len(set(inside))


def pla_days_in_period(shared_data: Path) -> int:
    """Distinct days of the sortie table with a sortie count, in [SINCE, UNTIL]."""
    with open(shared_data / PLA, newline="", encoding="utf-8-sig") as handle:
        days = {datetime.strptime(row["date"], "%Y/%m/%d").date()
                for row in csv.DictReader(handle) if row["pla_aircraft_sorties"].strip()}
    return sum(SINCE <= d <= UNTIL for d in days)


def assert_rate(value) -> None:
    assert value is None or 0.0 <= value <= 1.0


def assert_p(value) -> None:
    assert value is None or 0.0 < value <= 1.0


def assert_ids_exist(store: EventStore, ids: list[str]) -> None:
    found = store._con.execute("SELECT count(*) FROM events WHERE event_id IN (SELECT unnest(?))",
                              [ids]).fetchall()[0][0]
    assert found == len(set(ids))


def test_pair_on_real_data_has_sane_rates_and_existing_evidence(store: EventStore) -> None:
    report = coincide(store, "source=euvsdisinfo target=UKR", "source=eurepoc actor=RUS target=UKR",
                      null="shift", n_surrogates=200, random_state=7,
                      since=date(2015, 1, 6), until=UNTIL).to_dict()
    assert report["null"] == "shift" and 0 < report["n_surrogates"] <= 200
    assert report["n_a"] > 0 and report["n_b"] > 0
    for lag in report["lags"]:
        assert_rate(lag["precursor_rate"]), assert_rate(lag["trigger_rate"])
        assert_p(lag["p_precursor"]), assert_p(lag["p_trigger"])
    assert_p(report["p_value"])
    assert report["p_value"] >= 1 / (1 + report["n_surrogates"])   # Monte Carlo floor
    a_ids = [e["event_id"] for item in report["evidence"] for e in item["a_events"]]
    b_ids = [e["event_id"] for item in report["evidence"] for e in item["b_events"]]
    assert report["n_evidence"] > 0 and a_ids and b_ids
    assert_ids_exist(store, a_ids + b_ids)
    for item in report["evidence"]:   # each B day lies in the window before its A day
        gap = (date.fromisoformat(item["a_date"]) - date.fromisoformat(item["b_date"])).days
        assert report["best_lag_days"] <= gap <= report["best_lag_days"] + report["window_days"]
        assert all(e["source"] == "eurepoc" and "UKR" in e["target_iso3s"]
                   for e in item["b_events"])


def test_grid_counts_match_the_csv_and_q_is_at_least_p(store: EventStore,
                                                       shared_data: Path) -> None:
    grid = coincide_grid(store, "source=euvsdisinfo ; source=pla_sorties intensity>p90 ; "
                                "source=eurepoc actor=CHN", null="shift", n_surrogates=200,
                         random_state=7, since=SINCE, until=UNTIL).to_dict()
    n_cases, n_case_days = euvsdisinfo_rows_in_period(shared_data)
    assert grid["n_events"]["source=euvsdisinfo"] == n_cases
    # n_events counts events, before the threshold; the PLA file repeats a day once per
    # political statement, and the store keeps one event per day
    assert grid["n_events"]["source=pla_sorties intensity>p90"] == pla_days_in_period(shared_data)
    assert grid["n_pairs"] == 6 and (grid["start"], grid["end"]) == (str(SINCE), str(UNTIL))
    for pair in grid["pairs"]:
        assert_rate(pair["precursor_rate"]), assert_rate(pair["trigger_rate"])
        assert_p(pair["p_value"])
        if pair["p_value"] is not None:
            assert pair["q_value"] >= pair["p_value"] and pair["q_value"] <= 1.0
    single = coincide(store, "source=euvsdisinfo", "source=pla_sorties", null="shift",
                      n_surrogates=50, random_state=7, since=SINCE, until=UNTIL).to_dict()
    assert single["n_a"] == n_case_days   # event days = distinct dates in the CSV


def test_episodes_run_on_real_data(store: EventStore) -> None:
    # alpha 0.99 keeps almost every candidate window, so there are episodes whose evidence can
    # be checked; their p-values are not the point here
    report = detect_episodes(store, min_domains=2, targets=["UKR", "TWN"], n_surrogates=19,
                             alpha=0.99, random_state=7, since=date(2015, 1, 1),
                             until=date(2021, 2, 18)).to_dict()   # --until is inclusive
    assert (report["start"], report["end"]) == ("2015-01-01", "2021-02-18")
    assert report["episodes"]
    assert report["parameters"]["target_groups"] == [["UKR", "TWN"]]
    for episode in report["episodes"]:
        assert 0 < episode["p_value"] <= 1 and len(episode["domains"]) >= 2
        assert episode["n_events"] == len(episode["event_ids"]) > 0
        assert_ids_exist(store, episode["event_ids"])
        assert episode["start"] >= report["start"] and episode["end"] <= report["end"]
    assert report["parameters"]["n_surrogates"] == 19
