"""MISP exports: event JSON (one MISP event → one event), attribute CSV (one row → one event).

Both are plain JSON/CSV readers: pymisp is not used (``MISPEvent.from_dict`` mutates its input).
Shared rules for both formats:

* ``tlp`` from tags ``tlp:white`` (→ clear), ``tlp:clear``, ``tlp:green``, ``tlp:amber``,
  ``tlp:amber+strict``, ``tlp:red`` (spacing and case as written); the most restrictive tag
  wins. Fails closed: any other ``tlp:`` tag (``tlp:ex:chr``) makes the record RED, and
  ``distribution`` 0 (your organisation only) makes it at least AMBER+STRICT. A link attribute
  more restricted than its event never becomes the event's ``source_url``.
* ``domain`` is "cyber" unless a tag ``hybridwatch:domain="<domain>"`` names another, or a
  DISARM / disinformation tag says "information".
* Actors: galaxy clusters and tags ``misp-galaxy:threat-actor="X"`` and
  ``misp-galaxy:mitre-intrusion-set="X - G0007"``. Several actors are joined with "; " in the
  order found (never one picked); all are in ``extra.actors``.

**misp-json** (``{"Event": …}``, ``{"response": [{"Event": …}, …]}`` or a list of events):
``source_record_id`` = Event ``uuid``; ``occurred_at`` = ``date`` (day); ``title`` = ``info``;
``source_name`` = ``Orgc.name``; ``intensity`` = ``threat_level_id`` 1 (high) – 3 (low), kind
"threat_level" (4, "undefined", is null); ``actor_iso3`` from the threat-actor cluster's
``meta.country``; ``target_iso3s`` (every country)/``target_sector`` from ``misp-galaxy:target-information``,
``misp-galaxy:country`` and ``misp-galaxy:sector`` tags; ``source_url`` = first ``link``
attribute; ``extra`` = every other scalar Event field, ``attribute_counts`` by type (objects'
attributes included), ``object_counts``, ``tags``, ``galaxies``. Attributes themselves are not
copied (an event may hold 100k of them). An event without uuid or a valid date is rejected.

**misp-csv** (attribute export: uuid, event_id, category, type, value, comment, to_ids, date, …,
event_info, …, event_date, event_tag, event_timestamp). Unit: one event per attribute row, so
nothing is lost and each indicator keeps its own time; ``source_record_id`` = attribute ``uuid``.
``occurred_at`` = ``date`` (epoch seconds, precision second); if it is unusable, ``event_date``
(day) with a note; neither → rejected. ``event_date`` comes as ``2022-02-28`` and as
``05-03-2022``: the latter is DD-MM-YYYY (checked against the epoch ``date`` of all 195 rows of
the Recorded Future feed: 2022-03-05). ``source_type`` = attribute ``type``; ``title`` =
"comment: type value" (comment without its URL, else ``event_info``); ``source_url`` = first URL
in the comment; ``source_name`` = ``event_source_org``; ``intensity`` = ``event_threat_level_id``
(High 1, Medium 2, Low 3). ``actor_name`` from actor names in the comment and ``attribute_tag``
(APT/UNC/TA/FIN numbers, DEV-nnnn, and the named groups in ``_NAMED_ACTORS``); ``actor_iso3`` =
RUS only when that text says "Russia"/"Russian" (nothing else is inferred: UNC1151 stays without
a country although others attribute it to Belarus). Every other column goes to ``extra``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hybridwatch.adapters.base import (
    RECORD_FAULTS,
    record_error,
    Adapter,
    Batch,
    ReadOptions,
    RecordError,
    Rejection,
    RowBuilder,
)
from hybridwatch.adapters.textio import (
    decode_head,
    iter_csv_records,
    read_csv_header,
    read_json,
)
from hybridwatch.errors import FormatError
from hybridwatch.model.countries import to_iso3
from hybridwatch.model.domains import normalise_domain
from hybridwatch.model.tlp import level_from_word, most_restricted, readable
from hybridwatch.model.times import parse_time
from hybridwatch.model.versions import OWN_TLP_KEY, VERSION_KEY, epoch_version

SOURCE = "misp"
FLUSH_ROWS = 50_000
CSV_HEADER_START = ("uuid", "event_id", "category", "type", "value")
CSV_REQUIRED = ("uuid", "type", "value", "date")
_OURS = (VERSION_KEY, OWN_TLP_KEY)  # extra keys only we set: a record's own field never does
_TLP_TAG = re.compile(r"^\s*tlp\s*:", re.IGNORECASE)
_JSON_HEAD = re.compile(r'"Event"\s*:\s*\{')  # searched in the first 512 characters
_THREAT_LEVELS = {"1": 1.0, "2": 2.0, "3": 3.0, "high": 1.0, "medium": 2.0, "low": 3.0}
_GALAXY_TAG = re.compile(r'^misp-galaxy:([\w-]+)="(.*)"$')
_ACTOR_GALAXIES = ("threat-actor", "mitre-intrusion-set")
_URL = re.compile(r"https?://\S+")
_RUSSIA = re.compile(r"\bRussian?\b", re.IGNORECASE)
_ACTOR_CODE = re.compile(r"\b(?:APT|UNC|TA|FIN)\d{1,4}\b|\bDEV-\d{4}\b", re.IGNORECASE)
#: Named groups recognised in free text (lower-case key → spelling used in actor_name).
_NAMED_ACTORS = {
    "gamaredon": "Gamaredon", "sandworm": "Sandworm", "turla": "Turla", "lorec53": "Lorec53",
    "ghostwriter": "Ghostwriter", "nobelium": "Nobelium",
    "fancy bear": "Fancy Bear", "cozy bear": "Cozy Bear", "armageddon": "Armageddon",
    "invisimole": "InvisiMole", "dragonfly": "Dragonfly", "energetic bear": "Energetic Bear",
    "ember bear": "Ember Bear", "wizard spider": "Wizard Spider", "lazarus": "Lazarus Group",
}
_NAMED_PATTERN = re.compile(r"\b(" + "|".join(re.escape(k) for k in _NAMED_ACTORS) + r")\b",
                            re.IGNORECASE)


class MispJsonAdapter(Adapter):
    name = "misp-json"
    description = "MISP event JSON ({\"Event\": …}, restSearch response, or a list of events)"

    def sniff(self, path: Path, head: bytes) -> int:
        text = decode_head(head).lstrip()
        return 95 if text[:1] in "[{" and _JSON_HEAD.search(text[:512]) else 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        builder = RowBuilder("events", SOURCE, not_after=options.not_after())
        rejections: list[Rejection] = []
        for position, item in enumerate(_json_events(path)):
            event = item.get("Event", item) if isinstance(item, dict) else item
            try:
                builder.append(_json_row(event))
            except RECORD_FAULTS as caught:
                exc = record_error(caught)
                ident = event.get("uuid") if isinstance(event, dict) else None
                rejections.append(Rejection(
                    reason=exc.reason, field=exc.field, raw=json.dumps(item, ensure_ascii=False),
                    record=f"event {position} ({ident or 'no uuid'})"))
            if len(builder) >= FLUSH_ROWS:
                yield Batch("events", builder.flush(), rejections)
                rejections = []
        yield Batch("events", builder.flush(), rejections)


class MispCsvAdapter(Adapter):
    name = "misp-csv"
    description = "MISP attribute CSV export (one attribute a row)"

    def sniff(self, path: Path, head: bytes) -> int:
        first = decode_head(head).lstrip().split("\n", 1)[0]
        names = [n.strip().strip('"').lower() for n in first.split(",")]
        return 95 if tuple(names[:5]) == CSV_HEADER_START else 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        records = iter_csv_records(path, max_record_bytes=options.max_record_bytes)
        header = read_csv_header(records, path, CSV_REQUIRED)
        builder = RowBuilder("events", SOURCE, not_after=options.not_after())
        rejections: list[Rejection] = []
        for record in records:
            try:
                if record.fields is None:
                    raise RecordError(None, record.problem or "unreadable record")
                if len(record.fields) != len(header):
                    raise RecordError(None, f"expected {len(header)} fields, got "
                                            f"{len(record.fields)}")
                builder.append(_csv_row(dict(zip(header, record.fields))))
            except RECORD_FAULTS as caught:
                exc = record_error(caught)
                rejections.append(Rejection(reason=exc.reason, raw=record.raw, line=record.line,
                                            field=exc.field))
            if len(builder) >= FLUSH_ROWS:
                yield Batch("events", builder.flush(), rejections)
                rejections = []
        yield Batch("events", builder.flush(), rejections)


ADAPTERS = (MispJsonAdapter(), MispCsvAdapter())


# ---------------------------------------------------------------------------------- event JSON

def _json_events(path: Path) -> list[Any]:
    """The list of event entries of a MISP JSON file, whichever of the three shapes it has."""
    document = read_json(path)
    if isinstance(document, dict) and "Event" in document:
        return [document]
    if isinstance(document, dict) and isinstance(document.get("response"), list):
        return document["response"]
    if isinstance(document, list):
        return document
    raise FormatError(path, 'not MISP event JSON (expected {"Event": …}, '
                            '{"response": [{"Event": …}]} or a list of events)')


def _json_row(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise RecordError(None, f"not a MISP event (a JSON {type(event).__name__})")
    if not event.get("uuid"):
        raise RecordError("uuid", "missing event uuid")
    try:
        occurred_at, precision = parse_time(str(event.get("date") or ""), formats=("%Y-%m-%d",))
    except ValueError as exc:
        raise RecordError("date", str(exc)) from None
    notes: list[str] = []
    tags = _event_tags(event)
    level = _tlp(tags, event.get("distribution"))
    actors = _galaxy_actors(event.get("Galaxy") or [], notes) + _tag_actors(tags)
    actors = [a for i, a in enumerate(actors)  # first mention wins: galaxies carry uuid, country
              if a["name"] not in {b["name"] for b in actors[:i]}]
    targets, sectors = _tag_targets(tags, notes)
    actor_countries = {a["iso3"] for a in actors if a.get("iso3")}
    threat = _THREAT_LEVELS.get(str(event.get("threat_level_id", "")).strip().lower())
    attributes = list(_all_attributes(event))
    orgc = event.get("Orgc") or {}
    extra = {k: v for k, v in event.items()
             if not isinstance(v, (dict, list)) and k not in ("uuid", "date", "info", *_OURS)}
    extra.update(attribute_counts=dict(Counter(str(a.get("type")) for a in attributes)),
                 object_counts=dict(Counter(str(o.get("name")) for o in event.get("Object") or []
                                            if isinstance(o, dict))),
                 tags=tags, actors=actors, target_iso3_all=targets, orgc_uuid=orgc.get("uuid"),
                 org_name=(event.get("Org") or {}).get("name"), notes=notes,
                 **{VERSION_KEY: epoch_version(event.get("timestamp"))})
    return {
        "source_record_id": event["uuid"], "source_type": "misp-event",
        "occurred_at": occurred_at, "occurred_precision": precision,
        "title": event.get("info"), "source_name": orgc.get("name"),
        "intensity": threat, "intensity_kind": "threat_level" if threat else None,
        "actor_code": "; ".join(a["uuid"] for a in actors if a.get("uuid")) or None,
        "actor_name": "; ".join(a["name"] for a in actors) or None,
        "actor_iso3": actor_countries.pop() if len(actor_countries) == 1 else None,
        "target_iso3s": targets,
        "target_sector": "; ".join(sectors) or None,
        "source_url": _shareable_link(attributes, level),
        "domain": _domain(tags), "tlp": level,
        "extra": {k: v for k, v in extra.items() if v not in (None, [], {})},
    }


def _event_tags(event: dict[str, Any]) -> list[str]:
    """Tag names in both shapes MISP writes: ``Tag: [{name}]`` and ``EventTag: [{Tag: {name}}]``."""
    tags = [t for t in event.get("Tag") or [] if isinstance(t, dict)]
    tags += [t["Tag"] for t in event.get("EventTag") or []
             if isinstance(t, dict) and isinstance(t.get("Tag"), dict)]
    return [str(t.get("name", "")) for t in tags]


def _shareable_link(attributes: list[dict[str, Any]], event_level: str | None) -> str | None:
    """The first link attribute no more restricted than the event: a RED attribute's link never
    becomes a GREEN event's ``source_url``."""
    for attribute in attributes:
        if attribute.get("type") != "link":
            continue
        level = _tlp(_event_tags(attribute), attribute.get("distribution"))
        if readable(level, event_level or "clear"):
            return str(attribute.get("value"))
    return None


