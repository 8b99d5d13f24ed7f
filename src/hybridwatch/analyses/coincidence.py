"""Event coincidence analysis (Donges et al. 2016) of daily event series, with honest significance.

Series are boolean (or 0/1) arrays over consecutive days, index = day number. For a window ΔT
(``window_days``) and lag τ (``lag_days``), both inclusive whole days:

* precursor rate = share of A-events with at least one B-event in ``[t_A - τ - ΔT, t_A - τ]``;
* trigger rate = share of B-events with at least one A-event in ``[t_B + τ, t_B + τ + ΔT]``.

Both ask whether B's events come before A's (B → A). Edges follow pyunicorn 1.0
(``EventSeries.event_coincidence_analysis``) exactly, so the rates are identical to it: unless
τ = ΔT = 0, the precursor rate ignores A-events on or before ``first A-day + τ + ΔT`` and the trigger
rate ignores B-events on or after ``last B-day - τ - ΔT`` (pyunicorn measures these edges from the
first/last *event*, not from the series ends). Every window counted therefore lies inside the series.

Null models (``null=``): "block" (default), "shift", "shuffle", "strata" are surrogate tests (see
:mod:`hybridwatch.analyses.surrogates`) with Monte Carlo p = (1 + #{surrogate >= observed}) /
(1 + n_surrogates); "poisson" is the analytic test of :func:`analytic_p_values`. "block" is the
default: like "shift" it keeps burstiness and the weekly cycle (whole 28-day blocks move by whole
weeks), and unlike "shift" — of which only about T/7 distinct surrogates exist — it has enough
surrogates for p-values small enough to survive an FDR correction over many pairs. Pair-level
p-values across several lags and both rates are family-wise correct (see :func:`coincidence_test`).
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy import stats

from hybridwatch import __version__
from hybridwatch.analyses import surrogates as surr
from hybridwatch.model.results import AnalysisResult

NULLS = ("shift", "shuffle", "block", "strata", "poisson")


class CoincidenceRates(NamedTuple):
    """Rates and their denominators (events that count after the edge rule)."""

    precursor_rate: float
    trigger_rate: float
    n_precursor: int
    n_trigger: int


def as_event_series(values: Any, name: str = "series") -> np.ndarray:
    """A 1-D boolean copy of ``values`` (bool or 0/1), or ValueError."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (days), got shape {array.shape}")
    if array.dtype != bool and not np.isin(array, (0, 1)).all():
        raise ValueError(f"{name} must hold booleans or 0/1")
    return array.astype(bool)


def _eligible_a(days_a: np.ndarray, window_days: int, lag_days: int) -> np.ndarray:
    if days_a.size == 0 or (lag_days == 0 and window_days == 0):
        return days_a
    return days_a[days_a > days_a[0] + lag_days + window_days]


def _eligible_b(days_b: np.ndarray, window_days: int, lag_days: int) -> np.ndarray:
    if days_b.size == 0 or (lag_days == 0 and window_days == 0):
        return days_b
    return days_b[days_b < days_b[-1] - lag_days - window_days]


