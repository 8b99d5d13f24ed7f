"""The one event model, as Arrow schemas: events, articles, quarantined records.

Times are naive ``timestamp[us]`` holding UTC (DuckDB ``TIMESTAMP``): every adapter converts to
UTC before it builds a batch, so nothing downstream has to think about zones.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

from hybridwatch.model.tlp import TLP_LEVELS  # noqa: F401 - re-exported; the column's vocabulary

#: How exactly ``occurred_at`` is known. Coarser values mean the time is the start of the period.
PRECISIONS = ("second", "minute", "hour", "day", "week", "month", "year")

#: What the ``intensity`` number measures, so series never add Goldstein scores to fatalities.
INTENSITY_KINDS = ("goldstein", "fatalities", "mentions", "sorties", "cyber_intensity",
                   "threat_level", "count", "trade_value_usd", "other")


EVENT_SCHEMA = pa.schema([
    pa.field("event_id", pa.string(), nullable=False),      # md5(source ':' source_record_id)
    pa.field("source", pa.string(), nullable=False),        # dataset family: gdelt, acled, stix ...
    pa.field("source_record_id", pa.string(), nullable=False),
    pa.field("occurred_at", pa.timestamp("us"), nullable=False),  # UTC
    pa.field("occurred_precision", pa.string(), nullable=False),  # one of PRECISIONS
    pa.field("ended_at", pa.timestamp("us")),               # UTC, campaigns and incidents
    pa.field("actor_code", pa.string()),                    # source's code (CAMEO, intrusion-set id ...)
    pa.field("actor_name", pa.string()),
    pa.field("actor_iso3", pa.string()),                    # ISO 3166 alpha-3 of the actor's country
    # ISO 3166 alpha-3 of every target country, source order, no repeats; [] = no target.
    # Read it through model.targets (an event counts once for each target it names).
    pa.field("target_iso3s", pa.list_(pa.string()), nullable=False),
    pa.field("target_sector", pa.string()),
    pa.field("location_name", pa.string()),
    pa.field("location_iso3", pa.string()),                 # where it happened
    pa.field("lat", pa.float64()),
    pa.field("lon", pa.float64()),
    pa.field("domain", pa.string(), nullable=False),        # one of model.domains.DOMAINS
    pa.field("source_type", pa.string()),                   # CAMEO code, ACLED sub-event type, STIX type
    pa.field("intensity", pa.float64()),
    pa.field("intensity_kind", pa.string()),                # one of INTENSITY_KINDS
    pa.field("title", pa.string()),
    pa.field("source_name", pa.string()),                   # publisher, feed, producer organisation
    pa.field("source_url", pa.string()),
    pa.field("tlp", pa.string()),                           # one of TLP_LEVELS, null = clear
    pa.field("extra", pa.string()),                         # JSON object of every unmapped field
])

ARTICLE_SCHEMA = pa.schema([
    pa.field("article_id", pa.string(), nullable=False),    # md5(source ':' source_record_id)
    pa.field("source", pa.string(), nullable=False),
    pa.field("source_record_id", pa.string(), nullable=False),
    pa.field("outlet", pa.string(), nullable=False),
    pa.field("published_at", pa.timestamp("us"), nullable=False),  # UTC
    pa.field("title", pa.string()),
    pa.field("text", pa.string()),
    pa.field("language", pa.string()),                      # ISO 639-1 where known
    pa.field("url", pa.string()),
    pa.field("extra", pa.string()),
])

EVENT_COLUMNS = tuple(EVENT_SCHEMA.names)
ARTICLE_COLUMNS = tuple(ARTICLE_SCHEMA.names)


def record_id_hash(source: str, source_record_id: str) -> str:
    """The stable id of a record: md5 hex of ``source:source_record_id``.

    DuckDB and Spark compute the same value with ``md5(source || ':' || id)``, so columnar
    adapters can derive ids in SQL and row-wise adapters in Python.
    """
    return hashlib.md5(f"{source}:{source_record_id}".encode("utf-8")).hexdigest()