def _all_attributes(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from (a for a in event.get("Attribute") or [] if isinstance(a, dict))
    for obj in event.get("Object") or []:
        if isinstance(obj, dict):
            yield from (a for a in obj.get("Attribute") or [] if isinstance(a, dict))


def _galaxy_actors(galaxies: list[Any], notes: list[str]) -> list[dict[str, Any]]:
    """Actors of threat-actor galaxy clusters, with the cluster uuid and its stated country."""
    actors = []
    for galaxy in galaxies:
        if not isinstance(galaxy, dict) or galaxy.get("type") not in _ACTOR_GALAXIES:
            continue
        for cluster in galaxy.get("GalaxyCluster") or []:
            meta = cluster.get("meta") or {}
            countries = meta.get("country") or []
            country = countries[0] if isinstance(countries, list) and countries else countries
            iso3 = None
            if country:
                try:
                    iso3 = to_iso3(str(country))
                except ValueError as exc:
                    notes.append(f"galaxy {cluster.get('value')}: {exc}")
            actors.append({k: v for k, v in {"name": _actor_label(str(cluster.get("value"))),
                                             "uuid": cluster.get("uuid"), "iso3": iso3}.items()
                           if v})
    return actors


def _tag_actors(tags: Iterable[str]) -> list[dict[str, Any]]:
    actors = []
    for tag in tags:
        match = _GALAXY_TAG.match(tag.strip())
        if match and match.group(1) in _ACTOR_GALAXIES:
            actors.append({"name": _actor_label(match.group(2))})
    return actors


def _actor_label(value: str) -> str:
    """'APT28 - G0007' (MITRE intrusion-set cluster) → 'APT28'."""
    return re.sub(r"\s+-\s+G\d{4}$", "", value.strip())


def _tag_targets(tags: Iterable[str], notes: list[str]) -> tuple[list[str], list[str]]:
    """Target countries (ISO3) and sectors named by galaxy tags."""
    countries, sectors = [], []
    for tag in tags:
        match = _GALAXY_TAG.match(tag.strip())
        if not match:
            continue
        galaxy, value = match.groups()
        if galaxy in ("target-information", "country"):
            try:
                iso3 = to_iso3(value)
            except ValueError:
                notes.append(f"tag {tag}: not a country")
                continue
            if iso3 and iso3 not in countries:
                countries.append(iso3)
        elif galaxy == "sector" and value not in sectors:
            sectors.append(value)
    return countries, sectors


# ----------------------------------------------------------------------------- attribute CSV

def _csv_row(row: dict[str, str]) -> dict[str, Any]:
    notes: list[str] = []
    occurred_at, precision, event_date = _csv_time(row, notes)
    tags = _split_tags(row.get("event_tag", "")) + _split_tags(row.get("attribute_tag", ""))
    comment = row.get("comment", "").strip()
    text = f"{comment} {row.get('attribute_tag', '')}"
    names = [a["name"] for a in _tag_actors(tags)] + _text_actors(text)
    names = list(dict.fromkeys(names))
    url = _URL.search(comment)
    label = _URL.sub("", comment).strip(" -") or row.get("event_info", "").strip()
    threat = _THREAT_LEVELS.get(row.get("event_threat_level_id", "").strip().lower())
    extra: dict[str, Any] = {k: v for k, v in row.items()
                             if v != "" and k not in ("uuid", "date", *_OURS)}
    extra.update(date=row.get("date"), event_date=event_date, actors=names, notes=notes,
                 **{VERSION_KEY: epoch_version(row.get("date"))})  # the attribute's timestamp
    if event_date and event_date != row.get("event_date"):
        extra["event_date_raw"] = row.get("event_date")
    return {
        "source_record_id": row.get("uuid", "").strip(), "source_type": row.get("type") or None,
        "occurred_at": occurred_at, "occurred_precision": precision,
        "title": f"{label}: {row.get('type', '')} {row.get('value', '')}".strip(": "),
        "actor_name": "; ".join(names) or None,
        "actor_iso3": "RUS" if _RUSSIA.search(text) else None,
        "source_name": row.get("event_source_org") or row.get("event_member_org") or None,
        "source_url": url.group(0) if url else None,
        "intensity": threat, "intensity_kind": "threat_level" if threat else None,
        "domain": _domain(tags), "tlp": _tlp(tags),
        "extra": {k: v for k, v in extra.items() if v not in (None, "", [])},
    }


def _csv_time(row: dict[str, str], notes: list[str]) -> tuple[datetime, str, str | None]:
    """occurred_at from epoch ``date``, else from ``event_date``; plus event_date as ISO text."""
    event_date = None
    try:
        event_day = _event_date(row.get("event_date", ""))
        event_date = event_day.date().isoformat()
    except ValueError as exc:
        event_day = None
        if row.get("event_date"):
            notes.append(f"event_date: {exc}")
    raw = row.get("date", "").strip()
    if raw.isdigit():
        try:
            stamp = datetime.fromtimestamp(int(raw), tz=timezone.utc).replace(tzinfo=None)
            return stamp, "second", event_date
        except (ValueError, OverflowError, OSError):
            pass
    if event_day is None:
        raise RecordError("date", f"not epoch seconds ({raw!r}) and no usable event_date")
    notes.append(f"date: not epoch seconds ({raw!r}); occurred_at is event_date")
    return event_day, "day", event_date


def _event_date(text: str) -> datetime:
    """``2022-02-28`` or ``05-03-2022`` (DD-MM-YYYY) as a datetime at midnight."""
    value = text.strip()
    fmt = "%d-%m-%Y" if re.fullmatch(r"\d{2}-\d{2}-\d{4}", value) else "%Y-%m-%d"
    return parse_time(value, formats=(fmt,))[0]


def _split_tags(cell: str) -> list[str]:
    """Tags of a CSV cell: comma-separated, commas inside quotes kept."""
    return [t.strip() for t in re.findall(r'(?:[^,"]|"[^"]*")+', cell) if t.strip()]


def _text_actors(text: str) -> list[str]:
    """Actor names in free text, in order: codes (APT29, UNC1151, DEV-0586) and named groups."""
    found = []
    for match in re.finditer(f"{_ACTOR_CODE.pattern}|{_NAMED_PATTERN.pattern}", text,
                             re.IGNORECASE):
        word = match.group(0)
        found.append(_NAMED_ACTORS.get(word.lower(), word.upper()))
    return found


# ------------------------------------------------------------------------------------- shared

def _tlp(tags: Iterable[str], distribution: object = None) -> str | None:
    """The most restrictive of the ``tlp:*`` tags, None without one. Fails closed: a ``tlp:`` tag
    naming no TLP 2.0 level (``tlp:ex:chr``, a typo) is RED; MISP ``distribution`` 0 (your
    organisation only) is at least AMBER+STRICT."""
    levels = [level_from_word(tag) or "red" for tag in tags if _TLP_TAG.match(str(tag))]
    if str(distribution).strip() == "0":
        levels.append("amber+strict")
    return most_restricted(levels) if levels else None


def _domain(tags: Iterable[str]) -> str:
    """'cyber' unless a hybridwatch:domain tag names another, or a DISARM/disinformation tag."""
    for tag in tags:
        lowered = tag.strip().lower()
        match = re.match(r'^hybridwatch:domain="?([^"]+)"?$', lowered)
        if match:
            try:
                return normalise_domain(match.group(1))
            except ValueError:
                continue
        if lowered.startswith(("disarm", "misp-galaxy:disarm")) or "disinformation" in lowered:
            return "information"
    return "cyber"
