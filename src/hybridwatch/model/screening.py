"""Screening-list entries (a listed party, its aliases, list, programme and date). Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ListedName:
    """One entry of a screening list (its main name and aliases)."""

    entry_id: str
    name: str
    aliases: tuple[str, ...]
    list_name: str
    programme: str | None = None
    listed_on: str | None = None
    countries: tuple[str, ...] = ()
    source_line: int | None = None
