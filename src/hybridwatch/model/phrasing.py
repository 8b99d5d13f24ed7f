"""English for generated sentences: articles, plurals, country names, PHIA leads, lists.

Briefings, the dashboard's API text and the CLI all print sentences assembled from data ("a/an"
before a word chosen at run time, "1 identity" / "2 identities", "the United States"). Each rule
lives here once, with its exceptions, so no caller writes ``"(s)"`` or ``f"a {word}"`` again.

    >>> count(1, "identity"), count(3, "coinciding series pair")
    ('1 identity', '3 coinciding series pairs')
    >>> with_article("analyst"), with_article("hour"), with_article("EU member")
    ('an analyst', 'an hour', 'an EU member')
    >>> country_phrase("USA"), country_phrase("DEU")
    ('the United States', 'Germany')
    >>> phia_lead("remote chance")
    'There is a remote chance'

Pure functions over strings; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

__all__ = ["capitalise_first", "count", "country_phrase", "date_range", "indefinite_article",
           "join_words", "long_date", "phia_lead", "phia_sentence", "plural", "with_article"]

# --- a / an -------------------------------------------------------------------------------------

#: Words spelt with a vowel but said with a consonant sound ("a university", "a one-off").
_CONSONANT_SOUND_PREFIXES = ("uni", "use", "usu", "uti", "ura", "uro", "eu", "ewe", "one",
                             "once", "ubiq", "uk", "ukr", "uga", "uru", "uzb")
#: Words spelt with a consonant but said with a vowel sound (silent h).
_VOWEL_SOUND_PREFIXES = ("hour", "honest", "honour", "honor", "heir", "herb")
#: Capital-letter words said as words, not letter by letter ("a NATO exercise").
_ACRONYM_WORDS = {"NATO", "STIX", "TAXII", "GDELT", "ACLED", "CAMEO", "UNESCO", "UNICEF",
                  "MISP", "OSCE", "ASEAN", "OPEC", "SCO", "BRICS", "TLP", "PHIA", "DARPA",
                  "FRONTEX", "INTERPOL", "EUROPOL", "NASA", "ISIS", "HAMAS", "WHO"}
#: Letters whose English name begins with a vowel sound (said letter by letter: "an FBI report").
_VOWEL_SOUND_LETTERS = set("AEFHILMNORSX")


def indefinite_article(word: str) -> str:
    """'a' or 'an' for the sound ``word`` starts with: 'an analyst', 'a university', 'an hour',
    'an EU member', 'a UN resolution', 'a NATO exercise', 'an 8-day window', 'a 1-day lag'."""
    token = re.split(r"[\s\-/]", word.strip(), maxsplit=1)[0] if word.strip() else ""
    if not token:
        return "a"
    if token[0].isdigit():
        digits = re.match(r"\d+", token).group(0)   # type: ignore[union-attr]
        # said aloud: eight, eleven, eighteen, eighty…, eight hundred…
        return "an" if digits.startswith("8") or digits in ("11", "18") or (
            len(digits) in (5, 6) and digits[:2] in ("11", "18")) else "a"
    letters = re.sub(r"[^A-Za-z]", "", token)
    if not letters:
        return "a"
    capitals = sum(c.isupper() for c in letters)
    spelt_out = ((letters.isupper() and (len(letters) > 1 or len(token) == 1
                                         or token[1:2].isdigit()))
                 or (capitals >= 2 and len(letters) <= 4))         # "MoD", "X25519", "FBI"
    if spelt_out and letters.upper() not in _ACRONYM_WORDS:
        return "an" if letters[0].upper() in _VOWEL_SOUND_LETTERS else "a"
    lower = letters.lower()
    if lower.startswith(_VOWEL_SOUND_PREFIXES):
        return "an"
    if lower.startswith(_CONSONANT_SOUND_PREFIXES):
        return "a"
    return "an" if lower[0] in "aeiou" else "a"


def with_article(phrase: str) -> str:
    """``phrase`` with its indefinite article: 'an analyst', 'a hostile episode'."""
    return f"{indefinite_article(phrase)} {phrase}"


# --- plurals ------------------------------------------------------------------------------------

#: Nouns whose plural no rule below gives (or that do not change).
_IRREGULAR = {"series": "series", "analysis": "analyses", "hypothesis": "hypotheses",
              "criterion": "criteria", "phenomenon": "phenomena", "datum": "data",
              "person": "people", "child": "children", "man": "men", "woman": "women",
              "index": "indices", "matrix": "matrices", "basis": "bases", "crisis": "crises",
              "thesis": "theses", "axis": "axes", "news": "news", "data": "data",
              "evidence": "evidence", "information": "information", "sheep": "sheep",
              "aircraft": "aircraft", "species": "species", "foot": "feet", "day": "days",
              "key": "keys", "survey": "surveys", "attorney": "attorneys"}
#: Words ending in -o that take -es.
_O_ES = {"hero", "potato", "tomato", "veto", "echo", "torpedo", "embargo"}


def plural(noun: str) -> str:
    """The plural of ``noun``; in a phrase only the last word changes ('coinciding series
    pair' → 'coinciding series pairs', 'evidence event' → 'evidence events')."""
    head, _, last = noun.rpartition(" ")
    prefix = f"{head} " if head else ""
    lower = last.lower()
    if not last:
        return noun
    if lower in _IRREGULAR:
        result = _IRREGULAR[lower]
        if last[0].isupper():
            result = result[0].upper() + result[1:]
        return prefix + result
    if last.isupper() and len(last) > 1:              # acronyms: "NGOs", "CVEs"
        return f"{prefix}{last}s"
    if re.search(r"[^aeiou]y$", lower):
        return prefix + last[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", lower):
        return prefix + last + "es"
    if lower in _O_ES:
        return prefix + last + "es"
    if re.search(r"[^f]fe$", lower):
        return prefix + last[:-2] + "ves"
    return prefix + last + "s"


def count(n: int | float, noun: str, plural_form: str | None = None, *,
          zero: str | None = None) -> str:
    """'1 identity', '2 identities', '1,204 events'; ``zero`` replaces the whole phrase for 0
    ('no episode' reads better than '0 episodes' in running text)."""
    if n == 0 and zero is not None:
        return zero
    marked = re.fullmatch(r"(.*?)\((e?s)\)", noun)      # "episode(s)", "match(es)"
    if marked:
        noun, plural_form = marked.group(1), plural_form or marked.group(1) + marked.group(2)
    number = f"{int(n):,}" if float(n).is_integer() else f"{n:g}"
    word = noun if n == 1 else (plural_form or plural(noun))
    return f"{number} {word}"


def join_words(items: Iterable[str], conjunction: str = "and") -> str:
    """'a', 'a and b', 'a, b and c' (no serial comma, as in British official prose)."""
    words = [str(i) for i in items if str(i)]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def capitalise_first(text: str) -> str:
    """``text`` with its first letter upper case, the rest untouched ('the United States' →
    'The United States'; 'iPhone' stays only if it is not first)."""
    return text[:1].upper() + text[1:] if text else text


# --- country names ------------------------------------------------------------------------------

#: Short names that take "the" in running text.
_THE_NAMES = {"Netherlands", "Philippines", "Bahamas", "Gambia", "Maldives", "Comoros",
              "Seychelles", "Holy See", "Congo"}
#: Words that make a country name a descriptive phrase needing "the".
_THE_WORDS = ("Republic", "Kingdom", "States", "Federation", "Islands", "Emirates", "Union",
              "Territories", "Territory", "Commonwealth", "Confederation")


def country_phrase(value: str, *, sentence_start: bool = False) -> str:
    """A country as running text names it: an ISO3 code or a short name → 'Germany', 'the United
    States', 'the Netherlands', 'the Czech Republic' (but 'Czechia'); unknown codes stay as
    given. ``sentence_start`` capitalises the article ('The United Kingdom …')."""
    name = value.strip()
    if len(name) == 3 and name.isalpha() and name.isupper():
        from hybridwatch.model.countries import country_name

        try:
            name = country_name(name)
        except ValueError:
            return name
    if name.lower().startswith("the "):
        phrase = "the " + name[4:]
    elif name in _THE_NAMES or any(re.search(rf"\b{w}\b", name) for w in _THE_WORDS):
        phrase = f"the {name}"
    else:
        phrase = name
    return capitalise_first(phrase) if sentence_start else phrase


# --- PHIA leads ---------------------------------------------------------------------------------

#: Terms that are nouns ("a remote chance") take "There is"; adjectives take "It is".
_PHIA_NOUN_TERMS = {"remote chance", "realistic possibility"}


def phia_lead(term: str, band: str | None = None) -> str:
    """The opening of a PHIA sentence: 'There is a remote chance', 'There is a realistic
    possibility', 'It is highly unlikely', 'It is almost certain'. ``band`` ('≤5%') is put
    after the term in brackets."""
    words = term.strip()
    suffix = f" ({band})" if band else ""
    if words.lower() in _PHIA_NOUN_TERMS:
        return f"There is {with_article(words)}{suffix}"
    return f"It is {words}{suffix}"


def phia_sentence(term: str, clause: str, band: str | None = None) -> str:
    """'There is a remote chance (≤5%) that Germany faces …': the lead, 'that', the clause."""
    return f"{phia_lead(term, band)} that {clause}"


# --- dates --------------------------------------------------------------------------------------

def long_date(day: date) -> str:
    """'1 January 2024' (day month year, no leading zero: British official style)."""
    return f"{day.day} {day:%B %Y}"


def date_range(first: date | None, last: date | None) -> str:
    """'1 January – 30 December 2025', '1 January 2024 – 30 December 2025', 'from 1 March 2024',
    'until 30 June 2024', '4 March 2025' (one day); '' when both ends are open."""
    if first and last:
        if first == last:
            return long_date(first)
        if first.year == last.year:
            head = f"{first.day} {first:%B}" if first.month != last.month else f"{first.day}"
            return f"{head} – {long_date(last)}"
        return f"{long_date(first)} – {long_date(last)}"
    if first:
        return f"from {long_date(first)}"
    if last:
        return f"until {long_date(last)}"
    return ""
