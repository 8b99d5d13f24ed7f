"""ACLED adapter against a hand-written export (ACLED's terms forbid shipping real rows)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from hybridwatch.adapters import detect_format
from hybridwatch.adapters.acled import AcledAdapter, acled_domain, event_country
from hybridwatch.adapters.base import ReadOptions, RecordError
from hybridwatch.adapters.textio import read_head
from hybridwatch.errors import FormatError
from hybridwatch.model.schema import EVENT_SCHEMA

FIXTURE = Path(__file__).parents[1] / "fixtures" / "acled" / "acled_sample.csv"


def _read(path: Path):
    [batch] = list(AcledAdapter().read(path, ReadOptions()))
    return batch.table, batch.rejections


def test_fixture_events_and_rejections():
    table, rejections = _read(FIXTURE)
    assert table.schema.equals(EVENT_SCHEMA)
    assert [(r.line, r.field, r.reason) for r in rejections] == [
        (10, "event_date", "not a date ('2024-02-30')"),
        (11, "country", "unknown country 'Narnia' (iso empty)"),
        (12, None, "ragged row: 18 fields, header has 31"),
    ]
    assert rejections[0].raw.startswith("UKR1004,2024-02-30,")
    got = [(r["source_record_id"], r["domain"], r["occurred_precision"],
            *r["target_iso3s"])
           for r in table.to_pylist()]
    assert got == [
        ("UKR1001", "military", "day", "UKR"), ("UKR1002", "military", "day", "UKR"),
        ("UKR1003", "military", "week", "UKR"), ("RUS2001", "social", "day", "RUS"),
        ("GEO3001", "social", "day", "GEO"), ("MDA4001", "diplomacy", "day", "MDA"),
        ("POL5001", "military", "month", "POL"), ("EST6001", "legal", "day", "EST"),
        ("LTU8001", "social", "day", "LTU"), ("XKX9001", "social", "day", "XKX"),
        ("UKR1005", "military", "day", "UKR"),
    ]
    rows = {r["source_record_id"]: r for r in table.to_pylist()}
    assert rows["UKR1002"]["occurred_at"] == datetime(2024, 2, 24)   # "24 February 2024"
    assert rows["UKR1005"]["occurred_at"] == datetime(2024, 3, 7)    # "7 March 2024"
    clash = rows["UKR1001"]
    assert clash["location_iso3"] == "UKR" and clash["location_name"] == "Avdiivka"
    assert (clash["lat"], clash["lon"]) == (48.1394, 37.7497)
    assert (clash["intensity"], clash["intensity_kind"]) == (3.0, "fatalities")
    assert clash["actor_name"] == "Military Forces of Russia (2000-)"
    assert clash["source_type"] == "Armed clash"
    assert clash["source_name"] == "Ministry of Defence of Ukraine; Ukrinform"
    extra = json.loads(clash["extra"])
    assert extra["actor2"] == "Military Forces of Ukraine (2019-)" and extra["iso"] == "804"
    assert "notes" not in extra and "assoc_actor_1" not in extra  # mapped / empty
    assert len(rows["UKR1002"]["title"]) == 200                      # notes cut to 200 chars
    assert rows["RUS2001"]["title"].startswith("On 1 March 2024, thousands gathered")


@pytest.mark.parametrize("event_type, sub_event_type, domain", [
    ("Battles", "Armed clash", "military"),
    ("Explosions/Remote violence", "Air/drone strike", "military"),
    ("Violence against civilians", "Abduction/forced disappearance", "military"),
    ("Protests", "Peaceful protest", "social"), ("Riots", "Mob violence", "social"),
    ("Strategic developments", "Agreement", "diplomacy"),
    ("Strategic developments", "Arrests", "legal"),
    ("Strategic developments", "Disrupted weapons use", "military"),
    ("Strategic developments", "Change to group/activity", "political"),
    ("Strategic developments", "Other", "political"),
])
def test_domain_table(event_type, sub_event_type, domain):
    assert acled_domain(event_type, sub_event_type) == domain


def test_domain_and_country_errors():
    with pytest.raises(RecordError, match="unknown ACLED event type"):
        acled_domain("Cyber attacks", "Other")
    assert event_country("804", "") == "UKR"
    assert event_country("4", "") == "AFG"              # zero-padded: ISO numeric 004
    assert event_country("0", "Kosovo") == "XKX"        # ACLED gives Kosovo iso 0
    with pytest.raises(RecordError, match="not a country"):
        event_country("", "Europe")


def test_sniff_and_missing_columns(tmp_path):
    assert AcledAdapter().sniff(FIXTURE, read_head(FIXTURE)) == 95
    assert detect_format(FIXTURE).name == "acled"
    upper = tmp_path / "upper.csv"  # some exports write the header in capitals
    upper.write_text(FIXTURE.read_text().replace(
        FIXTURE.read_text().split("\n", 1)[0], FIXTURE.read_text().split("\n", 1)[0].upper()))
    assert AcledAdapter().sniff(upper, read_head(upper)) == 95
    [batch] = list(AcledAdapter().read(upper, ReadOptions()))
    assert batch.table.num_rows == 11
    partial = tmp_path / "partial.csv"
    partial.write_text("event_id_cnty,event_date,country\nUKR1,2024-01-01,Ukraine\n")
    with pytest.raises(FormatError, match="event_type, sub_event_type"):
        list(AcledAdapter().read(partial, ReadOptions()))
