"""DISARM: the shipped table matches the Foundation's bundle, the tagger against a hand-labelled
set, and the STIX export of tags."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from hybridwatch.analyses.narratives_disarm import DisarmTagger
from hybridwatch.errors import InputError
from hybridwatch.model.disarm import disarm_framework, load_rules, technique
from hybridwatch.outputs.stix_disarm import OPENCTI_EXTENSION, disarm_objects

CASES = Path(__file__).parents[1] / "fixtures" / "disarm" / "labelled_cases.toml"


def test_shipped_table_is_the_bundle_converted(shared_data: Path):
    bundle = json.loads((shared_data / "disarm_framework" / "DISARM.json").read_text("utf-8"))
    patterns = [o for o in bundle["objects"] if o["type"] == "attack-pattern"]
    framework = disarm_framework()
    assert len(framework.techniques) == len(patterns) == 391 and len(framework.tactics) == 16
    assert framework.licence == "CC BY-SA 4.0" and "49df5f64" in framework.version
    by_id = {o["external_references"][0]["external_id"]: o for o in patterns}
    for tid in ("T0022", "T0097.108", "T0155.007"):
        assert technique(tid).name == by_id[tid]["name"]
        assert technique(tid).stix_id == by_id[tid]["id"]
        assert technique(tid).phase == by_id[tid]["kill_chain_phases"][0]["phase_name"]
    assert technique("T0097.108").parent == "T0097"
    with pytest.raises(KeyError, match="T9999"):
        technique("T9999")


def test_rules_file_errors_name_the_rule(tmp_path: Path):
    bad = tmp_path / "rules.toml"
    bad.write_text('[[rule]]\ntechnique = "T9999"\nconfidence = 0.5\npatterns = ["x"]\n', "utf-8")
    with pytest.raises(InputError, match="rule 1 \\(T9999\\): not a DISARM technique"):
        load_rules(bad)
    bad.write_text('[[rule]]\ntechnique = "T0022"\nconfidence = 0.5\npatterns = ["(x"]\n', "utf-8")
    with pytest.raises(InputError, match="rule 1 \\(T0022\\): bad pattern"):
        load_rules(bad)


def _scores(tagger: DisarmTagger) -> tuple[float, float]:
    cases = tomllib.loads(CASES.read_text(encoding="utf-8"))["case"]
    tp = fp = fn = 0
    for case, tags in zip(cases, tagger.tag([c["text"] for c in cases])):
        got, want = {t.technique for t in tags}, set(case["techniques"])
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def test_tagger_on_the_labelled_set():
    # measured (36 claims, 37 labels): rules P 0.96 R 0.65; classifier P 1.00 R 0.27;
    # combined P 0.97 R 0.76
    rules = _scores(DisarmTagger(use_classifier=False))
    combined = _scores(DisarmTagger())
    assert combined[0] >= 0.9 and combined[1] >= 0.7
    assert combined[1] > rules[1]          # the classifier adds recall the rules miss
    tags = DisarmTagger().tag(["Western media lie: the massacre was staged"])[0]
    staged = next(t for t in tags if t.technique == "T0023")
    assert staged.evidence == "staged" and 0.5 <= staged.confidence <= 1
    assert DisarmTagger().tag(["Central bank keeps interest rates unchanged"]) == [[]]


def test_stix_export_of_tags():
    tag = {"technique": "T0023", "confidence": 0.78, "evidence": "staged", "method": "rule"}
    objects = disarm_objects(
        [{"event_id": "e1", "title": "The massacre was staged", "url": "https://x.example/1",
          "occurred_at": "2024-03-01T00:00:00", "techniques": [tag]}],
        [{"narrative_id": "n0001", "label": "nato / expansion", "terms": ["nato"],
          "techniques": [tag]}],
        producer="hybridwatch", generated_at=datetime(2024, 3, 2))
    by_type: dict[str, list] = {}
    for o in objects:
        by_type.setdefault(o["type"], []).append(o)
    (pattern,) = by_type["attack-pattern"]
    assert pattern["id"] == technique("T0023").stix_id
    assert pattern["kill_chain_phases"] == [{"kill_chain_name": "disarm",
                                             "phase_name": "develop-content"}]
    assert pattern["external_references"][0]["external_id"] == "T0023"
    (narrative,) = by_type["narrative"]
    assert narrative["extensions"] == {OPENCTI_EXTENSION: {"extension_type": "new-sdo"}}
    uses = by_type["relationship"]
    assert {r["source_ref"] for r in uses} == {by_type["campaign"][0]["id"], narrative["id"]}
    assert all(r["relationship_type"] == "uses" and r["target_ref"] == pattern["id"]
               and r["confidence"] == 78 for r in uses)
    import stix2

    stix2.parse(pattern, allow_custom=True)
    stix2.parse(uses[0], allow_custom=True)
