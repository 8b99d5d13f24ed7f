"""Writers of the demo scenario's files, each in a real source format.

Each writer takes the scenario's drawn events (day offsets, series, codes) and returns the record
ids it wrote, in the order it was given them, so ``ground_truth.json`` can name them. Random
details (times of day, mentions, tone, markings) come from the caller's generator, so the same
seed writes the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from hybridwatch.demo.scenario_texts import (
    CAMPAIGN_NAMES,
    CASE_KEYWORDS,
    CASE_LANGUAGES,
    CASE_OUTLETS,
    CASE_TITLES,
)

_ACTOR = ("Code", "Name", "CountryCode", "KnownGroupCode", "EthnicCode", "Religion1Code",
          "Religion2Code", "Type1Code", "Type2Code", "Type3Code")
_GEO = ("Type", "FullName", "CountryCode", "ADM1Code", "ADM2Code", "Lat", "Long", "FeatureID")
#: The 61 columns of a GDELT 2.0 events export, in file order.
GDELT2_COLUMNS = (("GLOBALEVENTID", "SQLDATE", "MonthYear", "Year", "FractionDate")
                  + tuple(f"Actor1{f}" for f in _ACTOR) + tuple(f"Actor2{f}" for f in _ACTOR)
                  + ("IsRootEvent", "EventCode", "EventBaseCode", "EventRootCode", "QuadClass",
                     "GoldsteinScale", "NumMentions", "NumSources", "NumArticles", "AvgTone")
                  + tuple(f"{g}_{f}" for g in ("Actor1Geo", "Actor2Geo", "ActionGeo") for f in _GEO)
                  + ("DATEADDED", "SOURCEURL"))
assert len(GDELT2_COLUMNS) == 61

#: Goldstein scores of the CAMEO codes the scenario uses (CAMEO.goldsteinscale.txt).
GOLDSTEIN = {"010": 0.0, "012": -0.4, "016": -2.0, "036": 4.0, "040": 1.0, "042": 1.9,
             "043": 2.8, "046": 7.0, "061": 6.4, "111": -2.0, "112": -2.0, "120": -4.0,
             "130": -4.4, "138": -7.0, "141": -6.5, "143": -6.5, "145": -7.5, "150": -7.2,
             "152": -7.2, "154": -7.2, "160": -4.0, "163": -8.0}

# ISO3 (= CAMEO country code here) → FIPS, CAMEO name, capital "FullName", ADM1, lat, lon,
# feature id, country centroid lat, lon, English name, ISO2
PLACES: dict[str, tuple[Any, ...]] = {
    "RUS": ("RS", "RUSSIA", "Moscow, Moskva, Russia", "RS48", 55.7522, 37.6156, "-2960561",
            60.0, 100.0, "Russia", "RU"),
    "CHN": ("CH", "CHINA", "Beijing, Beijing, China", "CH22", 39.9289, 116.388, "-1898541",
            35.0, 105.0, "China", "CN"),
    "DEU": ("GM", "GERMANY", "Berlin, Berlin, Germany", "GM16", 52.5167, 13.4, "-1746443",
            51.0, 9.0, "Germany", "DE"),
    "POL": ("PL", "POLAND", "Warsaw, Mazowieckie, Poland", "PL78", 52.25, 21.0, "-534433",
            52.0, 20.0, "Poland", "PL"),
    "TWN": ("TW", "TAIWAN", "Taipei, T'ai-pei, Taiwan", "TW03", 25.0392, 121.525, "-2637484",
            23.5, 121.0, "Taiwan", "TW"),
    "USA": ("US", "UNITED STATES", "Washington, District of Columbia, United States", "USDC",
            38.8951, -77.0364, "531871", 39.828175, -98.5795, "United States", "US"),
    "UKR": ("UP", "UKRAINE", "Kiev, Kyyiv, Misto, Ukraine", "UP12", 50.4333, 30.5167, "-1044367",
            49.0, 32.0, "Ukraine", "UA"),
    "LTU": ("LH", "LITHUANIA", "Vilnius, Vilniaus Apskritis, Lithuania", "LH65", 54.6833, 25.3167,
            "-2669356", 56.0, 24.0, "Lithuania", "LT"),
}
_NEWS_HOSTS = ("www.daily-herald.example", "news.wire-service.example", "www.world-post.example",
               "www.evening-courier.example", "www.baltic-times.example", "www.asia-report.example")


@dataclass(frozen=True)
class EventDraws:
    """Events of one source as parallel arrays (one entry an event)."""

    day: np.ndarray              # day offset from the scenario start
    actor_iso3: np.ndarray       # object arrays of str
    target_iso3: np.ndarray
    domain: np.ndarray
    code: np.ndarray             # CAMEO code (GDELT), sector (STIX), "" otherwise
    planted: np.ndarray          # bool: part of an episode or coupling (more coverage)
    label: np.ndarray            # special name for planted objects, "" otherwise


def _quad_class(code: str) -> int:
    root = int(code[:2])
    return 1 if root <= 5 else 2 if root <= 9 else 3 if root <= 14 else 4


def _actor(iso3: str, kind: str) -> list[str]:
    place = PLACES[iso3]
    return [iso3 + kind, place[1], iso3, "", "", "", "", kind, "", ""]


def _geo(iso3: str, city: bool) -> list[str]:
    fips, _, full, adm1, lat, lon, feature, clat, clon, name, _ = PLACES[iso3]
    if city:
        return ["4", full, fips, adm1, "", f"{lat:g}", f"{lon:g}", feature]
    return ["1", name, fips, fips, "", f"{clat:g}", f"{clon:g}", fips]


def _gdelt_dates(day: date) -> tuple[tuple[str, str, str, str], str]:
    """SQLDATE, MonthYear, Year, FractionDate (GDELT's ((month-1)·30 + day)/365) and a URL path."""
    fraction = day.year + ((day.month - 1) * 30 + day.day) / 365
    return ((day.strftime("%Y%m%d"), day.strftime("%Y%m"), str(day.year), f"{fraction:.4f}"),
            day.strftime("%Y/%m/%d"))


def write_gdelt(path: Path, draws: EventDraws, start: date, rng: np.random.Generator,
                *, first_id: int = 1_150_000_000) -> np.ndarray:
    """Write a GDELT 2.0 export (61 tab-separated columns, no header, sorted by date).

    Returns the GLOBALEVENTIDs as strings, aligned with ``draws``.
    """
    n = len(draws.day)
    order = np.lexsort((np.arange(n), draws.day))
    ids = np.empty(n, dtype=object)
    mentions = rng.negative_binomial(2, 0.4, n) + 1 + draws.planted * rng.poisson(8, n)
    sources = np.minimum(mentions, rng.integers(1, 4, n))
    articles = np.maximum(sources, mentions - rng.integers(0, 3, n))
    tone = np.round(rng.normal(-2.5, 2.0, n), 6)
    root = rng.random(n) < 0.6
    slot = rng.integers(0, 96, n)        # the 15-minute update that first saw it
    late = rng.random(n) < 0.3           # some are added the next day
    hosts = rng.integers(0, len(_NEWS_HOSTS), n)
    lines = []
    dates = {d: _gdelt_dates(start + timedelta(days=d)) for d in np.unique(draws.day).tolist()}
    for rank, i in enumerate(order):
        day_fields, day_path = dates[int(draws.day[i])]
        event_id = first_id + rank
        ids[i] = str(event_id)
        actor, target, code, domain = (draws.actor_iso3[i], draws.target_iso3[i],
                                       draws.code[i], draws.domain[i])
        kind1 = {"military": "MIL", "social": "CVL"}.get(domain, "GOV")
        added = datetime.strptime(day_fields[0], "%Y%m%d") + timedelta(
            days=int(late[i]), minutes=15 * int(slot[i]))
        row = [str(event_id), *day_fields,
               *_actor(actor, kind1), *_actor(target, "GOV"),
               str(int(root[i])), code, code[:3], code[:2], str(_quad_class(code)),
               f"{GOLDSTEIN[code]:.1f}", str(mentions[i]), str(sources[i]), str(articles[i]),
               f"{tone[i]:.6f}",
               *_geo(actor, False), *_geo(target, False),
               *_geo(target, domain not in ("military",)),
               added.strftime("%Y%m%d%H%M%S"),
               f"https://{_NEWS_HOSTS[hosts[i]]}/{day_path}/story-{event_id}"]
        lines.append("\t".join(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


# ----------------------------------------------------------------------------- STIX 2.1
TLP2 = {"clear": "94868c89-83c2-464b-929b-a1a8aa3c8487",
        "green": "bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "amber": "55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "amber+strict": "939a9414-2ddd-4d32-a0cd-375ea402b003",
        "red": "e828b379-4e03-4974-9ac4-e53a884c97c1"}
_TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
INTRUSION_SETS = {  # actor ISO3 → (name, aliases); first seen on the scenario's first day, so
    # no event of the demo falls outside its period (a 2018 "first seen" stretched every timeline)
    "RUS": ("APT-DEMO-RU", ["Demo Bear"]),
    "CHN": ("APT-DEMO-CN", ["Demo Panda"]),
}
#: The most restricted marking of a campaign in a planted episode's window: the demo briefs at
#: AMBER, and its headline scenario must be readable there.
PLANTED_CEILING = "amber"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _tlp_marking(level: str) -> dict[str, Any]:
    return {"type": "marking-definition", "spec_version": "2.1",
            "id": f"marking-definition--{TLP2[level]}", "created": "2022-10-01T00:00:00.000Z",
            "name": f"TLP:{level.upper()}",
            "extensions": {_TLP_EXTENSION: {"extension_type": "property-extension",
                                            "tlp_2_0": level}}}


class _StixIds:
    """Deterministic STIX ids: UUIDv4s drawn from the scenario's generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng

    def __call__(self, kind: str) -> str:
        return f"{kind}--{uuid.UUID(bytes=self._rng.bytes(16), version=4)}"


def write_stix(path: Path, draws: EventDraws, start: date, rng: np.random.Generator,
               capped: np.ndarray | None = None) -> np.ndarray:
    """Write a STIX 2.1 bundle: one campaign per draw, attributed to an intrusion set and
    targeting a country location and a sector identity. Returns campaign ids aligned with draws.

    Markings are drawn at random (mostly GREEN, some up to RED); draws where ``capped`` is true
    (campaigns in a planted episode's window) are marked at most ``PLANTED_CEILING``."""
    new_id = _StixIds(rng)
    created0 = "2024-01-01T00:00:00.000Z"
    producer = {"type": "identity", "spec_version": "2.1", "id": new_id("identity"),
                "created": created0, "modified": created0, "name": "Demo National CERT",
                "identity_class": "organization"}
    common = {"spec_version": "2.1", "created_by_ref": producer["id"]}
    objects: list[dict[str, Any]] = [_tlp_marking(level) for level in TLP2] + [producer]
    locations = {}
    for iso3 in sorted(PLACES):
        place = PLACES[iso3]
        locations[iso3] = {"type": "location", "id": new_id("location"), "created": created0,
                           "modified": created0, "name": place[9], "country": place[10], **common}
    objects += list(locations.values())
    sets = {}
    first_seen = f"{start.isoformat()}T00:00:00.000Z"
    for iso3, (name, aliases) in INTRUSION_SETS.items():
        sets[iso3] = {"type": "intrusion-set", "id": new_id("intrusion-set"), "created": created0,
                      "modified": created0, "name": name, "aliases": aliases,
                      "first_seen": first_seen, "description": "Fictional actor of the demo.",
                      "object_marking_refs": [f"marking-definition--{TLP2['green']}"], **common}
        objects.append(sets[iso3])
        objects.append(_relationship(new_id, "originates-from", sets[iso3]["id"],
                                     locations[iso3]["id"], created0, common, "green"))
    sectors: dict[str, dict[str, Any]] = {}
    n = len(draws.day)
    hours, durations = rng.integers(0, 24 * 60, n), rng.integers(0, 4, n)
    lag_hours = rng.integers(6, 120, n)
    levels = np.array(list(TLP2))[rng.choice(5, n, p=[0.15, 0.55, 0.24, 0.05, 0.01])]
    if capped is not None:       # drawn first, so the random stream is the same either way
        ceiling = list(TLP2).index(PLANTED_CEILING)
        levels = np.where(capped & (np.array([list(TLP2).index(v) for v in levels]) > ceiling),
                          PLANTED_CEILING, levels)
    ids = np.empty(n, dtype=object)
    for i in np.lexsort((np.arange(n), draws.day)):
        day = start + timedelta(days=int(draws.day[i]))
        first = datetime(day.year, day.month, day.day) + timedelta(minutes=int(hours[i]))
        created = _stamp(first + timedelta(hours=int(lag_hours[i])))
        actor, target, sector = draws.actor_iso3[i], draws.target_iso3[i], draws.code[i]
        level = "amber" if draws.label[i] else str(levels[i])
        name = draws.label[i] or CAMPAIGN_NAMES[sector].format(country=PLACES[target][9])
        campaign = {"type": "campaign", "id": new_id("campaign"), "created": created,
                    "modified": created, "name": name, "first_seen": _stamp(first),
                    "last_seen": _stamp(first + timedelta(days=int(durations[i]))),
                    "objective": f"Access to {sector} systems in {PLACES[target][9]}",
                    "object_marking_refs": [f"marking-definition--{TLP2[level]}"], **common}
        ids[i] = campaign["id"]
        victim = _sector_identity(sectors, new_id, sector, draws.label[i], created0, common)
        if victim is not None:
            objects.append(victim)
        objects.append(campaign)
        for kind, ref in (("attributed-to", sets[actor]["id"]),
                          ("targets", locations[target]["id"]),
                          ("targets", (victim or sectors[sector])["id"])):
            objects.append(_relationship(new_id, kind, campaign["id"], ref, created, common, level))
    bundle = {"type": "bundle", "id": new_id("bundle"), "objects": objects}
    path.write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return ids


def _sector_identity(sectors: dict[str, dict[str, Any]], new_id: Any, sector: str, label: str,
                     created: str, common: dict[str, Any]) -> dict[str, Any] | None:
    """A new identity to write: a named victim for labelled campaigns, else the sector's class
    identity the first time the sector is seen (None when it already exists)."""
    if label:  # a planted named campaign targets one organisation
        return {"type": "identity", "id": new_id("identity"), "created": created,
                "modified": created, "name": "Port of Hamburg terminal operators",
                "identity_class": "organization", "sectors": [sector], **common}
    if sector in sectors:
        return None
    sectors[sector] = {"type": "identity", "id": new_id("identity"), "created": created,
                       "modified": created, "name": f"{sector} sector", "identity_class": "class",
                       "sectors": [sector], **common}
    return sectors[sector]


def _relationship(new_id: Any, kind: str, source: str, target: str, created: str,
                  common: dict[str, Any], level: str) -> dict[str, Any]:
    return {"type": "relationship", "id": new_id("relationship"), "created": created,
            "modified": created, "relationship_type": kind, "source_ref": source,
            "target_ref": target, "object_marking_refs": [f"marking-definition--{TLP2[level]}"],
            **common}


# ----------------------------------------------------------------------------- EUvsDisinfo
EUVSDISINFO_HEADER = ("date", "id", "title", "countries", "keywords", "languages", "outlets")


def write_euvsdisinfo(path: Path, draws: EventDraws, start: date,
                      rng: np.random.Generator) -> np.ndarray:
    """Write cases in the EUvsDisinfo ``posts.csv`` layout, newest first like the real export.
    Returns the case URLs aligned with ``draws``."""
    n = len(draws.day)
    picks = rng.integers(0, 1 << 30, (n, 4))
    with_russia = rng.random(n) < 0.3
    ids = np.empty(n, dtype=object)
    rows = []
    for rank, i in enumerate(np.lexsort((np.arange(n), draws.day))):
        day = start + timedelta(days=int(draws.day[i]))
        country = PLACES[draws.target_iso3[i]][9]
        titles = CASE_TITLES[country]
        title = titles[picks[i, 0] % len(titles)]
        slug = "-".join(title.lower().replace("'", "").split())
        ids[i] = f"https://euvsdisinfo.eu/report/{slug}-demo-{rank + 1:05d}/"
        keywords = sorted({CASE_KEYWORDS[picks[i, 1] % len(CASE_KEYWORDS)],
                           CASE_KEYWORDS[picks[i, 2] % len(CASE_KEYWORDS)]})
        outlets = CASE_OUTLETS[picks[i, 3] % len(CASE_OUTLETS)]
        countries = f"Russia+{country}" if with_russia[i] else country
        cells = [day.isoformat(), ids[i], title, countries, "+".join(keywords),
                 CASE_LANGUAGES[country], outlets]
        rows.append((int(draws.day[i]), rank, cells))
    rows.sort(key=lambda r: (-r[0], -r[1]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EUVSDISINFO_HEADER)
    writer.writerows(r[2] for r in rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return ids


# ----------------------------------------------------------------------------- PLA table
PLA_MAPPING_TOML = """\
# Mapping of the demo's daily PLA-activity table (hybridwatch.adapters.mapped).
[source]
name = "pla_sorties"
format = "csv"

[fields]
source_record_id = { column = "date" }
occurred_at = { column = "date", format = "%Y-%m-%d" }
domain = { const = "military" }
actor_iso3 = { const = "CHN" }
location_iso3 = { const = "TWN" }
target_iso3 = { const = "TWN" }
intensity = { column = "sorties" }
intensity_kind = { const = "sorties" }
source_type = { const = "pla_daily_activity" }
"""


def write_pla(csv_path: Path, toml_path: Path, start: date, sorties: Sequence[int],
              ships: Sequence[int]) -> list[str]:
    """Write the daily table (date, sorties, ships) and its mapping; returns the dates (ids)."""
    dates = [(start + timedelta(days=d)).isoformat() for d in range(len(sorties))]
    lines = ["date,sorties,ships"] + [f"{d},{s},{k}" for d, s, k in zip(dates, sorties, ships)]
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    toml_path.write_text(PLA_MAPPING_TOML, encoding="utf-8")
    return dates
