"""Traffic Light Protocol 2.0: the one place that decides who may read what. Pure: no I/O.

Every reader (store, workflows, briefing, STIX export, web API) asks this module; none compares
levels itself. It fails closed: an item with a marking that is not a TLP 2.0 level ranks above
RED, so no clearance reads it, while a *clearance* that is not a level is a user error.
Unmarked items (``None``) are CLEAR, as TLP 2.0 treats unmarked information.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hybridwatch.errors import SelectorError

#: TLP 2.0 levels, least to most restricted.
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")

#: The rank of an unknown marking: above every level, so nobody reads it.
UNREADABLE_RANK = len(TLP_LEVELS)

_RANK = {level: rank for rank, level in enumerate(TLP_LEVELS)}


def tlp_rank(level: str | None) -> int:
    """0 (clear) … 4 (red); None counts as clear; an unknown marking ranks above red."""
    return 0 if level is None else _RANK.get(level, UNREADABLE_RANK)


def parse_level(text: str | None, *, option: str = "--tlp") -> str:
    """A level from user text ("AMBER", "tlp:amber+strict", " red "), or SelectorError."""
    level = (text or "").strip().lower().removeprefix("tlp:")
    if level not in _RANK:
        raise SelectorError(f"{option}: {text!r} is not a TLP 2.0 level "
                            f"(levels: {', '.join(TLP_LEVELS)})")
    return level


def readable(level: str | None, clearance: str) -> bool:
    """Whether an item marked ``level`` may be read by someone cleared to ``clearance``."""
    return clearance in _RANK and tlp_rank(level) <= _RANK[clearance]


def levels_readable_at(clearance: str) -> tuple[str, ...]:
    """The levels readable at ``clearance``, least restricted first (none for an unknown one)."""
    if clearance not in _RANK:
        return ()
    return TLP_LEVELS[: _RANK[clearance] + 1]


def most_restricted(levels: Iterable[str | None]) -> str:
    """The most restricted of ``levels`` (clear when empty); an unknown marking counts as red."""
    return TLP_LEVELS[min(max((tlp_rank(level) for level in levels), default=0),
                          len(TLP_LEVELS) - 1)]


def readable_sql(clearance: str, column: str = "tlp") -> str:
    """SQL true for rows whose ``column`` is readable at ``clearance`` (NULL counts as clear).

    The levels are this module's constants, never user text, so inlining them is safe.
    """
    quoted = ", ".join(f"'{level}'" for level in levels_readable_at(clearance))
    return f"(coalesce({column}, 'clear') IN ({quoted or 'NULL'}))"


_LEVELS_SQL = "[" + ", ".join(f"'{level}'" for level in TLP_LEVELS) + "]"


def known_rank_sql(expression: str) -> str:
    """SQL for the rank of ``expression`` when it is a level, else NULL (for a caller's own
    fallback). ``expression`` is the caller's column, never user text."""
    return f"(list_position({_LEVELS_SQL}, {expression}) - 1)"


def rank_sql(expression: str) -> str:
    """SQL for ``tlp_rank`` of ``expression``: NULL counts as clear, an unknown marking as
    unreadable (above red), as in Python."""
    with_clear = f"coalesce({expression}, 'clear')"
    return f"coalesce({known_rank_sql(with_clear)}, {UNREADABLE_RANK})"


def readable_rank_sql(clearance: str, column: str) -> str:
    """SQL true for rows whose ``column`` holds a rank (``rank_sql``) readable at
    ``clearance``: one integer comparison, where ``readable_sql`` compares text."""
    return f"({column} <= {_RANK[clearance]})" if clearance in _RANK else "FALSE"


def level_of_rank_sql(expression: str) -> str:
    """SQL for the level of a rank (ranks above red are red): the inverse of ``rank_sql``."""
    return f"{_LEVELS_SQL}[least({expression}, {len(TLP_LEVELS) - 1}) + 1]"


def level_from_word(word: object) -> str | None:
    """The level a marking word names, or None when it names none.

    Recognisable spellings map: "TLP:WHITE" and "white" → clear (TLP 1.0), "TLP: RED ",
    "Amber + Strict", "AMBER_STRICT" → amber+strict. Anything else is not a level.
    """
    text = re.sub(r"\s+", " ", str(word if word is not None else "")).strip().lower()
    text = re.sub(r"^tlp\s*[:\-]?\s*", "", text)
    text = re.sub(r"\s*[+_\- ]\s*", "+", text)
    return "clear" if text == "white" else (text if text in _RANK else None)


#: A TLP level named inside free text ("Distribution: TLP:RED", "tlp: amber+strict").
_TLP_IN_TEXT = re.compile(
    r"\btlp\s*[:\-]?\s*(clear|white|green|amber\s*[+_\- ]\s*strict|amber|red)\b", re.IGNORECASE)


def levels_in_text(text: object) -> list[str]:
    """Every TLP level a free text names (a STIX ``statement`` marking, a MISP comment)."""
    return [level for match in _TLP_IN_TEXT.finditer(str(text or ""))
            if (level := level_from_word(match.group(1)))]


# -- STIX 2.1 marking definitions ---------------------------------------------------------------

#: TLP 2.0 marking definitions (FIRST / OASIS cti-stix-common-objects), level → id.
TLP2_MARKING_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"

#: Well-known marking-definition ids → level: TLP 2.0 and TLP 1.0 (the ``stix2`` constants).
LEVEL_BY_MARKING_ID = {
    **{marking_id: level for level, marking_id in TLP2_MARKING_IDS.items()},
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",  # TLP 1.0 WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}


def tlp2_marking(level: str) -> dict[str, object]:
    """The published TLP 2.0 marking-definition object of ``level``."""
    return {"type": "marking-definition", "spec_version": "2.1", "id": TLP2_MARKING_IDS[level],
            "created": TLP2_CREATED, "name": f"TLP:{level.upper()}",
            "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension",
                                               "tlp_2_0": level}}}
