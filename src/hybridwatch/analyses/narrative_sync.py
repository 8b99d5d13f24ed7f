"""Narrative synchronisation between two actors' media: who pushes a narrative first, and how far
their narrative mix converges, measured against a control group of independent media.

Input: article assignments, one row an article, with ``published_day`` (datetime64[D], UTC day),
``group`` (outlet group: "ru_state", "cn_state", "control", or None), ``narrative_id`` (str or None)
and optionally ``article_id`` — an Arrow table or a mapping of column name → array.

Per narrative pushed by both actors ``a`` and ``b``:

1. *Lead–lag*: cross-correlation of the two groups' daily share series (narrative articles / all
   the group's articles that day) over ``lags``; lag ``k > 0`` means ``b``'s series follows ``a``'s
   by k days. The peak names ``lead_actor`` and ``lag_days``; at a peak of lag 0 the side with the
   larger lag-±1 correlation leads by under a day (``lag_days`` 0), and ``lead_actor`` is None
   only when those tie.
2. *Burst coincidence*: a group's burst days of a narrative are days with at least
   ``burst_min_articles`` articles whose share exceeds by ``burst_z`` standard deviations the mean
   share of the ``burst_baseline_days`` days ending a week before the day (see :func:`burst_days`). Bursts are tested with :func:`hybridwatch.analyses.coincidence.coincidence_test`
   in both directions (``(b, a)``: do a's bursts precede b's?, and ``(a, b)``); the pair p-value is
   twice the smaller one (Bonferroni over directions); q-values are Benjamini–Hochberg across the
   tested narratives. (The coincidence direction is not used to name the leader: with a window of
   several days, bursts that overlap coincide in both directions and their p-values tie.)
3. *Control*: a–control and b–control are tested the same way (p-values and coincidence rates
   reported: a pair's rate is its largest mean of precursor and trigger rate over lags and both
   directions). The exact rule: ``beyond_control`` = the a–b pair is significant (q <= ``fdr``)
   AND a second a–b test on the *residual* bursts — those with no control burst within
   ``window_days`` days either side, i.e. not explained by news everyone covered — is significant
   too (``q_residual`` <= ``fdr``, BH across narratives) AND each actor keeps at least
   ``min_residual_bursts`` residual bursts (with fewer, one chance coincidence can reach the
   smallest surrogate p-value). The lead–lag cross-correlation is computed with days within
   ``window_days`` of a control burst set to 0, so shared news does not pull the peak to lag 0.

Convergence: per period, overlap ``Σ_n min(share_a(n), share_b(n))`` of the two actors' narrative
mixes (1 = identical mix, 0 = disjoint), with a percentile bootstrap band from resampling each
group's articles within the period, against the same overlap of each actor with the control.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hybridwatch.analyses.coincidence import (
    CoincidenceResult,
    coincidence_test,
)
from hybridwatch.analyses.fdr import benjamini_hochberg
from hybridwatch.model.json_values import json_value
from hybridwatch.model.results import AnalysisResult

GROUPS = ("ru_state", "cn_state", "control")


@dataclass(frozen=True)
class NarrativeShares:
    """Per group a (days × narratives) count matrix, the group's daily totals and shares."""

    days: np.ndarray                    # datetime64[D], consecutive
    narratives: tuple[str, ...]
    counts: dict[str, np.ndarray]       # group → int (days × narratives)
    totals: dict[str, np.ndarray]       # group → int (days,), all the group's articles that day
    shares: dict[str, np.ndarray]       # group → counts / totals (0 on days without articles)


@dataclass(frozen=True, eq=False)
class SyncResult(AnalysisResult):
    """Synchronisation of ``a`` and ``b`` (frozen; ``to_dict``/``from_dict`` round-trip JSON)."""

    a: str
    b: str
    control: str | None
    narratives: tuple[dict[str, Any], ...]
    too_little_data: tuple[dict[str, Any], ...]
    convergence: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """The public JSON view (the keys the workflow, the CLI and the store use)."""
        return json_value({"a": self.a, "b": self.b, "control": self.control,
                           "parameters": self.parameters, "narratives": self.narratives,
                           "too_little_data": self.too_little_data,
                           "convergence": self.convergence, "warnings": self.warnings})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SyncResult:
        return cls(a=data["a"], b=data["b"], control=data["control"],
                   parameters=dict(data["parameters"]),
                   narratives=tuple(_restore(n) for n in data["narratives"]),
                   too_little_data=tuple(data["too_little_data"]),
                   convergence=tuple(_restore(c) for c in data["convergence"]),
                   warnings=tuple(data["warnings"]))


