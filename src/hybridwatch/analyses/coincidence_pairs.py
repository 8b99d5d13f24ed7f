"""Event coincidence analysis of every ordered pair of S series at once, with FDR control.

For one surrogate, the coincidence counts of all S × S pairs are two float32 matrix products over
time: precursor counts ``Ã_τᵀ · D(B)`` (A-events that count, against B dilated by the window) and
trigger counts ``F_τ(A)ᵀ · B`` (A dilated forward, against B's events) minus the few B-events the
edge rule drops at the end of each series. All lags share one product of stacked matrices. Every
surrogate moves all B-series with the *same* day map (one shift, one permutation...): that keeps
the cross-correlations among B-series, which is fine because each pair is tested on its own.

The shift null needs no product per shift: every shift's counts come from two FFT
cross-correlations per pair (``analyses.pairs_shift``), with the same integers. The other
nulls draw their surrogates in order and share them among as many threads as BLAS has, each
thread running single-threaded products (``_exceedances``). The per-block shifts of the block
null leave no such shortcut: a table of per-block cross-correlations would hold
``blocks × shifts × S² × lags × 2`` float32 counts (131 × 518 × 200² × 4 × 2: about 87 GB for
200 series over ten years), and each (block, shift) is used by about two of 1,000 surrogates,
so it would save at most half the products; the products run near the core's peak (about 85
GFLOP/s in float32).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hybridwatch import __version__
from hybridwatch.analyses import surrogates as surr
from hybridwatch.analyses.coincidence import (
    NULLS,
    _check_params,
    _fingerprint,
    analytic_p_values,
)
from hybridwatch.analyses.fdr import benjamini_hochberg
from hybridwatch.analyses.pairs_shift import monte_carlo_shifts
from hybridwatch.model.json_values import json_value
from hybridwatch.model.results import CONTRACT_FIELDS, AnalysisResult

N_PILOT = 100  # surrogates that fix the mean/sd used to standardise the rates before the max


@dataclass(frozen=True, eq=False)
class PairsResult(AnalysisResult):
    """All ordered pairs (a, b), a ≠ b: does series b's activity precede series a's (b → a)?

    Arrays are parallel, one entry per pair; rates and per-rate p-values are at ``best_lag_days``
    (-1 when untestable); ``p_value`` is family-wise over lags and both rates; ``q_value`` is the
    Benjamini–Hochberg q-value over the testable pairs only; ``significant`` is
    ``q_value <= fdr``. A pair is *untestable* (``testable`` False, p and q NaN, outside the BH
    family) when either series has no events or no p-value can be computed;
    ``untestable_reason`` says which.
    """

    names: tuple[str, ...]
    window_days: int
    lags: tuple[int, ...]
    null: str
    n_surrogates: int
    random_state: int | None
    fdr: float
    a_index: np.ndarray
    b_index: np.ndarray
    best_lag_days: np.ndarray
    precursor_rate: np.ndarray
    trigger_rate: np.ndarray
    p_precursor: np.ndarray
    p_trigger: np.ndarray
    p_value: np.ndarray
    q_value: np.ndarray
    significant: np.ndarray
    combination: str
    input_sha256: str
    testable: np.ndarray | None = None
    untestable_reason: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON view (arrays as lists, NaN as null, ``warnings`` as the last key but
        two); ``from_dict`` reverses it. ``to_json`` is the complete, typed form."""
        own = [f.name for f in dataclasses.fields(self) if f.name not in CONTRACT_FIELDS]
        at = own.index("input_sha256")
        return json_value({name: getattr(self, name)
                           for name in own[:at] + ["warnings"] + own[at:]})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairsResult:
        fields = {f.name: data[f.name] for f in dataclasses.fields(cls)
                  if f.name in data and f.name not in CONTRACT_FIELDS}
        fields["warnings"] = tuple(data.get("warnings", ()))
        for name in ("names", "lags", "untestable_reason"):
            fields[name] = tuple(fields.get(name, ()))
        dtypes = {"a_index": int, "b_index": int, "best_lag_days": int, "significant": bool,
                  "testable": bool}
        for name in _ARRAYS:
            values = [math.nan if v is None else v for v in data[name]]
            fields[name] = np.asarray(values, dtype=dtypes.get(name, float))
        fields["testable"] = (np.asarray(data["testable"], dtype=bool) if "testable" in data
                              else ~np.isnan(fields["p_value"]))
        if not fields["untestable_reason"]:
            fields["untestable_reason"] = tuple("" if t else "no p-value"
                                                for t in fields["testable"])
        return cls(**fields)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per pair, with series names, sorted by p-value (NaN last)."""
        order = np.argsort(np.where(np.isnan(self.p_value), np.inf, self.p_value), kind="stable")
        return [{"a": self.names[self.a_index[i]], "b": self.names[self.b_index[i]],
                 **{name: getattr(self, name)[i].item() for name in _ARRAYS[2:]},
                 "testable": bool(self.testable[i]),
                 "untestable_reason": self.untestable_reason[i] or None} for i in order]


_ARRAYS = ("a_index", "b_index", "best_lag_days", "precursor_rate", "trigger_rate",
           "p_precursor", "p_trigger", "p_value", "q_value", "significant")


class _PairsEngine:
    """Precomputed A-side matrices; ``rates`` gives (2, L, S, S) rates of one B surrogate."""

    def __init__(self, events: np.ndarray, window_days: int, lags: tuple[int, ...]) -> None:
        n_days, n_series = events.shape
        self.events, self.window, self.lags = events, window_days, lags
        self.n_days, self.n_series = n_days, n_series
        days = np.arange(n_days)[:, None]
        first = np.where(events.any(axis=0), events.argmax(axis=0), n_days)
        back, forward = np.zeros_like(events), np.zeros_like(events)
        for d in range(window_days + 1):  # circular dilations; the edge rule keeps us off the wrap
            back |= np.roll(events, d, axis=0)
            forward |= np.roll(events, -d, axis=0)
        self.back = back.astype(np.float32)  # back[t, j]: a j-event in [t - ΔT, t]
        self.forward = forward                # forward[t, j]: a j-event in [t, t + ΔT]
        self.counted = []                     # per lag: the A-events it counts
        a_stack, f_stack, n_prec = [], [], []
        for lag in lags:
            counted = events.copy()
            if lag or window_days:
                counted &= days > first + lag + window_days
            n_prec.append(counted.sum(axis=0))
            self.counted.append(counted)
            a_stack.append(np.roll(counted, -lag, axis=0).T)  # row u reads A-day u + τ
            f_stack.append(np.roll(forward, -lag, axis=0).T)  # an A-event in [s + τ, s + τ + ΔT]
        self.a_stack = np.ascontiguousarray(np.concatenate(a_stack), dtype=np.float32)
        self.f_stack = np.ascontiguousarray(np.concatenate(f_stack), dtype=np.float32)
        self.n_prec = np.asarray(n_prec, dtype=float)  # (L, S): A-events counted per lag
        self.n_events = events.sum(axis=0)
        self.last = np.where(events.any(axis=0), n_days - 1 - events[::-1].argmax(axis=0), -1)
        # last event on or before each day, to find the last event of a shifted series in O(S)
        self.last_before = np.maximum.accumulate(np.where(events, days, -1), axis=0)
        self.events_f = events.astype(np.float32)

    def shifted(self, shift: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(B, dilated B, last event day, event count) of all series shifted by ``shift`` days."""
        before = self.last_before[self.n_days - 1 - shift]
        last = np.where(before >= 0, before + shift, self.last + shift - self.n_days)
        last = np.where(self.n_events > 0, last, -1)
        return (np.roll(self.events_f, shift, axis=0), np.roll(self.back, shift, axis=0),
                last, self.n_events)

    def mapped(self, day_map: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(B, dilated B, last event day, event count) of all series read through ``day_map``."""
        b = self.events[day_map]
        dilated = b.copy()
        for d in range(1, self.window + 1):  # a B-event in [t - ΔT, t] (no wrap)
            dilated[d:] |= b[:-d]
        last = np.where(b.any(axis=0), self.n_days - 1 - b[::-1].argmax(axis=0), -1)
        return b.astype(np.float32), dilated.astype(np.float32), last, b.sum(axis=0)

    def counts(self, b, dilated, last, n_b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Precursor counts, trigger counts (L, S, S) and trigger denominators (L, 1, S)."""
        n_lags, s = len(self.lags), self.n_series
        prec = (self.a_stack @ dilated).reshape(n_lags, s, s)
        trig = (self.f_stack @ b).reshape(n_lags, s, s)
        trig_den = np.empty((n_lags, 1, s))
        cols = np.arange(s)
        for i, lag in enumerate(self.lags):
            span = lag + self.window if (lag or self.window) else -1
            idx = last[None, :] - np.arange(span + 1)[:, None]  # B-days dropped by the edge rule
            safe = np.clip(idx, 0, None)
            tail = b[safe, cols] * (idx >= 0)
            f_tail = self.f_stack[i * s:(i + 1) * s][:, safe]  # (S_a, days, S_b)
            trig[i] -= (f_tail * tail[None]).sum(axis=1)
            trig_den[i, 0] = n_b - tail.sum(axis=0)
        return prec, trig, trig_den

    def rates(self, *surrogate) -> np.ndarray:
        prec, trig, trig_den = self.counts(*surrogate)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.stack([prec / self.n_prec[:, :, None], trig / trig_den])


def all_pairs(matrix, names: Sequence[str], *, window_days: int, lags=(0,), null: str = "block",
              n_surrogates: int = 1000, random_state: int | None = None, fdr: float = 0.05
              ) -> PairsResult:
    """Coincidence test of every ordered pair of the columns of ``matrix`` (T days × S series).

    Pair (a, b) asks whether b's events precede a's (b → a), as ``coincidence_test(a, b)``; (b, a) is
    the other direction, a different question. The pair p-value is family-wise over ``lags`` and
    both rates: for surrogate nulls the maximum of the standardised rates (mean and sd from
    ``N_PILOT`` pilot surrogates) is compared with the same maximum on every surrogate; for
    "poisson" it is Bonferroni over the 2 × len(lags) analytic mid-p values. q-values are
    Benjamini–Hochberg over all testable pairs (NaN pairs are not counted).
    """
    events = np.asarray(matrix)
    if events.ndim != 2 or events.shape[1] != len(names):
        raise ValueError(f"matrix must be days × series with {len(names)} columns, "
                         f"got shape {events.shape}")
    events = events.astype(bool)
    lags = tuple(int(lag) for lag in np.atleast_1d(lags))
    _check_params(events, None, window_days, lags)
    if null not in NULLS:
        raise ValueError(f"unknown null {null!r} (one of: {', '.join(NULLS)})")
    engine = _PairsEngine(events, int(window_days), lags)
    rng = np.random.default_rng(random_state)
    warnings = [f"series {names[j]!r} has no events" for j in np.flatnonzero(engine.n_events == 0)]
    observed = engine.rates(*engine.shifted(0))
    n_used, shape = 0, observed.shape
    if null == "poisson":
        p_comp, z_obs, p_pair = _analytic(engine, observed)
        combination = "Bonferroni: min mid-p over lags and rates × their number"
    else:
        combination = ("max over lags and rates of rates standardised by pilot surrogates, "
                       "compared on the same surrogates")
        min_shift = surr.min_shift_days(int(window_days), max(lags))
        if null in ("shift", "block") and surr.admissible_shifts(len(events), min_shift).size == 0:
            warnings.append(f"series of {len(events)} days too short for shifts >= {min_shift} days")
            p_comp, z_obs, p_pair = np.full(shape, np.nan), np.full(shape, np.nan), np.nan
        elif null == "shift":  # every shift's counts at once, by FFT (analyses.pairs_shift)
            shifts = surr.draw_shifts(len(events), n_surrogates, min_shift, rng)
            pilot = rng.choice(shifts, size=min(N_PILOT, shifts.size), replace=False)
            p_comp, z_obs, p_pair, n_used = monte_carlo_shifts(engine, observed, pilot, shifts)
            warnings.extend(_resolution_warning(n_used, engine.n_series, fdr))
        else:
            batches = _surrogate_batches(engine, null, n_surrogates, min_shift, rng)
            p_comp, z_obs, p_pair, n_used = _monte_carlo(engine, observed, batches)
            warnings.extend(_resolution_warning(n_used, engine.n_series, fdr))
    return _result(names, engine, observed, p_comp, z_obs, p_pair, fdr=fdr, null=null,
                   n_used=n_used, random_state=random_state, combination=combination,
                   warnings=warnings)


def _surrogate_batches(engine: _PairsEngine, null: str, n_surrogates: int, min_shift: int,
                       rng: np.random.Generator):
    """(pilot, main) iterables of surrogates, each a call that makes the inputs of
    ``engine.counts`` (the random draws happen as the iterables are read, in their order; the
    calls may run on any thread). ``all_pairs`` computes the shift null by FFT
    (``analyses.pairs_shift``); its per-shift products here are the reference a test compares
    with."""
    n_days = engine.n_days
    if null == "shift":
        shifts = surr.draw_shifts(n_days, n_surrogates, min_shift, rng)
        pilot = rng.choice(shifts, size=min(N_PILOT, shifts.size), replace=False)
        return ((functools.partial(engine.shifted, int(k)) for k in pilot),
                (functools.partial(engine.shifted, int(k)) for k in shifts))

    def mapped(count: int):
        for start in range(0, count, 50):
            chunk = surr.draw_day_maps(null, n_days, min(50, count - start), rng,
                                       min_shift=min_shift)
            yield from (functools.partial(engine.mapped, day_map) for day_map in chunk)
    return mapped(min(N_PILOT, n_surrogates)), mapped(n_surrogates)


def _monte_carlo(engine: _PairsEngine, observed: np.ndarray, batches):
    pilot, main = batches
    total, total_sq, count = (np.zeros(observed.shape) for _ in range(3))
    for make in pilot:  # in order: the floating-point sums are the same on every run
        rates = engine.rates(*make())
        finite = np.isfinite(rates)
        rates = np.where(finite, rates, 0.0)
        total += rates
        total_sq += rates * rates
        count += finite
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        sd = np.maximum(np.sqrt(np.maximum(total_sq / count - mean * mean, 0.0)), 1e-9)
    z_obs = (observed - mean) / sd
    max_obs = _max_over_components(z_obs)
    exceed_comp, exceed_pair, n_used = _exceedances(engine, observed, mean, sd, max_obs, main)
    p_comp = np.where(np.isnan(observed), np.nan, (1 + exceed_comp) / (1 + n_used))
    p_pair = np.where(np.isfinite(max_obs), (1 + exceed_pair) / (1 + n_used), np.nan)
    return p_comp, z_obs, p_pair, n_used


def _exceedances(engine: _PairsEngine, observed, mean, sd, max_obs, surrogates):
    """How often the surrogates' rates reach the observed ones (per component) and their
    standardised maximum the observed maximum (per pair), and how many surrogates there were.

    With several BLAS threads available the surrogates are shared among as many Python
    threads, each running single-threaded products: the work between products (reading the
    surrogate, the edge rule, the comparisons) then runs in parallel too instead of leaving
    the other cores idle. The counts are integers, so they do not depend on which thread took
    which surrogate; the surrogates themselves are drawn in order under a lock.
    """
    lock = threading.Lock()
    iterator = iter(surrogates)

    def work() -> tuple[np.ndarray, np.ndarray, int]:
        exceed_comp, exceed_pair, n_used = np.zeros(observed.shape), np.zeros(max_obs.shape), 0
        while True:
            with lock:
                make = next(iterator, None)
            if make is None:
                return exceed_comp, exceed_pair, n_used
            rates = engine.rates(*make())
            with np.errstate(invalid="ignore"):
                exceed_comp += rates >= observed
                exceed_pair += _max_over_components((rates - mean) / sd) >= max_obs
            n_used += 1

    n_threads = _blas_threads()
    if n_threads <= 1:
        return work()
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(n_threads) as pool:
        parts = [f.result() for f in [pool.submit(work) for _ in range(n_threads)]]
    return (sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts))


