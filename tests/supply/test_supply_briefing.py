"""The supply section of the briefing: its two charts from the stored run, and the direct
flow they compare with, checked against the store's declarations summed by hand."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from trade_data import BREAK, ORIGINS, write_comtrade

from hybridwatch.cli import cli
from hybridwatch.outputs.briefing import render_briefing_html
from hybridwatch.outputs.briefing.supply_charts import chosen_vias, sankey_vias, usd
from hybridwatch.store import EventStore
from hybridwatch.store.findings_store import latest_run


@pytest.fixture(scope="module")
def supply_store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("supply-briefing")
    db = str(tmp / "hw.duckdb")
    truth = write_comtrade(tmp / "trade.csv", [5])[0]
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(tmp / "trade.csv"), "--db", db, "-q"]).exit_code == 0
    result = runner.invoke(cli, ["supply", "--product", truth.product, "--destination", "RUS",
                                 "--origin", ",".join(ORIGINS), "--break", str(BREAK),
                                 "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    return db, truth


def _direct_by_hand(db: str, product: str) -> tuple[float, float]:
    """Origins → RUS per month, the importer's declaration where there is one, else the
    exporters' (docs/supply-chains.md), averaged over 24 months before the break and 12 from it."""
    origins = ", ".join(f"'{o}'" for o in ORIGINS)
    with EventStore(db, read_only=True) as store:
        rows = store._con.execute(f"""
            WITH legs AS (
              SELECT CASE WHEN flow = 'import' THEN partner_iso3 ELSE reporter_iso3 END AS e,
                     CASE WHEN flow = 'import' THEN reporter_iso3 ELSE partner_iso3 END AS i,
                     period, flow, value_usd
              FROM trade_flows WHERE product = '{product}' AND flow IN ('import', 'export')),
            pairs AS (
              SELECT e, period, coalesce(max(value_usd) FILTER (WHERE flow = 'import'),
                                         max(value_usd) FILTER (WHERE flow = 'export')) AS v
              FROM legs WHERE i = 'RUS' AND e IN ({origins}) GROUP BY e, period)
            SELECT strftime(period, '%Y-%m') AS m, sum(v) FROM pairs GROUP BY m ORDER BY m
        """).fetchall()
    by_month = dict(rows)
    months = [str(BREAK - 24 + k) for k in range(36)]
    before = sum(by_month.get(m, 0.0) for m in months[:24]) / 24
    after = sum(by_month.get(m, 0.0) for m in months[24:]) / 12
    return before, after


def test_the_direct_flow_is_the_declared_flow_before_and_after(supply_store):
    db, truth = supply_store
    with EventStore(db, read_only=True) as store:
        run = latest_run(store, "supply")
    direct = run.summary["diversion_test"]["direct_flow"]
    before, after = _direct_by_hand(db, truth.product)
    assert direct["mean_monthly_usd_before"] == pytest.approx(before, rel=1e-6)
    assert direct["mean_monthly_usd_after"] == pytest.approx(after, rel=1e-6)
    # the planted break: origin exports to the destination fall by 85%
    assert after < 0.3 * before


def test_the_briefing_draws_flows_and_the_sankey_from_the_stored_run(supply_store):
    db, truth = supply_store
    with EventStore(db, read_only=True) as store:
        run = latest_run(store, "supply")
        html = render_briefing_html(store, tlp="clear")
    section = html.split('<section id="supply">')[1].split("</section>")[0]
    svgs = re.findall(r"<svg.*?</svg>", section, flags=re.DOTALL)
    assert len(svgs) == 2
    flows, sankey = svgs
    texts = [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text.*?</text>", sankey,
                                                              flags=re.DOTALL)]
    sankey_text = " ".join(texts)
    drawn = sankey_vias(run.items)
    significant = {i["via"] for i in run.items if i["significant"]}
    # the diagram shows the finding: the significant transit countries, planted ones among them
    assert {i["via"] for i in drawn} == significant >= set(truth.transit)
    for item in drawn:
        after_a = item["evidence"]["origin_to_via"]["mean_monthly_usd_after"]
        after_b = item["evidence"]["via_to_destination"]["mean_monthly_usd_after"]
        label = f"{item['via']} *: in {usd(after_a)}, out {usd(after_b)}".replace("\\$", "$")
        assert label in sankey_text
    # decoys are not drawn as diversion
    assert not set(truth.decoys) & {i["via"] for i in drawn}
    # the before/after chart: the direct flow first, then both legs of each chosen candidate
    assert "(direct)" in flows
    for item in chosen_vias(run.items):
        assert f"{item['via']} → RUS" in flows.replace("&#8594;", "→")
