"""Coordination detection on the real datasets: every number of the "Coordination (issue 3)"
section of docs/findings-real-data.md comes from this script.

    .venv/bin/python benchmarks/real_data_coordination.py [--data ../shared/data] [--seed 20261128]

It ingests EuRepoC 1.1, EUvsDisinfo (cknabs scrape), the PLA sortie table and the Ukraine cyber-ops
threat reports into a fresh temporary store, runs the coordination workflows, writes the results
to benchmarks/out/real_data_coordination.json and prints the markdown block of the findings doc.
Every test names its null model explicitly (the workflows' default may change).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from hybridwatch.adapters.base import ReadOptions
from hybridwatch.analyses.coincidence import coincidence_test
from hybridwatch.analyses.fdr import benjamini_hochberg
from hybridwatch.analyses.selectors import parse_selector
from hybridwatch.analyses.series import daily_series
from hybridwatch.analyses.surrogates import admissible_shifts, min_shift_days
from hybridwatch.model.targets import events_by_target_sql, names_target_sql
from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.workflows.coordination import coincide, coincide_grid, detect_episodes
from hybridwatch.workflows.coverage import analysis_window, coverage_report, defining_sources

REPO = Path(__file__).resolve().parents[1]
MAPPINGS = REPO / "src" / "hybridwatch" / "mappings"
FILES = (  # (path under the data folder, mapping or None)
    ("eurepoc_v1_1/EuRepoC_Global_Database_1.1.csv", None),
    ("euvsdisinfo_cknabs/posts.csv", None),
    ("pla_taiwan_activity/merged_comprehensive_data_M.csv", "pla_sorties.toml"),
    ("ukraine_cyber_ops_curated_intel/threat_reports_2022_2023.csv", "cyber_ops_reports.toml"),
)
#: Countries often named as targets of Russian operations; kept if they have >= MIN_CYBER incidents.
Q1_CANDIDATES = ("UKR", "USA", "GBR", "DEU", "POL", "EST", "LVA", "LTU", "FRA", "CZE", "ITA",
                 "NLD", "NOR", "GEO", "MDA", "BGR", "MNE", "SWE", "FIN")
MIN_CYBER = 3
WINDOW_DAYS, LAGS, FDR = 3, (0, 1, 2, 3), 0.05
NULLS = ("shift", "block", "shuffle")
CYBER = "source=eurepoc actor=RUS target={t}"
INFO = "source=euvsdisinfo target={t}"
INFO_SURGE = "source=euvsdisinfo target={t} count>p90"


def build_store(data: Path, db: Path) -> list[dict[str, Any]]:
    """Ingest the four files; one summary row per file."""
    rows = []
    with EventStore(db) as store:
        for relative, mapping in FILES:
            options = ReadOptions(mapping_path=MAPPINGS / mapping) if mapping else ReadOptions()
            report = ingest_file(store, data / relative, format="mapped" if mapping else None,
                                 options=options).to_dict()
            rows.append({key: report.get(key) for key in (
                "path", "format", "read", "ingested", "duplicates", "quarantined", "skipped")})
    return rows


def scalar(store: EventStore, sql: str) -> Any:
    return store._con.execute(sql).fetchall()[0][0]


def profile(store: EventStore) -> dict[str, Any]:
    """Facts the caveats rest on: date precision, collection trend, coverage."""
    sql = store._con.execute
    eurepoc = sql("""SELECT count(*), count(*) FILTER (day(occurred_at) = 1),
                     count(*) FILTER (day(occurred_at) = 1 AND month(occurred_at) = 1),
                     min(occurred_at)::DATE, max(occurred_at)::DATE
                     FROM events WHERE source = 'eurepoc'""").fetchall()[0]
    multi = sql("""SELECT count(*) FILTER (json_array_length(extra->'receiver_iso3') > 1), count(*)
                   FROM events WHERE source = 'eurepoc' AND actor_iso3 = 'RUS'""").fetchall()[0]
    yearly = sql("""SELECT year(occurred_at), count(*) FROM events WHERE source = 'euvsdisinfo'
                    GROUP BY 1 ORDER BY 1""").fetchall()
    pla = sql("""SELECT year(occurred_at), count(*) FROM events WHERE source = 'pla_sorties'
                 GROUP BY 1 ORDER BY 1""").fetchall()
    info = sql("""SELECT min(occurred_at)::DATE, max(occurred_at)::DATE FROM events
                  WHERE source = 'euvsdisinfo'""").fetchall()[0]
    return {"eurepoc_events": eurepoc[0], "eurepoc_first_of_month": eurepoc[1],
            "eurepoc_jan_1": eurepoc[2], "eurepoc_span": [str(eurepoc[3]), str(eurepoc[4])],
            "eurepoc_rus_multi_receiver": multi[0], "eurepoc_rus": multi[1],
            "euvsdisinfo_span": [str(info[0]), str(info[1])],
            "euvsdisinfo_per_year": {str(y): n for y, n in yearly},
            "pla_days_per_year": {str(y): n for y, n in pla}}


def pla_daily_start(store: EventStore) -> date:
    """First day of the first month with >= 20 reported days (daily MND bulletins begin)."""
    return scalar(store, """SELECT min(m) FROM (SELECT date_trunc('month', occurred_at)::DATE m
                            FROM events WHERE source = 'pla_sorties' GROUP BY 1
                            HAVING count(*) >= 20)""")


def shift_floor(since: date, until: date) -> dict[str, Any]:
    """Number of admissible shifts of the period and the smallest p-value they allow."""
    n_days = (until - since).days + 1
    n_shifts = int(admissible_shifts(n_days, min_shift_days(WINDOW_DAYS, max(LAGS))).size)
    return {"n_days": n_days, "n_shifts": n_shifts, "p_floor": 1 / (1 + n_shifts)}


def pair_row(report: dict[str, Any], question: str, target: str | None = None) -> dict[str, Any]:
    keep = ("a", "b", "null", "n_surrogates", "n_a", "n_b", "best_lag_days", "precursor_rate",
            "trigger_rate", "p_precursor", "p_trigger", "p_value", "n_evidence", "warnings")
    return {"question": question, "target": target, **{k: report[k] for k in keep}}


def add_q(rows: list[dict[str, Any]]) -> None:
    """Benjamini–Hochberg q-values over one family of tests (in place)."""
    p = np.array([np.nan if r["p_value"] is None else r["p_value"] for r in rows])
    for row, q in zip(rows, benjamini_hochberg(p)):
        row["q_value"] = None if np.isnan(q) else float(q)


def q1_targets(store: EventStore, since: date, until: date) -> dict[str, int]:
    counts = dict(store._con.execute(
        f"""SELECT target_iso3, count(*) FROM {events_by_target_sql()} WHERE source = 'eurepoc'
           AND actor_iso3 = 'RUS' AND occurred_at >= ? AND occurred_at < ? GROUP BY 1""",
        [since, until + timedelta(days=1)]).fetchall())
    return {t: counts.get(t, 0) for t in Q1_CANDIDATES}


def q1_window(store: EventStore) -> tuple[date, date, dict[str, Any]]:
    """The default window of the Q1 series: the days EuRepoC and EUvsDisinfo both cover."""
    window = analysis_window(store, defining_sources(store, ["source=eurepoc actor=RUS",
                                                             "source=euvsdisinfo"]))
    return window.start, window.end, window.to_dict()


def old_default(store: EventStore, targets: list[str], n_surr: int, seed: int
                ) -> list[dict[str, Any]]:
    """The same pairs (block null) on the old default span — from the first to the last event of
    either series — beside the coverage window, to show what the window changes."""
    rows = []
    for t in targets:
        for a, b, direction in ((INFO, CYBER, "cyber→info"), (CYBER, INFO, "info→cyber")):
            a_sel, b_sel = a.format(t=t), b.format(t=t)
            first, last = store._con.execute(
                "SELECT min(occurred_at)::DATE, max(occurred_at)::DATE FROM events WHERE "
                f"source IN ('eurepoc', 'euvsdisinfo') AND {names_target_sql()} AND "
                "(source = 'euvsdisinfo' OR actor_iso3 = 'RUS')", [t]).fetchall()[0]
            span = coincide(store, a_sel, b_sel, window_days=WINDOW_DAYS, lags=LAGS,
                            null="block", n_surrogates=n_surr, random_state=seed, since=first,
                            until=last).to_dict()
            window = coincide(store, a_sel, b_sel, window_days=WINDOW_DAYS, lags=LAGS,
                              null="block", n_surrogates=n_surr, random_state=seed).to_dict()
            rows.append({"target": t, "question": direction, "span": [str(first), str(last)],
                         "p_span": span["p_value"], "window": window["window"],
                         "p_window": window["p_value"]})
    return rows


def question1(store: EventStore, n_surr: int, seed: int) -> dict:
    """RUS-attributed cyber incidents vs EUvsDisinfo cases, same target, both directions, on the
    days both sources cover densely (the workflows' default window)."""
    since, until, window = q1_window(store)
    counts = q1_targets(store, since, until)
    targets = [t for t, n in counts.items() if n >= MIN_CYBER]
    families: dict[str, list[dict[str, Any]]] = {}
    for null in (*NULLS, "shift/surge"):
        info = INFO_SURGE if null == "shift/surge" else INFO
        rows = []
        for t in targets:
            for a, b, direction in ((info, CYBER, "cyber→info"), (CYBER, info, "info→cyber")):
                report = coincide(store, a.format(t=t), b.format(t=t), window_days=WINDOW_DAYS,
                                  lags=LAGS, null=null.split("/")[0], n_surrogates=n_surr,
                                  random_state=seed, since=since, until=until).to_dict()
                rows.append({**pair_row(report, direction, t), "evidence": report["evidence"][:3]})
        add_q(rows)
        families[null] = rows
    grids = {null: grid_run(store, targets, null, since, until, n_surr, seed)
             for null in ("shift", "shuffle")}
    extra = shuffle_only(store, grids, since, until, n_surr, seed)
    return {"since": str(since), "until": str(until), "window": window, "cyber_counts": counts,
            "targets": targets, "families": families, "grids": grids, "shuffle_only": extra,
            "day_precise": day_precise(store, targets, since, until, n_surr, seed),
            "shift_floor": shift_floor(since, until),
            "old_default": old_default(store, targets, n_surr, seed)}


def grid_run(store: EventStore, targets: list[str], null: str, since: date, until: date,
             n_surr: int, seed: int) -> dict[str, Any]:
    """The CLI's way: every ordered pair of all cyber and info series, BH over all of them."""
    grid = coincide_grid(store, f"{CYBER.format(t=','.join(targets))} ; "
                                f"{INFO.format(t=','.join(targets))}",
                         window_days=WINDOW_DAYS, lags=LAGS, null=null, n_surrogates=n_surr,
                         random_state=seed, fdr=FDR, since=since, until=until).to_dict()
    summary = {k: grid[k] for k in ("n_pairs", "n_significant", "n_surrogates", "warnings",
                                    "n_events")}
    summary["significant"] = [{k: p[k] for k in ("a", "b", "best_lag_days", "p_value",
                                                 "q_value")}
                              for p in grid["pairs"] if p["significant"]]
    kinds = [("cyber" if "eurepoc" in p["a"] else "info") + "/"
             + ("cyber" if "eurepoc" in p["b"] else "info") for p in summary["significant"]]
    summary["significant_kinds"] = {k: kinds.count(k) for k in sorted(set(kinds))}
    summary["all"] = {f"{p['b']} -> {p['a']}": [p["p_value"], p["q_value"]]
                      for p in grid["pairs"]}
    return summary


def shuffle_only(store: EventStore, grids: dict[str, dict], since: date, until: date,
                 n_surr: int, seed: int) -> list[dict[str, Any]]:
    """Grid pairs significant under shuffle but not shift, with the days they coincide on."""
    shift_keys = {f"{p['b']} -> {p['a']}" for p in grids["shift"]["significant"]}
    rows = []
    for pair in grids["shuffle"]["significant"]:
        key = f"{pair['b']} -> {pair['a']}"
        if key in shift_keys:
            continue
        report = coincide(store, pair["a"], pair["b"], window_days=WINDOW_DAYS, lags=LAGS,
                          null="shuffle", n_surrogates=n_surr, random_state=seed, since=since,
                          until=until).to_dict()
        rows.append({"pair": key, "shuffle_q": pair["q_value"],
                     "shift_p": grids["shift"]["all"][key][0],
                     "shift_q": grids["shift"]["all"][key][1],
                     "days": [f"{e['b_date']}/{e['a_date']}" for e in report["evidence"]]})
    return rows


def day_precise(store: EventStore, targets: list[str], since: date, until: date, n_surr: int,
                seed: int) -> list[dict[str, Any]]:
    """Sensitivity: drop EuRepoC incidents dated on the 1st of a month (mostly month- or
    year-precision placeholders) and repeat the shift test."""
    events = store.ibis_events()
    events = events.filter((events.source != "eurepoc") | (events.occurred_at.day() != 1))
    rows = []
    for t in targets:
        for a, b, direction in ((INFO, CYBER, "cyber→info"), (CYBER, INFO, "info→cyber")):
            sels = [parse_selector(a.format(t=t)), parse_selector(b.format(t=t))]
            matrix = daily_series(events, sels, start=since, end=until)
            result = coincidence_test(matrix.events[:, 0], matrix.events[:, 1],
                                      window_days=WINDOW_DAYS, lags=LAGS, null="shift",
                                      n_surrogates=n_surr, random_state=seed)
            n_cyber = int(matrix.events[:, 1 if direction == "cyber→info" else 0].sum())
            rows.append({"target": t, "question": direction, "n_cyber_days": n_cyber,
                         "p_value": None if np.isnan(result.p_value) else result.p_value,
                         "best_lag_days": result.best_lag_days})
    add_q(rows)
    return rows


def question2(store: EventStore, n_surr: int, seed: int) -> dict:
    """PLA sortie surges vs Chinese-attributed cyber incidents and EUvsDisinfo surges."""
    start = pla_daily_start(store)
    surge = "source=pla_sorties intensity>p90"
    tests = [("CHN→TWN cyber", "source=eurepoc actor=CHN target=TWN"),
             ("CHN cyber, any target", "source=eurepoc actor=CHN"),
             ("EUvsDisinfo surge (count>p90)", "source=euvsdisinfo count>p90")]
    rows, ends = [], {}
    for label, other in tests:
        for a, b, direction in ((other, surge, "PLA surge→other"), (surge, other, "other→PLA surge")):
            # from the start of the daily bulletins; the end is the coverage window's
            report = coincide(store, a, b, window_days=WINDOW_DAYS, lags=LAGS, null="shift",
                              n_surrogates=n_surr, random_state=seed, since=start).to_dict()
            end = date.fromisoformat(report["end"])
            ends["euvsdisinfo" if "euvsdisinfo" in other else "eurepoc"] = end
            rows.append({**pair_row(report, direction, label), "since": str(start),
                         "until": str(end), "window": report["window"]})
    add_q(rows)
    dates = store._con.execute(
        """SELECT occurred_at::DATE FROM events WHERE source='eurepoc' AND actor_iso3='CHN'
           AND list_contains(target_iso3s, 'TWN') AND occurred_at >= ? ORDER BY 1""",
        [start]).fetchall()
    return {"pla_daily_start": str(start), "rows": rows,
            "chn_twn_dates": [str(d[0]) for d in dates],
            "floors": {name: shift_floor(start, end) for name, end in ends.items()}}


def question3(store: EventStore, seed: int) -> dict:
    """Multi-domain episodes: default scan, a cross-target scan, and a two-domain scan."""
    both = ["UKR", "TWN"]
    runs: dict[str, dict[str, Any]] = {
        "min3_default": {"min_domains": 3},
        "min3_UKR_TWN": {"min_domains": 3, "targets": both},
        "min3_UKR_TWN_overlap": {"min_domains": 3, "targets": both,
                                 "since": date(2020, 10, 1), "until": date(2021, 2, 18)},
        "min2_default_window": {"min_domains": 2}}
    out = {}
    for name, params in runs.items():
        report = detect_episodes(store, n_surrogates=199, random_state=seed, **params).to_dict()
        out[name] = {"params": {k: str(v) for k, v in params.items()},
                     "start": report["start"], "end": report["end"],
                     "window_reason": report["window"]["reason"],
                     "n_episodes": len(report["episodes"]), "warnings": report["warnings"],
                     "targets_scanned": sorted({t for g in report["parameters"]["target_groups"]
                                                for t in g}),
                     "episodes": [{k: e[k] for k in ("start", "end", "targets", "domains",
                                                     "p_value", "n_events", "signals")}
                                  for e in report["episodes"]]}
    domains = store._con.execute(f"""SELECT count(*) FROM (SELECT target_iso3
                                   FROM {events_by_target_sql()} GROUP BY 1
                                   HAVING count(DISTINCT domain) >= 3)""").fetchall()[0][0]
    out["targets_with_3_domains"] = domains
    return out


# --- markdown ---------------------------------------------------------------------------------

def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def q1_table(families: dict[str, list[dict]]) -> list[str]:
    lines = [("| target | b → a | n_a days | n_b days | best lag | precursor | trigger | "
             "p shift | q shift | p block | p shuffle | surge: n info days | surge: p shift | "
             "surge: q shift |"), "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, row in enumerate(families["shift"]):
        block, shuffle, surge = (families[n][i] for n in ("block", "shuffle", "shift/surge"))
        n_info = surge["n_a"] if row["question"] == "cyber→info" else surge["n_b"]
        lines.append(f"| {row['target']} | {row['question']} | {row['n_a']} | {row['n_b']} | "
                     f"{fmt(row['best_lag_days'])} | {fmt(row['precursor_rate'], 2)} | "
                     f"{fmt(row['trigger_rate'], 2)} | {fmt(row['p_value'])} | "
                     f"{fmt(row['q_value'])} | {fmt(block['p_value'])} | "
                     f"{fmt(shuffle['p_value'])} | {n_info} | {fmt(surge['p_value'])} | "
                     f"{fmt(surge['q_value'])} |")
    return lines


def grid_text(grids: dict[str, dict]) -> str:
    parts = []
    for null, g in grids.items():
        kinds = ", ".join(f"{n} {k}" for k, n in g["significant_kinds"].items()) or "none"
        parts.append(f"{null} null ({g['n_surrogates']} surrogates): {g['n_significant']} of "
                     f"{g['n_pairs']} pairs at FDR 0.05 (by a/b kind: {kinds})")
    return "; ".join(parts)


def n_below(rows: list[dict], key: str, level: float) -> int:
    return sum(1 for r in rows if r[key] is not None and r[key] <= level)


def md_header(res: dict[str, Any]) -> list[str]:
    p = res["profile"]
    files = "; ".join(f"{Path(f['path']).name}: {f['ingested']:,} events of {f['read']:,} rows "
                      f"({f['quarantined']} quarantined)" for f in res["ingest"])
    share = p["eurepoc_first_of_month"] / p["eurepoc_events"]
    yearly = ", ".join(f"{y}: {n:,}" for y, n in p["euvsdisinfo_per_year"].items())
    pla = ", ".join(f"{y}: {n}" for y, n in p["pla_days_per_year"].items())
    return [(f"<!-- generated by benchmarks/real_data_coordination.py (seed {res['seed']}, "
            f"{res['n_surrogates']} surrogates requested) -->"), "",
            f"**Store.** {files}.", "",
            (f"**Data facts behind the caveats.** {p['eurepoc_first_of_month']:,} of "
            f"{p['eurepoc_events']:,} EuRepoC incidents ({share:.0%}) are dated on the 1st of a "
            f"month and {p['eurepoc_jan_1']:,} on 1 January: placeholder dates for month or year "
            f"precision, stored as day precision. {p['eurepoc_rus_multi_receiver']} of "
            f"{p['eurepoc_rus']} RUS-initiated incidents name several receiver countries; each "
            f"counts for every one of them (`target_iso3s`). EUvsDisinfo cases per year: {yearly} (to "
            f"{p['euvsdisinfo_span'][1]}). PLA sortie days per year: {pla} (daily bulletins "
            f"from {res['q2']['pla_daily_start']})."), ""]


def md_q1(q1: dict[str, Any]) -> list[str]:
    fam, dp, grids = q1["families"], q1["day_precise"], q1["grids"]
    names = (*NULLS, "shift/surge")
    targets = ", ".join(f"{t} {q1['cyber_counts'][t]}" for t in q1["targets"])
    sig = ", ".join(f"{n} {n_below(fam[n], 'q_value', FDR)}" for n in names)
    raw = ", ".join(f"{n} {n_below(fam[n], 'p_value', 0.05)}" for n in names)
    top = "; ".join(f"{p['b']} → {p['a']} (lag {p['best_lag_days']} d, p {fmt(p['p_value'])}, "
                    f"q {fmt(p['q_value'])})" for p in grids["shift"]["significant"][:3])
    smallest = min((r["p_value"] for r in dp if r["p_value"] is not None), default=None)
    precise = ", ".join(f"{r['target']} {r['n_cyber_days']}" for r in dp[::2])
    floor = q1["shift_floor"]
    lines = ["### Q1 — Russian-attributed cyber incidents vs EUvsDisinfo cases, same target", "",
             (f"Period {q1['since']} … {q1['until']} ({floor['n_days']:,} days: the default "
             f"window, {q1['window']['reason']}). Window ΔT = {WINDOW_DAYS} d, lags "
             f"{','.join(map(str, LAGS))} d, pair p-value = max-statistic over lags and both "
             f"rates. Targets: of {', '.join(Q1_CANDIDATES)}, those with ≥ {MIN_CYBER} RUS "
             f"incidents in the period ({targets}). {len(fam['shift'])} tests per null (each "
             "target, both directions); q = Benjamini–Hochberg over those tests, per null. "
             f"Shift null: {floor['n_shifts']} admissible shifts, all used, so p ≥ "
             f"{floor['p_floor']:.4f}. n_a/n_b are event *days*."), ""]
    lines += q1_table(fam)
    lines += ["", f"Tests with q ≤ 0.05: {sig}; with raw p ≤ 0.05: {raw}.",
              ("Full grid (`coincide --grid '<cyber series> ; <info series>' --all-pairs`, all "
              f"ordered pairs of the {len(grids['shift']['n_events'])} series, BH over all): "
              f"{grid_text(grids)}. Strongest shift-null pairs: {top or 'none'}."),
              *(f"Significant under shuffle only: {r['pair']} (shuffle q {fmt(r['shuffle_q'])}; "
                f"shift p {fmt(r['shift_p'])}, q {fmt(r['shift_q'])}); coinciding b/a days: "
                f"{', '.join(r['days'][:4])}{' …' if len(r['days']) > 4 else ''}."
                for r in q1["shuffle_only"]),
              ("Sensitivity (shift null, EuRepoC incidents dated on the 1st of a month removed): "
              f"{n_below(dp, 'q_value', FDR)} of {len(dp)} tests with q ≤ 0.05, smallest p "
              f"{fmt(smallest)}; day-precise cyber days per target: {precise}."), ""]
    return lines


def md_q2(q2: dict[str, Any]) -> list[str]:
    lines = ["### Q2 — PLA sortie surges vs cyber incidents and disinformation surges", "",
             ("PLA surge days = `source=pla_sorties intensity>p90` (daily sorties above the "
             f"trailing 90-day 90th percentile). Period from {q2['pla_daily_start']} (daily "
             "bulletins, `--since`) to the end of the coverage window (the last day both "
             f"sources cover densely). Shift null, ΔT = {WINDOW_DAYS} d, lags "
             f"{','.join(map(str, LAGS))} d; q = BH over the {len(q2['rows'])} tests below."), "",
             ("| other series | b → a | period | PLA surge days | other days | best lag | p | q | "
             "p floor (shifts) |"), "|---|---|---|---|---|---|---|---|---|"]
    for row in q2["rows"]:
        pla_is_b = row["question"].startswith("PLA")
        floor = q2["floors"]["euvsdisinfo" if "EUvsDisinfo" in row["target"] else "eurepoc"]
        n_pla, n_other = (row["n_b"], row["n_a"]) if pla_is_b else (row["n_a"], row["n_b"])
        lines.append(f"| {row['target']} | {row['question']} | {row['since']} … {row['until']} "
                     f"| {n_pla} | {n_other} | {fmt(row['best_lag_days'])} | "
                     f"{fmt(row['p_value'])} | {fmt(row['q_value'])} | "
                     f"{floor['p_floor']:.3f} ({floor['n_shifts']}) |")
    dates = ", ".join(q2["chn_twn_dates"])
    return [*lines, "", (f"EuRepoC CHN→TWN incidents in the PLA daily period: "
                        f"{len(q2['chn_twn_dates'])} ({dates})."), ""]


def md_q3(q3: dict[str, Any]) -> list[str]:
    lines = ["### Q3 — Multi-domain episodes on the combined store", "",
             f"Targets with events in ≥ 3 domains: {q3['targets_with_3_domains']}.", ""]
    for name, run in q3.items():
        if name == "targets_with_3_domains":
            continue
        params = ", ".join(f"{k}={v}" for k, v in run["params"].items())
        scanned = ",".join(run["targets_scanned"]) or "none"
        first = f", first: “{run['warnings'][0]}”" if run["warnings"] else ""
        lines.append(f"- `{name}` ({params or 'defaults'}; {run['start']} … {run['end']}, "
                     f"{run['window_reason']}; targets "
                     f"{scanned}): {run['n_episodes']} episode(s); {len(run['warnings'])} "
                     f"warning(s){first}.")
        lines += [f"  - {e['start']} … {e['end']} {','.join(e['targets'])} "
                  f"{','.join(e['domains'])} p={fmt(e['p_value'])} {e['n_events']} events"
                  for e in run["episodes"]]
    return lines


def md_coverage(sources: list[dict[str, Any]]) -> list[str]:
    lines = ["### Coverage of each source (`hybridwatch coverage`)", "",
             "| source | records | first … last | dense coverage | outliers | gaps | weekly cycle |",
             "|---|---|---|---|---|---|---|"]
    for c in sources:
        outliers = "; ".join(f"{o['records']} in {o['first']} … {o['last']}"
                             for o in c["outliers"]) or "none"
        gaps = (f"{len(c['gaps'])} (longest {max(g['days'] for g in c['gaps'])} d)"
                if c["gaps"] else "none")
        cycle = (f"{c['weekly_cycle']['share']:.0%} on {c['weekly_cycle']['weekday']}s"
                 if c["weekly_cycle"] else "none")
        lines.append(f"| {c['source']} | {c['records']:,} | {c['first']} … {c['last']} | "
                     f"{c['dense_first']} … {c['dense_last']} | {outliers} | {gaps} | {cycle} |")
    return [*lines, ""]


def md_old_default(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["Old default against the coverage window (block null, same seed): the old default "
             "ran from the first to the last event of either series.", "",
             "| target | b → a | old span | p old span | coverage window | p window |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['target']} | {r['question']} | {r['span'][0]} … {r['span'][1]} | "
                     f"{fmt(r['p_span'])} | {r['window']['start']} … {r['window']['end']} | "
                     f"{fmt(r['p_window'])} |")
    return [*lines, ""]


def markdown(res: dict[str, Any]) -> str:
    return "\n".join([*md_header(res), *md_coverage(res["coverage"]), *md_q1(res["q1"]),
                      *md_old_default(res["q1"]["old_default"]), *md_q2(res["q2"]),
                      *md_q3(res["q3"])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=(REPO / ".." / "shared" / "data").resolve())
    parser.add_argument("--surrogates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out"
                        / "real_data_coordination.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "real.duckdb"
        ingest = build_store(args.data, db)
        with EventStore(db, read_only=True) as store:
            prof = profile(store)
            results = {"seed": args.seed, "n_surrogates": args.surrogates, "ingest": ingest,
                       "profile": prof, "coverage": coverage_report(store)["sources"],
                       "q1": question1(store, args.surrogates, args.seed),
                       "q2": question2(store, args.surrogates, args.seed),
                       "q3": question3(store, args.seed)}
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print(markdown(results))
    print(f"\n(wrote {args.out}, {results['seconds']} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
