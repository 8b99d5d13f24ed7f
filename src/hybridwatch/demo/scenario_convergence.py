"""The demo's Russia–China convergence: cooperative GDELT events between the two that grow in the
scenario's second half (the trade side is in ``scenario_trade``). Drawn from their own random
stream, so adding them leaves every other planted effect of the scenario exactly as it was."""

from __future__ import annotations


import numpy as np

#: Cooperative CAMEO codes (QuadClass 1–2): statements, consultations, cooperation, aid.
COOPERATIVE_CODES = ("036", "040", "042", "043", "046", "061")
def cooperation_days(rng: np.random.Generator, n_days: int, *, per_day: float = 1.2,
                     growth: float = 1.0) -> np.ndarray:
    """Days of cooperative RUS↔CHN events: a steady rate that rises by ``growth`` (×(1+growth))
    over the scenario's second half — the planted convergence."""
    t = np.arange(n_days)
    ramp = np.clip((t - n_days / 2) / (n_days / 2), 0, 1)
    counts = rng.poisson(per_day * (1 + growth * ramp))
    return np.repeat(t, counts)
