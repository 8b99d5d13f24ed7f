"""A multilingual concept lexicon: words in Russian, Chinese and English → language-neutral ids.

Headlines of one story told in three languages share almost no characters; they share what they
are about: places, organisations, leaders and a few hundred political terms. This lexicon maps
those words to concept ids (``country.rus``, ``org.nato``, ``term.sanctions`` …) so that the
narrative representation can match them across scripts.

Sources, both shipped (nothing is downloaded):

- country names in English, Russian and Chinese (simplified and traditional) from pycountry's
  ISO 3166 tables and its gettext translations;
- ``concepts.toml`` beside this module, curated: capitals, adjectives and short forms of the
  countries that matter here, organisations, leaders, places and political terms.

Matching (see :func:`concept_ids`): Latin words match an English term exactly or with a short
inflection (``sanction`` → ``sanctions``, ``russia`` → ``russian``); Cyrillic words match a
Russian stem as a prefix (``санкц`` → ``санкциях``) — a stem ending in ``$`` matches only the
whole word; Chinese runs match the longest listed term at each position (no segmenter needed).
Upper-case acronyms (``US``, ``EU``, ``UN``) are matched case-sensitively before lower-casing,
since ``us`` is a pronoun.
"""

from __future__ import annotations

import gettext
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from hybridwatch.errors import InputError

SHIPPED = Path(__file__).with_name("concepts.toml")
KINDS = ("country", "org", "person", "place", "term")

# inflections an English term may carry (beyond the curated forms): plural, demonym, verb forms
_EN_SUFFIXES = ("", "s", "es", "'s", "n", "an", "ian", "ese", "ed", "ing", "er", "ers", "i")
_RU_MAX_SUFFIX = 6         # case and adjective endings after a Russian stem ("ского", "ийских")
_RU_MIN_PREFIX_STEM = 4    # shorter stems match only whole words (or in multi-word terms)
# words of official Russian country names that say what kind of state, not which one
_RU_GENERIC = {"республика", "федерация", "королевство", "государство", "государство-город",
               "штаты", "народно-демократическая", "демократическая", "социалистическая",
               "исламская", "арабская", "объединённая", "объединенная", "многонациональное",
               "боливарианская", "федеративные", "китайская", "провинция", "и", "острова",
               "остров"}
_VOWELS = "аеёиоуыэюяйь"
_LATIN_WORD = re.compile(r"[a-z0-9][a-z0-9'\-+]*[a-z0-9+]|[a-z]")
_CYRILLIC_WORD = re.compile(r"[а-яёіїєґў][а-яёіїєґў\-]*")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@dataclass(frozen=True)
class Lexicon:
    """Compiled matchers: English phrases (word tuples), Russian stem sequences, Chinese terms,
    case-sensitive acronyms; each maps to one or more concept ids."""

    english: dict[tuple[str, ...], tuple[str, ...]]
    russian: dict[tuple[str, ...], tuple[str, ...]]   # stems; a trailing "$" = whole word
    chinese: dict[str, tuple[str, ...]]
    acronyms: dict[str, tuple[str, ...]]
    en_prefixes: frozenset     # every leading part of an English key (incl. the key itself)
    ru_prefixes: frozenset
    zh_lengths: tuple[int, ...]                        # term lengths present, longest first

    @property
    def concepts(self) -> set[str]:
        return {c for table in (self.english, self.russian, self.chinese, self.acronyms)
                for ids in table.values() for c in ids}


