"""Hostile and odd markings (issue #14 §1): what cannot be mapped with certainty is RED.

Each case is one object as an attacker or a careless producer would write it; the expected
level comes from TLP 2.0 (``tests/tlp_truth.py``), not from the code under test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tlp_truth import TLP_IDS

from hybridwatch.adapters.base import ReadOptions
from hybridwatch.adapters.misp import MispJsonAdapter
from hybridwatch.adapters.stix import StixAdapter

ID_OF = {level: marking_id for marking_id, level in TLP_IDS.items()}
TLP1_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"


def _definition(uuid_tail: str, **fields: Any) -> dict[str, Any]:
    return {"type": "marking-definition", "spec_version": "2.1",
            "id": f"marking-definition--00000000-0000-4000-8000-{uuid_tail:0>12}",
            "created": "2024-01-01T00:00:00.000Z", **fields}


STATEMENT_RED = _definition("1", definition_type="statement",
                            definition={"statement": "Distribution: TLP:RED, named recipients"})
COPYRIGHT = _definition("2", definition_type="statement",
                        definition={"statement": "Copyright 2024, Example Corp."})
TLP1_STYLE_RED = _definition("3", definition_type="tlp", definition={"tlp": "TLP:RED"})
ODD_EXTENSION = _definition("4", name="TLP:RED", extensions={
    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
        {"extension_type": "property-extension", "tlp_2_0": "RED "}})
UNREADABLE_LEVEL = _definition("5", definition_type="tlp", definition={"tlp": "purple"})
UNKNOWN_KIND = _definition("6", definition_type="x-acme-sharing", definition={"rule": "x"})

CASES = {  # name → (marking fields of the campaign, expected level)
    "id neither published nor in the bundle": (
        {"object_marking_refs": ["marking-definition--99999999-0000-4000-8000-000000000000"]},
        "red"),
    "statement naming TLP:RED": ({"object_marking_refs": [STATEMENT_RED["id"]]}, "red"),
    "TLP 1.0 style definition 'TLP:RED'": ({"object_marking_refs": [TLP1_STYLE_RED["id"]]}, "red"),
    "TLP 2.0 extension value 'RED '": ({"object_marking_refs": [ODD_EXTENSION["id"]]}, "red"),
    "unreadable level": ({"object_marking_refs": [UNREADABLE_LEVEL["id"]]}, "red"),
    "unknown definition type": ({"object_marking_refs": [UNKNOWN_KIND["id"]]}, "red"),
    "granular marking RED on a GREEN object": (
        {"object_marking_refs": [ID_OF["green"]],
         "granular_markings": [{"marking_ref": ID_OF["red"], "selectors": ["description"]}]},
        "red"),
    "object_marking_refs as a string": ({"object_marking_refs": ID_OF["amber+strict"]},
                                        "amber+strict"),
    "copyright statement beside TLP 1.0 GREEN": (
        {"object_marking_refs": [COPYRIGHT["id"], TLP1_GREEN]}, "green"),
    "copyright statement only": ({"object_marking_refs": [COPYRIGHT["id"]]}, None),
}


@pytest.fixture(scope="module")
def stix_levels(tmp_path_factory) -> dict[str, str | None]:
    objects: list[dict[str, Any]] = [STATEMENT_RED, COPYRIGHT, TLP1_STYLE_RED, ODD_EXTENSION,
                                     UNREADABLE_LEVEL, UNKNOWN_KIND]
    for i, (name, (markings, _)) in enumerate(CASES.items()):
        objects.append({"type": "campaign", "spec_version": "2.1",
                        "id": f"campaign--00000000-0000-4000-8000-{i + 1:0>12}",
                        "created": "2024-02-01T00:00:00.000Z",
                        "modified": "2024-02-01T00:00:00.000Z", "name": name,
                        "first_seen": "2024-01-15T00:00:00Z", **markings})
    path = tmp_path_factory.mktemp("stix") / "markings.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-"
                                "000000000001", "objects": objects}), encoding="utf-8")
    rows = pa.concat_tables([b.table for b in StixAdapter().read(path, ReadOptions())
                             if b.kind == "events"]).to_pylist()
    return {row["title"]: row["tlp"] for row in rows}


@pytest.mark.parametrize("case", list(CASES))
def test_stix_markings_map_or_fail_closed(stix_levels, case):
    assert stix_levels[case] == CASES[case][1]


def _misp(tmp_path: Path, **event: Any) -> dict[str, Any]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"Event": {"uuid": "5f1e2d3c-0000-4000-8000-000000000999",
                                          "date": "2024-03-01", "info": "case", **event}}),
                    encoding="utf-8")
    batches = list(MispJsonAdapter().read(path, ReadOptions()))
    assert not [r for b in batches for r in b.rejections]
    return pa.concat_tables([b.table for b in batches]).to_pylist()[0]


@pytest.mark.parametrize(("tags", "expected"), [
    (["tlp:ex:chr"], "red"),             # a tlp: tag naming no TLP 2.0 level
    (["tlp: red"], "red"),               # spacing as written
    (["TLP:Amber+Strict"], "amber+strict"),
    (["tlp:white", "tlp:green"], "green"),
    ([7], None),                         # a numeric tag name is no marking (and no crash)
])
def test_misp_tags(tmp_path, tags, expected):
    assert _misp(tmp_path, Tag=[{"name": t} for t in tags])["tlp"] == expected


def test_misp_event_tag_shape_is_read(tmp_path):
    row = _misp(tmp_path, EventTag=[{"Tag": {"name": "tlp:red"}}])
    assert row["tlp"] == "red"


def test_misp_distribution_zero_is_at_least_amber_strict(tmp_path):
    assert _misp(tmp_path, distribution="0")["tlp"] == "amber+strict"
    assert _misp(tmp_path, distribution="0", Tag=[{"name": "tlp:red"}])["tlp"] == "red"
    assert _misp(tmp_path, distribution="3", Tag=[{"name": "tlp:green"}])["tlp"] == "green"


def test_a_red_attributes_link_never_reaches_a_green_event(tmp_path):
    red = {"type": "link", "value": "https://secret.example/red",
           "Tag": [{"name": "tlp:red"}]}
    org_only = {"type": "link", "value": "https://secret.example/org", "distribution": "0"}
    green = {"type": "link", "value": "https://example.org/green"}
    row = _misp(tmp_path, Tag=[{"name": "tlp:green"}], Attribute=[red, org_only, green])
    assert (row["tlp"], row["source_url"]) == ("green", "https://example.org/green")
    row = _misp(tmp_path, Tag=[{"name": "tlp:green"}], Attribute=[red])
    assert row["source_url"] is None
    assert "secret.example" not in json.dumps(row["extra"])
