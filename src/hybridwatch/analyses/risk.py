"""Risk per target, and the rolling-origin backtest that says how far to trust it.

Two outcomes in the next ``H`` days (default 30), for each target:

* **episode** — at least one significant hostile multi-domain episode starts (the episodes the
  coordination scan found and stored);
* **elevated** (per domain) — more hostile events than in 90% of the ``H``-day windows of the
  past year.

**Model, and why.** Pooled L2-regularised logistic regressions on a handful of lagged features:
recent activity against the target's own baseline (overall and per domain), the breadth of
elevated domains, recent episodes, and the actor-convergence index. Hybrid-threat data are
short, sparse and bursty; a model with five interpretable coefficients fitted across all targets
can be estimated from a few years of data, gives each forecast a decomposition into drivers
(coefficient × standardised feature, on the logit scale), and its uncertainty follows from the
Laplace approximation of the regularised fit (the L2 penalty is a N(0, C) prior on standardised
coefficients). Hidden regimes bend the true probability curve away from the logistic link, so
once enough out-of-sample forecasts exist the probabilities pass through an isotonic
recalibration fitted on them (and only on forecasts whose outcome was already known). A multivariate Hawkes process would model cross-excitation directly but needs far
more events per series than most targets have. The model's worth is not assumed: the
rolling-origin backtest refits it on the past only and scores every forecast it would have made.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from hybridwatch.analyses.forecast_scores import ForecastScores, score_forecasts
from hybridwatch.analyses.tasks import TaskMap, serial_tasks
from hybridwatch.model.results import AnalysisResult
from hybridwatch.analyses.risk_features import (
    ELEVATED_FEATURES, EPISODE_FEATURES, DailyCells, OriginFeatures, iter_origin_features,
    origin_chunk_size,
)


@dataclass(frozen=True)
class RiskParameters:
    horizon_days: int = 30
    recent_days: int = 30
    baseline_days: int = 365
    step_days: int = 7              # days between backtest origins
    refit_days: int = 28            # the backtest refits the model this often
    elevated_quantile: float = 0.9
    min_baseline_events: int = 10   # sparser target×domain series get no elevated-count forecast
    min_train_forecasts: int = 200
    min_train_positives: int = 5
    l2_c: float = 1.0               # prior variance of the standardised coefficients
    interval: float = 0.9           # width of the probability interval


@dataclass(frozen=True)
class LogitModel:
    """A fitted pooled logistic regression on standardised features."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray                # intercept first
    covariance: np.ndarray          # Laplace approximation, intercept first
    n_train: int
    n_positive: int

    def linear(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(η, standard error of η, per-feature contributions) for rows ``x``."""
        z = (x - self.mean) / self.scale
        design = np.concatenate([np.ones(z.shape[:-1] + (1,)), z], axis=-1)
        eta = design @ self.coef
        se = np.sqrt(np.einsum("...i,ij,...j->...", design, self.covariance, design))
        return eta, se, z * self.coef[1:]


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def fit_logit(x: np.ndarray, y: np.ndarray, features: tuple[str, ...], *, l2_c: float
              ) -> LogitModel:
    """L2 logistic regression (sklearn, lbfgs) with a Laplace covariance."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)        # a constant feature keeps coefficient ~0
    z = (x - mean) / scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(C=l2_c, max_iter=500).fit(z, y.astype(int))
    coef = np.concatenate([model.intercept_, model.coef_[0]])
    design = np.concatenate([np.ones((z.shape[0], 1)), z], axis=1)
    p = _expit(design @ coef)
    precision = (design * (p * (1 - p))[:, None]).T @ design
    precision[1:, 1:] += np.eye(len(features)) / l2_c
    return LogitModel(features, mean, scale, coef, np.linalg.pinv(precision),
                      n_train=int(y.size), n_positive=int(y.sum()))


@dataclass(frozen=True)
class Forecast:
    """One probability with its interval and drivers (logit-scale contributions)."""

    probability: float
    low: float
    high: float
    drivers: tuple[dict[str, Any], ...]    # {name, value, contribution}, largest |contribution| first
    fitted: bool                           # False: too little history, the base rate is given


@dataclass(frozen=True)
class TargetRisk:
    target: str
    episode: Forecast
    elevated: dict[str, Forecast]           # domain → forecast, only domains with enough data
    recent_counts: dict[str, int]           # hostile events per domain in the recent window
    history_days: int                       # days from the target's first event to the origin
    active_domains: int                     # domains with a forecastable series


@dataclass(frozen=True, eq=False)
class RiskResult(AnalysisResult):
    parameters: RiskParameters = field(kw_only=True)
    as_of: str                               # the origin day of the forecasts (ISO date)
    targets: tuple[TargetRisk, ...]
    backtest: dict[str, ForecastScores]      # "episode", "elevated", "pooled"
    models: dict[str, dict[str, Any]]        # the final fits: coefficients per feature
    #: per outcome, the first and last origin day (ISO) of the scored backtest forecasts
    backtest_origins: dict[str, tuple[str, str] | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"parameters": asdict(self.parameters), "as_of": self.as_of,
                "targets": [asdict(t) for t in self.targets],
                "backtest": {k: v.to_dict() for k, v in self.backtest.items()},
                "backtest_origins": self.backtest_origins,
                "models": self.models, "warnings": list(self.warnings)}


@dataclass(frozen=True)
class ForecastRows:
    """One outcome's forecasts flattened to rows (only the series that could be forecast)."""

    x: np.ndarray               # (N, features)
    y: np.ndarray               # (N,) 1/0, NaN where the outcome is not known yet
    persistence: np.ndarray     # (N,) the outcome of the window that just ended
    origin: np.ndarray          # (N,) position of the row's origin in the origins array
    climatology: np.ndarray     # (N,) elevated counts: the series' own exceedance share

    @classmethod
    def concatenate(cls, parts: list[ForecastRows], n_features: int) -> ForecastRows:
        if not parts:
            empty = np.zeros(0)
            return cls(np.zeros((0, n_features)), empty, empty, np.zeros(0, np.int64), empty)
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("x", "y", "persistence", "origin", "climatology")))


