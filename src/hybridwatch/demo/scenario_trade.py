"""The demo's trade: one UN Comtrade-format monthly file (HS6) with
* CHN → RUS exports of listed dual-use products growing over the scenario's second half (the
  convergence index's technology-transfer component), and
* a diversion: EU exports of integrated circuits (HS 854231, 854239) to Russia collapse at a
  break month while EU → KAZ/ARM/KGZ and KAZ/ARM/KGZ → RUS rise; decoys beside them (TUR grows
  smoothly for years, CHN replaces EU supply with its own, ARE has a one-month spike).
Monthly data start six years before the scenario ends so the diversion test has placebo months.
Drawn from its own random stream: nothing else in the scenario changes.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ORIGINS = ("DEU", "NLD", "FRA")
TRANSIT = ("KAZ", "ARM", "KGZ")
DECOYS = {"TUR": "smooth trend since the start", "CHN": "direct substitution",
          "ARE": "one-month spike"}
OTHERS = ("SRB", "GEO", "UZB", "IND", "BRA", "ZAF", "EGY", "MEX", "VNM", "THA", "MYS", "IDN")
DIVERSION_PRODUCTS = {"854231": "Electronic integrated circuits: processors and controllers",
                      "854239": "Electronic integrated circuits: other"}
#: CHN → RUS listed products (HS6) and monthly base values in USD.
TRANSFER_PRODUCTS = {"854231": 6.0e7, "854239": 4.0e7, "852691": 1.2e7, "847150": 9.0e7}
M49 = {"DEU": 276, "NLD": 528, "FRA": 251, "KAZ": 398, "ARM": 51, "KGZ": 417, "TUR": 792,
       "CHN": 156, "ARE": 784, "SRB": 688, "GEO": 268, "UZB": 860, "IND": 699, "BRA": 76,
       "ZAF": 710, "EGY": 818, "MEX": 484, "VNM": 704, "THA": 764, "MYS": 458, "IDN": 360,
       "RUS": 643}


def _months(start: date, days: int) -> tuple[np.ndarray, int, int]:
    """Months from six years before the scenario's end to its end; index of the scenario's
    first month and of the break (15 months before the end)."""
    end = np.datetime64(start + timedelta(days=days - 1), "M")
    months = np.arange(end - 71, end + 1)
    return months, int((np.datetime64(start, "M") - months[0]).astype(int)), months.size - 15


def _noise(rng: np.random.Generator, n: int, sd: float = 0.15) -> np.ndarray:
    eps = rng.normal(0, sd, n)
    out = np.empty(n)
    out[0] = eps[0]
    for i in range(1, n):
        out[i] = 0.4 * out[i - 1] + eps[i]
    return np.exp(out)


def write_trade(path: Path, start: date, days: int, random_state: int) -> dict[str, Any]:
    """Write the file; return the ground truth of the diversion."""
    rng = np.random.default_rng([random_state, 3])
    months, first_scenario, t0 = _months(start, days)
    n = months.size
    t = np.arange(n)
    season = 1 + 0.12 * np.sin(2 * np.pi * (t % 12) / 12)
    after = (t >= t0).astype(float)
    ramp = np.clip((t - t0 + 1) / 3, 0, 1)
    rows: list[tuple[str, str, str, str, np.ndarray]] = []   # exporter, importer, flow, product

    def add(exporter: str, importer: str, product: str, values: np.ndarray) -> None:
        rows.append((exporter, importer, "X", product, values))
        # the importer declares too (CIF ≈ FOB × 1.06), except Russia after the break
        declared = values * 1.06 * np.exp(rng.normal(0, 0.02, n))
        if importer == "RUS":
            declared = np.where(t < t0, declared, np.nan)
        rows.append((importer, exporter, "M", product, declared))

    for product in DIVERSION_PRODUCTS:
        for origin in ORIGINS:
            level = rng.lognormal(15.5, 0.3)
            add(origin, "RUS", product, level * season * _noise(rng, n) * (1 - 0.85 * after))
            for via in TRANSIT + tuple(DECOYS) + OTHERS:
                base = rng.lognormal(12.5, 0.6) * season * _noise(rng, n) * (1 - 0.1 * after)
                if via in TRANSIT:
                    base = base * (1 + rng.uniform(1.5, 2.5) * ramp)
                elif via == "TUR":
                    base = base * np.exp(0.3 * t / 12)
                elif via == "ARE":
                    base = base * np.where(t == t0 + 2, 8, 1)
                add(origin, via, product, base)
        for via in TRANSIT + tuple(DECOYS) + OTHERS:
            base = rng.lognormal(12.0, 0.6) * season * _noise(rng, n)
            if via in TRANSIT:
                base = base * (1 + rng.uniform(3, 6) * ramp)
            elif via == "TUR":
                base = base * np.exp(0.3 * t / 12)
            elif via == "CHN":
                base = base * (1 + 4 * ramp)
            elif via == "ARE":
                base = base * np.where(t == t0 + 2, 8, 1)
            if via != "CHN":
                add(via, "RUS", product, base)
    # CHN → RUS listed products, growing over the scenario's second half (technology transfer)
    half = first_scenario + (n - first_scenario) / 2
    growth = 1 + 1.5 * np.clip((t - half) / (n - half), 0, 1)
    for product, base in TRANSFER_PRODUCTS.items():
        extra = 4 if product in DIVERSION_PRODUCTS else 0   # substitution after the break too
        values = base * growth * season * _noise(rng, n) * (1 + extra * ramp * 0.25)
        add("CHN", "RUS", product, values)
    _write(path, months, rows)
    return {"product": "8542", "hs6": sorted(DIVERSION_PRODUCTS), "origin": list(ORIGINS),
            "destination": "RUS", "break": str(months[t0]), "transit": sorted(TRANSIT),
            "decoys": DECOYS, "first_month": str(months[0]), "last_month": str(months[-1])}


def _write(path: Path, months: np.ndarray, rows: list) -> None:
    periods = np.array([str(m).replace("-", "") for m in months])
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "typeCode", "freqCode", "period", "reporterCode", "reporterISO", "flowCode",
        "partnerCode", "partnerISO", "partner2Code", "cmdCode", "cmdDesc", "motCode",
        "customsCode", "qtyUnitAbbr", "netWgt", "primaryValue")}
    descriptions = {**DIVERSION_PRODUCTS, "852691": "Radio navigational aid apparatus",
                    "847150": "Processing units for automatic data-processing machines"}
    for reporter, partner, flow, product, values in rows:
        keep = ~np.isnan(values)
        k = int(keep.sum())
        for name, value in (("typeCode", "C"), ("freqCode", "M"),
                            ("reporterCode", str(M49[reporter])), ("reporterISO", reporter),
                            ("flowCode", flow), ("partnerCode", str(M49[partner])),
                            ("partnerISO", partner), ("partner2Code", "0"),
                            ("cmdCode", product), ("cmdDesc", descriptions[product]),
                            ("motCode", "0"), ("customsCode", "C00"), ("qtyUnitAbbr", "kg")):
            cols[name].append(np.full(k, value))
        cols["period"].append(periods[keep])
        cols["netWgt"].append(np.char.mod("%.0f", values[keep] / 2500))
        cols["primaryValue"].append(np.char.mod("%.0f", values[keep]))
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(pa.table({k: np.concatenate(v) for k, v in cols.items()}), path)
