"""Fuzzy name screening with transliteration: names in the data against consolidated lists.

Every name — listed names, their aliases, the names screened — becomes comparison keys:
Unicode folded; Chinese characters to pinyin (``pypinyin``) and every other script to Latin
(``anyascii``: Cyrillic ``Щербаков`` → ``Shcherbakov``); punctuation and legal forms dropped
(LLC, OOO, ZAO, GmbH, 有限公司 …); then a *skeleton* that erases the spelling choices of
transliteration schemes (shch/sch → sh, kh → h, ts/tz → c, zh → j, ya/ja → ia, y → i, doubled
letters …). The score (0–1) is the best rapidfuzz token-sort ratio between any key of the two
names, on their skeletons and on their space-free forms (pinyin syllables are written together
or apart). Candidates come from blocks — names sharing the first three skeleton letters of a
word — so a list of a million names is not compared with every name in full.

A match is a lead for an analyst to check, never a finding that anyone is the listed party.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from hybridwatch.model.screening import ListedName

#: Legal forms and filler words dropped before comparing (transliterated, lower case).
LEGAL_FORMS = frozenset("""
llc ltd limited liability joint stock co company corp corporation inc incorporated plc lp llp
gmbh ag kg sa sas sarl
srl spa bv nv oy ab as asa aps kft zrt sro jsc ojsc pjsc cjsc ooo oao zao pao ao tov pp chp ip
fze fzco fzc fzllc dmcc ltda eireli the of and trading company's
obshchestvo ogranichennoy otvetstvennostyu aktsionernoe aktsionernoye publichnoe zakrytoe
otkrytoe youxian gongsi youxiangongsi zerenyouxiangongsi gufen jituan
""".split())
#: Chinese legal forms, removed before pinyin (longest first).
HAN_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
_SKELETON = (("shch", "sh"), ("sch", "sh"), ("tch", "ch"), ("dzh", "j"), ("kh", "h"),
             ("ck", "k"), ("ph", "f"), ("ts", "c"), ("tz", "c"), ("cz", "c"), ("zh", "j"),
             ("yu", "iu"), ("ju", "iu"), ("ya", "ia"), ("ja", "ia"), ("ye", "e"), ("je", "e"),
             ("yo", "e"), ("jo", "e"), ("y", "i"), ("w", "v"), ("x", "ks"), ("q", "k"),
             ("ij", "i"), ("ii", "i"))
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_DOUBLE = re.compile(r"(.)\1+")


@dataclass(frozen=True)
class Match:
    """A lead: a name in the data resembling a listed name."""

    name: str
    listed_name: str
    matched_alias: str
    list: str
    programme: str | None
    listed_on: str | None
    entry_id: str
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=200_000)
def _latin(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    if _HAN.search(text):
        from pypinyin import lazy_pinyin

        for form in HAN_LEGAL_FORMS:
            text = text.replace(form, " ")
        text = " ".join(lazy_pinyin(text))
    from anyascii import anyascii

    return anyascii(text).lower()


def _skeleton(word: str) -> str:
    for old, new in _SKELETON:
        word = word.replace(old, new)
    return _DOUBLE.sub(r"\1", word)


@lru_cache(maxsize=200_000)
def name_keys(name: str) -> tuple[str, str]:
    """(skeleton with spaces, skeleton without spaces) of a name; empty strings if nothing is
    left (a name made only of legal forms)."""
    words = [w for w in _NON_WORD.split(_latin(name)) if w and w not in LEGAL_FORMS]
    skeleton = " ".join(_skeleton(w) for w in words)
    return skeleton, skeleton.replace(" ", "")


def _blocks(key: str) -> set[str]:
    spaced, compact = key
    out = {w[:3] for w in spaced.split() if len(w) >= 3}
    if compact:
        out.add(compact[:3])
    return out


class ScreeningIndex:
    """Listed names by block, ready to screen many names against."""

    def __init__(self, entries: Iterable[ListedName]) -> None:
        self.entries: list[ListedName] = []
        self.keys: list[tuple[int, str, tuple[str, str]]] = []   # (entry, alias, keys)
        self.blocks: dict[str, list[int]] = defaultdict(list)
        for entry in entries:
            index = len(self.entries)
            self.entries.append(entry)
            for alias in dict.fromkeys((entry.name,) + entry.aliases):
                keys = name_keys(alias)
                if not keys[1]:
                    continue
                position = len(self.keys)
                self.keys.append((index, alias, keys))
                for block in _blocks(keys):
                    self.blocks[block].append(position)

    def screen(self, name: str, *, min_score: float = 0.85) -> list[Match]:
        """The listed entries resembling ``name`` at ``min_score`` or more, best first (one
        match per entry, through its best-matching alias)."""
        from rapidfuzz import fuzz

        keys = name_keys(name)
        if not keys[1]:
            return []
        candidates = {p for block in _blocks(keys) for p in self.blocks.get(block, ())}
        best: dict[int, tuple[float, str]] = {}
        for position in candidates:
            index, alias, listed = self.keys[position]
            score = max(fuzz.token_sort_ratio(keys[0], listed[0]),
                        fuzz.ratio(keys[1], listed[1])) / 100
            if score >= min_score and score > best.get(index, (0.0, ""))[0]:
                best[index] = (score, alias)
        out = []
        for index, (score, alias) in best.items():
            entry = self.entries[index]
            out.append(Match(name, entry.name, alias, entry.list_name, entry.programme,
                             entry.listed_on, entry.entry_id, round(score, 4)))
        return sorted(out, key=lambda m: (-m.score, m.listed_name))


def screen_names(names: Sequence[str], entries: Iterable[ListedName], *,
                 min_score: float = 0.85) -> list[Match]:
    """Every name against every list entry (through the block index)."""
    index = ScreeningIndex(entries)
    return [m for name in dict.fromkeys(names) for m in index.screen(name, min_score=min_score)]
