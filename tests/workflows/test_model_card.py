"""`hybridwatch model-card` against a backtest computed independently here.

The store holds generated activity with a known generating process (``demo.risk_synth``),
ingested through a mapped CSV, and its episode starts stored as an episode run. The test
rebuilds the same daily counts from the generator's arrays (not from the store), runs the
backtest on them, and checks the card's numbers — per outcome: forecasts, positives, Brier,
skill and interval, reliability by bin — and its counts per target and domain against the
generator's own totals.
"""

from __future__ import annotations

import json
import numpy as np
import pytest
from click.testing import CliRunner

from hybridwatch.adapters import ReadOptions
from hybridwatch.analyses.risk import RiskParameters, assess_risk
from hybridwatch.analyses.risk_features import DailyCells
from hybridwatch.cli import cli
from hybridwatch.demo.risk_synth import synth_activity
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.store.findings_store import FindingItem, save_run

TARGETS = ["DEU", "POL", "TWN", "LTU", "EST"]
DOMAINS = ["cyber", "military", "diplomacy", "information"]   # hybridwatch's DOMAINS order
MAPPING = """
[source]
name = "synth_ops"
format = "csv"
[fields]
source_record_id = "id"
occurred_at = { column = "date", format = "%Y-%m-%d" }
domain = "domain"
target_iso3 = "target"
source_type = { const = "operation" }
title = "title"
tlp = { const = "clear" }
"""


@pytest.fixture(scope="module")
def synth():
    return synth_activity(n_days=900, n_targets=len(TARGETS), n_domains=len(DOMAINS),
                          random_state=3, start="2020-01-01")