def _rows(features: OriginFeatures, kind: str, positions: np.ndarray) -> ForecastRows:
    """Flatten one outcome's forecasts of a chunk of origins (at ``positions``) to rows."""
    if kind == "episode":
        x, y, pers = features.episode_x, features.episode_y, features.episode_persistence
        mask = features.eligible.any(-1)
        clim = np.full(mask.shape, np.nan)
    else:
        x, y, pers = features.elevated_x, features.elevated_y, features.elevated_persistence
        mask = features.eligible
        clim = features.elevated_climatology
    origin = np.broadcast_to(positions.reshape((-1,) + (1,) * (mask.ndim - 1)), mask.shape)
    return ForecastRows(x[mask], y[mask], pers[mask], origin[mask], clim[mask])


def _climatology(rows: ForecastRows, kind: str, train: np.ndarray, scored: np.ndarray
                 ) -> np.ndarray:
    """The reference forecast. Episodes: the base rate of the forecasts known at the refit
    (pooled over targets: per-target rates of rare events are too noisy to be a fair
    reference). Elevated counts: each series' own share of past-year windows above its
    threshold — what the outcome's definition implies if days were independent draws."""
    if kind == "episode":
        return np.full(int(scored.sum()), rows.y[train].mean())
    return rows.climatology[scored]


