"""An independent multi-source scenario for the "where" of the episode scan (issue 11, §2 and §4).

Written apart from ``hybridwatch.demo`` and shaped the way the real sources are shaped, in their
real formats:

* **GDELT 2.0 export** (61 tab-separated columns, no header). Military activity in the Taiwan
  Strait, the Black Sea and the Baltic Sea is coded as GDELT codes naval activity: Actor1 only
  (no Actor2, so no target), the ActionGeo a sea feature ``"<Sea>, Oceans (general), Oceans"``
  with country code ``OS`` (no country) and the feature's coordinates. Other rows have a
  target (Actor2). A large share of rows are cooperative (CAMEO roots 03–05: intend to cooperate,
  consult, diplomatic cooperation), some of them also in the Strait, with a cooperative burst
  there in every dataset.
* **STIX 2.1 bundle**: cyber campaigns against countries (``targets`` → location), each one
  object with ``first_seen``/``last_seen`` a few days apart.
* **EUvsDisinfo CSV**: disinformation cases with ``+``-joined country lists.

Counts are over-dispersed (gamma-Poisson) with a weekly cycle. The planted cross-target episode,
written to files of its own, is a military surge located (only) in the Taiwan Strait, ONE STIX
campaign (five days between first_seen and last_seen) against Germany, and a burst of EUvsDisinfo
cases about Poland, within four days. A store holding only the background is the null twin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

START = date(2023, 1, 2)

# GDELT 2.0 event columns in file order (from the GDELT 2.0 event codebook).
_ACTOR = ("Code", "Name", "CountryCode", "KnownGroupCode", "EthnicCode", "Religion1Code",
          "Religion2Code", "Type1Code", "Type2Code", "Type3Code")
_GEO = ("Type", "FullName", "CountryCode", "ADM1Code", "ADM2Code", "Lat", "Long", "FeatureID")
GDELT_COLUMNS = (("GLOBALEVENTID", "SQLDATE", "MonthYear", "Year", "FractionDate")
                 + tuple(f"Actor{n}{f}" for n in (1, 2) for f in _ACTOR)
                 + ("IsRootEvent", "EventCode", "EventBaseCode", "EventRootCode", "QuadClass",
                    "GoldsteinScale", "NumMentions", "NumSources", "NumArticles", "AvgTone")
                 + tuple(f"{g}_{f}" for g in ("Actor1Geo", "Actor2Geo", "ActionGeo")
                         for f in _GEO)
                 + ("DATEADDED", "SOURCEURL"))
assert len(GDELT_COLUMNS) == 61

# Sea features as the GDELT geocoder writes them: (full name, lat, lon, feature id).
SEAS = {
    "Taiwan Strait": ("Taiwan Strait, Oceans (general), Oceans", 24.5, 119.5, "-1993341"),
    "Black Sea": ("Black Sea, Oceans (general), Oceans", 43.0, 35.0, "-1997123"),
    "Baltic Sea": ("Baltic Sea, Oceans (general), Oceans", 57.0, 19.0, "-1995420"),
}
# Land places: (full name, FIPS country, lat, lon).
PLACES = {
    "TWN": ("Taipei, T'ai-pei, Taiwan", "TW", 25.0392, 121.525),
    "UKR": ("Kharkiv, Kharkivs'ka Oblast', Ukraine", "UP", 50.0, 36.25),
    "POL": ("Warsaw, Mazowieckie, Poland", "PL", 52.25, 21.0),
    "CHN": ("Beijing, Beijing, China", "CH", 39.9289, 116.388),
}
CAMEO_ACTOR = {"CHN": "CHN", "RUS": "RUS", "TWN": "TWN", "UKR": "UKR", "POL": "POL",
               "USA": "USA", "DEU": "DEU"}
HOSTILE_MILITARY = ("150", "152", "154", "190", "193")
COOPERATIVE = ("036", "040", "042", "043", "051", "057")
QUAD = {"03": 1, "04": 1, "05": 1, "15": 4, "19": 4, "11": 3, "17": 4}
ISO2 = {"DEU": "DE", "POL": "PL", "UKR": "UA", "TWN": "TW", "LTU": "LT"}
COUNTRY_NAME = {"DEU": "Germany", "POL": "Poland", "UKR": "Ukraine", "LTU": "Lithuania"}


@dataclass(frozen=True)
class Planted:
    start: date          # first day of the planted members
    end: date            # last day
    military_where: str  # "Taiwan Strait" (a theatre: the events have no target, no country)
    cyber_where: str     # "DEU" (the campaign's target)
    information_where: str  # "POL" (the cases' target)


@dataclass(frozen=True)
class Scenario:
    """The background files, the planted members' files (``plant_files``: ingest them into a
    store holding the background to turn the null twin into the planted dataset) and the truth."""

    background: tuple[tuple[Path, str], ...]     # (path, format)
    plant_files: tuple[tuple[Path, str], ...]
    planted: Planted
    cooperative_gdelt_ids: frozenset[str]
    cooperative_burst: date          # first of three days of cooperative rows in the Strait


def _daily(rng: np.random.Generator, days: int, rate: float, shape: float = 3.0) -> np.ndarray:
    """Over-dispersed daily counts (gamma-Poisson) with fewer events at weekends."""
    weekday = np.array([(START + timedelta(days=int(d))).weekday() for d in range(days)])
    level = rate * np.where(weekday >= 5, 0.6, 1.16)
    return rng.poisson(rng.gamma(shape, level / shape))


class _Gdelt:
    def __init__(self, first_id: int = 1_100_000_000) -> None:
        self.first_id = first_id
        self.rows: list[str] = []
        self.cooperative: set[str] = set()

    def add(self, day: date, code: str, actor1: str, actor2: str | None,
            geo: tuple[str, str, str, float, float, str]) -> None:
        gid = str(self.first_id + len(self.rows))
        value = dict.fromkeys(GDELT_COLUMNS, "")
        root = code[:2]
        geo_type, full, country, lat, lon, feature = geo
        value.update({
            "GLOBALEVENTID": gid, "SQLDATE": day.strftime("%Y%m%d"),
            "MonthYear": day.strftime("%Y%m"), "Year": str(day.year),
            "FractionDate": f"{day.year + (day.timetuple().tm_yday - 1) / 365:.4f}",
            "Actor1Code": CAMEO_ACTOR[actor1], "Actor1Name": actor1,
            "Actor1CountryCode": CAMEO_ACTOR[actor1],
            "IsRootEvent": "1", "EventCode": code, "EventBaseCode": code[:3],
            "EventRootCode": root, "QuadClass": str(QUAD[root]),
            "GoldsteinScale": "-7.0" if QUAD[root] >= 3 else "3.4", "NumMentions": "4",
            "NumSources": "1", "NumArticles": "4", "AvgTone": "-2.5",
            "ActionGeo_Type": geo_type, "ActionGeo_FullName": full,
            "ActionGeo_CountryCode": country, "ActionGeo_ADM1Code": f"{country}00",
            "ActionGeo_Lat": f"{lat:g}", "ActionGeo_Long": f"{lon:g}",
            "ActionGeo_FeatureID": feature,
            "DATEADDED": day.strftime("%Y%m%d") + "120000",
            "SOURCEURL": f"https://news.example.org/{gid}",
        })
        if actor2:
            value.update({"Actor2Code": CAMEO_ACTOR[actor2], "Actor2Name": actor2,
                          "Actor2CountryCode": CAMEO_ACTOR[actor2]})
        if QUAD[root] <= 2:
            self.cooperative.add(gid)
        self.rows.append("\t".join(value[c] for c in GDELT_COLUMNS))


def _sea(name: str) -> tuple[str, str, str, float, float, str]:
    full, lat, lon, feature = SEAS[name]
    return ("4", full, "OS", lat, lon, feature)


def _place(iso3: str) -> tuple[str, str, str, float, float, str]:
    full, fips, lat, lon = PLACES[iso3]
    return ("4", full, fips, lat, lon, "-1")


def generate(root: Path, *, seed: int, days: int = 240) -> Scenario:
    """Write the background files and, apart, the planted members' files under ``root``."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    day_of = [START + timedelta(days=d) for d in range(days)]
    gdelt = _Gdelt()

    def codes(pool: tuple[str, ...], n: int) -> list[str]:
        return list(rng.choice(pool, size=n))

    # -- GDELT background ----------------------------------------------------------------------
    located = (("Taiwan Strait", "CHN", 0.9), ("Black Sea", "RUS", 0.7), ("Baltic Sea", "RUS", 0.4))
    for sea, actor, rate in located:           # hostile, located only
        for d, n in enumerate(_daily(rng, days, rate)):
            for code in codes(HOSTILE_MILITARY, n):
                gdelt.add(day_of[d], code, actor, None, _sea(sea))
    targeted = (("CHN", "TWN", HOSTILE_MILITARY, 0.5), ("RUS", "UKR", HOSTILE_MILITARY, 1.5),
                ("CHN", "TWN", COOPERATIVE, 2.0), ("RUS", "POL", COOPERATIVE, 1.0),
                ("USA", "CHN", COOPERATIVE, 2.5))
    for actor, target, pool, rate in targeted:
        for d, n in enumerate(_daily(rng, days, rate)):
            for code in codes(pool, n):
                gdelt.add(day_of[d], code, actor, target, _place(target))
    # cooperative activity in the Strait itself, with a burst (talks, joint rescue ...)
    counts = _daily(rng, days, 0.6)
    burst_day = int(rng.integers(30, days - 30))
    counts[burst_day + np.arange(3)] += 8
    for d, n in enumerate(counts):
        for code in codes(COOPERATIVE, n):
            gdelt.add(day_of[d], code, "CHN", None, _sea("Taiwan Strait"))

    # -- STIX campaigns and EUvsDisinfo cases ------------------------------------------------------
    campaigns = []
    for target, every in (("DEU", 45), ("POL", 45), ("UKR", 12), ("TWN", 25), ("LTU", 40)):
        for d in np.nonzero(rng.random(days) < 1 / every)[0]:
            # most campaign objects give one day (first_seen = last_seen), the rest a few days
            span = 0 if rng.random() < 0.6 else int(rng.integers(1, 5))
            campaigns.append((day_of[d], span, target))
    cases = []
    for target, rate in (("POL", 0.35), ("DEU", 0.45), ("UKR", 1.0), ("LTU", 0.25)):
        for d, n in enumerate(_daily(rng, days, rate, shape=2.0)):
            cases += [(day_of[d], target)] * int(n)

    background = (_write_gdelt(root / "events.export.CSV", gdelt.rows),
                  _write_stix(root / "campaigns.json", campaigns),
                  _write_cases(root / "euvsdisinfo.csv", cases, f"{seed}-b"))

    # -- the planted episode -------------------------------------------------------------------
    p = int(rng.integers(60, days - 60))
    surge = _Gdelt(first_id=1_900_000_000)
    for offset, n in enumerate(rng.integers(4, 8, size=4)):   # 16–28 events over 4 days
        for code in codes(HOSTILE_MILITARY, int(n)):
            surge.add(day_of[p + offset], code, "CHN", None, _sea("Taiwan Strait"))
    burst = [(day_of[p + offset], "POL")
             for offset in (1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3)[: int(rng.integers(9, 13))]]
    plant_files = (_write_gdelt(root / "surge.export.CSV", surge.rows),
                   _write_stix(root / "campaign.json", [(day_of[p + 1], 4, "DEU")], first=9000),
                   _write_cases(root / "burst.csv", burst, f"{seed}-p"))
    planted = Planted(day_of[p], day_of[p + 4], "Taiwan Strait", "DEU", "POL")
    return Scenario(background, plant_files, planted, frozenset(gdelt.cooperative),
                    day_of[burst_day])


