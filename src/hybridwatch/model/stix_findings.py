"""hybridwatch's own findings inside a STIX 2.1 bundle: the format both sides agree on.

``hybridwatch export stix`` writes each finding (an episode, a coinciding pair, a target's
assessment …) as standard STIX objects plus a ``note`` whose ``content`` ends in a fenced JSON
block holding the finding exactly as the findings store keeps it; each run of an analysis gets
one such note too. Every object hybridwatch derives (not observes) carries the external
reference ``{"source_name": "hybridwatch", "external_id": "finding/<kind>/<id>" | "run/<kind>"
| "export"}``. Reading a bundle back:

* those derived objects are not events (an episode's campaign is a finding, not an observation);
* the notes give the runs back (``FindingRuns``), restored into the findings store by ingest;
* event references inside the findings are STIX ids of the evidence objects; they become the
  event ids those objects get in the importing store (``record_id_hash("stix", id)``).

Pure: no I/O, so it sits in ``model``: shared by ``outputs.stix_export`` (writing),
``adapters.stix`` (reading) and ``web.taxii``.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any

from hybridwatch.model.schema import record_id_hash
from hybridwatch.model.tlp import TLP_LEVELS

#: The ``source_name`` of external references that mark hybridwatch-derived objects.
HYBRIDWATCH_SOURCE = "hybridwatch"
#: Where the finding's JSON starts inside a note's content (a fenced Markdown block).
JSON_FENCE = "```json\n"
_JSON_BLOCK = re.compile(r"```json\n(.*)\n```\s*\Z", re.DOTALL)
STIX_ID = re.compile(r"^[a-z][a-z0-9-]*--[0-9a-fA-F-]{36}$")
#: A sighting cannot be the source of a ``targets`` relationship (relationships start at SDOs):
#: the countries an event targeted travel in a STIX 2.1 property extension of the sighting
#: (``extensions[TARGETS_EXTENSION_ID].target_refs``: location ids), defined by an
#: ``extension-definition`` object in the bundle. The STIX adapter reads it back into
#: ``target_iso3s``, so a pull from our own TAXII server keeps targets.
TARGETS_EXTENSION_SCHEMA = (
    "hybridwatch event targets (property extension): target_refs is a list of location "
    "identifiers, the countries the sighted event targeted, in the order the event names them.")


def extension_target_refs(obj: dict) -> list[str]:
    """The target location ids a sighting carries in hybridwatch's targets extension."""
    extensions = obj.get("extensions")
    entry = extensions.get(TARGETS_EXTENSION_ID) if isinstance(extensions, dict) else None
    refs = entry.get("target_refs") if isinstance(entry, dict) else None
    return [r for r in refs if isinstance(r, str)] if isinstance(refs, list) else []


def stix_uuid(*parts: str) -> str:
    """Deterministic uuid5 (URL namespace) of ``hybridwatch:<parts joined by ':'>``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "hybridwatch:" + ":".join(parts)))


TARGETS_EXTENSION_ID = "extension-definition--" + stix_uuid("extension-definition",
                                                           "event-targets")


def derived_reference(external_id: str) -> dict[str, str]:
    """The external reference that marks an object as derived by hybridwatch."""
    return {"source_name": HYBRIDWATCH_SOURCE, "external_id": external_id}


def derived_id(obj: dict[str, Any]) -> str | None:
    """The hybridwatch external id of a derived object, None for anything else."""
    refs = obj.get("external_references")
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and ref.get("source_name") == HYBRIDWATCH_SOURCE:
            external_id = ref.get("external_id")
            if isinstance(external_id, str) and external_id.split("/")[0] in (
                    "finding", "run", "export", "review"):
                return external_id
    return None


def note_content(text: str, record: dict[str, Any]) -> str:
    """A note's content: the human text, then the machine record as a fenced JSON block."""
    body = json.dumps(record, sort_keys=True, ensure_ascii=False, allow_nan=False, indent=1)
    return f"{text.rstrip()}\n\n{JSON_FENCE}{body}\n```"


