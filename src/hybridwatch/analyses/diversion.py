"""Trade diversion: do flows from an origin to a destination re-route through third countries?

For a break month t₀ (given, or the largest drop in origin→destination), each candidate transit
country v has two legs: A = origin→v and B = v→destination. Each leg's log value is fitted on
the ``pre_months`` before a date τ with a linear trend and two seasonal harmonics, and projected
over the ``post_months`` from τ; the leg's excess is the *median* post-τ residual over the fit's
residual standard deviation (a median, so a one-month spike does not count), minus the median
excess of all candidates at τ (so a shock common to every partner does not count either). The
statistic of v at τ is the smaller of its two legs' excesses: both must rise.

Null model ("placebo breaks × comparable partners"): the statistic of every candidate at every
placebo date τ whose post window ends before t₀. The p-value of v is the share of that null pool
at or above v's statistic at t₀ (with the +1 correction); Benjamini–Hochberg over candidates
gives q-values. A smooth trend that began long before t₀ is in the fit and gives no excess; a
supplier that replaces the origin with its own goods (B rises, A does not) gives none either.
The mirror gap (the via's declared imports from the origin against the origin's declared exports
to it) before and after t₀ is reported as supporting evidence, not tested.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hybridwatch.analyses.fdr import benjamini_hochberg
from hybridwatch.model.results import AnalysisResult

NULL_MODEL = ("placebo breaks × comparable partners: the same statistic for every candidate "
              "transit country at every placebo break month whose post window ends before the "
              "break")


@dataclass(frozen=True, eq=False)
class DiversionResult(AnalysisResult):
    """Per candidate transit country: statistic, p (placebo pool), q (BH), evidence."""

    origin: tuple[str, ...]
    destination: str
    break_month: str | None
    break_estimated: bool
    destination_drop: float | None      # change of mean log value origin→destination at t₀
    candidates: tuple[dict[str, Any], ...]
    n_placebo_dates: int
    n_null: int
    null_model: str = NULL_MODEL
    #: the direct origin→destination flow, mean monthly USD over the pre window before the break
    #: and the post window from it (what the briefing's before/after charts compare the legs to)
    direct_flow: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The public JSON view (the supply report's ``diversion`` and ``diversion_test``)."""
        return {"origin": list(self.origin), "destination": self.destination,
                "break_month": self.break_month, "break_estimated": self.break_estimated,
                "destination_drop": self.destination_drop,
                "candidates": [dict(c) for c in self.candidates],
                "n_placebo_dates": self.n_placebo_dates, "n_null": self.n_null,
                "parameters": dict(self.parameters), "null_model": self.null_model,
                "warnings": list(self.warnings), "direct_flow": self.direct_flow}


