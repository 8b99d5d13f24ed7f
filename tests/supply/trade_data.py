"""A generator of UN Comtrade-format monthly trade with planted diversion, written for the tests
and independent of the demo's (src/hybridwatch/demo): its own partners, codings and shapes.

Each seed is one HS6 product (so many seeds share one file and one ingest). Origin countries
export to the destination until a break month, then 85% less. Among the partners:
  * transit countries: origin→via rises ×1.8–3 and via→destination ×3–8 after the break;
  * decoy "trend": both legs grow 25–35% a year for the whole span (long before the break);
  * decoy "substitution": via→destination rises ×3–8 (its own goods), origin→via unchanged;
  * decoy "spike": both legs ×8 for one month after the break;
  * every other partner: level, season, AR(1) noise, a 10% common fall of origin exports.
With ``plant=False`` (the null twin) transit countries and decoys are ordinary partners.
Declarations: origins declare exports (FOB); ~70% of partners declare imports from origins
(CIF ≈ FOB × 1.07); ~80% declare exports to the destination
(transit countries and decoys always do: otherwise nothing shows their flows after the break); the destination declares imports
only before the break (as Russia stopped publishing). Some rows carry only numeric M49 codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pycountry

ORIGINS = ("DEU", "NLD", "ITA")
DESTINATION = "RUS"
PARTNERS = ("KAZ", "ARM", "KGZ", "GEO", "UZB", "TUR", "ARE", "SRB", "MNG", "AZE", "TJK", "IND",
            "BRA", "ZAF", "EGY", "MAR", "MEX", "IDN", "VNM", "THA", "MYS", "SGP", "CHL", "ARG",
            "NGA", "KEN", "PER", "COL", "PAK", "BGD")
FIRST, N_MONTHS, BREAK = np.datetime64("2015-01"), 108, np.datetime64("2022-03")
PRODUCTS = tuple(f"{8542}{n:02d}" for n in range(10, 90, 4))[:20]  # 854210, 854214, …


@dataclass
class Truth:
    product: str
    transit: list[str]
    decoys: dict[str, str] = field(default_factory=dict)   # via → kind


def _series(rng: np.random.Generator, level: float) -> np.ndarray:
    t = np.arange(N_MONTHS)
    season = 1 + rng.uniform(0, 0.25) * np.sin(2 * np.pi * (t % 12) / 12 + rng.uniform(0, 6.3))
    noise = np.zeros(N_MONTHS)
    eps = rng.normal(0, 0.18, N_MONTHS)
    for i in range(N_MONTHS):
        noise[i] = 0.5 * (noise[i - 1] if i else 0) + eps[i]
    return level * season * np.exp(noise)


def plant(seed: int, *, plant: bool = True) -> tuple[Truth, dict[tuple[str, str], np.ndarray]]:
    """Monthly FOB values per (exporter, importer) for one seed, and what was planted."""
    rng = np.random.default_rng(seed)
    product = PRODUCTS[seed % len(PRODUCTS)]
    t0 = int((BREAK - FIRST).astype(int))
    after = np.arange(N_MONTHS) >= t0
    ramp = np.clip((np.arange(N_MONTHS) - t0 + 1) / 2, 0, 1)   # a rise over two months
    roles = list(rng.permutation(PARTNERS))
    transit = roles[:4] if plant else []
    decoys = dict(zip(roles[4:7], ("trend", "substitution", "spike"))) if plant else {}
    flows: dict[tuple[str, str], np.ndarray] = {}
    for origin in ORIGINS:
        flows[origin, DESTINATION] = _series(rng, rng.lognormal(15, 0.4)) * np.where(after, 0.15, 1)
    for via in PARTNERS:
        a = {o: _series(rng, rng.lognormal(12.5, 0.8)) * np.where(after, 0.9, 1) for o in ORIGINS}
        b = _series(rng, rng.lognormal(12, 0.8))
        if via in transit:
            fa, fb = rng.uniform(1.8, 3), rng.uniform(3, 8)
            a = {o: s * (1 + (fa - 1) * ramp) for o, s in a.items()}
            b = b * (1 + (fb - 1) * ramp)
        elif decoys.get(via) == "trend":
            growth = np.exp(rng.uniform(0.25, 0.35) * np.arange(N_MONTHS) / 12)
            a = {o: s * growth for o, s in a.items()}
            b = b * growth
        elif decoys.get(via) == "substitution":
            b = b * (1 + (rng.uniform(3, 8) - 1) * ramp)
        elif decoys.get(via) == "spike":
            month = t0 + int(rng.integers(1, 7))
            a = {o: s * np.where(np.arange(N_MONTHS) == month, 8, 1) for o, s in a.items()}
            b = b * np.where(np.arange(N_MONTHS) == month, 8, 1)
        for o, s in a.items():
            flows[o, via] = s
        flows[via, DESTINATION] = b
    return Truth(product, transit, decoys), flows


def _code(iso3: str) -> str:
    return str(int(pycountry.countries.get(alpha_3=iso3).numeric))


def write_comtrade(path: Path, seeds: list[int], *, plant_effect: bool = True) -> list[Truth]:
    """One Comtrade CSV holding every seed (each its own product); returns the truths."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    truths = []
    months = np.array([str(FIRST + i).replace("-", "") for i in range(N_MONTHS)])
    t0 = int((BREAK - FIRST).astype(int))
    columns: dict[str, list] = {k: [] for k in (
        "freqCode", "period", "reporterCode", "reporterISO", "flowCode", "partnerCode",
        "partnerISO", "partner2Code", "cmdCode", "cmdDesc", "motCode", "customsCode",
        "qtyUnitAbbr", "qty", "netWgt", "primaryValue")}

    def rows(reporter, flow, partner, product, month_index, values, numeric_only):
        n = month_index.size
        columns["freqCode"].append(np.full(n, "M"))
        columns["period"].append(months[month_index])
        columns["reporterCode"].append(np.full(n, _code(reporter)))
        columns["reporterISO"].append(np.full(n, "" if reporter in numeric_only else reporter))
        columns["flowCode"].append(np.full(n, flow))
        columns["partnerCode"].append(np.full(n, _code(partner)))
        columns["partnerISO"].append(np.full(n, "" if partner in numeric_only else partner))
        columns["partner2Code"].append(np.full(n, "0"))
        columns["cmdCode"].append(np.full(n, product))
        columns["cmdDesc"].append(np.full(n, "Electronic integrated circuits"))
        columns["motCode"].append(np.full(n, "0"))
        columns["customsCode"].append(np.full(n, "C00"))
        columns["qtyUnitAbbr"].append(np.full(n, "kg"))
        columns["qty"].append(np.full(n, ""))
        columns["netWgt"].append(np.char.mod("%.1f", values / 900))
        columns["primaryValue"].append(np.char.mod("%.0f", values))

    for seed in seeds:
        truth, flows = plant(seed, plant=plant_effect)
        truths.append(truth)
        rng = np.random.default_rng(10_000 + seed)
        declares_imports = {v for v in PARTNERS if rng.random() < 0.7}
        # transit countries and decoys declare their exports: a via whose exports to the
        # destination nobody declares after the break is invisible to any method
        declares_exports = {v for v in PARTNERS if rng.random() < 0.8} | set(truth.transit) \
            | set(truth.decoys)
        numeric_only = {v for v in PARTNERS if rng.random() < 0.2}
        every = np.arange(N_MONTHS)
        for (exporter, importer), values in flows.items():
            if exporter in ORIGINS or exporter in declares_exports:
                rows(exporter, "X", importer, truth.product, every, values, numeric_only)
            if importer in declares_imports or importer in ORIGINS:
                declared = every
            elif importer == DESTINATION:
                declared = every[:t0]
            else:
                continue
            cif = values[declared] * 1.07 * np.exp(rng.normal(0, 0.03, declared.size))
            rows(importer, "M", exporter, truth.product, declared, cif, numeric_only)
    table = pa.table({k: pa.array(np.concatenate(v).astype(str)) for k, v in columns.items()})
    pacsv.write_csv(table, path)
    return truths
