"""Benchmark: multi-domain episode scan on 5 years × 30 targets × 13 domains of daily counts.

Runs ``find_episodes`` (step-down rounds included) with 199 and 999 shift surrogates and, as
the in-run baseline, the Poisson-resampling null (which recomputes every score per surrogate)
on a few surrogates, extrapolated to 199. Reports wall time, peak memory (tracemalloc: numpy allocations) and the
planted episodes found; writes docs/benchmarks/episodes.md.

    .venv/bin/python benchmarks/bench_episodes.py [--quick]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "analyses"))  # the generator the tests use

from episode_data import background, plant  # noqa: E402

from hybridwatch.analyses.episodes import find_episodes  # noqa: E402
from hybridwatch.model.domains import DOMAINS  # noqa: E402

N_DAYS, N_TARGETS = 5 * 365 + 1, 30


def _run(counts: np.ndarray, dates: np.ndarray, targets: list[str], n_surrogates: int,
         surrogate: str = "shift") -> tuple[float, float, object]:
    tracemalloc.start()
    started = time.perf_counter()
    result = find_episodes(counts, dates=dates, targets=targets, domains=list(DOMAINS),
                           n_surrogates=n_surrogates, surrogate=surrogate, random_state=0)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, result


def _recall(result, planted, targets: list[str]) -> int:
    start = np.datetime64("2023-01-02")
    hits = 0
    for p in planted:
        for e in result.episodes:
            first = int((np.datetime64(e.start) - start).astype(int))
            last = int((np.datetime64(e.end) - start).astype(int))
            if (first <= p.end and p.start <= last
                    and {targets[g] for g in p.targets} <= set(e.targets)
                    and len({DOMAINS[d] for d in p.domains} & set(e.domains)) >= 3):
                hits += 1
                break
    return hits


def _calibration(n_datasets: int) -> list[str]:
    """Share of null datasets (1 year, 6 targets × 5 domains, nothing planted) reporting any
    episode, by the smallest p-value reported, for both surrogate kinds (99 surrogates)."""
    alphas = (0.01, 0.05, 0.1, 0.2)
    lines = ["## False-positive rate on null data",
             "",
             (f"{n_datasets} independent null datasets per row (365 days × 6 targets × 5 domains, "
             "same bursty background, nothing planted), 99 surrogates; cell = share of datasets "
             "reporting at least one episode at that α (nominal = α). The step-down scan reports "
             "anything only if its round 1 does, so round 1 alone is measured."),
             "",
             "| surrogates | " + " | ".join(f"α = {a}" for a in alphas) + " |",
             "|---|" + "---:|" * len(alphas)]
    for surrogate in ("shift", "poisson"):
        smallest = []
        for i in range(n_datasets):
            rng = np.random.default_rng(5000 + i)
            counts, dates, _ = background(rng, 365, 6, 5)
            # Round 1 alone: with nothing planted, the step-down scan reports an episode iff
            # its round 1 does (same draws), and later rounds' p-values at α = 0.5 would be
            # conditional on round-1 rejections no run at a small α makes.
            result = find_episodes(counts, dates=dates, targets=[f"T{g}" for g in range(6)],
                                   domains=list(DOMAINS[:5]), n_surrogates=99, alpha=0.5,
                                   surrogate=surrogate, random_state=i, step_down=False)
            smallest.append(min((e.p_value for e in result.episodes), default=1.0))
        shares = [np.mean(np.array(smallest) <= a) for a in alphas]
        lines.append(f"| {surrogate} | " + " | ".join(f"{x:.3f}" for x in shares) + " |")
        print(lines[-1], file=sys.stderr)
    lines += ["",
              ("Poisson resampling ignores that real bursts cluster in time, so its null is too "
              "narrow and it over-detects; circular shifts keep each series' bursts and are the "
              "default.")]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the 999-surrogate run")
    parser.add_argument("--calibration", type=int, default=0, metavar="N",
                        help="also run N null datasets per surrogate kind (false-positive rate)")
    args = parser.parse_args()
    rng = np.random.default_rng(2024)
    targets = [f"T{g:02d}" for g in range(N_TARGETS)]
    counts, dates, rate = background(rng, N_DAYS, N_TARGETS, len(DOMAINS))
    counts, planted = plant(rng, counts, rate, n_single=20, n_cross=0, strength=6.0)
    n_events = int(counts.sum())
    rows = []
    for n_surrogates in ([199] if args.quick else [199, 999]):
        seconds, peak, result = _run(counts, dates, targets, n_surrogates)
        rows.append((f"shift, {n_surrogates} surrogates", seconds, peak, len(result.episodes),
                     _recall(result, planted, targets)))
        print(rows[-1], file=sys.stderr)
    seconds, peak, result = _run(counts, dates, targets, 5, surrogate="poisson")
    rows.append(("poisson, 5 surrogates (baseline)", seconds, peak, None, None))
    per = seconds / 5  # includes the one-off baseline and scoring, so an upper bound
    lines = [
        "# Benchmark: multi-domain episodes (`find_episodes`)",
        "",
        (f"Data: {N_DAYS} days × {N_TARGETS} targets × {len(DOMAINS)} domains "
         f"({counts.size:,} cells, {n_events:,} events), generated by "
         "`tests/analyses/episode_data.py` (bursty negative-binomial background) with 20 planted "
         "single-target episodes (3–4 domains, 2–5 days, rate × 7). max_window_days = 7, "
         "min_domains = 3, all 30 targets in one cross-target group."),
        f"Machine: {platform.machine()}, {platform.python_version()}, numpy {np.__version__}.",
        "Command: `.venv/bin/python benchmarks/bench_episodes.py`.",
        "",
        "| run | wall time (s) | peak numpy memory (MiB) | episodes | planted found (of 20) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, secs, mib, n_found, hits in rows:
        lines.append(f"| {name} | {secs:.1f} | {mib:.0f} | "
                     f"{'' if n_found is None else n_found} | {'' if hits is None else hits} |")
    lines += [
        "",
        (f"The Poisson null recomputes all scores per surrogate (≈ {per:.2f} s each, so ≈ "
         f"{per * 199:.0f} s for 199); the shift null computes scores once per round and only "
         "re-indexes them per surrogate, which is why it is the default as well as the better "
         "null."),
        "",
        ("Times include the step-down rounds: after each round the accepted episodes' series "
         "are removed and scores and null recomputed, until a round finds nothing new (so a "
         "run costs about rounds × one scan; with many strong episodes most are accepted in "
         "round 1)."),
    ]
    if args.calibration:
        lines += ["", *_calibration(args.calibration)]
    out = REPO / "docs" / "benchmarks" / "episodes.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
