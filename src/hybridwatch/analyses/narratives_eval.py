"""Scoring narrative clusterings against labelled stories, per language and language pair.

Pairwise scores: for languages A and B, every pair of headlines (one in A, one in B; distinct
headlines when A = B) is *truly together* when both belong to the same labelled story (noise
belongs to none) and *put together* when both landed in the same narrative (unassigned belongs
to none). Precision = truly-and-put / put, recall = truly-and-put / truly. Computed from the
story × narrative contingency counts, not by enumerating pairs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import combinations_with_replacement
from typing import Any


@dataclass(frozen=True)
class StoryOutcome:
    """Where one story landed: its majority narrative and the share of each language's
    headlines in it."""

    story: str
    narrative: str | None
    share_by_language: dict[str, float]


def pairwise_scores(stories: list[str | None], languages: list[str],
                    narratives: list[str | None]) -> dict[str, dict[str, Any]]:
    """``"ru-zh"`` → precision, recall, pairs truly together, pairs put together."""
    cells = Counter(zip(languages, stories, narratives))
    by_story = Counter(zip(languages, stories))
    by_narrative = Counter(zip(languages, narratives))
    out = {}
    for a, b in combinations_with_replacement(sorted(set(languages)), 2):
        same = a == b
        both = _pairs([(cells[(a, s, n)], cells[(b, s, n)]) for (la, s, n) in cells
                       if la == a and s is not None and n is not None], same)
        truly = _pairs([(by_story[(a, s)], by_story[(b, s)]) for (la, s) in by_story
                        if la == a and s is not None], same)
        put = _pairs([(by_narrative[(a, n)], by_narrative[(b, n)]) for (la, n) in by_narrative
                      if la == a and n is not None], same)
        out[f"{a}-{b}"] = {"precision": both / put if put else None,
                           "recall": both / truly if truly else None,
                           "pairs_true": truly, "pairs_predicted": put, "pairs_correct": both}
    return out


def _pairs(counts: list[tuple[int, int]], same_language: bool) -> int:
    # within one language a headline does not pair with itself: n·(n-1)/2 unordered pairs
    if same_language:
        return sum(x * (x - 1) // 2 for x, _ in counts)
    return sum(x * y for x, y in counts)


def story_outcomes(stories: list[str | None], languages: list[str],
                   narratives: list[str | None]) -> list[StoryOutcome]:
    """Per labelled story: the narrative holding most of its headlines (None when most are
    unassigned) and, per language, the share of that language's headlines in it."""
    out = []
    for story in sorted({s for s in stories if s is not None}):
        members = [(lang, n) for s, lang, n in zip(stories, languages, narratives) if s == story]
        narrative = Counter(n for _, n in members).most_common(1)[0][0]
        shares = {}
        for lang in sorted({lang for lang, _ in members}):
            mine = [n for lg, n in members if lg == lang]
            shares[lang] = (sum(n == narrative for n in mine) / len(mine)
                            if narrative is not None else 0.0)
        out.append(StoryOutcome(story, narrative, shares))
    return out


def stories_meet(outcomes: list[StoryOutcome], *, min_share: float = 0.8) -> dict[str, Any]:
    """The acceptance check: every story has ``min_share`` of each language's headlines in its
    narrative, and no two stories share a narrative."""
    whole = [o.story for o in outcomes
             if o.narrative is not None and min(o.share_by_language.values()) >= min_share]
    homes = Counter(o.narrative for o in outcomes if o.narrative is not None)
    merged = sorted(o.story for o in outcomes if o.narrative is not None and homes[o.narrative] > 1)
    return {"stories": len(outcomes), "whole": len(whole), "merged": merged,
            "passed": len(whole) == len(outcomes) and not merged}


def cross_language_merges(languages: list[str], narratives: list[str | None],
                          stories: list[str | None]) -> dict[str, Any]:
    """For a corpus whose languages share no story (a null twin): how many cross-language
    headline pairs were put in one narrative (all of them false), as a rate of all
    cross-language pairs, and the narratives holding more than one language."""
    put = total = 0
    langs = sorted(set(languages))
    counts = Counter(languages)
    by_narrative = Counter((lang, n) for lang, n in zip(languages, narratives) if n is not None)
    for i, a in enumerate(langs):
        for b in langs[i + 1:]:
            total += counts[a] * counts[b]
            put += sum(k * by_narrative[(b, n)] for (la, n), k in by_narrative.items() if la == a)
    mixed = {}
    for (lang, n), k in by_narrative.items():
        mixed.setdefault(n, {})[lang] = k
    shared = {n: {**v, "stories": sorted({s or "noise" for s, nn in zip(stories, narratives)
                                           if nn == n})}
              for n, v in mixed.items() if len(v) > 1}
    return {"false_pairs": put, "cross_pairs": total,
            "false_merge_rate": put / total if total else 0.0,
            "mixed_narratives": shared}