_FLOAT_KEYS = ("p_value", "q_value", "xcorr_peak", "p_a_leads", "p_b_leads",
               "coincidence_rate", "rate_a_control", "rate_b_control", "p_residual",
               "q_residual", "p_a_control", "p_b_control", "value", "low", "high", "control_value",
               "a_control_value", "b_control_value")
SyncResult._nan_keys = frozenset(_FLOAT_KEYS)    # their nulls in the JSON form are NaN


def _restore(row: dict[str, Any]) -> dict[str, Any]:
    """JSON null → NaN for the float fields (to_dict writes NaN as null)."""
    return {k: (math.nan if v is None and k in _FLOAT_KEYS else v) for k, v in row.items()}


# --------------------------------------------------------------------------- input and series

def _columns(assignments: Any) -> dict[str, np.ndarray]:
    """Column arrays from an Arrow table or a mapping; ValueError when a column is missing."""
    names = getattr(assignments, "column_names", None) or list(assignments)
    missing = {"published_day", "group", "narrative_id"} - set(names)
    if missing:
        raise ValueError(f"assignments lack column(s) {sorted(missing)}")

    def get(name: str) -> np.ndarray:
        col = assignments[name]
        return np.asarray(col.to_pylist() if hasattr(col, "to_pylist") else col, dtype=object)

    out = {"published_day": np.asarray(get("published_day"), dtype="datetime64[D]"),
           "group": get("group"), "narrative_id": get("narrative_id")}
    n = out["published_day"].size
    out["article_id"] = get("article_id") if "article_id" in names else np.full(n, None, object)
    return out


def narrative_shares(assignments: Any, *, groups: tuple[str, ...] = GROUPS,
                     start: Any = None, end: Any = None) -> NarrativeShares:
    """Daily counts and shares of each narrative per group over ``[start, end]`` (inclusive days;
    default: the data's first and last day). Articles without a narrative count in the totals."""
    cols = _columns(assignments)
    return _shares(cols, groups, start, end)


def _shares(cols: dict[str, np.ndarray], groups, start, end) -> NarrativeShares:
    day = cols["published_day"]
    if day.size == 0 and (start is None or end is None):
        raise ValueError("no articles and no start/end: nothing to count")
    first = np.datetime64(start, "D") if start is not None else day.min()
    last = np.datetime64(end, "D") if end is not None else day.max()
    days = np.arange(first, last + 1, dtype="datetime64[D]")
    inside = (day >= first) & (day <= last)
    labelled = np.array([n is not None for n in cols["narrative_id"]], dtype=bool)
    narratives = tuple(sorted({str(n) for n in cols["narrative_id"][labelled & inside]}))
    index = {n: i for i, n in enumerate(narratives)}
    counts, totals, shares = {}, {}, {}
    for group in groups:
        rows = inside & (cols["group"] == group)
        t = (day[rows] - first).astype(int)
        totals[group] = np.bincount(t, minlength=days.size)
        mat = np.zeros((days.size, len(narratives)), dtype=np.int64)
        keep = labelled[rows]
        cols_n = np.array([index[str(n)] for n in cols["narrative_id"][rows][keep]], dtype=int)
        np.add.at(mat, (t[keep], cols_n), 1)
        counts[group] = mat
        with np.errstate(invalid="ignore", divide="ignore"):
            shares[group] = np.where(totals[group][:, None] > 0,
                                     mat / np.maximum(totals[group][:, None], 1), 0.0)
    return NarrativeShares(days, narratives, counts, totals, shares)


def burst_days(counts: np.ndarray, shares: np.ndarray, *, min_articles: int = 2,
               baseline_days: int = 28, z: float = 2.0, guard_days: int = 7) -> np.ndarray:
    """Boolean burst series of one narrative in one group: days with ``>= min_articles`` articles
    whose share exceeds ``mean + z * sd`` of the share over the ``baseline_days`` days that end
    ``guard_days`` before the day. The guard keeps a burst of up to a week from raising its own
    baseline, so all its days count (the coincidence edge rule needs several events per burst)."""
    n = counts.size
    csum = np.concatenate(([0.0], np.cumsum(shares)))
    csq = np.concatenate(([0.0], np.cumsum(shares ** 2)))
    hi = np.maximum(np.arange(n) - guard_days, 0)
    lo = np.maximum(hi - baseline_days, 0)
    width = np.maximum(hi - lo, 1)
    mean = (csum[hi] - csum[lo]) / width
    sd = np.sqrt(np.maximum((csq[hi] - csq[lo]) / width - mean ** 2, 0.0))
    return (counts >= min_articles) & (shares > mean + z * sd)


