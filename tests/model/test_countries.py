"""Country normalisation: hand-picked cases, and coverage of the real sources' code lists."""

from __future__ import annotations

import ast
import csv
import json
import time
from pathlib import Path

import pycountry
import pytest

from hybridwatch.model.countries import (
    CAMEO_REGIONS, FIPS_TO_ISO3, country_name, lookup_rows, name_key, to_iso3,
)

DATA = (Path(__file__).resolve().parents[2] / "../shared/data").resolve()
LOOKUPS = DATA / "gdelt_samples_and_lookups" / "lookups"
_STOPWORDS = {"the", "of", "and", "republic", "islands", "island", "state", "states", "s",
              "democratic", "people", "federated", "region", "adm", "special", "r", "saint"}


def _needs(path: Path) -> Path:
    if not DATA.is_dir():
        pytest.skip(f"shared data folder absent: {DATA}")
    return path


def _words(name: str) -> set[str]:
    key = name_key(name).replace("'", " ")
    return {w for w in "".join(c if c.isalnum() else " " for c in key).split()} - _STOPWORDS


def _names_match(source_name: str, iso3: str) -> bool:
    """Loose: a significant word shared with any pycountry name of ``iso3``."""
    country = pycountry.countries.get(alpha_3=iso3)
    names = [getattr(country, a, None) for a in ("name", "common_name", "official_name")]
    ours = set().union(*(_words(n) for n in names if n)) if country else _words(country_name(iso3))
    return bool(_words(source_name) & ours)


@pytest.mark.parametrize(("value", "system"), [
    ("GM", "fips"), ("DEU", "auto"), ("DE", "auto"), ("Germany", "auto"), ("germany ", "auto"),
    ("DEU", "iso3"), ("de", "iso2"), ("  GERMANY", "name"), ("DEU", "cameo"), ("gm", "fips"),
])
def test_germany_in_every_system(value: str, system: str) -> None:
    assert to_iso3(value, system) == "DEU"


@pytest.mark.parametrize(("value", "expected"), [
    ("UK", "GBR"), ("United Kingdom", "GBR"), ("Great Britain", "GBR"), ("USA", "USA"),
    ("US", "USA"), ("United States", "USA"), ("Russia", "RUS"), ("South Korea", "KOR"),
    ("North Korea", "PRK"), ("Iran", "IRN"), ("Syria", "SYR"), ("Moldova", "MDA"),
    ("Czech Republic", "CZE"), ("Czechia", "CZE"), ("Taiwan", "TWN"), ("Vietnam", "VNM"),
    ("Laos", "LAO"), ("Bolivia", "BOL"), ("Venezuela", "VEN"), ("Tanzania", "TZA"),
    ("Kosovo", "XKX"), ("Palestine", "PSE"), ("Turkey", "TUR"), ("Türkiye", "TUR"),
    ("Turkiye", "TUR"), ("Ivory Coast", "CIV"), ("Cote d'Ivoire", "CIV"),
    ("Côte d’Ivoire", "CIV"),
    ("Macedonia", "MKD"), ("North Macedonia", "MKD"), ("Brunei", "BRN"), ("Cape Verde", "CPV"),
    ("Vatican", "VAT"), ("Micronesia", "FSM"), ("Congo (Kinshasa)", "COD"), ("DR Congo", "COD"),
    ("Democratic Republic of the Congo", "COD"), ("Republic of the Congo", "COG"),
    ("The Netherlands", "NLD"), ("Bahamas, The", "BHS"), ("Korea, Republic of", "KOR"),
    ("Åland Islands", "ALA"), ("Aland Islands", "ALA"), ("XK", "XKX"), ("xkx", "XKX"),
])
def test_names_and_aliases(value: str, expected: str) -> None:
    assert to_iso3(value) == expected