def _backtest_forecasts(rows: ForecastRows, days: np.ndarray, kind: str, names: tuple[str, ...],
                        params: RiskParameters, map_tasks: TaskMap | None = None
                        ) -> tuple[np.ndarray, ...]:
    """Refit every ``refit_days`` on forecasts whose outcome was known, forecast the next
    origins (``days``: the day of each origin): (probability, outcome, climatology,
    persistence, origin day, raw probability) of what would have been said.

    The refits are independent of each other: ``map_tasks`` runs them (one task per refit,
    e.g. Spark tasks; default here, one after another). The recalibration that follows is
    sequential — each refit's map is fitted on the earlier refits' out-of-sample forecasts —
    and runs here."""
    y, origin = rows.y, rows.origin
    step = max(1, params.refit_days // params.step_days)
    masks = {first: found for first in range(0, days.size, step)
             if (found := _refit_rows(rows, days, first, step, params)) is not None}
    fit = functools.partial(_refit_probabilities, rows=rows, days=days, step=step,
                            names=names, params=params)
    raw = (map_tasks or serial_tasks)(fit, list(masks))  # a task recomputes its own masks
    out_p, out_y, out_c, out_pers, out_o, out_p_raw = [], [], [], [], [], []
    for (first, (scored, train)), p_raw in zip(masks.items(), raw):
        past_p, past_y, past_o = (np.concatenate(v) if v else np.zeros(0)
                                  for v in (out_p_raw, out_y, out_o))
        seen = past_o + params.horizon_days <= days[first]
        recalibrate = _recalibrator(past_p[seen], past_y[seen])
        out_p_raw.append(p_raw)
        out_p.append(recalibrate(p_raw))
        out_y.append(y[scored])
        out_c.append(_climatology(rows, kind, train, scored))
        out_pers.append(rows.persistence[scored])
        out_o.append(days[origin[scored]])
    join = lambda parts: np.concatenate(parts) if parts else np.zeros(0)  # noqa: E731
    return tuple(join(parts) for parts in (out_p, out_y, out_c, out_pers, out_o, out_p_raw))


def _refit_rows(rows: ForecastRows, days: np.ndarray, first: int, step: int,
                params: RiskParameters) -> tuple[np.ndarray, np.ndarray] | None:
    """(scored, train) masks of the refit at origin ``first``, or None when it has nothing to
    score or too little to train on."""
    y, origin = rows.y, rows.origin
    # rows of this block's origins with a known outcome: nothing to refit for otherwise
    scored = (origin >= first) & (origin < first + step) & ~np.isnan(y)
    if not scored.any():
        return None
    # a forecast is known once its horizon has passed at the refit origin
    train = (days[origin] + params.horizon_days <= days[first]) & ~np.isnan(y)
    if train.sum() < params.min_train_forecasts or y[train].sum() < params.min_train_positives:
        return None
    return scored, train


def _refit_probabilities(first: int, *, rows: ForecastRows, days: np.ndarray, step: int,
                         names: tuple[str, ...], params: RiskParameters) -> np.ndarray:
    """One refit: the model fitted at origin ``first`` and its raw probabilities for the
    block's forecasts (a task: it reads only its arguments)."""
    scored, train = _refit_rows(rows, days, first, step, params)
    model = fit_logit(rows.x[train], rows.y[train], names, l2_c=params.l2_c)
    eta, _, _ = model.linear(rows.x[scored])
    return _expit(eta)


MIN_RECALIBRATION = (500, 25)   # past out-of-sample forecasts and positives before recalibrating


def _recalibrator(p: np.ndarray, y: np.ndarray):
    """A monotone map from the logistic model's probabilities to observed frequencies, fitted by
    isotonic regression on its earlier out-of-sample forecasts (identity while too few): the
    logistic link is an assumption, and hidden regimes bend the true curve away from it."""
    if p.size < MIN_RECALIBRATION[0] or y.sum() < MIN_RECALIBRATION[1]:
        return lambda q: q
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.001, y_max=0.999, out_of_bounds="clip").fit(p, y)
    return iso.predict


def coefficient_intervals(model: LogitModel, width: float) -> dict[str, list[float]]:
    """Each feature's coefficient interval (Laplace approximation, ``width`` e.g. 0.9): a sign
    is only worth explaining when its interval excludes zero."""
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + width / 2))
    se = np.sqrt(np.clip(np.diag(model.covariance)[1:], 0, None))
    return {name: [float(c - z * s), float(c + z * s)]
            for name, c, s in zip(model.features, model.coef[1:], se)}


