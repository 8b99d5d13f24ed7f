"""The 13 hybrid-threat domains (Hybrid CoE / EU JRC conceptual model, EUR 30585 EN, 2021)."""

from __future__ import annotations

DOMAINS = (
    "infrastructure", "cyber", "space", "economy", "military", "culture", "social",
    "public_administration", "legal", "intelligence", "diplomacy", "political", "information",
)

#: Spellings users and sources write, mapped to the canonical name.
_DOMAIN_ALIASES = {
    "defence": "military", "defense": "military", "societal": "social", "society": "social",
    "public administration": "public_administration", "public-administration": "public_administration",
    "administration": "public_administration", "economic": "economy", "economics": "economy",
    "diplomatic": "diplomacy", "politics": "political", "informational": "information",
    "disinformation": "information", "info": "information", "intel": "intelligence",
    "space-based": "space", "critical infrastructure": "infrastructure",
}


def normalise_domain(value: str) -> str:
    """Return the canonical domain name for ``value`` or raise ``ValueError`` naming the choices."""
    key = value.strip().lower()
    key = _DOMAIN_ALIASES.get(key, key).replace(" ", "_")
    if key not in DOMAINS:
        raise ValueError(f"unknown domain {value!r} (expected one of: {', '.join(DOMAINS)})")
    return key


#: CAMEO root code (two digits) to its default domain; sub-codes refine it in ``cameo_domain``.
_CAMEO_ROOT_DOMAIN = {
    "01": "information", "02": "diplomacy", "03": "diplomacy", "04": "diplomacy",
    "05": "diplomacy", "06": "economy", "07": "economy", "08": "diplomacy", "09": "legal",
    "10": "diplomacy", "11": "diplomacy", "12": "diplomacy", "13": "political", "14": "social",
    "15": "military", "16": "diplomacy", "17": "political", "18": "military", "19": "military",
    "20": "military",
}
_CAMEO_PREFIX_DOMAIN = {
    "061": "economy", "062": "military", "063": "legal", "064": "intelligence",
    "074": "military", "138": "military", "163": "economy", "172": "economy",
}


def cameo_domain(event_code: str) -> str | None:
    """Default hybrid-threat domain of a CAMEO event code ('0431' → diplomacy), None if unknown."""
    code = event_code.strip()
    if code[:3] in _CAMEO_PREFIX_DOMAIN:
        return _CAMEO_PREFIX_DOMAIN[code[:3]]
    return _CAMEO_ROOT_DOMAIN.get(code[:2])


def cameo_domain_sql(column: str) -> str:
    """The same mapping as ``cameo_domain`` as a SQL CASE expression (DuckDB and Spark)."""
    arms = [f"WHEN substr({column}, 1, 3) = '{p}' THEN '{d}'"
            for p, d in sorted(_CAMEO_PREFIX_DOMAIN.items())]
    arms += [f"WHEN substr({column}, 1, 2) = '{r}' THEN '{d}'"
             for r, d in sorted(_CAMEO_ROOT_DOMAIN.items())]
    return "CASE " + " ".join(arms) + " ELSE NULL END"