def cross_correlation(x: np.ndarray, y: np.ndarray, lags) -> np.ndarray:
    """Pearson correlation of ``x[t]`` and ``y[t + k]`` for each lag k (NaN when constant)."""
    out = []
    for k in lags:
        xs, ys = (x[:x.size - k], y[k:]) if k >= 0 else (x[-k:], y[:y.size + k])
        if xs.size < 3 or xs.std() == 0 or ys.std() == 0:
            out.append(math.nan)
        else:
            out.append(float(np.corrcoef(xs, ys)[0, 1]))
    return np.asarray(out)


# --------------------------------------------------------------------------- synchronisation

def _pair(x: np.ndarray, y: np.ndarray, params: dict, seed: np.random.SeedSequence
          ) -> tuple[float, CoincidenceResult, CoincidenceResult]:
    """Both directions of one pair: (p, test "x's bursts precede y's", test "y's precede x's")."""
    s1, s2 = (int(s.generate_state(1)[0]) for s in seed.spawn(2))
    x_leads = coincidence_test(y, x, random_state=s1, **params)
    y_leads = coincidence_test(x, y, random_state=s2, **params)
    ps = [v for v in (x_leads.p_value, y_leads.p_value) if not math.isnan(v)]
    return (min(1.0, 2 * min(ps)) if ps else math.nan), x_leads, y_leads


def _near(events: np.ndarray, other: np.ndarray, window_days: int) -> np.ndarray:
    """Whether each day has an ``other`` event within ``window_days`` days either side."""
    kernel = np.ones(2 * window_days + 1)
    return np.convolve(other.astype(float), kernel, mode="same")[:events.size] > 0


def synchronisation(assignments: Any, *, a: str = "ru_state", b: str = "cn_state",
                    control: str | None = "control", window_days: int = 3,
                    lags=range(-7, 8), coincidence_lags=(0, 1, 2, 3), null: str = "block",
                    n_surrogates: int = 1000,
                    fdr: float = 0.05, min_residual_bursts: int = 3, min_articles: int = 5, burst_min_articles: int = 2,
                    burst_baseline_days: int = 28, burst_z: float = 2.0,
                    period: str = "M", n_bootstrap: int = 200,
                    random_state: int | None = None) -> SyncResult:
    """Lead–lag, significance and control comparison per shared narrative, plus convergence.

    A narrative is tested when each of ``a`` and ``b`` has at least ``min_articles`` articles and
    one burst day; otherwise it is listed in ``too_little_data`` with its counts (never guessed).
    """
    lags = tuple(int(k) for k in lags)
    co_lags = tuple(int(k) for k in coincidence_lags)
    cols = _columns(assignments)
    groups = (a, b) + ((control,) if control else ())
    sh = _shares(cols, groups, None, None)
    params = {"window_days": window_days, "lags": co_lags, "null": null,
              "n_surrogates": n_surrogates}
    root = np.random.SeedSequence(random_state)
    rows, thin = [], []
    for j, narrative in enumerate(sh.narratives):
        n_a, n_b = int(sh.counts[a][:, j].sum()), int(sh.counts[b][:, j].sum())
        if n_a == 0 or n_b == 0:
            continue  # not pushed by both
        ev = {g: burst_days(sh.counts[g][:, j], sh.shares[g][:, j],
                            min_articles=burst_min_articles, baseline_days=burst_baseline_days,
                            z=burst_z) for g in groups}
        if min(n_a, n_b) < min_articles or not ev[a].any() or not ev[b].any():
            thin.append({"narrative": narrative, f"n_{a}": n_a, f"n_{b}": n_b,
                         f"bursts_{a}": int(ev[a].sum()), f"bursts_{b}": int(ev[b].sum()),
                         "reason": "too little data"})
            continue
        seeds = np.random.SeedSequence([root.entropy if root.entropy is not None else 0, j])
        rows.append(_narrative_row(narrative, j, sh, ev, cols, a, b, control, lags, params,
                                   seeds))
    q = benjamini_hochberg([r["p_value"] for r in rows]) if rows else np.array([])
    q_res = benjamini_hochberg([r["p_residual"] for r in rows]) if rows else np.array([])
    for r, qv, qr in zip(rows, q, q_res):
        r["q_value"], r["q_residual"] = float(qv), float(qr)
        r["significant"] = bool(qv <= fdr)
        r["beyond_control"] = bool(r["significant"] and qr <= fdr
                                   and min(r["n_residual"]) >= min_residual_bursts)
    conv = convergence(cols, a=a, b=b, control=control, period=period,
                       n_bootstrap=n_bootstrap, random_state=random_state)
    warn = ([] if control else ["no control group: beyond_control equals significant"])
    parameters = {"window_days": window_days, "lags": list(lags),
                  "coincidence_lags": list(co_lags), "null": null, "n_surrogates": n_surrogates,
                  "fdr": fdr, "min_residual_bursts": min_residual_bursts,
                  "min_articles": min_articles,
                  "burst_min_articles": burst_min_articles,
                  "burst_baseline_days": burst_baseline_days, "burst_z": burst_z,
                  "period": period, "n_bootstrap": n_bootstrap, "random_state": random_state,
                  "start": str(sh.days[0]), "end": str(sh.days[-1])}
    return SyncResult(a, b, control, tuple(rows), tuple(thin), tuple(conv),
                      parameters=parameters, warnings=tuple(warn))