def feature_diagnostics(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]
                        ) -> dict[str, dict[str, Any]]:
    """Why a coefficient may carry an unexpected sign: each feature's correlation with the
    outcome on its own (``univariate``: the sign the feature has alone) and the other feature
    it is most correlated with (``collinear``: a partner that can take over its effect)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    corr = np.nan_to_num(corr)                      # a constant column correlates with nothing
    univariate = {name: float(corr[i, -1]) for i, name in enumerate(names)}
    collinear = {}
    for i, name in enumerate(names):
        others = [(abs(corr[i, j]), j) for j in range(len(names)) if j != i]
        if others:
            _, j = max(others)
            collinear[name] = {"feature": names[j], "correlation": float(corr[i, j])}
    return {"univariate": univariate, "collinear": collinear}


def _forecast(model: LogitModel | None, recalibrate, x: np.ndarray, base_rate: float,
              z_interval: float) -> Forecast:
    if model is None:
        rate = float(base_rate)
        return Forecast(rate, rate, rate, (), fitted=False)
    eta, se, contrib = model.linear(x[None, :])
    drivers = sorted(({"name": name, "value": float(value), "contribution": float(c)}
                      for name, value, c in zip(model.features, x, contrib[0])),
                     key=lambda d: -abs(d["contribution"]))
    # the interval keeps the fit's logit-scale width around the recalibrated probability (an
    # isotonic map is a step function and would squash it to nothing)
    p = float(np.clip(recalibrate(_expit(eta))[0], 1e-4, 1 - 1e-4))
    centre = np.log(p / (1 - p))
    return Forecast(p, float(_expit(centre - z_interval * se[0])),
                    float(_expit(centre + z_interval * se[0])), tuple(drivers), fitted=True)


def _prior_rate(kind: str, episode_starts: DailyCells, params: RiskParameters) -> float:
    """The base rate when no outcome is known yet: for episodes, the chance of at least one
    start in H days at the observed daily rate per target; for elevated counts, what the
    outcome's definition implies (1 − the quantile)."""
    if kind == "elevated":
        return 1.0 - params.elevated_quantile
    cells = int(np.prod(episode_starts.shape, dtype=np.int64))
    daily = float((episode_starts.count > 0).sum()) / cells if cells else 0.0
    return 1.0 - (1.0 - daily) ** params.horizon_days


def _as_cells(values: np.ndarray | DailyCells) -> DailyCells:
    return values if isinstance(values, DailyCells) else DailyCells.from_dense(np.asarray(values))


