"""Trade flows: their Arrow schema, flow vocabulary, country groups and the numeric country codes
of UN Comtrade and CEPII BACI. Pure: no I/O.

One row is what one reporter declared about one flow of one product with one partner in one
period (a month or a year). Imports are valued CIF, exports FOB; rows stay as reported, so a
mirror pair (A's exports to B, B's imports from A) is two rows and their gap is kept.
"""

from __future__ import annotations

from functools import lru_cache

import pyarrow as pa

#: Trade directions as UN Comtrade names them (flowCode X, M, RX, RM).
FLOWS = ("export", "import", "re-export", "re-import")
COMTRADE_FLOW_CODES = {"X": "export", "M": "import", "RX": "re-export", "RM": "re-import"}
#: How the value of a flow is measured: imports CIF (cost, insurance, freight to the border),
#: exports FOB (free on board); BACI reconciles both sides into one FOB value.
VALUATIONS = ("CIF", "FOB", "reconciled")
PERIOD_FREQS = ("month", "year")

TRADE_FLOW_SCHEMA = pa.schema([
    pa.field("flow_id", pa.string(), nullable=False),     # md5(source ':' key), see adapters
    pa.field("source", pa.string(), nullable=False),      # comtrade, baci
    pa.field("reporter_iso3", pa.string(), nullable=False),  # who declared the flow
    pa.field("partner_iso3", pa.string(), nullable=False),
    pa.field("flow", pa.string(), nullable=False),        # one of FLOWS, from the reporter's side
    pa.field("product", pa.string(), nullable=False),     # HS code: 2, 4 or 6 digits
    pa.field("product_desc", pa.string()),
    pa.field("classification", pa.string()),              # HS edition as reported (H5, H6 …)
    pa.field("period", pa.date32(), nullable=False),      # first day of the month or year
    pa.field("period_freq", pa.string(), nullable=False),  # month or year
    pa.field("value_usd", pa.float64(), nullable=False),
    pa.field("valuation", pa.string(), nullable=False),   # one of VALUATIONS
    pa.field("quantity", pa.float64()),
    pa.field("quantity_unit", pa.string()),
    pa.field("net_weight_kg", pa.float64()),
])

#: The 27 member states of the European Union (since 1 February 2020).
EU27 = ("AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC",
        "HUN", "IRL", "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK",
        "SVN", "ESP", "SWE")
#: Named groups an ``--origin`` or actor list may use beside ISO3 codes.
COUNTRY_GROUPS = {"EU27": EU27, "EU": EU27}

#: Numeric codes where UN Comtrade and BACI differ from ISO 3166-1 numeric (their M49 variants
#: of the 1990s), and Comtrade's "Other Asia, nes", which in practice is Taiwan.
NUMERIC_OVERRIDES = {"251": "FRA", "579": "NOR", "699": "IND", "757": "CHE", "842": "USA",
                     "490": "TWN"}
#: Numeric codes that are aggregates or areas, not countries: World, EU, "areas nes", bunkers,
#: free zones, special categories, former unions. Rows with them are skipped, not rejected.
AGGREGATE_CODES = frozenset({"0", "97", "58", "471", "472", "473", "492", "527", "568", "577",
                             "636", "637", "711", "837", "838", "839", "879", "899"})
#: ISO-like codes Comtrade gives aggregates (W00 World, EUR EU, _X areas nes …).
AGGREGATE_ISO = frozenset({"W00", "EUR", "_X", "X1", "XX", "R4", "R91", "E19", "E29", "F19",
                           "F49", "F97", "N4", "S19", "_0", ""})


@lru_cache(maxsize=1)
def numeric_to_iso3() -> dict[str, str]:
    """ISO 3166-1 numeric (without leading zeros) → alpha-3, with the Comtrade/BACI variants."""
    import pycountry

    table = {str(int(c.numeric)): c.alpha_3 for c in pycountry.countries}
    table.update(NUMERIC_OVERRIDES)
    return table


def expand_countries(text: str | None) -> tuple[str, ...]:
    """``DEU,NLD`` or ``EU27`` (or both, comma-separated) → ISO3 codes, groups expanded."""
    if not text:
        return ()
    from hybridwatch.model.countries import to_iso3

    out: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.upper() in COUNTRY_GROUPS:
            out.extend(COUNTRY_GROUPS[part.upper()])
            continue
        iso3 = to_iso3(part, "auto")
        if iso3 is None:
            raise ValueError(f"not a country or group: {part!r} (ISO3 codes or "
                             f"{', '.join(COUNTRY_GROUPS)})")
        out.append(iso3)
    return tuple(dict.fromkeys(out))