def _hits(targets: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Whether each [low, high] interval holds at least one of the sorted ``targets``."""
    return np.searchsorted(targets, high, "right") > np.searchsorted(targets, low, "left")


def _links(days: np.ndarray, targets: np.ndarray, low: np.ndarray, high: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """Every (day, target) with the target in the day's [low, high] interval, day-major order."""
    start = np.searchsorted(targets, low, "left")
    count = np.maximum(np.searchsorted(targets, high, "right") - start, 0)
    offsets = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return np.repeat(days, count), targets[np.repeat(start, count) + offsets]


def _rate(k: int, n: int) -> float:
    return k / n if n > 0 else math.nan


def coincidence_rates(a, b, *, window_days: int, lag_days: int = 0) -> CoincidenceRates:
    """Precursor and trigger coincidence rates of A with respect to B (identical to pyunicorn's
    ``event_coincidence_analysis(a, b, window_days, lag=lag_days)[:2]``); NaN when no event counts."""
    a, b = as_event_series(a, "a"), as_event_series(b, "b")
    _check_params(a, b, window_days, (lag_days,))
    days_a, days_b = np.flatnonzero(a), np.flatnonzero(b)
    prec_days = _eligible_a(days_a, window_days, lag_days)
    trig_days = _eligible_b(days_b, window_days, lag_days)
    k_prec = int(_hits(days_b, prec_days - lag_days - window_days,
                       prec_days - lag_days).sum())
    k_trig = int(_hits(days_a, trig_days + lag_days,
                       trig_days + lag_days + window_days).sum())
    return CoincidenceRates(_rate(k_prec, prec_days.size), _rate(k_trig, trig_days.size),
                            int(prec_days.size), int(trig_days.size))


def coincidence_links(a, b, *, window_days: int, lag_days: int = 0
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Evidence: ``(prec_a_days, prec_b_days, trig_b_days, trig_a_days)``, parallel index arrays.

    Each precursor link is an A-day that counts in the precursor rate and a B-day in its window;
    each trigger link a B-day that counts in the trigger rate and an A-day in its window.
    """
    a, b = as_event_series(a, "a"), as_event_series(b, "b")
    days_a, days_b = np.flatnonzero(a), np.flatnonzero(b)
    prec = _eligible_a(days_a, window_days, lag_days)
    trig = _eligible_b(days_b, window_days, lag_days)
    prec_a, prec_b = _links(prec, days_b, prec - lag_days - window_days, prec - lag_days)
    trig_b, trig_a = _links(trig, days_a, trig + lag_days, trig + lag_days + window_days)
    return prec_a, prec_b, trig_b, trig_a


def _check_params(a: np.ndarray, b: np.ndarray | None, window_days: int, lags) -> None:
    if b is not None and a.shape != b.shape:
        raise ValueError(f"a and b must cover the same days ({a.shape[0]} vs {b.shape[0]})")
    if int(window_days) != window_days or window_days < 0:
        raise ValueError(f"window_days must be a whole number >= 0, got {window_days!r}")
    if len(lags) == 0 or any(int(lag) != lag or lag < 0 for lag in lags):
        raise ValueError(f"lags must be whole numbers of days >= 0, got {lags!r}")


# --------------------------------------------------------------------------- analytic null

def binomial_mid_p(k, n, p) -> np.ndarray:
    """One-sided mid-p value ``P(X > k) + P(X = k) / 2`` for ``X ~ Binomial(n, p)``, vectorised."""
    k, n, p = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (k, n, p)))
    with np.errstate(invalid="ignore"):
        out = stats.binom.sf(k, n, p) + 0.5 * stats.binom.pmf(k, n, p)
    return np.where((n > 0) & np.isfinite(p), np.clip(out, 0.0, 1.0), np.nan)


def coincidence_probability(n_events_other: Any, n_days: int, window_days: int) -> np.ndarray:
    """P(a window of ``window_days + 1`` whole days holds >= 1 event of the other series) when that
    series' days are independent Bernoulli trials with probability ``n_events_other / n_days``."""
    q = np.asarray(n_events_other, dtype=float) / n_days
    return 1.0 - (1.0 - q) ** (window_days + 1)


def analytic_p_values(k_precursor, n_precursor, k_trigger, n_trigger, *, n_a, n_b, n_days: int,
                      window_days: int) -> tuple[np.ndarray, np.ndarray]:
    """The "poisson" null done for discrete time: mid-p values of the precursor and trigger counts.

    Model: the other series' events fall on each of the T days independently with probability
    ``N_other / T`` (Bernoulli days: the discrete-time Poisson process). An inclusive window of ΔT
    days covers ``w = ΔT + 1`` days, all inside the series (edge rule), so one event coincides with
    probability ``p = 1 - (1 - N_other / T)^w`` exactly (pyunicorn uses ``1 - (1 - ΔT/(T - τ))^N``,
    one day short, and reports independent daily series as significant). The number of coinciding
    events is taken as ``Binomial(n_counted, p)``; this is exact when no two counted events are
    within ΔT days of each other (disjoint windows). Overlapping windows (clustered events) make
    the coincidences positively correlated, so the binomial tail is then too thin and the test
    anti-conservative: fine for iid-like series, not for bursty ones (use a surrogate null). The
    discreteness of the binomial makes the plain p-value conservative; the mid-p
    ``P(X > k) + P(X = k)/2`` keeps the false-positive rate at the nominal level on average.
    """
    p_prec = binomial_mid_p(k_precursor, n_precursor,
                            coincidence_probability(n_b, n_days, window_days))
    p_trig = binomial_mid_p(k_trigger, n_trigger,
                            coincidence_probability(n_a, n_days, window_days))
    return p_prec, p_trig


# --------------------------------------------------------------------------- single pair

@dataclass(frozen=True)
class LagResult:
    """One lag of a coincidence test; ``*_a_days``/``*_b_days`` are parallel evidence arrays."""

    lag_days: int
    precursor_rate: float
    trigger_rate: float
    p_precursor: float
    p_trigger: float
    n_a: int
    n_b: int
    n_precursor: int
    n_trigger: int
    k_precursor: int
    k_trigger: int
    precursor_a_days: tuple[int, ...]
    precursor_b_days: tuple[int, ...]
    trigger_b_days: tuple[int, ...]
    trigger_a_days: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class CoincidenceResult(AnalysisResult):
    """Coincidence test of B → A over several lags (frozen; ``to_dict`` round-trips JSON).

    The contract's ``parameters`` repeat the test's settings (``window_days`` … ``random_state``)
    and its ``provenance`` the input fingerprint, seed and code version."""

    window_days: int
    lags: tuple[int, ...]
    null: str
    n_surrogates: int
    random_state: int | None
    n_days: int
    per_lag: tuple[LagResult, ...]
    best_lag_days: int | None
    p_value: float
    statistic: float
    combination: str
    input_sha256: str

    def to_dict(self) -> dict[str, Any]:
        """Its strict JSON form as a dict (the contract's ``to_json``)."""
        return json.loads(self.to_json())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CoincidenceResult:
        return cls.from_json(json.dumps(data, allow_nan=False))


def _fingerprint(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.asarray(array.shape, dtype=np.int64).tobytes())
        digest.update(np.packbits(array).tobytes())
    return digest.hexdigest()


def _surrogate_positions(b: np.ndarray, null: str, n_surrogates: int, min_shift: int,
                         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """Event days of B's surrogates as flat (row, day) arrays, rows ascending; and the row count."""
    n_days, days_b = b.size, np.flatnonzero(b)
    if null == "shift":
        shifts = surr.draw_shifts(n_days, n_surrogates, min_shift, rng)
        pos = (days_b[None, :] + shifts[:, None]) % n_days
    elif null == "shuffle":  # only the event days are needed: draw them directly (fast)
        pos = surr.shuffle_positions(n_days, days_b.size, n_surrogates, rng)
    else:
        maps = surr.draw_day_maps(null, n_days, n_surrogates, rng, min_shift=min_shift)
        rows, pos = np.nonzero(b[maps])
        return rows, pos, maps.shape[0]
    rows = np.repeat(np.arange(pos.shape[0]), pos.shape[1])
    return rows, pos.ravel(), pos.shape[0]


def _pair_rates(a: np.ndarray, rows: np.ndarray, pos_b: np.ndarray, n_rows: int,
                window_days: int, lags: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Precursor and trigger rates (n_rows × lags) of A against B-series given by (row, day)."""
    n_days, days_a = a.size, np.flatnonzero(a)
    # cover[r, t]: a B-event of row r lies in [t - ΔT, t]; lag τ reads cover[r, t_A - τ]
    cover = np.zeros((n_rows, n_days + window_days + 1), dtype=bool)
    for d in range(window_days + 1):
        cover[rows, pos_b + d] = True
    counts = np.bincount(rows, minlength=n_rows)
    starts = np.minimum(np.cumsum(counts) - counts, max(pos_b.size - 1, 0))
    last = (np.where(counts > 0, np.maximum.reduceat(pos_b, starts), -1) if pos_b.size
            else np.full(n_rows, -1))
    cum_a = np.concatenate(([0], np.cumsum(a)))
    prec, trig = np.full((n_rows, len(lags)), np.nan), np.full((n_rows, len(lags)), np.nan)
    for i, lag in enumerate(lags):
        elig_a = _eligible_a(days_a, window_days, lag)
        if elig_a.size:
            prec[:, i] = cover[:, elig_a - lag].sum(axis=1) / elig_a.size
        lo = np.minimum(np.arange(n_days) + lag, n_days)
        hi = np.minimum(lo + window_days + 1, n_days)
        follows = (cum_a[hi] - cum_a[lo]) > 0  # an A-event in [s + τ, s + τ + ΔT]
        if lag == 0 and window_days == 0:
            elig = np.ones(rows.size, dtype=bool)
        else:
            elig = pos_b < last[rows] - lag - window_days
        n_elig = np.bincount(rows, weights=elig, minlength=n_rows)
        hits = np.bincount(rows, weights=elig & follows[pos_b], minlength=n_rows)
        with np.errstate(invalid="ignore", divide="ignore"):
            trig[:, i] = np.where(n_elig > 0, hits / np.maximum(n_elig, 1), np.nan)
    return prec, trig


def _standardise(obs: np.ndarray, sims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """z-scores of observed and surrogate statistics against the surrogate mean/sd (NaN-aware)."""
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        # a rate that is NaN in every surrogate (too few events) stays NaN, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(sims, axis=0)
        sd = np.maximum(np.nanstd(sims, axis=0), 1e-9)
    return (obs - mean) / sd, (sims - mean) / sd


def _nanmax_last(x: np.ndarray) -> np.ndarray:
    return np.fmax.reduce(np.where(np.isnan(x), -np.inf, x), axis=-1)


def coincidence_test(a, b, *, window_days: int = 3, lags=(0, 1, 2, 3), null: str = "block",
                     n_surrogates: int = 1000, random_state: int | None = None
                     ) -> CoincidenceResult:
    """Test whether B's events precede A's more often than chance, at each lag in ``lags``.

    Per lag: precursor/trigger rates, one-sided p-values, counts and evidence links. Pair level:
    for surrogate nulls, the statistic is the maximum over lags and both rates of the rate
    standardised by its surrogate mean and sd, compared with the same maximum on the same surrogates
    (a max-statistic test: family-wise correct over lags and rates, no Bonferroni loss); for
    "poisson", the smallest of the 2 × len(lags) mid-p values times their number (Bonferroni).
    ``best_lag_days`` is the lag with the largest z-score (smallest p). Degenerate input (no events,
    too short for the shifts) gives NaN and a warning, never an exception.
    """
    a, b = as_event_series(a, "a"), as_event_series(b, "b")
    lags = tuple(int(lag) for lag in np.atleast_1d(lags))
    _check_params(a, b, window_days, lags)
    if null not in NULLS:
        raise ValueError(f"unknown null {null!r} (one of: {', '.join(NULLS)})")
    n_days, warnings = a.size, []
    rng = np.random.default_rng(random_state)
    days_a, days_b = np.flatnonzero(a), np.flatnonzero(b)
    obs_prec, obs_trig = _pair_rates(a, np.zeros(days_b.size, int), days_b, 1, window_days, lags)
    obs = np.concatenate([obs_prec[0], obs_trig[0]])
    n_lags = len(lags)
    p_comp, p_value, stat, n_used = np.full(2 * n_lags, np.nan), math.nan, math.nan, 0
    z_obs = None
    combination = ("Bonferroni: min mid-p over lags and rates × their number" if null == "poisson"
                   else "max over lags and rates of surrogate-standardised rates, same surrogates")
    if days_a.size == 0 or days_b.size == 0:
        warnings.append("no events in " + ("a" if days_a.size == 0 else "b") + ": nothing to test")
    elif np.isnan(obs).all():
        warnings.append("too few events away from the series edges for this window and lags")
    elif null == "poisson":
        n_counted = _n_counted(days_a, days_b, window_days, lags)
        k = np.rint(np.nan_to_num(obs) * n_counted)
        p_comp = np.concatenate(analytic_p_values(
            k[:n_lags], n_counted[:n_lags], k[n_lags:], n_counted[n_lags:], n_a=days_a.size,
            n_b=days_b.size, n_days=n_days, window_days=window_days))
        if not np.isnan(p_comp).all():
            stat = float(np.nanmin(p_comp))
            p_value = min(1.0, stat * 2 * n_lags)
    else:
        min_shift = surr.min_shift_days(window_days, max(lags))
        if surr.admissible_shifts(n_days, min_shift).size == 0 and null in ("shift", "block"):
            warnings.append(f"series of {n_days} days too short for shifts >= {min_shift} days")
        else:
            rows, pos, n_used = _surrogate_positions(b, null, n_surrogates, min_shift, rng)
            sim = np.concatenate(_pair_rates(a, rows, pos, n_used, window_days, lags), axis=1)
            with np.errstate(invalid="ignore"):
                p_comp = (1 + (sim >= obs).sum(axis=0)) / (1 + n_used)
            z_obs, z_sim = _standardise(obs, sim)
            stat = float(_nanmax_last(z_obs))
            p_value = float((1 + (_nanmax_last(z_sim) >= stat).sum()) / (1 + n_used))
            p_comp = np.where(np.isnan(obs), np.nan, p_comp)
    per_lag = _lag_results(a, b, window_days, lags, p_comp)
    best = _best_lag(lags, p_comp, null, z_obs)
    seed = random_state if isinstance(random_state, int) else None
    fingerprint = _fingerprint(a, b)
    return CoincidenceResult(
        window_days=int(window_days), lags=lags, null=null, n_surrogates=int(n_used),
        random_state=seed, n_days=n_days,
        per_lag=per_lag, best_lag_days=best, p_value=float(p_value), statistic=float(stat),
        combination=combination, warnings=tuple(warnings), input_sha256=fingerprint,
        parameters={"window_days": int(window_days), "lags": list(lags), "null": null,
                    "n_surrogates": int(n_used), "random_state": seed},
        provenance={"input_sha256": fingerprint, "random_state": seed, "version": __version__})


def _n_counted(days_a, days_b, window_days, lags) -> np.ndarray:
    prec = [_eligible_a(days_a, window_days, lag).size for lag in lags]
    trig = [_eligible_b(days_b, window_days, lag).size for lag in lags]
    return np.asarray(prec + trig, dtype=float)


def _best_lag(lags, p_comp, null, z_obs) -> int | None:
    if z_obs is not None and not np.isnan(z_obs).all():
        score = np.where(np.isnan(z_obs), -np.inf, z_obs)
        return lags[int(np.argmax(score)) % len(lags)]
    if null == "poisson" and not np.isnan(p_comp).all():
        return lags[int(np.nanargmin(p_comp)) % len(lags)]
    return None


def _lag_results(a, b, window_days, lags, p_comp) -> tuple[LagResult, ...]:
    out = []
    for i, lag in enumerate(lags):
        rates = coincidence_rates(a, b, window_days=window_days, lag_days=lag)
        pa, pb, tb, ta = coincidence_links(a, b, window_days=window_days, lag_days=lag)
        out.append(LagResult(
            lag_days=lag, precursor_rate=rates.precursor_rate, trigger_rate=rates.trigger_rate,
            p_precursor=float(p_comp[i]), p_trigger=float(p_comp[len(lags) + i]),
            n_a=int(a.sum()), n_b=int(b.sum()), n_precursor=rates.n_precursor,
            n_trigger=rates.n_trigger, k_precursor=int(np.unique(pa).size),
            k_trigger=int(np.unique(tb).size), precursor_a_days=tuple(pa.tolist()),
            precursor_b_days=tuple(pb.tolist()), trigger_b_days=tuple(tb.tolist()),
            trigger_a_days=tuple(ta.tolist())))
    return tuple(out)


def __getattr__(name: str) -> Any:
    """``all_pairs`` and ``PairsResult`` live in coincidence_pairs (module size); re-exported here."""
    if name in ("all_pairs", "PairsResult"):
        from hybridwatch.analyses import coincidence_pairs

        return getattr(coincidence_pairs, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