def write_surge(path: Path, first: date, per_day: tuple[int, ...], sea: str) -> tuple[Path, str]:
    """A GDELT file of hostile military rows located only in ``sea``, from ``first`` on."""
    rows = _Gdelt(first_id=1_800_000_000)
    for offset, n in enumerate(per_day):
        for i in range(n):
            rows.add(first + timedelta(days=offset), HOSTILE_MILITARY[i % 5], "CHN", None,
                     _sea(sea))
    return _write_gdelt(path, rows.rows)


def _write_gdelt(path: Path, rows: list[str]) -> tuple[Path, str]:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path, "gdelt2"


def _write_stix(path: Path, campaigns: list[tuple[date, int, str]], first: int = 0
                ) -> tuple[Path, str]:
    path.write_text(json.dumps(_bundle(campaigns, first), indent=1), encoding="utf-8")
    return path, "stix"


def _write_cases(path: Path, cases: list[tuple[date, str]], tag: str) -> tuple[Path, str]:
    lines = ["date,id,title,countries,keywords,languages,outlets"]
    for i, (day, target) in enumerate(sorted(cases)):
        countries = COUNTRY_NAME[target] if i % 3 else f"Russia+{COUNTRY_NAME[target]}"
        lines.append(f"{day.isoformat()},https://euvsdisinfo.eu/report/case-{tag}-{i}/,"
                     f"Claim {i} about {COUNTRY_NAME[target]},{countries},Keyword,Russian,"
                     f"Outlet {i % 7}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, "euvsdisinfo"


def _bundle(campaigns: list[tuple[date, int, str]], first: int) -> dict:
    objects: list[dict] = []
    locations = {}
    for iso3, iso2 in ISO2.items():
        locations[iso3] = f"location--00000000-0000-4000-8000-{len(locations):012d}"
        objects.append({"type": "location", "spec_version": "2.1", "id": locations[iso3],
                        "created": "2022-01-01T00:00:00Z", "modified": "2022-01-01T00:00:00Z",
                        "country": iso2})
    for i, (start, span, target) in enumerate(campaigns, start=first):
        cid = f"campaign--10000000-0000-4000-8000-{i:012d}"
        stamp = f"{start.isoformat()}T08:00:00Z"
        objects.append({"type": "campaign", "spec_version": "2.1", "id": cid,
                        "created": stamp, "modified": stamp, "name": f"Campaign {i}",
                        "first_seen": stamp,
                        "last_seen": f"{(start + timedelta(days=span)).isoformat()}T18:00:00Z"})
        objects.append({"type": "relationship", "spec_version": "2.1",
                        "id": f"relationship--20000000-0000-4000-8000-{i:012d}",
                        "created": stamp, "modified": stamp, "relationship_type": "targets",
                        "source_ref": cid, "target_ref": locations[target]})
    return {"type": "bundle", "id": "bundle--30000000-0000-4000-8000-000000000000",
            "objects": objects}
