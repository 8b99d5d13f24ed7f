"""Cross-lingual narrative quality on the labelled trilingual set, per language pair and seed.

    python benchmarks/eval_crosslingual.py [--seeds 5]

Ground truth: tests/fixtures/narratives/trilingual.toml (11 stories × en/ru/zh × 5 headlines,
plus 12 unrelated headlines per language). For each representation (``concepts``, ``tfidf``)
and k-means seed: whether every story keeps ≥ 80% of each language's headlines in one
narrative with no two stories sharing one, pairwise precision/recall per language pair, and on
the null twin (each language keeps a disjoint third of the stories, so no cross-language pair
belongs together) the share of cross-language pairs put in one narrative.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import numpy as np

from hybridwatch.analyses.narratives import ClusterParams, fit_narratives
from hybridwatch.analyses.narratives_eval import (
    cross_language_merges, pairwise_scores, stories_meet, story_outcomes,
)

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "narratives" / \
    "trilingual.toml"


def load() -> tuple[list[str], list[str | None], list[str]]:
    doc = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))
    texts, stories, languages = [], [], []
    for story, by_language in doc["stories"].items():
        for language, titles in by_language.items():
            texts += titles
            stories += [story] * len(titles)
            languages += [language] * len(titles)
    for language, titles in doc["noise"].items():
        texts += titles
        stories += [None] * len(titles)
        languages += [language] * len(titles)
    return texts, stories, languages


def evaluate(model: str, seed: int) -> dict:
    texts, stories, languages = load()
    params = ClusterParams.for_model(model, random_state=seed)
    _, update = fit_narratives(texts, params, model=model)
    verdict = stories_meet(story_outcomes(stories, languages, update.narrative_ids))
    scores = pairwise_scores(stories, languages, update.narrative_ids)
    ids = sorted({s for s in stories if s})
    keep = {"ru": set(ids[0::3]), "zh": set(ids[1::3]), "en": set(ids[2::3])}
    chosen = [i for i, (s, lang) in enumerate(zip(stories, languages))
              if s is None or s in keep[lang]]
    _, null = fit_narratives([texts[i] for i in chosen], params, model=model)
    merges = cross_language_merges([languages[i] for i in chosen], null.narrative_ids,
                                   [stories[i] for i in chosen])
    return {"verdict": verdict, "scores": scores, "false_merge_rate": merges["false_merge_rate"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    for model in ("concepts", "tfidf"):
        runs = [evaluate(model, seed) for seed in range(args.seeds)]
        print(f"\n## {model}: stories whole / merged / null false-merge rate per seed")
        for seed, run in enumerate(runs):
            v = run["verdict"]
            print(f"seed {seed}: {v['whole']}/{v['stories']} whole, merged {v['merged'] or '-'},"
                  f" null twin {run['false_merge_rate']:.3f}")
        print("\n| pair | precision (mean, min–max) | recall (mean, min–max) |\n|---|---|---|")
        for pair in runs[0]["scores"]:
            cells = []
            for key in ("precision", "recall"):
                values = np.array([r["scores"][pair][key] or 0.0 for r in runs])
                cells.append(f"{values.mean():.2f} ({values.min():.2f}–{values.max():.2f})")
            print(f"| {pair} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
