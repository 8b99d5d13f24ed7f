"""The convergence index's technology-transfer component reads trade_flows (listed products
only, both directions); stores with only the deprecated comtrade_trade mapping keep working."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner

from hybridwatch.adapters import ReadOptions
from hybridwatch.cli import cli
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.workflows.convergence import measure_convergence

MONTHS = [str(m).replace("-", "") for m in np.arange(np.datetime64("2022-01"),
                                                      np.datetime64("2024-01"))]


def _comtrade(path, rows):
    path.write_text("period,reporterISO,partnerISO,flowCode,cmdCode,cmdDesc,primaryValue\n"
                    + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_component_sums_listed_products_between_the_pair_from_trade_flows(tmp_path):
    trade = _comtrade(tmp_path / "trade.csv", [
        row for i, m in enumerate(MONTHS) for row in (
            (m, "CHN", "RUS", "X", "854231", "processors", 1000 + i),   # CHPL tier 1
            (m, "RUS", "CHN", "X", "903082", "test instruments", 10),   # semiconductors list
            (m, "CHN", "RUS", "X", "010121", "horses", 777777),         # not listed
            (m, "CHN", "KAZ", "X", "854231", "processors", 555555))])   # not the pair
    # events over the same months (the index's calendar), through the old mapping
    events = _comtrade(tmp_path / "events.csv", [(m, "DEU", "FRA", "X", "8542", "ICs", 5)
                                                 for m in MONTHS])
    with EventStore(tmp_path / "hw.duckdb") as store:
        ingest_file(store, trade)
        ingest_file(store, events, format="mapped",
                    options=ReadOptions(mapping_path=_shipped("comtrade_trade")))
        result, _ = measure_convergence(store, a="RUS", b="CHN", baseline_months=6)
    raw = result.values["technology_transfer"]
    assert raw[0] == 1010 and raw[-1] == 1000 + 23 + 10
    assert "trade_flows" in result.descriptions["technology_transfer"]
    assert not any("deprecated" in w for w in result.warnings)


def test_old_mapping_users_keep_the_component_and_get_a_migration_note(tmp_path):
    old = _comtrade(tmp_path / "old.csv", [(m, "CHN", "RUS", "X", "8542", "ICs", 2000)
                                           for m in MONTHS])
    db = str(tmp_path / "hw.duckdb")
    result = CliRunner().invoke(cli, ["ingest", str(old), "--mapping", "comtrade_trade",
                                      "--db", db], catch_exceptions=False)
    assert result.exit_code == 0 and "hybridwatch ingest FILE" in result.stderr
    with EventStore(db) as store:
        convergence, _ = measure_convergence(store, a="RUS", b="CHN", baseline_months=6)
    assert convergence.values["technology_transfer"][0] == 2000
    assert any("deprecated comtrade_trade" in w for w in convergence.warnings)


def _shipped(name):
    from hybridwatch.adapters.mapped import SHIPPED_DIR

    return SHIPPED_DIR / f"{name}.toml"