class _Flows:
    """The flow table as numpy columns, built once (months as integers since 1970-01).

    Countries are integer codes into ``names`` (sorted, so ordering codes orders names):
    selecting and grouping then compare integers, not Python strings.
    """

    def __init__(self, flows: pa.Table) -> None:
        exporter = flows["exporter"].combine_chunks()
        importer = flows["importer"].combine_chunks()
        vocab = pc.unique(pa.concat_arrays([exporter.cast(pa.string()),
                                            importer.cast(pa.string())]))
        names = vocab.take(pc.sort_indices(vocab))   # UTF-8 byte order = code point order
        self.names = np.asarray(names.to_pylist(), object)
        self._code = {name: i for i, name in enumerate(self.names.tolist())}
        self.exporter = _numpy(pc.index_in(exporter, names), np.int32)
        self.importer = _numpy(pc.index_in(importer, names), np.int32)
        days = _numpy(flows["period"].cast(pa.int32()), np.int32)
        self.month = days.astype("datetime64[D]").astype("datetime64[M]").astype(int)
        self.columns = {name: _numpy(flows[name].cast(pa.float64()), np.float64)
                        for name in ("value_usd", "import_reported_usd", "export_reported_usd")}

    def months(self) -> np.ndarray:
        return np.arange(self.month.min(), self.month.max() + 1).astype("datetime64[M]")

    def _codes(self, countries: Sequence[str]) -> np.ndarray:
        return np.array([self._code[c] for c in countries if c in self._code], np.int64)

    def matrix(self, exporters: Sequence[str] | None, importers: Sequence[str] | None,
               months: np.ndarray, key: str, column: str = "value_usd"
               ) -> tuple[list[str], np.ndarray]:
        """Flows restricted to the given exporters / importers, summed per ``key`` ('exporter'
        or 'importer') and month into a (keys × months) matrix; months without any declared
        value are 0 for ``value_usd`` and NaN for the one-sided columns."""
        keep = np.ones(self.exporter.size, bool)
        if exporters is not None:
            keep &= np.isin(self.exporter, self._codes(exporters))
        if importers is not None:
            keep &= np.isin(self.importer, self._codes(importers))
        values = self.columns[column][keep]
        finite = ~np.isnan(values)
        keys = (self.exporter if key == "exporter" else self.importer)[keep][finite]
        codes, rows = np.unique(keys, return_inverse=True)
        cols = self.month[keep][finite] - months[0].astype(int)
        out = np.zeros((codes.size, months.size))
        seen = np.zeros((codes.size, months.size), bool)
        np.add.at(out, (rows, cols), values[finite])
        seen[rows, cols] = True
        if column != "value_usd":
            out[~seen] = np.nan
        return [str(n) for n in self.names[codes]], out


def _numpy(column: pa.Array | pa.ChunkedArray, dtype: type) -> np.ndarray:
    """A numeric Arrow column as numpy, nulls as NaN, read from its buffer: pyarrow's own
    ``to_numpy`` imports pandas, a second or more of every ``supply`` run."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(array) == 0:
        return np.empty(0, dtype)
    size = np.dtype(dtype).itemsize
    values = np.frombuffer(array.buffers()[1], dtype, len(array), array.offset * size).copy()
    if array.null_count:   # the validity bitmap, least significant bit first
        bits = np.unpackbits(np.frombuffer(array.buffers()[0], np.uint8), bitorder="little")
        values[~bits[array.offset:array.offset + len(array)].astype(bool)] = np.nan
    return values


def _design(start: int, length: int, month_of_year: np.ndarray, t0: int) -> np.ndarray:
    t = np.arange(start, start + length)
    m = month_of_year[t]
    cols = [np.ones(length), (t - t0) / 12.0]
    for k in (1, 2):
        cols += [np.cos(2 * np.pi * k * m / 12), np.sin(2 * np.pi * k * m / 12)]
    return np.column_stack(cols)


def _excess(logs: np.ndarray, tau: int, pre: int, post: int, month_of_year: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Standardised median post-τ residual of every row, and the projected log values."""
    x_pre = _design(tau - pre, pre, month_of_year, tau)
    x_post = _design(tau, post, month_of_year, tau)
    y_pre = logs[:, tau - pre:tau].T
    beta, *_ = np.linalg.lstsq(x_pre, y_pre, rcond=None)
    resid = y_pre - x_pre @ beta
    dof = max(pre - x_pre.shape[1], 1)
    sd = np.maximum(np.sqrt((resid ** 2).sum(0) / dof), 0.05)
    projected = (x_post @ beta).T
    post_resid = logs[:, tau:tau + post] - projected
    return np.median(post_resid, axis=1) / sd, projected


def estimate_break(series: np.ndarray, *, pre: int, post: int) -> tuple[int | None, float | None]:
    """The month where the mean log value of the next ``post`` months falls most below that of
    the previous ``pre`` months (None when the series is too short)."""
    logs = np.log(series + _offset(series))
    best, best_t = None, None
    for t in range(pre, series.size - min(post, 3) + 1):
        after = logs[t:t + post]
        drop = after.mean() - logs[t - pre:t].mean()
        if best is None or drop < best:
            best, best_t = drop, t
    return best_t, best