def _blas_threads() -> int:
    """The BLAS library's thread count (1 when it cannot be read)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return 1
    counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return max(1, min(counts)) if counts else 1


def _resolution_warning(n_used: int, n_series: int, fdr: float) -> list[str]:
    """Monte Carlo p-values cannot go below 1/(n+1): say when that keeps BH from finding few pairs."""
    n_tests = n_series * (n_series - 1)
    floor = 1.0 / (1 + n_used)
    needed = math.ceil(floor * n_tests / fdr) if fdr > 0 else n_tests
    if n_used == 0 or needed <= 1:
        return []
    return [(f"smallest attainable p-value is {floor:.2g} ({n_used} surrogates): at FDR {fdr} over "
            f"{n_tests} pairs a discovery needs at least {needed} pairs at that floor; use longer "
            "series or the 'block' null with more surrogates to find fewer, stronger pairs")]


def _max_over_components(z: np.ndarray) -> np.ndarray:
    """Maximum over the (rate, lag) axes, NaN ignored (-inf when all NaN)."""
    return np.where(np.isnan(z), -np.inf, z).max(axis=(0, 1))


def _analytic(engine: _PairsEngine, observed: np.ndarray):
    n_prec = engine.n_prec[:, :, None]
    prec_counts, trig_counts, trig_den = engine.counts(*engine.shifted(0))
    p_prec, p_trig = analytic_p_values(
        prec_counts, np.broadcast_to(n_prec, prec_counts.shape), trig_counts,
        np.broadcast_to(trig_den, trig_counts.shape), n_a=engine.n_events[None, :, None],
        n_b=engine.n_events[None, None, :], n_days=engine.n_days, window_days=engine.window)
    p_comp = np.stack([p_prec, p_trig])
    p_comp = np.where(np.isnan(observed), np.nan, p_comp)
    with np.errstate(invalid="ignore"):
        smallest = np.where(np.isnan(p_comp), np.inf, p_comp).min(axis=(0, 1))
    p_pair = np.where(np.isfinite(smallest), np.minimum(1.0, smallest * p_comp.shape[1] * 2), np.nan)
    return p_comp, -p_comp, p_pair


def _result(names, engine, observed, p_comp, z_obs, p_pair, *, fdr, null, n_used, random_state,
            combination, warnings) -> PairsResult:
    n_series, n_lags = engine.n_series, len(engine.lags)
    a_idx, b_idx = np.nonzero(~np.eye(n_series, dtype=bool))
    p_pair = np.broadcast_to(np.asarray(p_pair, dtype=float), (n_series, n_series))[a_idx, b_idx]
    z = np.where(np.isnan(z_obs), -np.inf, z_obs)[:, :, a_idx, b_idx].reshape(2 * n_lags, -1)
    best = z.argmax(axis=0) % n_lags
    empty = engine.n_events == 0
    reasons = np.where(empty[a_idx], "no events in a",
                       np.where(empty[b_idx], "no events in b",
                                np.where(np.isnan(p_pair), "no p-value (too few events away from "
                                         "the edges, or too short for the null)", "")))
    testable = reasons == ""
    p_pair = np.where(testable, p_pair, np.nan)   # untestable pairs leave the BH family
    pick = (slice(None), best, a_idx, b_idx)
    rates, p_best = observed[pick], p_comp[pick]
    q_value = benjamini_hochberg(p_pair)
    seed = random_state if isinstance(random_state, int) else None
    fingerprint = _fingerprint(engine.events)
    return PairsResult(
        parameters={"window_days": engine.window, "lags": list(engine.lags), "null": null,
                    "n_surrogates": n_used, "random_state": seed, "fdr": float(fdr)},
        provenance={"input_sha256": fingerprint, "random_state": seed, "version": __version__},
        names=tuple(names), window_days=engine.window, lags=engine.lags, null=null,
        n_surrogates=n_used, random_state=seed,
        fdr=float(fdr), a_index=a_idx, b_index=b_idx,
        best_lag_days=np.where(testable, np.asarray(engine.lags)[best], -1),
        precursor_rate=rates[0], trigger_rate=rates[1], p_precursor=p_best[0],
        p_trigger=p_best[1], p_value=p_pair, q_value=q_value,
        significant=np.nan_to_num(q_value, nan=np.inf) <= fdr, combination=combination,
        warnings=tuple(warnings), input_sha256=fingerprint, testable=testable,
        untestable_reason=tuple(str(r) for r in reasons))
