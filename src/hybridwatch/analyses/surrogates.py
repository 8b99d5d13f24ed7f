"""Null models for event coincidence analysis: surrogate event series that keep what real data has.

A surrogate of an event series B is described by a *day map* ``phi`` (length T): the surrogate's
day t carries B's day ``phi[t]``, i.e. ``B_surrogate = B[phi]``. Every null model is a way of drawing
day maps:

``shift`` (the default of :func:`~hybridwatch.analyses.coincidence.coincidence_test`)
    circular time shift by ``k`` days, ``phi[t] = (t - k) mod T``, with ``k`` a multiple of 7 (the
    weekday of every event is kept) and ``min_shift <= k <= T - min_shift`` (small shifts would
    re-create the coupling under test). Keeps burstiness, the weekly cycle and the event count
    exactly. There are only about ``T / 7`` such shifts: when ``n_surrogates`` is larger, every
    admissible shift is used once (the exact shift distribution) instead of drawing repeats.
``shuffle``
    a uniform random permutation of the days: correct for independent (iid) days only; it destroys
    bursts and weekly cycles, so on real data it over-detects.
``block``
    the days are cut into 28-day blocks and each block is shifted by its own admissible random
    multiple of 7 days (circular): keeps bursts shorter than a block and the weekday phase, and
    mixes the seasons. The event count varies between surrogates.
``strata``
    days are permuted within strata of (28-day period, weekday): each event moves by a multiple of
    7 days inside its 4-week period. Keeps weekly cycle, trend and season at month resolution; breaks
    bursts. Days of an incomplete last period are permuted within what remains of it.

All randomness comes from a ``numpy.random.Generator`` passed in by the caller.
"""

from __future__ import annotations

import numpy as np

#: Surrogate null models (the analytic "poisson" null lives in coincidence.py).
SURROGATE_NULLS = ("shift", "shuffle", "block", "strata")
BLOCK_DAYS = 28
WEEK_DAYS = 7