def concept_ids(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Concept ids mentioned in ``text``, in order of appearance (repeats kept)."""
    lexicon = lexicon or load_lexicon()
    text = unicodedata.normalize("NFKC", text)
    found: list[tuple[int, str]] = []
    for match in re.finditer(r"\b[A-Z][A-Z.]*[A-Z]\b\.?", text):
        ids = lexicon.acronyms.get(match.group().replace(".", ""))
        if ids:
            found += [(match.start(), c) for c in ids]
    lower = text.lower().replace("ё", "е")
    found += _match_words(_LATIN_WORD, lower, lexicon.english, lexicon.en_prefixes, _en_forms)
    found += _match_words(_CYRILLIC_WORD, lower, lexicon.russian, lexicon.ru_prefixes, _ru_forms)
    for run in _CJK_RUN.finditer(lower):
        found += [(run.start() + i, c) for i, c in _match_chinese(run.group(), lexicon)]
    # an acronym ("NATO") may also match as a word ("nato"): count it once
    return [c for _, c in sorted(set(found))]


@lru_cache(maxsize=200_000)  # headline words repeat: compute each word's forms once
def _en_forms(word: str) -> tuple[str, ...]:
    """Keys an English word may match: itself and itself without a listed inflection."""
    forms = [word]
    for suffix in _EN_SUFFIXES[1:]:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[:-len(suffix)])
    if word.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + "y")
    return tuple(sorted(forms, key=len, reverse=True))


@lru_cache(maxsize=200_000)
def _ru_forms(word: str) -> tuple[str, ...]:
    """Keys a Russian word may match: the whole word (``word$``) and its prefixes of at least
    ``_RU_MIN_PREFIX_STEM`` letters that leave at most ``_RU_MAX_SUFFIX`` letters of ending."""
    low = max(_RU_MIN_PREFIX_STEM, len(word) - _RU_MAX_SUFFIX)
    return (word + "$",) + tuple(word[:cut] for cut in range(len(word), low - 1, -1))


def _match_words(pattern: re.Pattern, text: str, table: dict, prefixes: frozenset,
                 forms) -> list[tuple[int, str]]:
    """Greedy longest match of word sequences; each word compared through its ``forms``.
    Sequences grow only while they are a prefix of some listed term, so the search stays small."""
    words = [(m.start(), forms(m.group())) for m in pattern.finditer(text)]
    found, i = [], 0
    while i < len(words):
        if not any((f,) in prefixes for f in words[i][1]):  # most words start no term
            i += 1
            continue
        best, partial = None, [()]
        for j in range(i, len(words)):
            partial = [p + (f,) for p in partial for f in words[j][1] if p + (f,) in prefixes]
            if not partial:
                break
            # the longest form of the word first: "грузии" is Georgia before it is "груз"
            hit = next((table[p] for p in partial if p in table), None)
            if hit:
                best = (j + 1 - i, hit)
        if best:
            found += [(words[i][0], c) for c in best[1]]
            i += best[0]
        else:
            i += 1
    return found


def _match_chinese(run: str, lexicon: Lexicon) -> list[tuple[int, str]]:
    found, i = [], 0
    while i < len(run):
        for n in lexicon.zh_lengths:
            ids = lexicon.chinese.get(run[i:i + n]) if i + n <= len(run) else None
            if ids:
                found += [(i, c) for c in ids]
                i += n
                break
        else:
            i += 1
    return found


# -- building the lexicon -------------------------------------------------------------------------

@lru_cache(maxsize=4)
def load_lexicon(path: Path | None = None) -> Lexicon:
    """The shipped lexicon (pycountry names + ``concepts.toml``), extended by ``path``."""
    entries = _pycountry_entries()
    for source in (SHIPPED,) + ((Path(path),) if path else ()):
        for concept, languages in _read_toml(source).items():
            bucket = entries.setdefault(concept, {})
            for language, terms in languages.items():
                bucket.setdefault(language, set()).update(terms)
    return _compile(entries)


def _read_toml(path: Path) -> dict[str, dict[str, list[str]]]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "no such concept lexicon") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(path, f"not a valid concept-lexicon TOML file ({exc})") from None
    out: dict[str, dict[str, list[str]]] = {}
    combos = doc.pop("combos", {})
    for kind, table in doc.items():
        if kind not in KINDS or not isinstance(table, dict):
            raise InputError(path, f"[{kind}]: concept kinds are {', '.join(KINDS)} (and combos)")
        for name, languages in table.items():
            concept = f"{kind}.{name}"
            if not isinstance(languages, dict):
                raise InputError(path, f"[{concept}] must be a table of en/ru/zh/acronym lists")
            for language, terms in languages.items():
                if language not in ("en", "ru", "zh", "acronym") or not isinstance(terms, list) \
                        or not all(isinstance(t, str) and t.strip() for t in terms):
                    raise InputError(path, f"[{concept}] {language}: needs a list of non-empty "
                                           "strings under en, ru, zh or acronym")
            out[concept] = {k: [_clean(t) if k != "acronym" else t for t in v]
                            for k, v in languages.items()}
    for language, table in combos.items():  # one term naming several concepts ("中美")
        for term, concepts in table.items():
            out.setdefault(f"combo:{language}:{term}", {})[language] = [_clean(term)]
            out[f"combo:{language}:{term}"]["__ids__"] = concepts
    return out


def _clean(term: str) -> str:
    return unicodedata.normalize("NFKC", term).strip().lower().replace("ё", "е")


def _pycountry_entries() -> dict[str, dict[str, set[str]]]:
    """country.<alpha3> → English, Russian (stemmed) and Chinese names from pycountry."""
    import pycountry

    translations = {}
    for language in ("ru", "zh_CN", "zh_TW"):
        try:
            translations[language] = gettext.translation(
                "iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        except OSError:  # a pycountry build without that locale: curated names still apply
            translations[language] = gettext.NullTranslations()
    entries = {}
    for country in pycountry.countries:
        names = {n for n in (country.name, getattr(country, "common_name", None),
                             getattr(country, "official_name", None)) if n}
        en = {_clean(n) for n in names if "," not in n and "(" not in n}
        ru, zh = set(), set()
        for name in names:
            ru.update(_russian_stems(translations["ru"].gettext(name)))
            for language in ("zh_CN", "zh_TW"):
                translated = translations[language].gettext(name)
                if translated != name and _CJK_RUN.fullmatch(translated):
                    zh.add(translated)
        entries[f"country.{country.alpha_3.lower()}"] = {"en": en, "ru": ru, "zh": zh,
                                                          "acronym": set()}
    return entries


def _russian_stems(name: str) -> set[str]:
    """Stem forms of a Russian country name: the whole name stemmed word by word, and its one
    distinctive word when the rest are generic ("Республика Молдова" → "молдов")."""
    if not _CYRILLIC_WORD.search(name.lower()):
        return set()
    words = _clean(name).replace("\u0301", "").split()
    out = {" ".join(_stem(w) for w in words)}
    distinctive = [w for w in words if w not in _RU_GENERIC]
    if len(words) > 1 and len(distinctive) == 1:
        out.add(_stem(distinctive[0]))
    return out


def _stem(word: str) -> str:
    """Crude Russian stem: trailing vowels dropped, but never below four letters (short words
    then match whole)."""
    stem = word.rstrip(_VOWELS)
    if len(stem) >= _RU_MIN_PREFIX_STEM:
        return stem
    return word if len(word) <= _RU_MIN_PREFIX_STEM else word[:_RU_MIN_PREFIX_STEM]


def _compile(entries: dict[str, dict]) -> Lexicon:
    english: dict[tuple[str, ...], set[str]] = {}
    russian: dict[tuple[str, ...], set[str]] = {}
    chinese: dict[str, set[str]] = {}
    acronyms: dict[str, set[str]] = {}
    for concept, languages in entries.items():
        ids = languages.get("__ids__") or [concept]
        for term in languages.get("en", ()):
            english.setdefault(tuple(_LATIN_WORD.findall(term)), set()).update(ids)
        for term in languages.get("ru", ()):
            words = tuple(_ru_key(w) for w in term.split())
            russian.setdefault(words, set()).update(ids)
        for term in languages.get("zh", ()):
            chinese.setdefault(term, set()).update(ids)
        for term in languages.get("acronym", ()):
            acronyms.setdefault(term, set()).update(ids)
    english.pop((), None)
    freeze = lambda table: {k: tuple(sorted(v)) for k, v in table.items()}  # noqa: E731
    return Lexicon(freeze(english), freeze(russian), freeze(chinese), freeze(acronyms),
                   _prefixes(english), _prefixes(russian),
                   tuple(sorted({len(k) for k in chinese}, reverse=True)))


def _prefixes(table: dict) -> frozenset:
    return frozenset(key[:n] for key in table for n in range(1, len(key) + 1))


def _ru_key(stem: str) -> str:
    """A Russian stem as a lookup key: short stems (or ``$``-marked) match whole words only."""
    if stem.endswith("$"):
        return stem
    return stem if len(stem) >= _RU_MIN_PREFIX_STEM else stem + "$"