@pytest.mark.parametrize(("value", "system"), [
    ("International", "auto"), ("Europe", "name"), ("European Union", "auto"), ("EU", "auto"),
    ("NATO", "auto"), ("Global", "auto"), ("Worldwide", "auto"), ("Not available", "auto"),
    ("Unknown", "auto"), ("Africa", "auto"), ("Asia", "auto"), ("Middle East", "auto"),
    ("Baltic states", "auto"), ("Europe (region)", "name"), ("EUR", "cameo"), ("AFR", "cameo"),
    ("WST", "cameo"), ("EE", "fips"), ("OS", "fips"), (None, "auto"), ("", "fips"), ("  ", "name"),
])
def test_known_non_countries_are_none(value: str | None, system: str) -> None:
    assert to_iso3(value, system) is None


def test_rs_is_russia_in_fips_but_serbia_in_iso2() -> None:
    assert to_iso3("RS", "fips") == "RUS"
    assert to_iso3("RS", "iso2") == "SRB"
    assert to_iso3("RS") == "SRB"  # auto never reads FIPS


@pytest.mark.parametrize(("value", "system"), [
    ("Narnia", "name"), ("Narnia", "auto"), ("ZZ", "fips"), ("DE", "fips"), ("QQQ", "cameo"),
    ("ZZZ", "iso3"), ("ZZ", "iso2"), ("EUR", "iso3"),
])
def test_unknown_raises_naming_value_and_system(value: str, system: str) -> None:
    with pytest.raises(ValueError, match=rf"unknown country '{value}' \({system}\)"):
        to_iso3(value, system)


def test_unknown_system_raises() -> None:
    with pytest.raises(ValueError, match="system 'gec'"):
        to_iso3("GM", "gec")
    with pytest.raises(ValueError, match="system 'auto'"):
        lookup_rows("auto")


def test_country_name() -> None:
    assert country_name("DEU") == "Germany"
    assert country_name("rus") == "Russia"
    assert country_name("XKX") == "Kosovo"
    with pytest.raises(ValueError, match="'EUR'"):
        country_name("EUR")


@pytest.mark.parametrize("system", ["fips", "cameo", "iso2", "iso3", "name"])
def test_lookup_rows_agree_with_to_iso3(system: str) -> None:
    rows = lookup_rows(system)
    assert len(rows) == len({code for code, _ in rows})
    for code, iso3 in rows:
        assert to_iso3(code, system) == iso3
        assert iso3 is None or country_name(iso3)


def test_lookup_rows_sizes() -> None:
    assert len(lookup_rows("iso3")) == len(pycountry.countries) + 1  # + XKX
    assert len(lookup_rows("fips")) == len(FIPS_TO_ISO3) >= 280
    assert all(v is None for k, v in lookup_rows("cameo") if k in CAMEO_REGIONS)


def test_repeated_calls_are_fast() -> None:
    values = ["Germany", "UK", "RS", "Russia", "EU", "DEU"] * 20_000
    start = time.perf_counter()
    for value in values:
        to_iso3(value)
    assert time.perf_counter() - start < 1.0  # 120k calls; ~0.05 s on a laptop


# --- real-file coverage ----------------------------------------------------------------------

def test_every_euvsdisinfo_country_is_known() -> None:
    path = _needs(DATA / "euvsdisinfo_cknabs" / "posts.csv")
    with path.open(encoding="utf-8", newline="") as f:
        values = {v for row in csv.DictReader(f) for v in row["countries"].split("+") if v}
    assert len(values) == 109  # distinct non-empty values, counted by hand
    resolved = {v: to_iso3(v) for v in values}  # raises on any unknown value
    assert resolved["UK"] == "GBR" and resolved["US"] == "USA" and resolved["Russia"] == "RUS"
    assert resolved["Baltic states"] is None and resolved["EU"] is None
    assert sum(iso3 is None for iso3 in resolved.values()) == 9  # 5 regions, EU, CEE, USSR, SFRY


