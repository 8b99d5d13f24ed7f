"""The event model: schemas, domains and vocabularies. Pure: no I/O."""

from hybridwatch.model.domains import DOMAINS, cameo_domain, normalise_domain
from hybridwatch.model.schema import (
    ARTICLE_SCHEMA, EVENT_SCHEMA, INTENSITY_KINDS, PRECISIONS, record_id_hash,
)
from hybridwatch.model.tlp import TLP_LEVELS
from hybridwatch.model.times import parse_time

__all__ = [
    "ARTICLE_SCHEMA", "DOMAINS", "EVENT_SCHEMA", "INTENSITY_KINDS", "PRECISIONS", "TLP_LEVELS",
    "cameo_domain", "normalise_domain", "parse_time", "record_id_hash",
]