@pytest.fixture(scope="module")
def card_db(tmp_path_factory, synth):
    root = tmp_path_factory.mktemp("card")
    day, target, domain = np.nonzero(synth.counts)
    n = synth.counts[day, target, domain]
    day, target, domain = (np.repeat(v, n) for v in (day, target, domain))
    dates = synth.dates[day].astype(str)
    lines = ["id,date,domain,target,title"] + [
        f"op-{i},{d},{DOMAINS[k]},{TARGETS[t]},{DOMAINS[k]} operation against {TARGETS[t]}"
        for i, (d, k, t) in enumerate(zip(dates, domain, target))]
    (root / "ops.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "ops.toml").write_text(MAPPING, encoding="utf-8")
    db = root / "store.duckdb"
    with EventStore(db) as store:
        report = ingest_file(store, root / "ops.csv", format="mapped",
                             options=ReadOptions(mapping_path=root / "ops.toml"))
        assert report.ingested == int(synth.counts.sum())
        starts = np.argwhere(synth.episode_starts)
        save_run(store, "episodes", {"parameters": {"include_cooperative": False}}, [
            FindingItem(f"{d}:{t}", {"start": str(synth.dates[d]), "end": str(synth.dates[d]),
                                     "targets": [TARGETS[t]], "domains": DOMAINS[:3],
                                     "p_value": 0.001, "event_ids": []})
            for d, t in starts])
    as_of = str(synth.dates[-1])
    result = CliRunner().invoke(cli, ["assess", "--as-of", as_of, "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    return db


def _independent_backtest(synth):
    """The backtest on the generator's arrays, targets ordered busiest first as the workflow
    models them (ordering only changes floating-point rounding)."""
    totals = synth.counts.sum(axis=(0, 2))
    order = sorted(range(len(TARGETS)), key=lambda k: (-totals[k], TARGETS[k]))
    return assess_risk(DailyCells.from_dense(synth.counts[:, order, :].astype(float)),
                       DailyCells.from_dense(synth.episode_starts[:, order].astype(float)),
                       dates=synth.dates, targets=[TARGETS[k] for k in order],
                       domains=DOMAINS, parameters=RiskParameters(), random_state=0)


def _card(db, *args):
    result = CliRunner().invoke(cli, ["model-card", "--db", str(db), "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_metrics_equal_an_independent_backtest(card_db, synth):
    card = _card(card_db)
    truth = _independent_backtest(synth)
    for outcome in ("episode", "elevated", "pooled"):
        scores, got = truth.backtest[outcome], card["metrics"][outcome]
        assert got["n_forecasts"] == scores.n_forecasts > 0
        positives = int(round(scores.base_rate * scores.n_forecasts))
        assert got["n_positive"] == positives
        assert got["base_rate_words"].startswith(f"{positives:,} of {scores.n_forecasts:,} ")
        for key in ("brier", "brier_climatology", "brier_persistence", "log_loss"):
            assert got[key] == pytest.approx(getattr(scores, key), abs=1e-9), key
        for key in ("skill", "skill_low", "skill_high", "skill_persistence"):
            assert got[key] == pytest.approx(getattr(scores, key), abs=1e-6), key
        assert got["demonstrated"] == scores.demonstrated
        bins = [r for r in scores.reliability if r["n"]]
        assert [r["n"] for r in got["reliability"]] == [r["n"] for r in bins]
        assert sum(r["n"] for r in got["reliability"]) == scores.n_forecasts
        # the observed rates of the bins add back up to the positives
        assert sum(r["n"] * r["observed_rate"] for r in got["reliability"]) == \
            pytest.approx(positives)
    assert card["skill_shown"] == truth.backtest["episode"].demonstrated
    first, last = truth.backtest_origins["episode"]
    assert card["metrics"]["episode"]["origins"] == {"first": first, "last": last}


def test_training_data_counts_are_the_generators(card_db, synth):
    data = _card(card_db)["training_data"]
    assert data["window"] == {"first": str(synth.dates[0]), "last": str(synth.dates[-1])}
    assert [s["source"] for s in data["sources"]] == ["synth_ops"]
    assert data["sources"][0]["events"] == int(synth.counts.sum())
    assert data["sources"][0]["statement"] is None       # no shipped statement for it
    for row in data["by_target"]:
        k = TARGETS.index(row["target"])
        assert row["by_domain"] == {d: int(synth.counts[:, k, DOMAINS.index(d)].sum())
                                    for d in data["domains"]}
        assert row["events"] == int(synth.counts[:, k].sum())
    assert data["fits"]["episode"]["fitted"] and data["fits"]["episode"]["n_positive"] > 0


def test_sections_features_failure_modes_and_markdown(card_db, tmp_path):
    out = tmp_path / "card.md"
    card = _card(card_db, "-o", str(out))
    assert card["intended_use"] and any("individuals" in u for u in card["out_of_scope"])
    assert any("automated action" in u.lower() for u in card["out_of_scope"])
    names = {f["name"] for f in card["features"]}
    assert {"activity", "activity_7d", "breadth", "recent_episodes", "convergence"} <= names
    for feature in card["features"]:
        assert feature["meaning"]
        for outcome in feature["outcomes"].values():
            word = ("raises" if outcome["coefficient"] >= 0.05 else
                    "lowers" if outcome["coefficient"] <= -0.05 else "almost no difference")
            assert word in outcome["words"]
            assert outcome["agrees_with_domain"] == (outcome["coefficient"] > -0.05)
    modes = {m["mode"] for m in card["failure_modes"]}
    assert {"coverage bias", "attribution uncertainty", "thin evidence",
            "undocumented sources"} <= modes
    assert card["evaluation"]["evaluated_at"].endswith("Z")
    text = out.read_text(encoding="utf-8")
    for heading in ("## Intended use", "## Out-of-scope uses", "## Training data",
                    "## Features", "## Backtest metrics", "## Known failure modes"):
        assert heading in text
    episode = card["metrics"]["episode"]
    assert f"{episode['n_positive']:,} of {episode['n_forecasts']:,}" in text
    assert f"{episode['skill']:+.3f}" in text


def test_data_statements_override_and_the_card_quotes_them(card_db, tmp_path):
    own = tmp_path / "statements.toml"
    own.write_text('[[statement]]\nsource = "synth_ops"\ncollector = "The test generator"\n'
                   'licence = "CC0"\ncoverage = "2020-2022"\nbiases = ["Invented."]\n',
                   encoding="utf-8")
    card = _card(card_db, "--data-statements", str(own))
    statement = card["training_data"]["sources"][0]["statement"]
    assert statement["collector"] == "The test generator" and statement["biases"] == ["Invented."]
    assert "undocumented sources" not in {m["mode"] for m in card["failure_modes"]}


def test_no_stored_assessment_is_a_clear_error(tmp_path):
    with EventStore(tmp_path / "empty.duckdb"):
        pass
    result = CliRunner().invoke(cli, ["model-card", "--db", str(tmp_path / "empty.duckdb")])
    assert result.exit_code == 2 and "hybridwatch assess" in result.output


def test_window_is_read_up_to_as_of(card_db, synth):
    """An assessment as of an earlier day: the card's data window and counts stop there."""
    as_of = synth.dates[-200]
    result = CliRunner().invoke(cli, ["assess", "--as-of", str(as_of), "--db", str(card_db),
                                      "--json"])
    assert result.exit_code == 0, result.output
    data = _card(card_db)["training_data"]
    assert data["window"]["last"] == str(as_of)
    cut = int((as_of - synth.dates[0]).astype(int)) + 1
    assert data["events"] == int(synth.counts[:cut].sum())
    assert data["as_of"] == str(as_of)


def test_the_card_travels_in_the_briefing_annex_and_the_stix_export(card_db):
    from hybridwatch.model.stix_findings import note_record
    from hybridwatch.outputs.briefing.render import html_from_context
    from hybridwatch.outputs.briefing.context import build_context
    from hybridwatch.outputs.stix_export import export_stix
    from hybridwatch.workflows.model_card import model_card

    with EventStore(card_db, read_only=True) as store:
        card = model_card(store)
        ctx = build_context(store, tlp="amber")
        html = html_from_context(ctx)
        bundle = export_stix(store, tlp="amber").bundle
    assert ctx["model_card"] == card
    assert 'id="annex-model-card"' in html
    assert card["metrics"]["episode"]["base_rate_words"] in html
    notes = [o for o in bundle["objects"] if o["type"] == "note"
             and (note_record(o.get("content")) or {}).get("hybridwatch") == "model-card"]
    assert len(notes) == 1
    amber = {o["id"] for o in bundle["objects"] if o["type"] == "marking-definition"
             and o.get("name") == "TLP:AMBER"}
    assert notes[0]["object_marking_refs"] == sorted(amber)   # the export's ceiling, always
    record = note_record(notes[0]["content"])
    assert record["card"] == json.loads(json.dumps(card))
    assert notes[0]["content"].startswith("# Model card: hybridwatch risk model")