def test_every_eurepoc_country_is_known() -> None:
    path = _needs(DATA / "eurepoc_v1_1" / "EuRepoC_Global_Database_1.1.csv")
    values: set[str] = set()
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            for column in ("receiver_country", "initiator_country"):
                if row[column]:
                    values.update(ast.literal_eval(row[column]))
    resolved = {v: to_iso3(v) for v in values}  # raises on any unknown value
    assert resolved["Moldova, Republic of"] == "MDA"
    assert resolved["Congo, the Democratic Republic of the"] == "COD"
    assert resolved["NATO (region)"] is None and resolved["Not available"] is None
    assert all(iso3 is None for v, iso3 in resolved.items() if v.endswith("(region)"))


#: Rows of fips_iso3_m49_country_codes.csv that are wrong, each corroborated by GDELT's own
#: GEO_COUNTRY_CODES (checked in the test): the file uses ISO2 for Germany, the Gambia and
#: Gabon, gives Åland the FIPS code of Akrotiri, and reuses Pitcairn's PC for the Canal Zone.
_FIPS_FILE_ERRORS = {("DE", "DEU"), ("GM", "GMB"), ("GA", "GAB"), ("AX", "ALA"), ("PC", "PAN"),
                     ("LO", "CSK")}


def test_fips_agrees_with_independent_table() -> None:
    path = _needs(LOOKUPS / "fips_iso3_m49_country_codes.csv")
    checked = 0
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            fips, current, withdrawn = row["fips_code"], row["current_iso_code"], row["iso_code"]
            if not fips or (fips, current or withdrawn) in _FIPS_FILE_ERRORS:
                continue
            if current:
                assert FIPS_TO_ISO3.get(fips, "missing") == current, (fips, row["name_eng"])
                checked += 1
            elif withdrawn:  # a dissolved state with several successors
                assert FIPS_TO_ISO3.get(fips, "missing") is None, (fips, row["name_eng"])
    assert checked == 264  # 269 rows with a FIPS and a current ISO code, 5 of them wrong
    geo = json.loads((LOOKUPS / "gdeltforge_cameo_codes.json").read_text("utf-8"))
    geo = geo["GEO_COUNTRY_CODES"]
    assert "DE" not in geo and geo["GM"] == "Germany" and geo["GA"] == "Gambia, The"
    assert geo["GB"] == "Gabon" and geo["AX"] == "Akrotiri" and geo["PC"] == "Pitcairn Islands"
    assert geo["LO"] == "Slovakia"


#: GDELT geo codes for parts of a country, mapped to the ISO3 that covers them, or renamed.
_FIPS_NAME_EXCEPTIONS = {
    "AT": "AUS", "CR": "AUS", "AX": "GBR", "DX": "GBR", "BS": "ATF", "EU": "ATF", "GO": "ATF",
    "JU": "ATF", "TE": "ATF", "BQ": "UMI", "DQ": "UMI", "FQ": "UMI", "HQ": "UMI", "JQ": "UMI",
    "KQ": "UMI", "LQ": "UMI", "MQ": "UMI", "WQ": "UMI", "IP": "FRA", "GZ": "PSE", "WE": "PSE",
    "BM": "MMR", "CV": "CPV", "YI": "SRB", "MC": "MAC", "RS": "RUS",
}
_NON_COUNTRY_WORDS = ("European Union", "Oceans", "No Man", "Undersea", "Undesignated",
                      "Paracel", "Spratly", "Etorofu", "Netherlands Antilles")


def test_every_gdelt_geo_code_is_known_and_names_match() -> None:
    path = _needs(LOOKUPS / "gdeltforge_cameo_codes.json")
    geo = json.loads(path.read_text("utf-8"))["GEO_COUNTRY_CODES"]
    assert len(geo) == 280
    for fips, name in geo.items():
        iso3 = to_iso3(fips, "fips")
        if iso3 is None:
            assert name.startswith(_NON_COUNTRY_WORDS), (fips, name)
        elif fips in _FIPS_NAME_EXCEPTIONS:
            assert iso3 == _FIPS_NAME_EXCEPTIONS[fips], (fips, name)
        else:
            assert _names_match(name, iso3), (fips, name, iso3)