def _narrative_row(narrative, j, sh, ev, cols, a, b, control, lags, params, seeds) -> dict:
    s_ab, s_ac, s_bc, s_res = seeds.spawn(4)
    p, a_leads, b_leads = _pair(ev[a], ev[b], params, s_ab)
    share_a, share_b = sh.shares[a][:, j], sh.shares[b][:, j]
    if control:  # lead–lag of what the control does not explain: days near its bursts set to 0
        quiet = ~_near(ev[control], ev[control], params["window_days"])
        share_a, share_b = share_a * quiet, share_b * quiet
    xc = cross_correlation(share_a, share_b, lags)
    peak = int(np.nanargmax(xc)) if not np.isnan(xc).all() else None
    lag = lags[peak] if peak is not None else 0
    lead, follow = _leader(a, b, lag, dict(zip(lags, xc)))
    row = {"narrative": narrative, "lead_actor": lead, "follower": follow,
           "lag_days": abs(lag) if peak is not None else None, "p_value": p,
           "p_a_leads": a_leads.p_value, "p_b_leads": b_leads.p_value,
           "xcorr_peak": float(xc[peak]) if peak is not None else math.nan,
           f"n_{a}": int(sh.counts[a][:, j].sum()), f"n_{b}": int(sh.counts[b][:, j].sum()),
           f"bursts_{a}": int(ev[a].sum()), f"bursts_{b}": int(ev[b].sum()),
           "evidence": _evidence(ev, lead or a, follow or b, params["window_days"] + abs(lag),
                                 sh, narrative, cols)}
    row["coincidence_rate"] = _rate(a_leads, b_leads)
    if control:
        p_ac, *tests_ac = _pair(ev[a], ev[control], params, s_ac)
        p_bc, *tests_bc = _pair(ev[b], ev[control], params, s_bc)
        row.update(p_a_control=p_ac, p_b_control=p_bc, rate_a_control=_rate(*tests_ac),
                   rate_b_control=_rate(*tests_bc))
        row[f"bursts_{control}"] = int(ev[control].sum())
        explained = _near(ev[a], ev[control], params["window_days"])
        res_a, res_b = ev[a] & ~explained, ev[b] & ~explained
        row["p_residual"] = (_pair(res_a, res_b, params, s_res)[0]
                             if res_a.any() and res_b.any() else 1.0)
        row["n_residual"] = [int(res_a.sum()), int(res_b.sum())]
    else:
        row.update(p_a_control=math.nan, p_b_control=math.nan, rate_a_control=0.0,
                   rate_b_control=0.0, p_residual=p,
                   n_residual=[int(ev[a].sum()), int(ev[b].sum())])
    return row


def _rate(*tests: CoincidenceResult) -> float:
    """Alignment strength of a pair: the largest coincidence rate (mean of precursor and trigger
    rates, NaN rates as 0) over lags and both directions; 0 when nothing could be counted."""
    rates = [np.nan_to_num(np.nanmean([r.precursor_rate, r.trigger_rate]))
             if not (math.isnan(r.precursor_rate) and math.isnan(r.trigger_rate)) else 0.0
             for t in tests for r in t.per_lag]
    return float(max(rates, default=0.0))


