"""The bytes a signature covers: RFC 8785 canonical JSON for JSON files, raw bytes otherwise.

JSON (STIX bundles, findings exports) is canonicalised so a signature survives re-serialisation
by a TAXII server or a partner's tooling (key order, whitespace, ``1.0`` vs ``1``). Everything
else (PDF, HTML, CSV) is signed byte for byte. The method is recorded in, and covered by, the
signature, so a verifier cannot be talked into a different one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hybridwatch.errors import InputError

__all__ = ["CANON_JSON", "CANON_RAW", "CANONICALIZATIONS", "JSON_SUFFIXES", "canonical_bytes",
           "canonical_json", "choose_canonicalization"]

CANON_JSON = "rfc8785"
CANON_RAW = "raw"
CANONICALIZATIONS = (CANON_JSON, CANON_RAW)
# Suffixes treated as JSON by "auto"; anything else is signed as raw bytes.
JSON_SUFFIXES = frozenset({".json", ".stix", ".jsonld", ".geojson"})


def choose_canonicalization(path: Path | str, requested: str = "auto") -> str:
    """``rfc8785`` or ``raw`` for a file; ``auto`` picks JSON by suffix (``.json``, ``.stix``)."""
    if requested == "auto":
        return CANON_JSON if Path(path).suffix.lower() in JSON_SUFFIXES else CANON_RAW
    if requested in ("json", CANON_JSON):
        return CANON_JSON
    if requested == CANON_RAW:
        return CANON_RAW
    raise ValueError(f"unknown canonicalisation {requested!r}: use auto, json or raw")


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two parsers that keep different copies of a duplicated key would "see" different documents
    # under one signature (a known JSON-signing pitfall), so a duplicate is an error, not a choice.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes of a JSON-compatible value; raises ValueError if it has none."""
    import rfc8785

    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"cannot canonicalise: {exc.__class__.__name__}: {exc}") from None


def canonical_bytes(data: bytes, method: str, *, source: object = "<data>") -> bytes:
    """The signed form of ``data``: its RFC 8785 canonical JSON, or ``data`` itself for ``raw``.

    Raises InputError naming ``source`` when JSON is asked for and ``data`` is not valid JSON
    (or has duplicate keys, NaN, or integers beyond ±2**53 that JCS cannot represent).
    """
    if method == CANON_RAW:
        return bytes(data)
    if method != CANON_JSON:
        raise InputError(source, f"unknown canonicalisation {method!r}")
    try:
        text = bytes(data).decode("utf-8-sig")
        value = json.loads(text, object_pairs_hook=_reject_duplicate_keys,
                           parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise InputError(source, f"not UTF-8 JSON ({exc.reason} at byte {exc.start}); "
                                 "sign it with --canon raw") from None
    except json.JSONDecodeError as exc:
        raise InputError(source, f"not valid JSON ({exc.msg})", locator=f"line {exc.lineno}") \
            from None
    except ValueError as exc:
        raise InputError(source, f"JSON cannot be signed canonically: {exc}") from None
    try:
        return canonical_json(value)
    except ValueError as exc:
        raise InputError(source, f"JSON cannot be signed canonically: {exc}; "
                                 "sign it with --canon raw") from None