#: CAMEO codes whose name shares no word with the ISO name of the country they map to.
_CAMEO_NAME_EXCEPTIONS = {"BAG": "IRQ", "GZS": "PSE", "WSB": "PSE", "FRO": "FRO", "PSE": "PSE",
                          "RUS": "RUS", "SWZ": "SWZ", "TUR": "TUR"}


def test_every_cameo_actor_country_code_is_known_and_names_match() -> None:
    path = _needs(LOOKUPS / "gdeltforge_cameo_codes.json")
    actors = json.loads(path.read_text("utf-8"))["ACTOR_COUNTRY_CODES"]
    assert len(actors) == 262
    for code, name in actors.items():
        iso3 = to_iso3(code, "cameo")
        if iso3 is None:
            assert CAMEO_REGIONS.get(code) == name or code == "ANT", (code, name)
        elif code in _CAMEO_NAME_EXCEPTIONS:
            assert iso3 == _CAMEO_NAME_EXCEPTIONS[code], (code, name)
        else:
            assert _names_match(name, iso3), (code, name, iso3)
    assert sum(to_iso3(c, "cameo") is None for c in actors) == len(CAMEO_REGIONS) + 1  # + ANT


def test_every_m49_code_of_the_real_lookup_gives_its_current_country() -> None:
    path = _needs(LOOKUPS / "fips_iso3_m49_country_codes.csv")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["M49_code"].strip()]
    assert len(rows) > 240
    for row in rows:
        assert to_iso3(row["M49_code"], "m49") == (row["current_iso_code"] or None), row
    assert to_iso3("004", "m49") == to_iso3("4.0", "m49") == "AFG"  # zero-padded, or a float
    assert to_iso3("150", "m49") is None                             # Europe: a region


@pytest.mark.parametrize("code, iso3", [
    ("2", "USA"), ("200", "GBR"), ("UKG", "GBR"), ("255", "DEU"), ("GMY", "DEU"),
    ("260", "DEU"), ("365", "RUS"), ("710", "CHN"), ("713", "TWN"), ("TAW", "TWN"),
    ("290", "POL"), ("369", "UKR"), ("AUS", "AUT"), ("900", "AUS"), ("732", "KOR"),
    ("731", "PRK"), ("345", "SRB"), ("300", None), ("255.0", "DEU"),
])
def test_correlates_of_war_codes(code, iso3) -> None:
    assert to_iso3(code, "cow") == iso3


def test_cow_codes_and_abbreviations_are_unique_and_map_to_countries() -> None:
    from hybridwatch.model.countries import COW_STATES

    abbreviations = [abbreviation for abbreviation, _ in COW_STATES.values()]
    assert len(set(abbreviations)) == len(abbreviations)
    for number, (abbreviation, iso3) in COW_STATES.items():
        assert to_iso3(str(number), "cow") == to_iso3(abbreviation, "cow") == iso3
        if iso3 is not None:
            country_name(iso3)
    with pytest.raises(ValueError, match="unknown country '999' \\(cow\\)"):
        to_iso3("999", "cow")


@pytest.mark.parametrize("name, iso3", [
    ("Iran (Islamic Republic of)", "IRN"), ("Korea (Democratic People's Republic of)", "PRK"),
    ("Korea (Republic of)", "KOR"), ("Bolivia (Plurinational State of)", "BOL"),
    ("Venezuela (Bolivarian Republic of)", "VEN"), ("Bosnia", "BIH"), ("N Korea", "PRK"),
    ("S. Korea", "KOR"), ("GB", "GBR"),
])
def test_names_sources_write(name, iso3) -> None:
    assert to_iso3(name, "name") == iso3
    assert to_iso3(name) == iso3  # auto reads them too