def _leader(a: str, b: str, lag: int, xc: dict[int, float]) -> tuple[str | None, str | None]:
    """Leader from the cross-correlation peak (lag > 0: b follows a). At a peak of lag 0 the side
    with the larger lag-1 correlation leads by under a day; None when those tie or are missing."""
    if lag == 0:
        after, before = xc.get(1, math.nan), xc.get(-1, math.nan)
        if math.isnan(after) or math.isnan(before) or after == before:
            return None, None
        lag = 1 if after > before else -1
    return (a, b) if lag > 0 else (b, a)


def _evidence(ev: dict, lead: str, follow: str, reach_days: int, sh, narrative, cols) -> dict:
    """What the finding rests on: each actor's burst days with a burst of the other within
    ``reach_days`` (window + lag) either side, and the narrative's article ids on those days.
    A description of the coinciding bursts, not a test (the test is ``coincidence_test``)."""
    days_l = np.flatnonzero(ev[lead] & _near(ev[lead], ev[follow], reach_days))
    days_f = np.flatnonzero(ev[follow] & _near(ev[follow], ev[lead], reach_days))
    dates_l, dates_f = sh.days[days_l], sh.days[days_f]
    hit = (cols["narrative_id"] == narrative) & (
        ((cols["group"] == lead) & np.isin(cols["published_day"], dates_l))
        | ((cols["group"] == follow) & np.isin(cols["published_day"], dates_f)))
    ids = sorted(str(i) for i in cols["article_id"][hit] if i is not None)
    return {"leader_days": [str(d) for d in dates_l], "follower_days": [str(d) for d in dates_f],
            "article_ids": ids}


# --------------------------------------------------------------------------- convergence

def _overlap(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Σ_n min(share_x(n), share_y(n)) along the last axis, shares of each row's own total."""
    sx, sy = x.sum(axis=-1, keepdims=True), y.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.minimum(x / sx, y / sy).sum(axis=-1)
    return np.where((sx[..., 0] > 0) & (sy[..., 0] > 0), out, np.nan)


def convergence(assignments: Any, *, a: str = "ru_state", b: str = "cn_state",
                control: str | None = "control", period: str = "M", n_bootstrap: int = 200,
                random_state: int | None = None) -> list[dict[str, Any]]:
    """Per period ("W" week from Monday, "M" month): overlap of a's and b's narrative mixes with a
    95% percentile bootstrap band (each group's labelled articles resampled within the period),
    and each actor's overlap with the control; ``control_value`` is the larger of those two."""
    cols = assignments if isinstance(assignments, dict) else _columns(assignments)
    if period not in ("W", "M"):
        raise ValueError(f"period must be 'W' or 'M', got {period!r}")
    labelled = np.array([n is not None for n in cols["narrative_id"]], dtype=bool)
    day = cols["published_day"][labelled]
    group, label = cols["group"][labelled], cols["narrative_id"][labelled].astype(str)
    names, code = np.unique(label, return_inverse=True)
    # Monday-based weeks: 1970-01-01 was a Thursday
    key = (day.astype("datetime64[M]") if period == "M"
           else day - ((day.astype(int) + 3) % 7).astype("timedelta64[D]"))
    rng = np.random.default_rng(random_state)
    out = []
    for p in np.unique(key):
        in_p = key == p
        mix = {g: np.bincount(code[in_p & (group == g)], minlength=names.size)
               for g in (a, b) + ((control,) if control else ())}
        value = float(_overlap(mix[a], mix[b]))
        boots = _overlap(_resample(mix[a], n_bootstrap, rng), _resample(mix[b], n_bootstrap, rng))
        ok = boots[~np.isnan(boots)]
        low, high = (np.percentile(ok, [2.5, 97.5]) if ok.size else (math.nan, math.nan))
        row = {"period": str(p), "value": value, "low": float(low), "high": float(high),
               f"n_{a}": int(mix[a].sum()), f"n_{b}": int(mix[b].sum())}
        if control:
            ac, bc = float(_overlap(mix[a], mix[control])), float(_overlap(mix[b], mix[control]))
            row.update(a_control_value=ac, b_control_value=bc,
                       control_value=float(np.nanmax([ac, bc])) if not
                       (math.isnan(ac) and math.isnan(bc)) else math.nan)
        out.append(row)
    return out


def _resample(counts: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` bootstrap resamples of the articles behind ``counts`` (multinomial), (n × narratives)."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros((n, counts.size))
    return rng.multinomial(total, counts / total, size=n).astype(float)
