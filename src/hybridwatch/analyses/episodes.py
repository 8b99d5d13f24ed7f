"""Multi-domain episodes: time windows in which several domains are jointly active beyond their
own baselines, for one target or a few targets at once (a space-time scan, Monte-Carlo p-values).

Input is a ``(T days, G targets, D domains)`` array of daily event counts; each ``(target, domain)``
column is a series. A "target" here is any *where* the caller counts events for: the workflow
(``workflows.coordination.detect_episodes``) counts each event for the targets it names, else its
location country, else the named theatre it lies in (``store.located``), so a "target" may be an
ISO3 code or a theatre name such as "Taiwan Strait". The method, step by step:

1. **Baselines** (``baselines.expected_counts``): centred rolling level × weekday factor, with the
   ``max_window_days − 1`` days around each day left out so a window never explains itself.
   Series with fewer than ``min_series_events`` events are not scanned (listed in ``warnings``).
2. **Per-series window score.** For every series, start day ``t`` and window length
   ``w ≤ max_window_days``, the expectation-based negative-binomial log-likelihood ratio of the window sum ``O`` against
   its expectation ``E``: ``O·log(O/E) − (O + r)·log((O + r)/(E + r))`` (0 if ``O ≤ E`` or
   ``O < 2``). The size ``r`` is estimated per series and window length from the series' own
   window sums (moments, top 1 % trimmed), so a domain that bursts every month needs a bigger
   excess to score as high as a steady one; as ``r → ∞`` it is Kulldorff's Poisson LLR.
   (Rank-calibrating LLRs within each series was tried and rejected: every burst occupies several
   overlapping windows, so ranks saturate at the top and tie with the null.)
3. **Zones and the statistic.** Two zone families are scanned for every window:
   ``single`` — one target; statistic = the ``min_domains``-th largest score over its domains.
   ``cross`` — a set of targets (at most ``min_domains``) whose elevated domains line up: for
   each domain take the best score over all targets, statistic = the ``min_domains``-th largest of
   those. The zone is the targets holding the top domains. Choosing the best target per domain is
   exactly the best zone of up to ``min_domains`` targets, so the family is searched exhaustively
   at the cost of one max. It catches episodes spread over several targets (cyber in DEU,
   military in POL, information in TWN). The statistic is the k-th largest score (not a sum) so
   one huge single-domain burst cannot make a window "multi-domain".
4. **Monte-Carlo p-values** (family-wise over all windows, targets and both zone families).
   ``surrogate="shift"`` (default) circularly shifts every series — counts and baseline together —
   by its own random multiple of 7 days: each series keeps its burstiness, weekly cycle and score
   distribution while the alignment between series is broken. ``surrogate="poisson"`` redraws
   counts from Poisson(expected): faster to explain, slower to run, and it ignores the clustering
   of bursts in time, so it is optional. Per family, ``p = (1 + #{null max ≥ observed}) /
   (1 + n_surrogates)``; the two families are combined with the min-P method on the same
   surrogates, so the reported p-value controls the family-wise error over everything scanned.
   This null is "series are independent given their baselines": a real common shock that lifts
   many domains at once (a war, a news surge) is — rightly — reported as an episode.
5. **Episodes** are candidate windows with ``p ≤ alpha``, taken best first (lowest p, then
   single-target before cross-target, then highest statistic); a candidate sharing a target with
   an accepted episode is dropped if the windows are less than ``max_window_days`` apart (the
   same burst seen through a neighbouring window). Each reports every domain (and, in a
   cross-target zone, the target holding it) whose LLR is at least half the statistic.
6. **Step-down rounds** (sequential removal of detected clusters, as in Zhang, Assunção &
   Kulldorff 2010). The shift null moves every series' bursts around, planted or real episodes
   included, so with several real episodes in the data the null maxima are inflated by shifted
   copies of them and the dispersion estimate of their series is widened: the weaker episodes
   drown. After each round the accepted episodes' elevated series are removed over the window
   ± ``max_window_days − 1`` days (windows touching them score 0 and leave the dispersion
   estimate), and scores, null and candidates are recomputed; rounds stop when one finds
   nothing new (at most ``_MAX_ROUNDS``). Round 1 is the plain family-wise test, so on data
   without any episode the chance of reporting one is still ≤ α; a later round's p-value is the
   family-wise p-value of the data with the earlier episodes removed. ``null_maxima`` holds
   round 1's null; ``step_down=False`` stops after round 1.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from hybridwatch import __version__
from hybridwatch.analyses.baselines import expected_counts
from hybridwatch.model.results import AnalysisResult
from hybridwatch.analyses.episode_scan import (
    domain_scores, family_p, poisson_null, shift_null, window_statistics,
)

SURROGATES = ("shift", "poisson")
#: A domain is reported with an episode if its LLR is at least this share of the statistic: the
#: k strongest domains define the episode, weaker companions in the same window are still shown.
_REPORT_SHARE = 0.5
#: Step-down rounds at most: each costs a scan and a null, and at a large alpha (used to list
#: candidates rather than to test) rounds would otherwise go on carving up the data.
_MAX_ROUNDS = 10


@dataclass(frozen=True)
class EpisodeCell:
    """One day of one elevated series inside an episode (the CLI maps it to event ids)."""
    day_index: int
    date: dt.date
    target: str
    domain: str
    count: int
    expected: float


@dataclass(frozen=True)
class DomainSignal:
    """One elevated series over the episode window."""
    target: str
    domain: str
    observed: int
    expected: float
    llr: float  # negative-binomial log-likelihood ratio of the window (the domain's score)


@dataclass(frozen=True)
class Episode:
    """A window in which at least ``min_domains`` domains are jointly elevated."""
    start: dt.date
    end: dt.date  # inclusive
    window_days: int
    targets: tuple[str, ...]
    domains: tuple[str, ...]
    zone: str  # "single" or "cross"
    statistic: float
    p_value: float
    signals: tuple[DomainSignal, ...]
    cells: tuple[EpisodeCell, ...]


@dataclass(frozen=True)
class EpisodeParameters:
    min_domains: int
    max_window_days: int
    alpha: float
    n_surrogates: int
    surrogate: str
    target_groups: tuple[tuple[str, ...], ...]  # empty: single targets only
    min_series_events: int
    half_span_days: int
    random_state: int | None
    step_down: bool = True


@dataclass(frozen=True, eq=False)
class EpisodesResult(AnalysisResult):
    """Episodes found, with the parameters, null distribution, warnings and provenance."""
    parameters: EpisodeParameters = field(kw_only=True)
    episodes: tuple[Episode, ...]
    null_maxima: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (dates as ISO strings); ``from_dict`` reverses it."""
        data = {"parameters": asdict(self.parameters),
                "episodes": [asdict(e) for e in self.episodes], "warnings": self.warnings,
                "null_maxima": self.null_maxima, "provenance": self.provenance}
        for episode in data["episodes"]:
            episode["start"] = episode["start"].isoformat()
            episode["end"] = episode["end"].isoformat()
            for cell in episode["cells"]:
                cell["date"] = cell["date"].isoformat()
        return _lists(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpisodesResult:
        episodes = []
        for raw in data["episodes"]:
            cells = tuple(EpisodeCell(**{**c, "date": dt.date.fromisoformat(c["date"])})
                          for c in raw["cells"])
            episodes.append(Episode(**{
                **raw, "start": dt.date.fromisoformat(raw["start"]),
                "end": dt.date.fromisoformat(raw["end"]), "targets": tuple(raw["targets"]),
                "domains": tuple(raw["domains"]), "cells": cells,
                "signals": tuple(DomainSignal(**s) for s in raw["signals"])}))
        params = {**data["parameters"],
                  "target_groups": tuple(tuple(g) for g in data["parameters"]["target_groups"])}
        return cls(parameters=EpisodeParameters(**params), episodes=tuple(episodes),
                   warnings=tuple(data["warnings"]),
                   null_maxima={k: tuple(v) for k, v in data["null_maxima"].items()},
                   provenance=dict(data["provenance"]))


def _lists(value: Any) -> Any:
    """Tuples → lists recursively, so ``to_dict()`` equals its own JSON round trip."""
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return value


def find_episodes(counts: np.ndarray, *, dates: np.ndarray, targets: Sequence[str],
                  domains: Sequence[str], min_domains: int = 3, max_window_days: int = 7,
                  alpha: float = 0.05, n_surrogates: int = 199, surrogate: str = "shift",
                  cross_target: bool = True,
                  target_groups: Sequence[Sequence[str]] | None = None,
                  min_series_events: int = 10, half_span_days: int = 28,
                  random_state: int | np.random.Generator | None = None,
                  step_down: bool = True) -> EpisodesResult:
    """Scan ``counts`` (T days × G targets × D domains) for multi-domain episodes.

    See the module docstring for the method. ``target_groups`` lists the sets of targets whose
    domains may combine into a cross-target episode (default: one group of all targets);
    ``cross_target=False`` scans single targets only. ``random_state`` seeds the surrogates; with
    None a fresh seed is drawn and recorded in ``parameters.random_state``. ``step_down=False``
    stops after round 1 (each further round costs one more scan and null); round 1 uses the
    same draws either way, so on data without episodes both report the same.
    """
    counts = np.asarray(counts)
    dates = np.asarray(dates, dtype="datetime64[D]")
    targets, domains = list(targets), list(domains)
    _validate(counts, dates, targets, domains, min_domains, max_window_days, alpha, n_surrogates,
              surrogate)
    groups = _groups(target_groups, targets) if cross_target and len(targets) > 1 else []
    seed, rng = _rng(random_state)
    params = EpisodeParameters(min_domains, max_window_days, alpha, n_surrogates, surrogate,
                               tuple(tuple(targets[g] for g in group) for group in groups),
                               min_series_events, half_span_days, seed, step_down)
    provenance = {"input_sha256": _fingerprint(counts, dates, targets, domains),
                  "version": __version__}
    totals = counts.sum(axis=0)
    scanned = totals >= min_series_events
    warnings = [f"{targets[g]}/{domains[d]}: only {int(totals[g, d])} events "
                f"(< {min_series_events}); not scanned"
                for g, d in zip(*np.nonzero(~scanned & (totals > 0)))]
    problem = _nothing_to_scan(counts.shape[0], scanned, min_domains, max_window_days,
                               min_series_events)
    if problem:
        return EpisodesResult(parameters=params, episodes=(), warnings=(problem, *warnings),
                              null_maxima={}, provenance=provenance)

    expected = expected_counts(counts, dates, gap_days=max_window_days,
                               half_span_days=half_span_days)
    episodes, null = _step_down(counts, expected, scanned, dates, targets, domains, groups,
                                params, rng)
    return EpisodesResult(parameters=params, episodes=tuple(episodes), warnings=tuple(warnings),
                          null_maxima={k: tuple(float(x) for x in v) for k, v in null.items()},
                          provenance=provenance)


def _step_down(counts: np.ndarray, expected: np.ndarray, scanned: np.ndarray, dates: np.ndarray,
               targets: list[str], domains: list[str], groups: list[np.ndarray],
               params: EpisodeParameters,
               rng: np.random.Generator) -> tuple[list[Episode], dict[str, np.ndarray]]:
    """Rounds of scan → null → episodes, removing each round's episodes (module docstring, 6).

    Returns the episodes by start date and round 1's null maxima."""
    k, n_windows = params.min_domains, params.max_window_days
    removed = np.zeros(counts.shape, dtype=bool)   # series × days of accepted episodes
    accepted: list[tuple[int, int, set[int]]] = []
    episodes: list[Episode] = []
    first_null: dict[str, np.ndarray] = {}
    for round_number in range(1, _MAX_ROUNDS + 1):
        scores = domain_scores(counts, expected, scanned, n_windows, removed)
        if params.surrogate == "shift":
            null = shift_null(scores, k, groups, params.n_surrogates, rng)
        else:
            null = poisson_null(expected, scanned, removed, n_windows, k, groups,
                                 params.n_surrogates, rng)
        first_null = first_null or null
        candidates = _candidates(window_statistics(scores, k, groups), null, params.alpha)
        found = _select(candidates, scores, counts, expected, dates, targets, domains, groups,
                        accepted)
        episodes += found
        if not found or not params.step_down or round_number == _MAX_ROUNDS:
            break
        for episode in found:
            _remove(removed, episode, dates, targets, domains, n_windows - 1)
    return sorted(episodes, key=lambda e: (e.start, e.targets)), first_null


def _remove(removed: np.ndarray, episode: Episode, dates: np.ndarray, targets: list[str],
            domains: list[str], margin_days: int) -> None:
    """Mark an accepted episode's elevated series as removed over its window ± ``margin_days``
    (a burst often outlasts the window that scored best; its tail is the same episode)."""
    start = int((np.datetime64(episode.start, "D") - dates[0]).astype(int))
    days = slice(max(start - margin_days, 0), start + episode.window_days + margin_days)
    for signal in episode.signals:
        removed[days, targets.index(signal.target), domains.index(signal.domain)] = True


def _nothing_to_scan(n_days: int, scanned: np.ndarray, min_domains: int, max_window_days: int,
                     min_series_events: int) -> str | None:
    """Why the data cannot hold an episode (a warning), or None."""
    need_days = max(2 * max_window_days, 14)
    if n_days < need_days:
        return (f"only {n_days} days of data: need at least {need_days} to scan windows and "
                "shift series; nothing scanned")
    if scanned.shape[1] < min_domains:
        return f"{scanned.shape[1]} domains given, fewer than min_domains={min_domains}"
    if scanned.any(axis=0).sum() < min_domains:
        return (f"fewer than {min_domains} domains have a series with >= {min_series_events} "
                "events; nothing scanned")
    return None


def _validate(counts: np.ndarray, dates: np.ndarray, targets: list[str], domains: list[str],
              min_domains: int, max_window_days: int, alpha: float, n_surrogates: int,
              surrogate: str) -> None:
    if counts.ndim != 3:
        raise ValueError(f"counts must be (days, targets, domains), got shape {counts.shape}")
    if counts.shape != (len(dates), len(targets), len(domains)):
        raise ValueError(f"counts shape {counts.shape} does not match dates/targets/domains "
                         f"({len(dates)}, {len(targets)}, {len(domains)})")
    if counts.size and (counts < 0).any():
        raise ValueError("counts must be non-negative")
    if min_domains < 1 or max_window_days < 1 or n_surrogates < 1:
        raise ValueError("min_domains, max_window_days and n_surrogates must be >= 1")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if surrogate not in SURROGATES:
        raise ValueError(f"surrogate must be one of {SURROGATES}, got {surrogate!r}")


def _groups(target_groups: Sequence[Sequence[str]] | None,
            targets: list[str]) -> list[np.ndarray]:
    """Target groups as index arrays; each needs two or more known targets."""
    if target_groups is None:
        return [np.arange(len(targets))]
    groups = []
    for group in target_groups:
        unknown = [t for t in group if t not in targets]
        if unknown or len(set(group)) < 2:
            raise ValueError(f"target group {list(group)} needs >= 2 known targets"
                             + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
        groups.append(np.array(sorted({targets.index(t) for t in group})))
    return groups


def _rng(random_state: int | np.random.Generator | None) -> tuple[int | None, np.random.Generator]:
    if isinstance(random_state, np.random.Generator):
        return None, random_state
    seed = int(np.random.SeedSequence().entropy % 2**32) if random_state is None else random_state
    return int(seed), np.random.default_rng(seed)


def _fingerprint(counts: np.ndarray, dates: np.ndarray, targets: list[str],
                 domains: list[str]) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(counts, dtype=np.int64).tobytes())
    digest.update(dates.astype(np.int64).tobytes())
    digest.update("\x1f".join(targets + ["\x1e"] + domains).encode())
    return digest.hexdigest()


# --- scores ------------------------------------------------------------------------------------

def _candidates(observed: dict[str, np.ndarray], null: dict[str, np.ndarray],
                alpha: float) -> list[tuple[float, int, float, int, int, str, int]]:
    """Significant (p, family rank, −stat, w, t, family, target or group) tuples, sorted."""
    families = list(observed)
    sorted_null = {f: np.sort(null[f]) for f in families}
    n = len(next(iter(null.values())))
    if len(families) == 1:
        min_p_null = None
    else:
        # min-P: each surrogate's smallest family p-value (the observed max counts among the
        # B + 1 exchangeable values), compared with a candidate's own family p-value.
        per_family = []
        for f in families:
            obs_max = observed[f].max()
            count = n - np.searchsorted(sorted_null[f], null[f], side="left")
            per_family.append((count + (obs_max >= null[f])) / (n + 1))
        min_p_null = np.sort(np.min(per_family, axis=0))
    found = []
    for rank, f in enumerate(families):
        stats = observed[f]
        p = family_p(sorted_null[f], stats)
        if min_p_null is not None:
            p = (1 + np.searchsorted(min_p_null, p, side="right")) / (n + 1)
        hits = np.nonzero((p <= alpha) & (stats > 0))
        for idx in zip(*hits):
            w, t, g = (int(i) for i in idx)
            found.append((float(p[idx]), rank, -float(stats[idx]), w, t, f, g))
    return sorted(found)


def _select(candidates: list[tuple], scores: np.ndarray, counts: np.ndarray,
            expected: np.ndarray, dates: np.ndarray, targets: list[str], domains: list[str],
            groups: list[np.ndarray], accepted: list[tuple[int, int, set[int]]]) -> list[Episode]:
    """Greedy episodes from sorted candidates (g: target, or group for cross).

    A candidate sharing a target with an accepted episode is dropped if their windows are less
    than a maximal window apart: it is the same burst seen through a neighbouring window.
    ``accepted`` holds (start, end, zone) of episodes taken so far (earlier rounds included)
    and is extended in place."""
    gap = scores.shape[0] - 1
    episodes = []
    for p_value, _, neg_stat, w, t, family, g in candidates:
        statistic = -neg_stat
        window = scores[w, :, t].T  # (G, D)
        if family == "single":
            zone = {g}
        else:
            members = groups[g]
            holders = members[window[members].argmax(axis=0)]
            top = np.nonzero(window[members].max(axis=0) >= _REPORT_SHARE * statistic)[0]
            zone = {int(holders[d]) for d in top}
        end = t + w
        if any(t <= other_end + gap and other_start - gap <= end and zone & other_zone
               for other_start, other_end, other_zone in accepted):
            continue
        accepted.append((t, end, zone))
        series = [(z, d) for z in sorted(zone) for d in range(len(domains))
                  if window[z, d] >= _REPORT_SHARE * statistic and window[z, d] > 0]
        episodes.append(_episode(t, w + 1, series, family, statistic, p_value, scores, counts,
                                 expected, dates, targets, domains))
    return episodes


def _episode(start: int, length: int, series: list[tuple[int, int]], family: str,
             statistic: float, p_value: float, scores: np.ndarray, counts: np.ndarray,
             expected: np.ndarray, dates: np.ndarray, targets: list[str],
             domains: list[str]) -> Episode:
    days = range(start, start + length)
    signals, cells = [], []
    for g, d in series:
        obs = int(counts[days, g, d].sum())
        exp = float(expected[days, g, d].sum())
        llr = float(scores[length - 1, d, start, g])
        signals.append(DomainSignal(targets[g], domains[d], obs, round(exp, 4), round(llr, 4)))
        cells += [EpisodeCell(t, dates[t].item(), targets[g], domains[d], int(counts[t, g, d]),
                              round(float(expected[t, g, d]), 4))
                  for t in days if counts[t, g, d] > 0]
    return Episode(start=dates[start].item(), end=dates[start + length - 1].item(),
                   window_days=length, targets=tuple(sorted({s.target for s in signals})),
                   domains=tuple(sorted({s.domain for s in signals})), zone=family,
                   statistic=round(statistic, 6), p_value=p_value, signals=tuple(signals),
                   cells=tuple(cells))
