"""Country codes and names of every source, normalised to ISO 3166-1 alpha-3.

Systems: ``iso3``, ``iso2`` (ISO 3166-1, from pycountry), ``fips`` (FIPS 10-4, GDELT geo
``CountryCode``), ``cameo`` (CAMEO actor country codes, GDELT ``Actor1CountryCode``), ``cow``
(Correlates of War state numbers and abbreviations: ``255``/``GMY`` is Germany), ``m49`` (UN M49
numeric codes, leading zeros optional: ``276`` is Germany; M49 regions are known non-countries)
and ``name`` (English names, the UN's "Iran (Islamic Republic of)" form, and the aliases sources
write). ``auto`` tries iso3, iso2, then names; never FIPS, CAMEO or COW, whose codes collide with
ISO ones (FIPS ``GM`` is Germany, ISO ``GM`` is the Gambia; COW ``AUS`` is Austria), nor numbers.

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

SYSTEMS = ("auto", "iso3", "iso2", "fips", "cameo", "cow", "m49", "name")
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

# Correlates of War state system: ccode → (StateAbb, ISO3). States that ended are mapped to the
# country that continues them where COW itself continues the code (365 Russia/USSR, 345
# Yugoslavia/Serbia) or one country succeeds them (GFR/GDR → DEU, YAR/YPR → YEM, DRV/RVN →
# VNM, ZAN → TZA, the German and Italian states of the 19th century → DEU/ITA); unions with
# several successors are known non-countries (None).
COW_STATES: dict[int, tuple[str, str | None]] = {
    2: ("USA", "USA"), 20: ("CAN", "CAN"), 31: ("BHM", "BHS"), 40: ("CUB", "CUB"),
    41: ("HAI", "HTI"), 42: ("DOM", "DOM"), 51: ("JAM", "JAM"), 52: ("TRI", "TTO"),
    53: ("BAR", "BRB"), 54: ("DMA", "DMA"), 55: ("GRN", "GRD"), 56: ("SLU", "LCA"),
    57: ("SVG", "VCT"), 58: ("AAB", "ATG"), 60: ("SKN", "KNA"), 70: ("MEX", "MEX"),
    80: ("BLZ", "BLZ"), 90: ("GUA", "GTM"), 91: ("HON", "HND"), 92: ("SAL", "SLV"),
    93: ("NIC", "NIC"), 94: ("COS", "CRI"), 95: ("PAN", "PAN"), 100: ("COL", "COL"),
    101: ("VEN", "VEN"), 110: ("GUY", "GUY"), 115: ("SUR", "SUR"), 130: ("ECU", "ECU"),
    135: ("PER", "PER"), 140: ("BRA", "BRA"), 145: ("BOL", "BOL"), 150: ("PAR", "PRY"),
    155: ("CHL", "CHL"), 160: ("ARG", "ARG"), 165: ("URU", "URY"), 200: ("UKG", "GBR"),
    205: ("IRE", "IRL"), 210: ("NTH", "NLD"), 211: ("BEL", "BEL"), 212: ("LUX", "LUX"),
    220: ("FRN", "FRA"), 221: ("MNC", "MCO"), 223: ("LIE", "LIE"), 225: ("SWZ", "CHE"),
    230: ("SPN", "ESP"), 232: ("AND", "AND"), 235: ("POR", "PRT"), 240: ("HAN", "DEU"),
    245: ("BAV", "DEU"), 255: ("GMY", "DEU"), 260: ("GFR", "DEU"), 265: ("GDR", "DEU"),
    267: ("BAD", "DEU"), 269: ("SAX", "DEU"), 271: ("WRT", "DEU"), 273: ("HSE", "DEU"),
    275: ("HSG", "DEU"), 280: ("MEC", "DEU"), 290: ("POL", "POL"), 300: ("AUH", None),
    305: ("AUS", "AUT"), 310: ("HUN", "HUN"), 315: ("CZE", None), 316: ("CZR", "CZE"),
    317: ("SLO", "SVK"), 325: ("ITA", "ITA"), 327: ("PAP", "ITA"), 329: ("SIC", "ITA"),
    331: ("SNM", "SMR"), 332: ("MOD", "ITA"), 335: ("PMA", "ITA"), 337: ("TUS", "ITA"),
    338: ("MLT", "MLT"), 339: ("ALB", "ALB"), 341: ("MNG", "MNE"), 343: ("MAC", "MKD"),
    344: ("CRO", "HRV"), 345: ("YUG", "SRB"), 346: ("BOS", "BIH"), 347: ("KOS", "XKX"),
    349: ("SLV", "SVN"), 350: ("GRC", "GRC"), 352: ("CYP", "CYP"), 355: ("BUL", "BGR"),
    359: ("MLD", "MDA"), 360: ("ROM", "ROU"), 365: ("RUS", "RUS"), 366: ("EST", "EST"),
    367: ("LAT", "LVA"), 368: ("LIT", "LTU"), 369: ("UKR", "UKR"), 370: ("BLR", "BLR"),
    371: ("ARM", "ARM"), 372: ("GRG", "GEO"), 373: ("AZE", "AZE"), 375: ("FIN", "FIN"),
    380: ("SWD", "SWE"), 385: ("NOR", "NOR"), 390: ("DEN", "DNK"), 395: ("ICE", "ISL"),
    402: ("CAP", "CPV"), 403: ("STP", "STP"), 404: ("GNB", "GNB"), 411: ("EQG", "GNQ"),
    420: ("GAM", "GMB"), 432: ("MLI", "MLI"), 433: ("SEN", "SEN"), 434: ("BEN", "BEN"),
    435: ("MAA", "MRT"), 436: ("NIR", "NER"), 437: ("CDI", "CIV"), 438: ("GUI", "GIN"),
    439: ("BFO", "BFA"), 450: ("LBR", "LBR"), 451: ("SIE", "SLE"), 452: ("GHA", "GHA"),
    461: ("TOG", "TGO"), 471: ("CAO", "CMR"), 475: ("NIG", "NGA"), 481: ("GAB", "GAB"),
    482: ("CEN", "CAF"), 483: ("CHA", "TCD"), 484: ("CON", "COG"), 490: ("DRC", "COD"),
    500: ("UGA", "UGA"), 501: ("KEN", "KEN"), 510: ("TAZ", "TZA"), 511: ("ZAN", "TZA"),
    516: ("BUI", "BDI"), 517: ("RWA", "RWA"), 520: ("SOM", "SOM"), 522: ("DJI", "DJI"),
    530: ("ETH", "ETH"), 531: ("ERI", "ERI"), 540: ("ANG", "AGO"), 541: ("MZM", "MOZ"),
    551: ("ZAM", "ZMB"), 552: ("ZIM", "ZWE"), 553: ("MAW", "MWI"), 560: ("SAF", "ZAF"),
    565: ("NAM", "NAM"), 570: ("LES", "LSO"), 571: ("BOT", "BWA"), 572: ("SWA", "SWZ"),
    580: ("MAG", "MDG"), 581: ("COM", "COM"), 590: ("MAS", "MUS"), 591: ("SEY", "SYC"),
    600: ("MOR", "MAR"), 615: ("ALG", "DZA"), 616: ("TUN", "TUN"), 620: ("LIB", "LBY"),
    625: ("SUD", "SDN"), 626: ("SSD", "SSD"), 630: ("IRN", "IRN"), 640: ("TUR", "TUR"),
    645: ("IRQ", "IRQ"), 651: ("EGY", "EGY"), 652: ("SYR", "SYR"), 660: ("LEB", "LBN"),
    663: ("JOR", "JOR"), 666: ("ISR", "ISR"), 670: ("SAU", "SAU"), 678: ("YAR", "YEM"),
    679: ("YEM", "YEM"), 680: ("YPR", "YEM"), 690: ("KUW", "KWT"), 692: ("BAH", "BHR"),
    694: ("QAT", "QAT"), 696: ("UAE", "ARE"), 698: ("OMA", "OMN"), 700: ("AFG", "AFG"),
    701: ("TKM", "TKM"), 702: ("TAJ", "TJK"), 703: ("KYR", "KGZ"), 704: ("UZB", "UZB"),
    705: ("KZK", "KAZ"), 710: ("CHN", "CHN"), 712: ("MON", "MNG"), 713: ("TAW", "TWN"),
    730: ("KOR", None), 731: ("PRK", "PRK"), 732: ("ROK", "KOR"), 740: ("JPN", "JPN"),
    750: ("IND", "IND"), 760: ("BHU", "BTN"), 770: ("PAK", "PAK"), 771: ("BNG", "BGD"),
    775: ("MYA", "MMR"), 780: ("SRI", "LKA"), 781: ("MAD", "MDV"), 790: ("NEP", "NPL"),
    800: ("THI", "THA"), 811: ("CAM", "KHM"), 812: ("LAO", "LAO"), 816: ("DRV", "VNM"),
    817: ("RVN", "VNM"), 820: ("MAL", "MYS"), 830: ("SIN", "SGP"), 835: ("BRU", "BRN"),
    840: ("PHI", "PHL"), 850: ("INS", "IDN"), 860: ("ETM", "TLS"), 900: ("AUL", "AUS"),
    910: ("PNG", "PNG"), 920: ("NEW", "NZL"), 935: ("VAN", "VUT"), 940: ("SOL", "SLB"),
    946: ("KIR", "KIR"), 947: ("TUV", "TUV"), 950: ("FIJ", "FJI"), 955: ("TON", "TON"),
    970: ("NAU", "NRU"), 983: ("MSI", "MHL"), 986: ("PAL", "PLW"), 987: ("FSM", "FSM"),
    990: ("WSM", "WSM"),
}
#: Withdrawn M49 codes still found in older data: the country that continues them, or None
#: where several succeeded (USSR, Yugoslavia, Serbia and Montenegro, Czechoslovakia).
M49_FORMER: dict[int, str | None] = {
    278: "DEU", 280: "DEU", 720: "YEM", 886: "YEM", 230: "ETH", 736: "SDN", 592: "PAN",
    810: None, 890: None, 891: None, 200: None, 530: None,
}
#: UN M49 area codes (world, continents, regions, groupings): known, not countries.
M49_REGIONS = frozenset({
    1, 2, 5, 9, 11, 13, 14, 15, 17, 18, 19, 21, 29, 30, 34, 35, 39, 53, 54, 57, 61, 142, 143,
    145, 150, 151, 154, 155, 199, 202, 419, 432, 722, 778,
})

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
    "bosnia": "BIH", "bosnia-herzegovina": "BIH", "herzegovina": "BIH",
    "n korea": "PRK", "n. korea": "PRK", "s korea": "KOR", "s. korea": "KOR",
    "dprk": "PRK", "rok": "KOR", "gb": "GBR", "u.k.": "GBR", "britain (uk)": "GBR",
    "russian federation (the)": "RUS",
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
    return text.removeprefix("the ")


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


@cache
def _cow_table() -> dict[str, str | None]:
    """COW numbers ("255") and abbreviations ("GMY") → ISO3."""
    table: dict[str, str | None] = {}
    for number, (abbreviation, iso3) in COW_STATES.items():
        table[str(number)] = iso3
        table[abbreviation] = iso3
    return table


@cache
def _m49_table() -> dict[str, str | None]:
    """M49 numbers without leading zeros ("276") → ISO3 (ISO 3166 numeric codes are the M49
    codes of countries); M49 regions → None."""
    table: dict[str, str | None] = {str(int(c.numeric)): c.alpha_3 for c in pycountry.countries}
    table.update({str(code): None for code in M49_REGIONS})
    table.update({str(code): iso3 for code, iso3 in M49_FORMER.items()})
    return table


_TABLES = {"iso3": _iso3_table, "iso2": _iso2_table, "fips": lambda: FIPS_TO_ISO3,
           "cameo": _cameo_table, "cow": _cow_table, "m49": _m49_table, "name": _name_table}
_NUMERIC = re.compile(r"^\d+(?:\.0+)?$")  # "276", "004", "255.0" (a number read as float)
_PARENTHESISED = re.compile(r"^(.+?) \((.+)\)$")  # UN style: "Iran (Islamic Republic of)"


def _lookup_name(value: str) -> object:
    table = _name_table()
    key = name_key(value)
    if key in table:
        return table[key]
    if key.endswith(_REGION_SUFFIX) and key[: -len(_REGION_SUFFIX)] in table:
        return table[key[: -len(_REGION_SUFFIX)]]
    found = _PARENTHESISED.match(key)
    if found:  # "Iran (Islamic Republic of)" is pycountry's "Iran, Islamic Republic of"
        head, tail = found.groups()
        for candidate in (f"{head}, {tail}", f"{tail} {head}"):
            if candidate in table:
                return table[candidate]
    return _UNKNOWN


@lru_cache(maxsize=1 << 16)
def _resolve(value: str, system: str) -> object:
    """ISO3, None (known non-country) or _UNKNOWN for a non-empty, stripped ``value``."""
    if system == "name":
        return _lookup_name(value)
    code = value.upper()
    if system in ("cow", "m49") and _NUMERIC.match(code):
        code = str(int(float(code)))
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


_ALPHA3 = re.compile(r"^[A-Za-z]{3}$")


def parse_country(text: str) -> str:
    """A country the user typed where an ISO3 code is expected: ``"deu"`` → ``DEU``,
    ``"Germany"`` → ``DEU``, ``"DE"`` → ``DEU``. Three letters are taken as an ISO3 code as
    they stand (a store may hold user-assigned codes such as ``XKX``); anything else is looked
    up as an ISO2 code or an English name. ``ValueError`` saying what to type instead for a
    name that is unknown or not a country ("Europe")."""
    value = text.strip()
    if _ALPHA3.match(value):
        return value.upper()
    try:
        iso3 = to_iso3(value)
    except ValueError:
        iso3 = _UNKNOWN
    if iso3 is _UNKNOWN:
        raise ValueError(f"{text!r} is neither an ISO 3166 alpha-3 code (e.g. DEU) nor a "
                         "country name hybridwatch knows")
    if iso3 is None:
        raise ValueError(f"{text!r} is not a country (a region or organisation): give ISO "
                         "3166 alpha-3 codes, e.g. DEU")
    return iso3  # type: ignore[return-value]