def assess_risk(counts: np.ndarray | DailyCells, episode_starts: np.ndarray | DailyCells, *,
                dates: np.ndarray, targets: list[str], domains: list[str],
                convergence: np.ndarray | None = None,
                parameters: RiskParameters = RiskParameters(),
                random_state: int | None = 0,
                map_tasks: TaskMap | None = None) -> RiskResult:
    """Forecasts at the last day of ``counts`` (T days × targets × domains of hostile events,
    dense or as :class:`DailyCells`) and the backtest over all earlier origins.

    ``dates`` gives the day of each of the T rows (the last one is the origin, ``as_of``);
    ``episode_starts`` is T × targets. Features are computed chunk by chunk over bounded slices
    of days (see :mod:`risk_features`), so memory does not grow with the span. The backtest's
    refits run through ``map_tasks`` (``analyses.tasks``; Spark tasks on that engine).
    """
    from scipy.stats import norm

    params = parameters
    counts, episode_starts = _as_cells(counts), _as_cells(episode_starts)
    n_days = counts.shape[0]
    conv = np.full(n_days, np.nan) if convergence is None else np.asarray(convergence, float)
    notes: list[str] = []
    if n_days < params.baseline_days + params.horizon_days:
        notes.append(f"only {n_days} days of data: a backtest needs at least "
                     f"{params.baseline_days + params.horizon_days} (a baseline year and one "
                     "horizon); forecasts fall back to base rates")
    last = n_days - 1
    first = min(params.baseline_days - 1, last)
    origins = np.unique(np.append(np.arange(last, first - 1, -params.step_days)[::-1], last))
    parts: dict[str, list[ForecastRows]] = {"episode": [], "elevated": []}
    for _, _, positions, chunk in iter_origin_features(
            counts, episode_starts, conv, origins, horizon_days=params.horizon_days,
            recent_days=params.recent_days, baseline_days=params.baseline_days,
            elevated_quantile=params.elevated_quantile,
            min_baseline_events=params.min_baseline_events,
            origins_per_chunk=origin_chunk_size(baseline_days=params.baseline_days,
                                                step_days=params.step_days)):
        for kind in parts:
            parts[kind].append(_rows(chunk, kind, positions))
        latest = chunk                      # the last chunk holds the forecast origin
    rows = {kind: ForecastRows.concatenate(p, len(names)) for (kind, p), names in
            zip(parts.items(), (EPISODE_FEATURES, ELEVATED_FEATURES))}
    past = {kind: _backtest_forecasts(rows[kind], origins, kind, names, params, map_tasks)
            for kind, names in (("episode", EPISODE_FEATURES), ("elevated", ELEVATED_FEATURES))}
    # bootstrap blocks span two horizons of origins: forecasts whose windows overlap move together
    block = max(1, 2 * -(-params.horizon_days // params.step_days))
    backtest = {kind: score_forecasts(*values[:5], block_origins=block, random_state=random_state)
                for kind, values in past.items()}
    backtest["pooled"] = score_forecasts(
        *(np.concatenate([values[i] for values in past.values()]) for i in range(5)),
        block_origins=block, random_state=random_state)
    models, final = {}, {}
    for kind, names in (("episode", EPISODE_FEATURES), ("elevated", ELEVATED_FEATURES)):
        x, y = rows[kind].x, rows[kind].y
        train = ~np.isnan(y)
        base_rate = float(y[train].mean()) if train.any() else \
            _prior_rate(kind, episode_starts, params)
        enough = train.sum() >= params.min_train_forecasts and \
            y[train].sum() >= params.min_train_positives
        model = fit_logit(x[train], y[train], names, l2_c=params.l2_c) if enough else None
        if model is None:
            notes.append(f"{kind}: too few past outcomes to fit a model ({int(train.sum())} "
                         f"forecasts, {int(np.nansum(y))} positive); the base rate is given")
        raw, outcome = past[kind][5], past[kind][1]
        final[kind] = (model, _recalibrator(raw, outcome), base_rate)
        models[kind] = ({"coefficients": dict(zip(("intercept",) + names, model.coef.tolist())),
                         "n_train": model.n_train, "n_positive": model.n_positive,
                         "base_rate": base_rate,
                         "coefficient_intervals": coefficient_intervals(model, params.interval),
                         **feature_diagnostics(x[train], y[train], names)}
                        if model else {"base_rate": base_rate})
    z = float(norm.ppf(0.5 + params.interval / 2))
    first_days = counts.first_day(len(targets))
    results = []
    for k, target in enumerate(targets):
        eligible = latest.eligible[-1, k]
        recent = latest.recent_counts[-1, k]
        results.append(TargetRisk(
            target=target,
            episode=_forecast(*final["episode"][:2], latest.episode_x[-1, k],
                              final["episode"][2], z),
            elevated={domains[d]: _forecast(*final["elevated"][:2],
                                            latest.elevated_x[-1, k, d],
                                            final["elevated"][2], z)
                      for d in np.flatnonzero(eligible)},
            recent_counts={domains[d]: int(recent[d]) for d in range(len(domains))
                           if recent[d] > 0},
            history_days=int(last - (first_days[k] if first_days[k] >= 0 else last) + 1),
            active_domains=int(eligible.sum())))
    day = lambda i: str(np.datetime64(dates[int(i)], "D"))  # noqa: E731
    windows = {kind: (day(values[4].min()), day(values[4].max())) if values[4].size else None
               for kind, values in past.items()}
    known = [w for w in windows.values() if w]
    windows["pooled"] = (min(w[0] for w in known), max(w[1] for w in known)) if known else None
    return RiskResult(day(last), tuple(results), backtest, models, backtest_origins=windows,
                      parameters=params, warnings=tuple(notes))
