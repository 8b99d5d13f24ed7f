"""Record the coordination and narrative analyses' results as findings (through
``workflows.recording.record``), each item with the TLP level its kind's rule gives it.

The CLI's analysis commands call these after computing, so ``brief``, ``serve`` and
``export stix`` can render the stored runs without recomputing them.
"""

from __future__ import annotations

from typing import Any

from hybridwatch.model.finding_kinds import get_kind
from hybridwatch.store import EventStore
from hybridwatch.workflows.coordination import EpisodesReport, GridReport
from hybridwatch.workflows.recording import record, report_of, series_tlp

__all__ = ["episode_key", "record", "record_coincidences", "record_episodes",
           "record_narrative_sync", "report_of", "series_tlp"]


def episode_key(episode: dict[str, Any]) -> str:
    return get_kind("episodes").key(episode)


def record_episodes(store: EventStore, report: EpisodesReport | dict[str, Any]) -> str:
    """Store detected episodes; an episode is as restricted as its most restricted event."""
    data = report.to_dict() if isinstance(report, EpisodesReport) else report
    return record(store, report_of("episodes", data)).run_id


def record_coincidences(store: EventStore, report: GridReport | dict[str, Any]) -> str:
    """Store an all-pairs coincidence grid; a pair is as restricted as its two series."""
    data = report.to_dict() if isinstance(report, GridReport) else report
    return record(store, report_of("coincidences", data)).run_id


def record_narrative_sync(store: EventStore, result: dict[str, Any]) -> str:
    """Store narrative synchronisation; articles carry no TLP marking, so items are clear."""
    return record(store, report_of("narrative_sync", result)).run_id
