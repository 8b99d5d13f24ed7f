"""All-pairs coincidence in blocks of pairs, for an engine that runs tasks in parallel (Spark).

``all_pairs`` tests every ordered pair of S series; each pair's rates, surrogate means and
exceedances depend only on its two columns and on the surrogates' day maps, which every call
draws alike from the seed (they depend on the number of days and the null, never on the data).
So the series are cut into groups, each task runs ``all_pairs`` on the columns of two groups with
the same seed, and the pairs are put back together: every pair gets exactly the numbers one
``all_pairs`` over all S series gives it. Only what spans all pairs is done here, once: the
Benjamini–Hochberg q-values, the Monte Carlo resolution warning and the input fingerprint.
The cost: a pair inside a group is computed by every task holding that group (up to twice the
work of one call), traded for tasks that run anywhere.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from hybridwatch.analyses.coincidence import _fingerprint
from hybridwatch.analyses.coincidence_pairs import (
    _ARRAYS, PairsResult, _resolution_warning, all_pairs,
)
from hybridwatch.analyses.fdr import benjamini_hochberg
from hybridwatch.analyses.tasks import TaskMap, serial_tasks



def _task(columns: tuple[int, ...], *, events: np.ndarray, names: tuple[str, ...],
          options: dict[str, Any]) -> tuple[tuple[int, ...], PairsResult]:
    return columns, all_pairs(events[:, list(columns)], [names[c] for c in columns], **options)


def all_pairs_blocked(matrix, names: Sequence[str], *, window_days: int, lags=(0,),
                      null: str = "block", n_surrogates: int = 1000,
                      random_state: int | None = None, fdr: float = 0.05,
                      series_per_block: int | None = None, map_tasks: TaskMap | None = None
                      ) -> PairsResult:
    """``all_pairs`` with the same result, computed as tasks over blocks of pairs (see the
    module docstring). ``series_per_block`` defaults to about an eighth of the series (at
    least two); ``map_tasks`` runs the tasks (default: here, one after another)."""
    events = np.asarray(matrix).astype(bool)
    names = tuple(names)
    n_series = len(names)
    options = dict(window_days=window_days, lags=lags, null=null, n_surrogates=n_surrogates,
                   random_state=random_state, fdr=fdr)
    size = series_per_block or max(2, math.ceil(n_series / 8))
    groups = [tuple(range(i, min(i + size, n_series))) for i in range(0, n_series, size)]
    if len(groups) < 2:
        return all_pairs(events, names, **options)
    tasks = [groups[g] + groups[h] for g in range(len(groups)) for h in range(g + 1, len(groups))]
    done = (map_tasks or serial_tasks)(
        functools.partial(_task, events=events, names=names, options=options), tasks)

    a_idx, b_idx = np.nonzero(~np.eye(n_series, dtype=bool))
    where = {(a, b): k for k, (a, b) in enumerate(zip(a_idx.tolist(), b_idx.tolist()))}
    values = {name: np.empty(a_idx.size, dtype=float) for name in _ARRAYS[2:]}
    testable = np.zeros(a_idx.size, dtype=bool)
    reasons = [""] * a_idx.size
    filled = np.zeros(a_idx.size, dtype=bool)
    notes: list[str] = []
    for columns, part in done:
        for i in range(part.a_index.size):
            k = where[(columns[part.a_index[i]], columns[part.b_index[i]])]
            if filled[k]:
                continue
            filled[k] = True
            for name in values:
                values[name][k] = getattr(part, name)[i]
            testable[k] = part.testable[i]
            reasons[k] = part.untestable_reason[i]
        notes += [w for w in part.warnings if not w.startswith(("series ", "smallest "))
                  and w not in notes]
    assert filled.all(), "every pair belongs to a task"
    n_used = done[0][1].n_surrogates
    empty = [f"series {names[j]!r} has no events" for j in np.flatnonzero(~events.any(axis=0))]
    resolution = _resolution_warning(n_used, n_series, fdr) if null != "poisson" else []
    q_value = benjamini_hochberg(values["p_value"])
    return dataclasses.replace(
        done[0][1], names=names, a_index=a_idx, b_index=b_idx,
        best_lag_days=values["best_lag_days"].astype(int),
        precursor_rate=values["precursor_rate"], trigger_rate=values["trigger_rate"],
        p_precursor=values["p_precursor"], p_trigger=values["p_trigger"],
        p_value=values["p_value"], q_value=q_value,
        significant=np.nan_to_num(q_value, nan=np.inf) <= fdr,
        warnings=tuple(empty + notes + resolution), input_sha256=_fingerprint(events),
        testable=testable, untestable_reason=tuple(reasons))
