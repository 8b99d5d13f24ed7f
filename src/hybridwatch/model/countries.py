"""Country codes and names of every source, normalised to ISO 3166-1 alpha-3.

Systems: ``iso3``, ``iso2`` (ISO 3166-1, from pycountry), ``fips`` (FIPS 10-4, GDELT geo
``CountryCode``), ``cameo`` (CAMEO actor country codes, GDELT ``Actor1CountryCode``) and ``name``
(English names and the aliases sources write). ``auto`` tries iso3, iso2, then names; never FIPS
or CAMEO, whose two- and three-letter codes collide with ISO ones (FIPS ``GM`` is Germany, ISO
``GM`` is the Gambia).

Kosovo is ``XKX`` (the user-assigned code the EU, IMF and GDELT use). Regions, blocs,
organisations and dissolved multi-state unions map to ``None``: they are known, not countries.
Territories are mapped to the ISO code that covers them (Gaza Strip → PSE, Akrotiri → GBR),
internationally recognised borders decide occupied regions (Crimea → UKR).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import pycountry

SYSTEMS = ("auto", "iso3", "iso2", "fips", "cameo", "name")
_UNKNOWN = object()  # sentinel: a cached "not found" (None means "known non-country")

# FIPS 10-4 → ISO3 (GDELT geo CountryCode). Includes GDELT's additions (EE, OC, NN, UC, RI, YI)
# and withdrawn codes still found in older data (GC, GE, UR, YS).
FIPS_TO_ISO3: dict[str, str | None] = {
    "AA": "ABW", "AC": "ATG", "AE": "ARE", "AF": "AFG", "AG": "DZA", "AJ": "AZE", "AL": "ALB",
    "AM": "ARM", "AN": "AND", "AO": "AGO", "AQ": "ASM", "AR": "ARG", "AS": "AUS", "AT": "AUS",
    "AU": "AUT", "AV": "AIA", "AX": "GBR", "AY": "ATA", "BA": "BHR", "BB": "BRB", "BC": "BWA",
    "BD": "BMU", "BE": "BEL", "BF": "BHS", "BG": "BGD", "BH": "BLZ", "BK": "BIH", "BL": "BOL",
    "BM": "MMR", "BN": "BEN", "BO": "BLR", "BP": "SLB", "BQ": "UMI", "BR": "BRA", "BS": "ATF",
    "BT": "BTN", "BU": "BGR", "BV": "BVT", "BX": "BRN", "BY": "BDI", "CA": "CAN", "CB": "KHM",
    "CD": "TCD", "CE": "LKA", "CF": "COG", "CG": "COD", "CH": "CHN", "CI": "CHL", "CJ": "CYM",
    "CK": "CCK", "CM": "CMR", "CN": "COM", "CO": "COL", "CQ": "MNP", "CR": "AUS", "CS": "CRI",
    "CT": "CAF", "CU": "CUB", "CV": "CPV", "CW": "COK", "CY": "CYP", "DA": "DNK", "DJ": "DJI",
    "DO": "DMA", "DQ": "UMI", "DR": "DOM", "DX": "GBR", "EC": "ECU", "EG": "EGY", "EI": "IRL",
    "EK": "GNQ", "EN": "EST", "ER": "ERI", "ES": "SLV", "ET": "ETH", "EU": "ATF", "EZ": "CZE",
    "FG": "GUF", "FI": "FIN", "FJ": "FJI", "FK": "FLK", "FM": "FSM", "FO": "FRO", "FP": "PYF",
    "FQ": "UMI", "FR": "FRA", "FS": "ATF", "GA": "GMB", "GB": "GAB", "GG": "GEO", "GH": "GHA",
    "GI": "GIB", "GJ": "GRD", "GK": "GGY", "GL": "GRL", "GM": "DEU", "GO": "ATF", "GP": "GLP",
    "GQ": "GUM", "GR": "GRC", "GT": "GTM", "GV": "GIN", "GY": "GUY", "GZ": "PSE", "HA": "HTI",
    "HK": "HKG", "HM": "HMD", "HO": "HND", "HQ": "UMI", "HR": "HRV", "HU": "HUN", "IC": "ISL",
    "ID": "IDN", "IM": "IMN", "IN": "IND", "IO": "IOT", "IP": "FRA", "IR": "IRN", "IS": "ISR",
    "IT": "ITA", "IV": "CIV", "IZ": "IRQ", "JA": "JPN", "JE": "JEY", "JM": "JAM", "JN": "SJM",
    "JO": "JOR", "JQ": "UMI", "JU": "ATF", "KE": "KEN", "KG": "KGZ", "KN": "PRK", "KQ": "UMI",
    "KR": "KIR", "KS": "KOR", "KT": "CXR", "KU": "KWT", "KV": "XKX", "KZ": "KAZ", "LA": "LAO",
    "LE": "LBN", "LG": "LVA", "LH": "LTU", "LI": "LBR", "LO": "SVK", "LQ": "UMI", "LS": "LIE",
    "LT": "LSO", "LU": "LUX", "LY": "LBY", "MA": "MDG", "MB": "MTQ", "MC": "MAC", "MD": "MDA",
    "MF": "MYT", "MG": "MNG", "MH": "MSR", "MI": "MWI", "MJ": "MNE", "MK": "MKD", "ML": "MLI",
    "MN": "MCO", "MO": "MAR", "MP": "MUS", "MQ": "UMI", "MR": "MRT", "MT": "MLT", "MU": "OMN",
    "MV": "MDV", "MX": "MEX", "MY": "MYS", "MZ": "MOZ", "NC": "NCL", "NE": "NIU", "NF": "NFK",
    "NG": "NER", "NH": "VUT", "NI": "NGA", "NL": "NLD", "NN": "SXM", "NO": "NOR", "NP": "NPL",
    "NR": "NRU", "NS": "SUR", "NU": "NIC", "NZ": "NZL", "OD": "SSD", "PA": "PRY", "PC": "PCN",
    "PE": "PER", "PK": "PAK", "PL": "POL", "PM": "PAN", "PO": "PRT", "PP": "PNG", "PS": "PLW",
    "PU": "GNB", "QA": "QAT", "RB": "SRB", "RE": "REU", "RI": "SRB", "RM": "MHL", "RN": "MAF",
    "RO": "ROU", "RP": "PHL", "RQ": "PRI", "RS": "RUS", "RW": "RWA", "SA": "SAU", "SB": "SPM",
    "SC": "KNA", "SE": "SYC", "SF": "ZAF", "SG": "SEN", "SH": "SHN", "SI": "SVN", "SL": "SLE",
    "SM": "SMR", "SN": "SGP", "SO": "SOM", "SP": "ESP", "ST": "LCA", "SU": "SDN", "SV": "SJM",
    "SW": "SWE", "SX": "SGS", "SY": "SYR", "SZ": "CHE", "TB": "BLM", "TD": "TTO", "TE": "ATF",
    "TH": "THA", "TI": "TJK", "TK": "TCA", "TL": "TKL", "TN": "TON", "TO": "TGO", "TP": "STP",
    "TS": "TUN", "TT": "TLS", "TU": "TUR", "TV": "TUV", "TW": "TWN", "TX": "TKM", "TZ": "TZA",
    "UC": "CUW", "UG": "UGA", "UK": "GBR", "UP": "UKR", "US": "USA", "UV": "BFA", "UY": "URY",
    "UZ": "UZB", "VC": "VCT", "VE": "VEN", "VI": "VGB", "VM": "VNM", "VQ": "VIR", "VT": "VAT",
    "WA": "NAM", "WE": "PSE", "WF": "WLF", "WI": "ESH", "WQ": "UMI", "WS": "WSM", "WZ": "SWZ",
    "YI": "SRB", "YM": "YEM", "ZA": "ZMB", "ZI": "ZWE",
    # withdrawn codes: East/West Germany, South Yemen → their successor; the USSR has several
    "GC": "DEU", "GE": "DEU", "YS": "YEM", "UR": None,
    # not countries: EU, oceans, no man's land, undersea features, undesignated sovereignty,
    # disputed islands (Paracel, Spratly, southern Kurils), Netherlands Antilles (dissolved 2010,
    # successor ambiguous)
    "EE": None, "OC": None, "OS": None, "NM": None, "UF": None, "UU": None, "PF": None,
    "PG": None, "PJ": None, "NT": None,
}

# CAMEO actor country codes that are not the ISO3 of the same country. All other ISO3 codes are
# accepted as CAMEO codes as they stand.
_CAMEO_EXCEPTIONS: dict[str, str | None] = {
    "ROM": "ROU", "TMP": "TLS", "ZAR": "COD", "IMY": "IMN", "MTN": "MNE", "GZS": "PSE",
    "WSB": "PSE", "KOS": "XKX", "BAG": "IRQ",  # BAG = Baghdad: an actor located in Iraq
    "ANT": None,  # Netherlands Antilles, dissolved 2010 into CUW, SXM and BES
}
#: CAMEO regional and bloc codes (→ None), with the region each names.
CAMEO_REGIONS: dict[str, str] = {
    "AFR": "Africa", "ASA": "Asia", "BLK": "Balkans", "CAS": "Central Asia", "CAU": "Caucasus",
    "CEU": "Central Europe", "CFR": "Central Africa", "CRB": "Caribbean", "EAF": "Eastern Africa",
    "EEU": "Eastern Europe", "EIN": "East Indies", "EUR": "Europe", "LAM": "Latin America",
    "MDT": "Mediterranean", "MEA": "Middle East", "NAF": "North Africa", "NMR": "North America",
    "PGS": "Persian Gulf", "SAF": "Southern Africa", "SAM": "South America", "SAS": "South Asia",
    "SCN": "Scandinavia", "SEA": "Southeast Asia", "WAF": "West Africa", "WST": "The West",
}

# Names and aliases sources write (keys are compared after ``name_key``) beyond pycountry's.
_NAME_ALIASES: dict[str, str] = {
    "uk": "GBR", "great britain": "GBR", "britain": "GBR", "england": "GBR", "scotland": "GBR",
    "wales": "GBR", "northern ireland": "GBR", "usa": "USA", "us": "USA", "u.s.": "USA",
    "u.s.a.": "USA", "america": "USA", "united states": "USA", "russia": "RUS",
    "czech republic": "CZE", "vietnam": "VNM", "laos": "LAO", "kosovo": "XKX",
    "palestine": "PSE", "palestinian territories": "PSE", "gaza": "PSE", "gaza strip": "PSE",
    "west bank": "PSE", "turkey": "TUR", "ivory coast": "CIV", "macedonia": "MKD",
    "fyrom": "MKD", "brunei": "BRN", "cape verde": "CPV", "vatican": "VAT",
    "vatican city": "VAT", "holy see": "VAT", "micronesia": "FSM",
    "congo (kinshasa)": "COD", "dr congo": "COD", "drc": "COD", "congo-kinshasa": "COD",
    "democratic republic of congo": "COD", "congo (brazzaville)": "COG",
    "congo-brazzaville": "COG", "republic of congo": "COG", "burma": "MMR",
    "swaziland": "SWZ", "east timor": "TLS", "kirgizstan": "KGZ", "kirghizia": "KGZ",
    "byelorussia": "BLR", "belarussia": "BLR", "macau": "MAC", "the gambia": "GMB",
    "the bahamas": "BHS", "faeroe islands": "FRO", "saint kitts-nevis": "KNA",
    "st kitts and nevis": "KNA", "st lucia": "LCA", "st vincent and the grenadines": "VCT",
    "korea, south": "KOR", "korea, north": "PRK", "republic of korea": "KOR",
    "taiwan": "TWN", "republic of china": "TWN", "people's republic of china": "CHN",
    "prc": "CHN", "uae": "ARE", "emirates": "ARE", "ksa": "SAU",
    "gdr": "DEU", "east germany": "DEU", "west germany": "DEU", "frg": "DEU",
    # regions inside internationally recognised borders
    "abkhazia": "GEO", "south ossetia": "GEO", "georgian region of abkhazia": "GEO",
    "georgian region of south ossetia": "GEO", "crimea": "UKR", "donbas": "UKR",
    "donbass": "UKR", "transnistria": "MDA", "nagorno-karabakh": "AZE",
    "northern cyprus": "CYP", "tibet": "CHN", "hawaii": "USA",
}
# Names that are known and deliberately not one country: regions, blocs, organisations,
# dissolved unions (several successor states) and "no value" markers.
_NON_COUNTRY_NAMES = frozenset({
    "international", "global", "worldwide", "world", "not available", "n/a", "unknown",
    "none", "other", "multiple", "various",
    "europe", "european union", "eu", "nato", "africa", "asia", "middle east",
    "middle east and africa", "mena", "mena region", "baltic states", "baltics", "cee",
    "central and eastern europe", "eastern europe", "western europe", "northern europe",
    "southern europe", "central europe", "balkans", "western balkans", "caucasus",
    "south caucasus", "central asia", "eastern asia", "east asia", "northeast asia",
    "southeast asia", "south asia", "oceania", "north america", "south america",
    "central america", "latin america", "caribbean", "gulf countries", "gulf states",
    "persian gulf", "south china sea", "scandinavia", "nordic countries", "the west", "west",
    "arctic", "black sea", "mediterranean", "sahel", "central africa", "eastern africa",
    "east africa", "north africa", "southern africa", "west africa", "east indies", "americas",
    "ussr", "soviet union", "yugoslavia", "czechoslovakia", "netherlands antilles",
    "united nations", "un", "united nations organization", "unicef",
    "united nations economic and social council", "united nations environment programme",
    "interpol", "osce", "organization for security and cooperation in europe",
    "organization for security and co-operation in europe", "world anti-doping agency", "wada",
    "international association of athletics federations", "iaaf", "isis", "isil",
    "islamic state", "who", "world health organization", "council of europe", "g7", "g20",
    "brics", "cis", "csto", "eaeu", "asean", "african union", "opcw",
})
#: Short English names where pycountry's name is the long formal one.
_SHORT_NAMES = {
    "RUS": "Russia", "IRN": "Iran", "SYR": "Syria", "KOR": "South Korea", "PRK": "North Korea",
    "MDA": "Moldova", "VEN": "Venezuela", "BOL": "Bolivia", "TZA": "Tanzania", "LAO": "Laos",
    "VNM": "Vietnam", "TWN": "Taiwan", "FSM": "Micronesia", "VAT": "Vatican City",
    "BRN": "Brunei", "PSE": "Palestine", "COD": "DR Congo", "COG": "Republic of the Congo",
    "XKX": "Kosovo",
}
_WHITESPACE = re.compile(r"\s+")
_REGION_SUFFIX = " (region)"  # EuRepoC: "Europe (region)", "NATO (region)"


def name_key(value: str) -> str:
    """The form names are compared in: accents dropped, lower case, single spaces, no "the "."""
    text = unicodedata.normalize("NFKD", value.replace("\u2019", "'"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _WHITESPACE.sub(" ", text).strip().lower()
    if text.endswith(", the"):  # "Bahamas, The"
        text = text[: -len(", the")]
    return text[4:] if text.startswith("the ") else text


@cache
def _iso3_table() -> dict[str, str | None]:
    table: dict[str, str | None] = {c.alpha_3: c.alpha_3 for c in pycountry.countries}
    table["XKX"] = "XKX"
    return table


@cache
def _iso2_table() -> dict[str, str | None]:
    table: dict[str, str | None] = {c.alpha_2: c.alpha_3 for c in pycountry.countries}
    # XK is Kosovo's user-assigned code; UK and EU are ISO "exceptionally reserved" codes.
    table.update({"XK": "XKX", "UK": "GBR", "EU": None})
    return table


@cache
def _cameo_table() -> dict[str, str | None]:
    table = dict(_iso3_table())
    table.update(_CAMEO_EXCEPTIONS)
    table.update({code: None for code in CAMEO_REGIONS})
    return table


@cache
def _name_table() -> dict[str, str | None]:
    table: dict[str, str | None] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            name = getattr(country, attr, None)
            if name:
                table[name_key(name)] = country.alpha_3
                if ", " in name:  # "Korea, Republic of" → "Republic of Korea"
                    head, tail = name.split(", ", 1)
                    table[name_key(f"{tail} {head}")] = country.alpha_3
    table.update({name_key(k): v for k, v in _NAME_ALIASES.items()})
    table.update({name_key(k): None for k in _NON_COUNTRY_NAMES})
    return table


_TABLES = {"iso3": _iso3_table, "iso2": _iso2_table, "fips": lambda: FIPS_TO_ISO3,
           "cameo": _cameo_table, "name": _name_table}


def _lookup_name(value: str) -> object:
    table = _name_table()
    key = name_key(value)
    if key in table:
        return table[key]
    if key.endswith(_REGION_SUFFIX) and key[: -len(_REGION_SUFFIX)] in table:
        return table[key[: -len(_REGION_SUFFIX)]]
    return _UNKNOWN


@lru_cache(maxsize=1 << 16)
def _resolve(value: str, system: str) -> object:
    """ISO3, None (known non-country) or _UNKNOWN for a non-empty, stripped ``value``."""
    if system == "name":
        return _lookup_name(value)
    code = value.upper()
    if system != "auto":
        return _TABLES[system]().get(code, _UNKNOWN)
    if len(code) == 3 and code in _iso3_table():
        return _iso3_table()[code]
    if len(code) == 2 and code in _iso2_table():
        return _iso2_table()[code]
    return _lookup_name(value)


def to_iso3(value: str | None, system: str = "auto") -> str | None:
    """ISO 3166-1 alpha-3 code of ``value`` read in code ``system``.

    Returns None for empty input and for known non-countries (CAMEO ``EUR``, "International");
    raises ``ValueError`` naming the value and system for anything unknown.
    """
    if system not in SYSTEMS:
        raise ValueError(f"unknown country code system {system!r} (expected one of: "
                         f"{', '.join(SYSTEMS)})")
    if value is None:
        return None
    stripped = value.strip()
    if not stripped:
        return None
    result = _resolve(stripped, system)
    if result is _UNKNOWN:
        raise ValueError(f"unknown country {value!r} ({system})")
    return result  # type: ignore[return-value]


def lookup_rows(system: str) -> list[tuple[str, str | None]]:
    """Every known code of ``system`` with its ISO3 (None for known non-countries), sorted.

    For ``name`` the keys are in ``name_key`` form; in DuckDB join on
    ``lower(strip_accents(trim(column)))``, which agrees for names without "the " or odd spacing.
    """
    if system not in _TABLES:
        raise ValueError(f"unknown country code system {system!r} (expected one of: "
                         f"{', '.join(_TABLES)})")
    return sorted(_TABLES[system]().items())


def country_name(iso3: str) -> str:
    """Short English name of an ISO3 code ('DEU' → 'Germany'); ValueError if not a country."""
    code = iso3.strip().upper()
    if code in _SHORT_NAMES:
        return _SHORT_NAMES[code]
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        raise ValueError(f"unknown country {iso3!r} (iso3)")
    return getattr(country, "common_name", None) or country.name
