"""Events that name several targets count once for each, everywhere: stats, `events --target`,
selectors and series, the episode scan, and the STIX export and re-import.

The data come from a generator written for this test (not the demo's): EUvsDisinfo cases naming
one to three countries, STIX 2.1 campaigns with one to three `targets` relationships, and a
mapped table of military activity whose victim cell lists several countries. The truth is what
the generator wrote, counted here in Python; a planted multi-domain burst names POL first and DEU
second, so a "first target only" rule would hide it from DEU.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hybridwatch.adapters import ReadOptions
from hybridwatch.analyses.selectors import parse_selector
from hybridwatch.analyses.series import daily_series, event_counts
from hybridwatch.cli import cli
from hybridwatch.outputs.stix_export import export_stix
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.workflows.coordination import detect_episodes
from hybridwatch.workflows.findings import record_episodes

START = date(2023, 1, 2)
DAYS = 180
PLANT = (120, 124)  # days of the planted burst, [first, last)
POOL = {"DEU": ("Germany", "DE"), "POL": ("Poland", "PL"), "LTU": ("Lithuania", "LT")}
MAPPING = """
[source]
name = "mil_activity"
[fields]
source_record_id = "ref"
occurred_at = { column = "day", format = "%Y-%m-%d" }
domain = { const = "military" }
actor_iso3 = { const = "RUS" }
target_iso3 = { column = "affected", system = "name", split = "+" }
"""


def _targets(rng: np.random.Generator) -> list[str]:
    """One to three distinct targets, in a random order."""
    k = int(rng.integers(1, 4))
    return [str(code) for code in rng.choice(list(POOL), size=k, replace=False)]


def _day(i: int) -> date:
    return START + timedelta(days=i)


def generate(root: Path, *, seed: int, plant: bool) -> dict:
    """Write the three files; return their paths and every event's target list by source."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    truth: dict[str, list[tuple[date, list[str]]]] = {"information": [], "cyber": [],
                                                      "military": []}
    for domain in truth:
        for i in range(DAYS):
            for _ in range(int(rng.poisson(0.5))):
                truth[domain].append((_day(i), _targets(rng)))
            if plant and PLANT[0] <= i < PLANT[1]:
                truth[domain] += [(_day(i), ["POL", "DEU"])] * 4  # POL first, DEU second
    files = {"euvsdisinfo": root / "cases.csv", "stix": root / "campaigns.json",
             "mapped": root / "activity.csv"}
    with open(files["euvsdisinfo"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "id", "title", "countries", "keywords", "languages", "outlets"])
        for n, (day, targets) in enumerate(truth["information"]):
            names = "+".join(["Russia"] + [POOL[t][0] for t in targets])  # Russia dropped
            writer.writerow([day.isoformat(), f"https://example.org/case/{n}", f"case {n}",
                             names, "NATO", "Russian", "Outlet A"])
    objects = [{"type": "location", "spec_version": "2.1", "id": f"location--{_uuid(code)}",
                "created": "2023-01-01T00:00:00.000Z", "modified": "2023-01-01T00:00:00.000Z",
                "name": name, "country": iso2} for code, (name, iso2) in POOL.items()]
    for n, (day, targets) in enumerate(truth["cyber"]):
        campaign = f"campaign--{_uuid(f'c{n}')}"
        stamp = f"{day.isoformat()}T08:00:00.000Z"
        objects.append({"type": "campaign", "spec_version": "2.1", "id": campaign,
                        "created": stamp, "modified": stamp, "name": f"Operation {n}",
                        "first_seen": stamp})
        for target in targets:
            objects.append({"type": "relationship", "spec_version": "2.1",
                            "id": f"relationship--{_uuid(f'r{n}{target}')}", "created": stamp,
                            "modified": stamp, "relationship_type": "targets",
                            "source_ref": campaign, "target_ref": f"location--{_uuid(target)}"})
    files["stix"].write_text(json.dumps({"type": "bundle", "id": f"bundle--{_uuid('b')}",
                                         "objects": objects}), encoding="utf-8")
    with open(files["mapped"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ref", "day", "affected"])
        for n, (day, targets) in enumerate(truth["military"]):
            writer.writerow([f"M{n}", day.isoformat(), "+".join(POOL[t][0] for t in targets)])
    (root / "activity.toml").write_text(MAPPING, encoding="utf-8")
    return {"files": files, "mapping": root / "activity.toml", "truth": truth}


def _uuid(text: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, text))


def ingest(generated: dict, path: Path) -> Path:
    with EventStore(path) as store:
        for name, file in generated["files"].items():
            options = ReadOptions(mapping_path=generated["mapping"] if name == "mapped" else None)
            report = ingest_file(store, file, format=name, options=options)
            assert report.status == "ingested" and report.quarantined == 0, report
    return path


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("many_targets")
    generated = generate(root / "files", seed=11, plant=True)
    generated["store"] = ingest(generated, root / "store.duckdb")
    return generated


def _all(truth: dict) -> list[tuple[date, list[str]]]:
    return [row for rows in truth.values() for row in rows]


def test_stats_and_events_count_each_event_once_per_target(planted):
    events = _all(planted["truth"])
    per_target = Counter(t for _, targets in events for t in targets)
    assert sum(per_target.values()) > len(events)  # several targets per event do occur
    with EventStore(planted["store"], read_only=True) as store:
        stats = store.stats()
    assert stats["events"] == len(events)
    assert stats["by_target"] == dict(per_target)
    for target, expected in per_target.items():
        result = CliRunner().invoke(cli, ["events", "--db", str(planted["store"]), "--target",
                                          target, "--limit", "0", "--json"])
        assert json.loads(result.stdout)["total"] == expected


def test_selectors_and_series_count_every_event_naming_the_target(planted):
    events = _all(planted["truth"])
    with EventStore(planted["store"], read_only=True) as store:
        table = store.ibis_events()
        matrix = daily_series(table, [parse_selector("target=DEU"),
                                      parse_selector("domain=cyber target=LTU")],
                              start=START, end=_day(DAYS - 1))
        by_target = event_counts(table, by=("target_iso3",)).to_pyarrow().to_pylist()
    deu = Counter(day for day, targets in events if "DEU" in targets)
    ltu = Counter(day for day, targets in planted["truth"]["cyber"] if "LTU" in targets)
    days = [_day(i) for i in range(DAYS)]
    assert matrix.counts[:, 0].tolist() == [deu[d] for d in days]
    assert matrix.counts[:, 1].tolist() == [ltu[d] for d in days]
    totals: Counter = Counter()
    for row in by_target:
        totals[row["target_iso3"]] += row["n_events"]
    assert totals == Counter(t for _, targets in events for t in targets)


def _in_plant(episode: dict) -> bool:
    first, last = _day(PLANT[0] - 2), _day(PLANT[1] + 2)
    return date.fromisoformat(episode["start"]) <= last and \
        date.fromisoformat(episode["end"]) >= first


def test_episode_scan_sees_a_burst_in_every_target_it_names(planted, tmp_path):
    with EventStore(planted["store"], read_only=True) as store:
        report = detect_episodes(store, targets=["DEU"], n_surrogates=199,
                                 random_state=5).to_dict()
        found = [e for e in report["episodes"] if _in_plant(e)]
        assert found and {"information", "cyber", "military"} <= set(found[0]["domains"])
        assert "DEU" in found[0]["targets"]
        named = store._con.execute(
            "SELECT count(*) FROM events WHERE event_id IN (SELECT unnest(?)) AND "
            "list_contains(target_iso3s, 'DEU')", [found[0]["event_ids"]]).fetchall()[0][0]
    assert named == len(found[0]["event_ids"]) == len(set(found[0]["event_ids"]))
    # the null twin: the same background without the burst has no episode there
    twin = generate(tmp_path / "null", seed=11, plant=False)
    with EventStore(ingest(twin, tmp_path / "null.duckdb"), read_only=True) as store:
        null_report = detect_episodes(store, targets=["DEU"], n_surrogates=199,
                                      random_state=5).to_dict()
    assert not [e for e in null_report["episodes"] if _in_plant(e)]


def test_stix_export_carries_every_target_and_import_restores_them(planted, tmp_path):
    store_path = tmp_path / "copy.duckdb"
    store_path.write_bytes(planted["store"].read_bytes())
    with EventStore(store_path) as store:
        report = detect_episodes(store, targets=["DEU"], n_surrogates=199, random_state=5)
        record_episodes(store, report)
        bundle = export_stix(store, tlp="clear").bundle
        originals = dict(store._con.execute(
            "SELECT source_record_id, target_iso3s FROM events WHERE source = 'stix'"
        ).fetchall())
    objects = {o["id"]: o for o in bundle["objects"]}
    exported = [o for o in bundle["objects"] if o["type"] == "campaign" and o["id"] in originals]
    assert exported and any(len(originals[o["id"]]) > 1 for o in exported)
    for campaign in exported:
        targets = [objects[r["target_ref"]]["country"] for r in bundle["objects"]
                   if r["type"] == "relationship" and r["relationship_type"] == "targets"
                   and r["source_ref"] == campaign["id"]]
        assert sorted(targets) == sorted(POOL[t][1] for t in originals[campaign["id"]])
    (tmp_path / "bundle.json").write_text(json.dumps(bundle), encoding="utf-8")
    with EventStore(tmp_path / "partner.duckdb") as partner:
        ingest_file(partner, tmp_path / "bundle.json")
        imported = dict(partner._con.execute(
            "SELECT source_record_id, target_iso3s FROM events WHERE source = 'stix'"
        ).fetchall())
    for campaign in exported:
        assert sorted(imported[campaign["id"]]) == sorted(originals[campaign["id"]])


def test_events_json_lists_every_target_in_source_order(planted):
    result = CliRunner().invoke(cli, ["events", "--db", str(planted["store"]), "--source",
                                      "mil_activity", "--limit", "100000", "--json"])
    listed = json.loads(result.stdout)["events"]
    truth = planted["truth"]["military"]
    assert len(listed) == len(truth)
    for event in listed:
        day, targets = truth[int(event["source_record_id"][1:])]
        assert event["target_iso3s"] == targets
        assert datetime.fromisoformat(event["occurred_at"]).date() == day
