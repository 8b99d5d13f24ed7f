"""The demo's hidden campaigns: the structure a risk model can learn, so its backtest has
something to show.

Per campaign target (Germany and Poland) a two-state Markov chain over days switches a
hostile campaign on (about once in 100 days) and off (campaigns last 45 days on average).
During a campaign the target's hostile series run ``LIFT`` times above their background, and
coordinated multi-domain episodes start far more often (``EPISODE_RATE``) than outside one.
So recent hostile activity against a target raises the chance of an episode in the next weeks —
what the risk model's activity drivers measure — and nothing else does: the Russia–China
convergence the scenario plants (``scenario_convergence``) is drawn independently of the
campaigns, so its true effect on episodes is zero.

Taiwan has no campaigns: with them, the scan found only one of its 23 planted campaign
episodes (around Taiwan, military and cyber background is already bursty and coupled), so the
stored outcome would have disagreed with the plan and taught the model noise.

Only the schedule is drawn here, from its own random stream; ``scenario`` plants the events.
Measured on the demo (seed 7, three years): 17 campaign episodes planted, all 17 found by the
scan; the episode backtest holds 45 positive outcomes of 544 and shows skill (docs/assessment.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Per-day chance that a campaign starts (off → on) and ends (on → off).
START_RATE, END_RATE = 1 / 100, 1 / 45
#: Hostile background during a campaign: this many times the series' own rate, on top of it.
LIFT = 1.5
#: Per-day chance that a coordinated episode starts, inside and outside a campaign.
EPISODE_RATE = {"campaign": 1 / 18, "quiet": 1 / 2000}
#: No two planted episodes against one target start closer than this (days): each is its own.
MIN_GAP_DAYS = 16
#: The first days of a scenario hold no campaign episode (a baseline to detect against).
WARM_UP_DAYS = 60


@dataclass(frozen=True)
class CampaignSchedule:
    targets: tuple[str, ...]
    active: np.ndarray                        # (days, targets) bool: the hidden campaign state
    episode_days: dict[str, list[int]]        # target → start days of its planted episodes


def campaign_schedule(rng: np.random.Generator, n_days: int, targets: tuple[str, ...],
                      reserved: list[tuple[int, int]]) -> CampaignSchedule:
    """Campaign days and episode start days per target; no episode within ``MIN_GAP_DAYS`` of
    a ``reserved`` (start, end) day range (the scenario's named episodes)."""
    active = np.zeros((n_days, len(targets)), bool)
    state = np.zeros(len(targets), bool)
    flips = rng.random((n_days, len(targets)))
    for day in range(n_days):
        state = state ^ (flips[day] < np.where(state, END_RATE, START_RATE))
        active[day] = state
    draws = rng.random((n_days, len(targets)))
    rate = np.where(active, EPISODE_RATE["campaign"], EPISODE_RATE["quiet"])
    episode_days: dict[str, list[int]] = {}
    taken = [d for start, end in reserved for d in range(start, end + 1)]
    for k, target in enumerate(targets):
        days: list[int] = []
        for day in np.flatnonzero(draws[:, k] < rate[:, k]).tolist():
            if day < WARM_UP_DAYS or day > n_days - 10:
                continue
            if any(abs(day - other) < MIN_GAP_DAYS for other in days + taken):
                continue
            days.append(day)
        episode_days[target] = days
    return CampaignSchedule(tuple(targets), active, episode_days)
