"""How outputs name an event's actor without naming private individuals.

Outputs (the briefing, STIX evidence) never turn a free-text name into an actor: an actor is a
country (``actor_iso3``) or a group named by a source whose actor field holds organisations by
construction — STIX intrusion sets and threat actors, MISP galaxy groups, ACLED actor groups,
EUvsDisinfo outlets. Elsewhere the name is free text that may be a person's: GDELT's
machine-coded Actor1Name is often a person ("the leader's formal name"), EuRepoC lists
individual hackers, a mapped CSV may hold anything. Those events show their actor's country, or
no actor. Titles are quoted as evidence text, never parsed into entities.
"""

from __future__ import annotations

#: Sources whose ``actor_name`` names an organisation or group, never a person.
ORGANISATION_NAMED_SOURCES = ("stix", "misp", "acled", "euvsdisinfo")


def public_actor(actor_name: str | None, actor_iso3: str | None, source: str | None
                 ) -> str | None:
    """The actor as outputs may name it: the country first, else a group name from a source
    that names groups only; None when neither."""
    if actor_iso3:
        return actor_iso3
    if actor_name and source in ORGANISATION_NAMED_SOURCES:
        return actor_name
    return None


def public_actor_name(actor_name: str | None, source: str | None) -> str | None:
    """``actor_name`` when the source names groups only, else None (it may be a person)."""
    return actor_name if actor_name and source in ORGANISATION_NAMED_SOURCES else None