def _offset(series: np.ndarray) -> float:
    positive = series[series > 0]
    return max(1.0, 0.01 * float(np.median(positive))) if positive.size else 1.0


def find_diversion(flows: pa.Table, *, origin: Sequence[str], destination: str,
                   break_month: str | None = None, pre_months: int = 24, post_months: int = 12,
                   fdr: float = 0.05, min_placebos: int = 6,
                   exclude: Sequence[str] = ()) -> DiversionResult:
    """Candidate transit countries for origin→destination flows (monthly ``flows`` from
    ``store.trade_store.flow_values``), each with statistic, p, q and evidence."""
    origin = tuple(origin)
    params = {"pre_months": pre_months, "post_months": post_months, "fdr": fdr,
              "break_month": break_month, "min_placebos": min_placebos}
    warnings: list[str] = []

    def empty(reason: str, **kw: Any) -> DiversionResult:
        return DiversionResult(origin, destination, kw.get("break_month"), kw.get("est", False),
                               kw.get("drop"), (), 0, 0, parameters=params,
                               warnings=tuple(warnings + [reason]))

    if flows.num_rows == 0:
        return empty("no monthly trade flows for the selected products")
    table = _Flows(flows)
    months = table.months()
    month_of_year = (months.astype(int) % 12).astype(float)
    _, direct = table.matrix(origin, [destination], months, "importer")
    d_series = direct.sum(0) if direct.size else np.zeros(months.size)
    if not d_series.any():
        return empty(f"no trade from {','.join(origin[:5])} to {destination} in the data")
    estimated = break_month is None
    if estimated:
        t0, drop = estimate_break(d_series, pre=pre_months, post=post_months)
        if t0 is None:
            return empty(f"too little data: {months.size} months, the break search needs more "
                         f"than {pre_months}")
    else:
        t0 = int((np.datetime64(break_month, "M") - months[0]).astype(int))
        if not pre_months <= t0 < months.size:
            return empty(f"break {break_month} leaves fewer than {pre_months} months before it "
                         f"or none after it in the data ({months[0]} … {months[-1]})",
                         break_month=break_month)
        logs_d = np.log(d_series + _offset(d_series))
        drop = float(logs_d[t0:t0 + post_months].mean() - logs_d[t0 - pre_months:t0].mean())
    t0_label = str(months[t0])
    post = min(post_months, months.size - t0)
    if post < post_months:
        warnings.append(f"only {post} months after the break (asked {post_months}): every test "
                        f"uses {post}")
    if drop is not None and drop > -0.1:
        warnings.append(f"origin→destination shows no clear fall at {t0_label} (mean log change "
                        f"{drop:+.2f}): diversion needs a break to divert from")

    skip = set(origin) | {destination} | set(exclude)
    via_a, a_mat = table.matrix(origin, None, months, "importer")
    via_b, b_mat = table.matrix(None, [destination], months, "exporter")
    candidates = [v for v in via_a if v in set(via_b) and v not in skip]
    if len(candidates) < 3:
        return empty(f"too few candidate transit countries ({len(candidates)}) with trade both "
                     f"from the origin and to {destination}", break_month=t0_label,
                     est=estimated, drop=drop)
    a = a_mat[[via_a.index(v) for v in candidates]]
    b = b_mat[[via_b.index(v) for v in candidates]]
    series = np.vstack([a, b])
    offsets = np.array([_offset(row) for row in series])
    logs = np.log(series + offsets[:, None])
    n = len(candidates)

    def statistic(tau: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z, projected = _excess(logs, tau, pre_months, post, month_of_year)
        za, zb = z[:n] - np.median(z[:n]), z[n:] - np.median(z[n:])
        return np.minimum(za, zb), np.vstack([za, zb]), projected

    placebos = list(range(pre_months, t0 - post + 1))
    if len(placebos) < min_placebos:
        warnings.append(f"only {len(placebos)} placebo break months fit before {t0_label} "
                        f"(pre {pre_months}, post {post}): p-values are coarse")
    null = np.concatenate([statistic(tau)[0] for tau in placebos]) if placebos else np.array([])
    observed, legs, projected = statistic(t0)
    null_sorted = np.sort(null)
    above = null.size - np.searchsorted(null_sorted, observed, side="left")
    p_values = (1 + above) / (1 + null.size)
    q_values = benjamini_hochberg(p_values)
    expected = np.exp(projected) - offsets[:, None]
    actual = series[:, t0:t0 + post]
    excess_usd = (actual - expected).sum(1)
    rank_in_space = n - np.argsort(np.argsort(observed))  # 1 = largest statistic at t₀
    gaps = _mirror_gaps(table, origin, candidates, months, t0, pre_months, post)
    rows = []
    for i, via in enumerate(candidates):
        pre_a, post_a = a[i, t0 - pre_months:t0].mean(), a[i, t0:t0 + post].mean()
        pre_b, post_b = b[i, t0 - pre_months:t0].mean(), b[i, t0:t0 + post].mean()
        rows.append({
            "via": via, "origin": ",".join(origin), "destination": destination,
            "start": t0_label,
            "excess_value_usd": round(max(0.0, min(excess_usd[i], excess_usd[n + i])), 2),
            "statistic": round(float(observed[i]), 4),
            "p_value": float(p_values[i]), "q_value": float(q_values[i]),
            "significant": bool(q_values[i] <= fdr and observed[i] > 0),
            "evidence": {
                "origin_to_via": {"mean_monthly_usd_before": round(pre_a, 2),
                                  "mean_monthly_usd_after": round(post_a, 2),
                                  "excess_z": round(float(legs[0, i]), 3)},
                "via_to_destination": {"mean_monthly_usd_before": round(pre_b, 2),
                                       "mean_monthly_usd_after": round(post_b, 2),
                                       "excess_z": round(float(legs[1, i]), 3)},
                "rank_among_candidates": int(rank_in_space[i]),
                "mirror_gap": gaps.get(via),
            },
        })
    rows.sort(key=lambda r: (r["p_value"], -r["statistic"], r["via"]))
    direct_flow = {"mean_monthly_usd_before": round(float(d_series[t0 - pre_months:t0].mean()), 2),
                   "mean_monthly_usd_after": round(float(d_series[t0:t0 + post].mean()), 2)}
    return DiversionResult(origin, destination, t0_label, estimated,
                           None if drop is None else round(float(drop), 4), tuple(rows),
                           len(placebos), int(null.size), parameters=params,
                           warnings=tuple(warnings), direct_flow=direct_flow)


def _mirror_gaps(table: _Flows, origin: tuple[str, ...], candidates: list[str],
                 months: np.ndarray, t0: int, pre: int, post: int) -> dict[str, Any]:
    """(via's declared imports from the origin − origin's declared exports to it) / exports,
    before and after the break, over months both sides declared."""
    import_names, imports = table.matrix(origin, candidates, months, "importer",
                                         "import_reported_usd")
    names, exports = table.matrix(origin, candidates, months, "importer", "export_reported_usd")
    out: dict[str, Any] = {}
    for via in candidates:
        if via not in names or via not in import_names:
            out[via] = None
            continue
        imp, exp = imports[import_names.index(via)], exports[names.index(via)]
        entry = {}
        for label, lo, hi in (("before", t0 - pre, t0), ("after", t0, t0 + post)):
            both = ~np.isnan(imp[lo:hi]) & ~np.isnan(exp[lo:hi])
            total = exp[lo:hi][both].sum()
            entry[label] = round(float((imp[lo:hi][both].sum() - total) / total), 4) \
                if both.any() and total > 0 else None
        out[via] = entry
    return out
