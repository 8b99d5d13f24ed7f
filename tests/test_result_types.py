"""Every analysis result type shares the one frozen base (``model.results.AnalysisResult``):
the contract fields, one strict ``to_json``/``from_json`` with ``from_json(to_json(r)) == r``,
and keys in a stable order. Each result is a real run of its analysis on small generated data
(planted episodes, a planted coincidence, a planted narrative campaign, a generated Comtrade
file with a planted diversion, the screening fixtures' lists) or, for the workflow reports, on
the STIX test store."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from outputs.stix_store import GRID, shared_store

from hybridwatch.model.results import CONTRACT_FIELDS, AnalysisResult, ordered_fields
from hybridwatch.store import EventStore

#: every result type of the analyses and workflows, as "module:Class"
RESULT_TYPES = (
    "hybridwatch.analyses.coincidence:CoincidenceResult",
    "hybridwatch.analyses.coincidence_pairs:PairsResult",
    "hybridwatch.analyses.episodes:EpisodesResult",
    "hybridwatch.analyses.narrative_sync:SyncResult",
    "hybridwatch.analyses.convergence:ConvergenceResult",
    "hybridwatch.analyses.risk:RiskResult",
    "hybridwatch.analyses.forecast_scores:ForecastScores",
    "hybridwatch.analyses.diversion:DiversionResult",
    "hybridwatch.workflows.coordination:PairReport",
    "hybridwatch.workflows.coordination:GridReport",
    "hybridwatch.workflows.coordination:EpisodesReport",
    "hybridwatch.workflows.screening:ScreeningReport",
)


def _coincidence():
    from hybridwatch.analyses.coincidence import coincidence_test

    rng = np.random.default_rng(1)
    b = rng.random(300) < 0.05
    a = np.roll(b, 2) | (rng.random(300) < 0.02)          # a follows b two days later
    return coincidence_test(a, b, window_days=1, lags=(0, 1, 2), null="shift",
                            n_surrogates=99, random_state=4)


def _pairs():
    from hybridwatch.analyses.coincidence_pairs import all_pairs

    rng = np.random.default_rng(2)
    events = rng.random((200, 3)) < 0.05
    events[:, 2] = False                                  # an empty series: untestable pairs
    return all_pairs(events, ["x", "y", "z"], window_days=1, lags=(0, 1), null="shift",
                     n_surrogates=49, random_state=3)


def _episodes():
    from hybridwatch.analyses.episodes import find_episodes

    rng = np.random.default_rng(3)
    counts = rng.poisson(1.0, (120, 2, 4))
    counts[60:63, 0, :3] += 9                             # a planted three-domain episode
    dates = np.datetime64("2024-01-01") + np.arange(120)
    return find_episodes(counts, dates=dates, targets=["DEU", "POL"],
                         domains=["cyber", "info", "military", "economic"], n_surrogates=49,
                         random_state=5)


def _sync():
    from analyses.test_narrative_sync import synthetic

    from hybridwatch.analyses.narrative_sync import synchronisation

    return synchronisation(synthetic(np.random.default_rng(4), n_narratives=4, n_planted=2),
                           n_surrogates=49, random_state=6)


def _convergence():
    from hybridwatch.analyses.convergence import ComponentSeries, convergence_index

    rng = np.random.default_rng(5)
    values = rng.poisson(5, 36).astype(float)
    values[:3] = np.nan
    months = [f"{2021 + m // 12}-{m % 12 + 1:02d}" for m in range(36)]
    return convergence_index(months, [
        ComponentSeries("cooperative_interaction", values, rng.poisson(5, (20, 36)) * 1.0),
        ComponentSeries("narrative_alignment", np.full(36, np.nan))], min_baseline_months=3)


def _risk():
    from hybridwatch.analyses.risk import assess_risk
    from hybridwatch.demo.risk_synth import synth_activity

    data = synth_activity(predictable=True, random_state=2)
    return assess_risk(data.counts, data.episode_starts, dates=data.dates,
                       targets=data.targets, domains=data.domains)


def _scores():
    from hybridwatch.analyses.forecast_scores import score_forecasts

    rng = np.random.default_rng(6)
    p = rng.random(400)
    y = (rng.random(400) < p).astype(float)
    return score_forecasts(p, y, np.full(400, y.mean()), np.roll(y, 1), np.arange(400) // 10,
                           n_bootstrap=50)


def _diversion(tmp_path_factory):
    from supply.trade_data import DESTINATION, ORIGINS, write_comtrade

    from hybridwatch.analyses.diversion import find_diversion
    from hybridwatch.store.trade_store import flow_values
    from hybridwatch.workflows.ingest import ingest_file

    folder = tmp_path_factory.mktemp("diversion")
    truth = write_comtrade(folder / "comtrade.csv", [7])[0]
    with EventStore(folder / "store.duckdb") as store:
        ingest_file(store, folder / "comtrade.csv")
        flows = flow_values(store, (truth.product,), freq="month").table
    return find_diversion(flows, origin=ORIGINS, destination=DESTINATION, break_month="2022-03")


def _screening(tmp_path_factory):
    from hybridwatch.workflows.screening import run_screening

    lists = Path(__file__).resolve().parent / "fixtures" / "screening"
    names = tmp_path_factory.mktemp("screening") / "names.txt"
    names.write_text("ООО Квазитрон\nKvazitron Ltd\nNobody Listed GmbH\n", encoding="utf-8")
    return run_screening(None, [lists / "targets.simple.csv",
                                lists / "consolidated_screening_list.csv"], names_file=names)


def _reports(tmp_path_factory):
    from hybridwatch.workflows.coordination import coincide, coincide_grid, detect_episodes

    info = shared_store(tmp_path_factory)
    with EventStore(info["path"], read_only=True) as store:
        return [coincide(store, GRID[0], GRID[1], n_surrogates=49, random_state=1),
                coincide_grid(store, " ; ".join(GRID[:3]), n_surrogates=49, random_state=1),
                detect_episodes(store, n_surrogates=49, random_state=1, alpha=0.5)]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, AnalysisResult]:
    out = [_coincidence(), _pairs(), _episodes(), _sync(), _convergence(), _risk(), _scores(),
           _diversion(tmp_path_factory), _screening(tmp_path_factory),
           *_reports(tmp_path_factory)]
    return {f"{type(r).__module__}:{type(r).__name__}": r for r in out}


def test_every_result_type_is_covered(results) -> None:
    assert set(results) == set(RESULT_TYPES)


@pytest.mark.parametrize("name", RESULT_TYPES)
def test_shares_the_frozen_base(name: str, results) -> None:
    result = results[name]
    cls = type(result)
    assert isinstance(result, AnalysisResult)
    assert cls.__eq__ is AnalysisResult.__eq__, "declare it @dataclass(frozen=True, eq=False)"
    assert cls.__dataclass_params__.frozen
    assert {f.name for f in dataclasses.fields(cls)} >= set(CONTRACT_FIELDS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.run_id = "x"
    assert isinstance(result.warnings, tuple) and result.run_id is None
    assert result.parameters, f"{name} records no parameters"


@pytest.mark.parametrize("name", RESULT_TYPES)
def test_json_round_trip(name: str, results) -> None:
    result = results[name]
    text = result.to_json()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text)                                        # strict JSON
    back = type(result).from_json(text)
    assert back == result
    assert back.to_json() == text
    recorded = result.with_run_id("run-1")
    assert recorded != result and type(result).from_json(recorded.to_json()) == recorded


@pytest.mark.parametrize("name", RESULT_TYPES)
def test_keys_keep_a_stable_order(name: str, results) -> None:
    result = results[name]
    keys = list(json.loads(result.to_json()))
    own = [f.name for f in dataclasses.fields(type(result)) if f.name not in CONTRACT_FIELDS]
    assert keys == list(CONTRACT_FIELDS) + own
    assert keys == [f.name for f in ordered_fields(type(result))]
    # the same result built again writes the same bytes
    assert dataclasses.replace(result).to_json() == result.to_json()


def test_nan_survives_where_a_float_is_declared(results) -> None:
    pairs = results["hybridwatch.analyses.coincidence_pairs:PairsResult"]
    assert np.isnan(pairs.p_value).any()                    # the empty series' pairs
    back = type(pairs).from_json(pairs.to_json())
    assert back.p_value.dtype == np.float64 and back.significant.dtype == bool
    assert np.array_equal(np.isnan(back.p_value), np.isnan(pairs.p_value))
    scores = results["hybridwatch.analyses.forecast_scores:ForecastScores"]
    empty = dataclasses.replace(scores, brier=math.nan)
    assert math.isnan(type(scores).from_json(empty.to_json()).brier)
    assert empty != scores                                  # equality sees the change


def test_from_json_names_what_does_not_fit(results) -> None:
    from hybridwatch.analyses.coincidence import CoincidenceResult

    data = json.loads(results["hybridwatch.analyses.coincidence:CoincidenceResult"].to_json())
    with pytest.raises(ValueError, match="unknown field"):
        CoincidenceResult.from_json(json.dumps({**data, "surprise": 1}))
    with pytest.raises(ValueError, match=r"CoincidenceResult\.n_days: expected int"):
        CoincidenceResult.from_json(json.dumps({**data, "n_days": "many"}))
    del data["p_value"]
    with pytest.raises(ValueError, match="'p_value' is missing"):
        CoincidenceResult.from_json(json.dumps(data))


def test_one_nan_cleaner() -> None:
    """The analyses and workflows clean NaN through ``model.json_values`` only."""
    import pathlib
    import re

    import hybridwatch

    root = pathlib.Path(hybridwatch.__file__).parent
    own = re.compile(r"def _jsonable\b|v != v else|math\.isnan\(value\) else")
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.parent.name in ("analyses", "workflows") and own.search(p.read_text())]
    assert not offenders