def note_record(content: Any) -> dict[str, Any] | None:
    """The JSON record at the end of a hybridwatch note's content, None if there is none."""
    if not isinstance(content, str):
        return None
    found = _JSON_BLOCK.search(content)
    if not found:
        return None
    try:
        record = json.loads(found.group(1))
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) and "hybridwatch" in record else None


def map_event_refs(value: Any, mapping) -> Any:
    """``value`` with every ``event_id`` / ``event_ids`` entry passed through ``mapping``
    (a callable); used both ways: event ids → STIX ids on export, and back on import."""
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            if key == "event_id" and isinstance(inner, str):
                out[key] = mapping(inner)
            elif key == "event_ids" and isinstance(inner, list):
                out[key] = [mapping(v) if isinstance(v, str) else v for v in inner]
            else:
                out[key] = map_event_refs(inner, mapping)
        return out
    if isinstance(value, list):
        return [map_event_refs(v, mapping) for v in value]
    return value


def imported_event_id(reference: str) -> str:
    """The event id a STIX evidence object gets when ingested; other references unchanged."""
    return record_id_hash("stix", reference) if STIX_ID.match(reference) else reference


def finding_runs(objects: list[Any], tlp_of: Any, creator_of: Any,
                 problems: list[tuple[int, str]] | None = None) -> list[dict[str, Any]]:
    """The finding runs held by hybridwatch notes among ``objects``.

    ``tlp_of(obj)`` gives an object's TLP level (None = clear), ``creator_of(obj)`` its
    producer as ``{"id", "name"}`` or None. Each run: ``kind, run_id, created_at, summary``
    (with ``producer`` added) and ``items`` (``finding_id, position, tlp, item``), items in
    position order. Notes whose content holds no record are ignored (still valid STIX); a
    record that is malformed (no kind, a bad ``created_at`` or position …) is left out and
    ``(index of the note, reason)`` appended to ``problems``, for the caller to quarantine.
    """
    runs: dict[str, dict[str, Any]] = {}
    items: dict[str, list[dict[str, Any]]] = {}
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict) or obj.get("type") != "note" or not derived_id(obj):
            continue
        record = note_record(obj.get("content"))
        if record is None:
            continue
        problem = _record_problem(record)
        if problem:
            if problems is not None:
                problems.append((index, f"hybridwatch finding note: {problem}"))
            continue
        if record.get("hybridwatch") == "run":
            producer = creator_of(obj)
            summary = dict(record.get("summary") or {})
            if producer:
                summary["producer"] = producer
            runs[record["kind"]] = {"kind": record["kind"], "run_id": record["run_id"],
                                    "created_at": record["created_at"], "summary": summary}
        elif record.get("hybridwatch") == "finding":
            level = tlp_of(obj) or "clear"
            items.setdefault(record["kind"], []).append({
                "finding_id": record["finding_id"], "position": int(record["position"]),
                "tlp": level if level in TLP_LEVELS else "red",
                "item": map_event_refs(record["item"], imported_event_id)})
    for kind, run in runs.items():
        run["items"] = sorted(items.get(kind, []), key=lambda i: i["position"])
    return list(runs.values())


def _record_problem(record: dict[str, Any]) -> str | None:
    """Why a finding note's record cannot be restored, or None."""
    kind = record.get("hybridwatch")
    if kind not in ("run", "finding"):
        return None  # not a record we restore: ignored as before
    if not isinstance(record.get("kind"), str) or not record["kind"].strip():
        return "no kind"
    if kind == "run":
        if not isinstance(record.get("run_id"), str):
            return "no run_id"
        try:
            datetime.fromisoformat(str(record.get("created_at")))
        except (ValueError, OverflowError):
            return f"created_at is not a date-time ({str(record.get('created_at'))[:40]!r})"
        if not isinstance(record.get("summary") or {}, dict):
            return "summary is not an object"
        return None
    if not isinstance(record.get("finding_id"), str):
        return "no finding_id"
    position = record.get("position")
    if isinstance(position, bool) or not isinstance(position, (int, str)) or \
            not str(position).strip().lstrip("-").isdigit():
        return f"position is not a whole number ({str(position)[:40]!r})"
    if "item" not in record:
        return "no item"
    return None
