"""Small STIX 2.1 building blocks for the export: times, ids, reference objects, vocabularies.

Reference objects (a country's ``location``, the ``threat-actor`` standing for a country's
actors, a producer's ``identity``) never change, so they carry one fixed timestamp and are the
same in every export. Ids are uuid5 of a hybridwatch key (``model.stix_findings.stix_uuid``),
so an object keeps its id from one export to the next.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any

from hybridwatch.model.stix_findings import derived_reference, stix_uuid
from hybridwatch.model.countries import country_name
from hybridwatch.outputs.identity import (
    STIX_IDENTITY_TIMESTAMP, stix_identity_id, stix_identity_object,
)

#: Timestamp of the reference objects (countries, country actors): they have one version.
REFERENCE_TIMESTAMP = STIX_IDENTITY_TIMESTAMP

#: STIX 2.1 confidence (0–100) for our words, from the specification's "None / Low / Med /
#: High" scale (Appendix A): Low = 15, Med = 50, High = 85.
CONFIDENCE_SCORES = {"low": 15, "moderate": 50, "high": 85}

#: STIX ``opinion`` (agreement with the assessment's statement) for each PHIA term.
OPINION_BY_PHIA = {
    "remote chance": "strongly-disagree", "highly unlikely": "strongly-disagree",
    "unlikely": "disagree", "realistic possibility": "neutral", "likely": "agree",
    "highly likely": "strongly-agree", "almost certain": "strongly-agree",
}

Obj = dict[str, Any]


def stix_time(value: datetime | date | str) -> str:
    """RFC 3339 UTC with milliseconds, as STIX wants it: ``2024-03-01T00:00:00.000Z``."""
    if isinstance(value, datetime) and value.tzinfo is None:  # the store's case: fast path
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def day_end(value: str) -> str:
    """The last millisecond of an ISO date (an inclusive end date as a STIX time)."""
    return f"{value[:10]}T23:59:59.999Z"


def sdo(kind: str, key: str, timestamp: str, **properties: Any) -> Obj:
    """A STIX 2.1 object of type ``kind`` with the deterministic id of ``key``."""
    obj = {"type": kind, "spec_version": "2.1", "id": f"{kind}--{stix_uuid(kind, key)}",
           "created": timestamp, "modified": timestamp}
    obj.update({k: v for k, v in properties.items() if v not in (None, [], "")})
    return obj


def producer_identity(name: str, identity_id: str | None = None) -> Obj:
    """The identity of a producer: ours (from its name) or a partner's (its own id)."""
    if identity_id is None or identity_id == stix_identity_id(name):
        return stix_identity_object(name)
    return {"type": "identity", "spec_version": "2.1", "id": identity_id,
            "created": REFERENCE_TIMESTAMP, "modified": REFERENCE_TIMESTAMP, "name": name}


@lru_cache(maxsize=4096)
def location_id(iso3: str) -> str:
    return f"location--{stix_uuid('location', 'country:' + iso3)}"


def country_location(iso3: str, iso2: str | None) -> Obj:
    """A country as a STIX location (``country`` is ISO 3166-1 alpha-2, as STIX requires)."""
    try:
        name = country_name(iso3)
    except ValueError:
        name = iso3
    obj = sdo("location", "country:" + iso3, REFERENCE_TIMESTAMP, name=name,
              country=iso2 or None, region=None if iso2 else "unknown",
              external_references=[{"source_name": "ISO 3166-1 alpha-3", "external_id": iso3}])
    return obj


@lru_cache(maxsize=4096)
def actor_id(iso3: str | None) -> str:
    key = f"country:{iso3}" if iso3 else "unknown"
    return f"threat-actor--{stix_uuid('threat-actor', key)}"


def country_actor(iso3: str | None) -> Obj:
    """The threat actor standing for "actors from <country>" (or an unknown actor).

    Event data names an actor's country far more often than the actor: the country is what the
    evidence supports, so that is what we share; ``located-at`` ties it to the country.
    """
    if iso3 is None:
        return sdo("threat-actor", "unknown", REFERENCE_TIMESTAMP, name="Unknown actor",
                   threat_actor_types=["unknown"],
                   description="Events whose source names no actor country.")
    try:
        name = country_name(iso3)
    except ValueError:
        name = iso3
    return sdo("threat-actor", "country:" + iso3, REFERENCE_TIMESTAMP,
               name=f"Actors from {name} ({iso3})",
               description=f"Actors the sources place in {name}: state organs, state media, "
                           "proxies and others; not one organisation.")


def relationship(kind: str, source_ref: str, target_ref: str, timestamp: str,
                 **properties: Any) -> Obj:
    """A relationship with an id derived from its ends, so it is the same in every export."""
    key = f"{source_ref}:{kind}:{target_ref}"
    return sdo("relationship", key, timestamp, relationship_type=kind, source_ref=source_ref,
               target_ref=target_ref, **properties)


def confidence_score(word: Any) -> int | None:
    return CONFIDENCE_SCORES.get(str(word).lower()) if word is not None else None


def opinion_of(phia_term: Any, probability: Any) -> str:
    """The STIX opinion for a PHIA term; a probability without a known term decides alone."""
    if phia_term in OPINION_BY_PHIA:
        return OPINION_BY_PHIA[phia_term]
    from hybridwatch.model.phia import phia_term as judge

    return OPINION_BY_PHIA[judge(float(probability)).term]


def derived(external_id: str) -> list[dict[str, str]]:
    """``external_references`` of an object hybridwatch derived (see model.stix_findings)."""
    return [derived_reference(external_id)]
