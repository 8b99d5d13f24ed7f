"""The demo's Russia–China convergence: cooperative GDELT events between the two that grow in the
scenario's second half, and monthly exports of dual-use electronics from China to Russia in
UN Comtrade's CSV columns. Drawn from their own random stream, so adding them leaves every other
planted effect of the scenario exactly as it was."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np

#: Cooperative CAMEO codes (QuadClass 1–2): statements, consultations, cooperation, aid.
COOPERATIVE_CODES = ("036", "040", "042", "043", "046", "061")
#: HS codes of dual-use electronics with their Comtrade descriptions, and monthly base values.
HS_CODES = {"8542": ("Electronic integrated circuits", 1.6e8),
            "8526": ("Radar apparatus, radio navigational aid apparatus", 1.2e7),
            "8471": ("Automatic data processing machines", 2.4e8)}


def cooperation_days(rng: np.random.Generator, n_days: int, *, per_day: float = 1.2,
                     growth: float = 1.0) -> np.ndarray:
    """Days of cooperative RUS↔CHN events: a steady rate that rises by ``growth`` (×(1+growth))
    over the scenario's second half — the planted convergence."""
    t = np.arange(n_days)
    ramp = np.clip((t - n_days / 2) / (n_days / 2), 0, 1)
    counts = rng.poisson(per_day * (1 + growth * ramp))
    return np.repeat(t, counts)


def write_trade(path: Path, start: date, n_days: int, rng: np.random.Generator, *,
                growth: float = 1.5) -> list[str]:
    """Monthly CHN → RUS exports of ``HS_CODES`` (Comtrade columns), growing in the second half;
    returns the record ids the comtrade mapping gives them."""
    last_day = np.datetime64(start, "D") + np.timedelta64(n_days - 1, "D")
    months = np.arange(np.datetime64(start, "M"), last_day.astype("datetime64[M]") + 1)
    ramp = np.clip((np.arange(months.size) - months.size / 2) / (months.size / 2), 0, 1)
    ids, rows = [], []
    for m, month in enumerate(months):
        period = str(month).replace("-", "")
        for code, (description, base) in HS_CODES.items():
            value = base * (1 + growth * ramp[m]) * rng.lognormal(0, 0.15)
            rows.append({"period": period, "reporterISO": "CHN", "partnerISO": "RUS",
                         "flowCode": "X", "cmdCode": code, "cmdDesc": description,
                         "primaryValue": f"{value:.0f}"})
            ids.append(f"{period}:CHN:RUS:X:{code}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return ids