def min_shift_days(window_days: int, max_lag_days: int) -> int:
    """Smallest admissible shift: ``2 * (window + max lag) + 7``, rounded up to whole weeks.

    A shift this large moves every B event out of every window it could have coincided in, so a
    surrogate cannot re-create a coupling at any tested lag.
    """
    raw = 2 * (window_days + max_lag_days) + WEEK_DAYS
    return -(-raw // WEEK_DAYS) * WEEK_DAYS


def admissible_shifts(n_days: int, min_shift: int) -> np.ndarray:
    """Shift offsets in days: multiples of 7 in ``[min_shift, n_days - min_shift]``."""
    start = -(-min_shift // WEEK_DAYS) * WEEK_DAYS
    return np.arange(max(start, WEEK_DAYS), n_days - min_shift + 1, WEEK_DAYS, dtype=np.int64)


def draw_shifts(n_days: int, n_surrogates: int, min_shift: int,
                rng: np.random.Generator) -> np.ndarray:
    """Offsets for the shift null: all admissible shifts if there are no more than asked for,
    otherwise a random sample of them without replacement."""
    shifts = admissible_shifts(n_days, min_shift)
    if shifts.size <= n_surrogates:
        return shifts
    return np.sort(rng.choice(shifts, size=n_surrogates, replace=False))


def shift_maps(n_days: int, shifts: np.ndarray) -> np.ndarray:
    """Day maps (n × T) of circular shifts: ``phi[t] = (t - k) mod T``."""
    return (np.arange(n_days)[None, :] - np.asarray(shifts)[:, None]) % n_days


def shuffle_maps(n_days: int, n_surrogates: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform random permutations of the days (n × T)."""
    base = np.broadcast_to(np.arange(n_days), (n_surrogates, n_days))
    return rng.permuted(base, axis=1)


def shuffle_positions(n_days: int, n_events: int, n_surrogates: int,
                      rng: np.random.Generator) -> np.ndarray:
    """Event days of shuffled series (n × n_events, sorted rows): uniform random sets of days.

    Draws days with replacement and redraws the duplicates until none is left: the procedure
    treats all days alike, so the resulting set is uniform among all sets of ``n_events`` days,
    and it is far cheaper than permuting every day when events are sparse.
    """
    if n_events > n_days // 4:  # dense: rejection would loop often; rank random keys instead
        keys = rng.random((n_surrogates, n_days))
        return np.sort(np.argpartition(keys, n_events - 1, axis=1)[:, :n_events], axis=1)
    pos = rng.integers(0, n_days, size=(n_surrogates, n_events))
    while True:
        pos.sort(axis=1)
        dup = np.zeros(pos.shape, dtype=bool)
        dup[:, 1:] = pos[:, 1:] == pos[:, :-1]
        n_dup = int(dup.sum())
        if n_dup == 0:
            return pos
        pos[dup] = rng.integers(0, n_days, size=n_dup)


def block_maps(n_days: int, n_surrogates: int, min_shift: int, rng: np.random.Generator,
               *, block_days: int = BLOCK_DAYS) -> np.ndarray:
    """Each ``block_days`` block shifted by its own admissible multiple of 7 days (n × T)."""
    shifts = admissible_shifts(n_days, min_shift)
    if shifts.size == 0:
        raise ValueError(f"series of {n_days} days is too short for shifts of >= {min_shift} days")
    block_of_day = np.arange(n_days) // block_days
    n_blocks = int(block_of_day[-1]) + 1
    offsets = rng.choice(shifts, size=(n_surrogates, n_blocks))
    return (np.arange(n_days)[None, :] - offsets[:, block_of_day]) % n_days


def strata_maps(n_days: int, n_surrogates: int, rng: np.random.Generator,
                *, block_days: int = BLOCK_DAYS) -> np.ndarray:
    """Permutations of the days within (``block_days`` period, weekday) strata (n × T)."""
    weeks_per_block = block_days // WEEK_DAYS
    n_blocks = -(-n_days // block_days)
    padded = n_blocks * block_days
    keys = rng.random((n_surrogates, padded))
    keys[:, n_days:] = 2.0  # virtual days past the end sort last, so real days map to real days
    # axes: surrogate, period, week in period, weekday; permute the weeks of each (period, weekday)
    order = np.argsort(keys.reshape(n_surrogates, n_blocks, weeks_per_block, WEEK_DAYS), axis=2)
    days = np.arange(padded).reshape(n_blocks, weeks_per_block, WEEK_DAYS)
    source = days[np.arange(n_blocks)[:, None, None], order, np.arange(WEEK_DAYS)]
    return source.reshape(n_surrogates, padded)[:, :n_days]


def draw_day_maps(null: str, n_days: int, n_surrogates: int, rng: np.random.Generator, *,
                  min_shift: int) -> np.ndarray:
    """Day maps (n × T) for any surrogate null; for "shift" see also :func:`draw_shifts`."""
    if null == "shift":
        return shift_maps(n_days, draw_shifts(n_days, n_surrogates, min_shift, rng))
    if null == "shuffle":
        return shuffle_maps(n_days, n_surrogates, rng)
    if null == "block":
        return block_maps(n_days, n_surrogates, min_shift, rng)
    if null == "strata":
        return strata_maps(n_days, n_surrogates, rng)
    raise ValueError(f"unknown null {null!r} (one of: {', '.join(SURROGATE_NULLS)}, poisson)")


def simulate_bursty_events(n_days: int, n_series: int, *, base_rate: float = 0.04,
                           burst_rate: float = 0.45, p_enter_burst: float = 0.02,
                           mean_burst_days: float = 6.0, weekday_factors=(1.3, 1.2, 1.1, 1.1,
                                                                            1.0, 0.6, 0.5),
                           seasonal_amplitude: float = 0.4, common_season: bool = False,
                           random_state: int | np.random.Generator | None = None) -> np.ndarray:
    """Independent bursty, weekly and seasonal daily event series (T × S bool), for calibration.

    Each series switches between a calm state (``base_rate`` events a day) and bursts
    (``burst_rate``) lasting ``mean_burst_days`` on average (a two-state Markov chain, the discrete
    cousin of a Hawkes cluster process); the daily probability is multiplied by a weekday profile
    common to all series and by an annual cycle ``1 + a sin(2 pi t / 365.25 + phase)``, whose phase
    is random per series unless ``common_season``. Series are independent of each other.
    """
    rng = np.random.default_rng(random_state)
    exit_prob = 1.0 / mean_burst_days
    state = np.zeros((n_days, n_series), dtype=bool)
    current = rng.random(n_series) < p_enter_burst / (p_enter_burst + exit_prob)
    switches = rng.random((n_days, n_series))
    for day in range(n_days):  # the Markov chain is sequential in time; vectorised over series
        current = np.where(current, switches[day] >= exit_prob, switches[day] < p_enter_burst)
        state[day] = current
    days = np.arange(n_days)
    weekday = np.asarray(weekday_factors, dtype=float)[days % WEEK_DAYS]
    phase = np.zeros(n_series) if common_season else rng.uniform(0, 2 * np.pi, n_series)
    season = 1.0 + seasonal_amplitude * np.sin(2 * np.pi * days[:, None] / 365.25 + phase[None, :])
    prob = np.where(state, burst_rate, base_rate) * weekday[:, None] * season
    return rng.random((n_days, n_series)) < np.clip(prob, 0.0, 1.0)
