"""CAMEO event codes in words: "111" → "Criticize or denounce".

The codebook is GDELT's published ``CAMEO.eventcodes.txt``, shipped as package data
(``cameo_eventcodes.csv``, built by ``scripts/build_cameo_codebook.py``: root codes in sentence
case, the ", not specified below" catch-all suffix dropped). Readers (briefing, dashboard, API)
and writers (assessment evidence) ask this module, so a code reads the same everywhere.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

__all__ = ["cameo_codebook", "describe_cameo"]


@lru_cache(maxsize=1)
def cameo_codebook() -> dict[str, str]:
    """Every CAMEO event code (text, leading zeros kept) → its description."""
    text = resources.files("hybridwatch.model").joinpath("cameo_eventcodes.csv").read_text(
        encoding="utf-8")
    return {row["cameo_code"]: row["description"] for row in csv.DictReader(text.splitlines())}


def describe_cameo(code: str | None) -> str | None:
    """The description of ``code``; a code the codebook lacks takes its nearest parent's
    ("1129" → "Accuse", from "112"), since a CAMEO code's prefix is its broader category.
    None for an empty or non-CAMEO value."""
    if code is None:
        return None
    code = str(code).strip()
    if not code.isdigit() or len(code) < 2:
        return None
    book = cameo_codebook()
    for length in range(len(code), 1, -1):
        if code[:length] in book:
            return book[code[:length]]
    return None
