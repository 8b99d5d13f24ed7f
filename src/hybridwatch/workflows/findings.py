"""Record analysis results as findings in the store, each with the TLP level of its evidence.

The CLI's analysis commands call these after computing, so ``brief``, ``serve`` and
``export stix`` can render the latest results without recomputing them.
"""

from __future__ import annotations

from typing import Any

from hybridwatch.analyses.selectors import parse_selector
from hybridwatch.analyses.series import select_events
from hybridwatch.store import EventStore
from hybridwatch.model.tlp import most_restricted
from hybridwatch.model.finding_kinds import get_kind
from hybridwatch.store.findings_store import items_of, save_run, tlp_of_events
from hybridwatch.workflows.coordination import EpisodesReport, GridReport
from hybridwatch.workflows.evidence import located_events


def episode_key(episode: dict[str, Any]) -> str:
    return get_kind("episodes").key(episode)


def record_episodes(store: EventStore, report: EpisodesReport | dict[str, Any]) -> str:
    """Store detected episodes; an episode is as restricted as its most restricted event."""
    data = report.to_dict() if isinstance(report, EpisodesReport) else report
    items = items_of("episodes", data["episodes"],
                     [tlp_of_events(store, e["event_ids"]) for e in data["episodes"]])
    return save_run(store, "episodes", {k: v for k, v in data.items() if k != "episodes"}, items)


def series_tlp(store: EventStore, label: str) -> str:
    """The most restricted TLP level among the events of a selector's series."""
    selector = parse_selector(label)
    events = select_events(located_events(store, [selector]), selector)
    levels = events.select(events.tlp).distinct().to_pyarrow()["tlp"].to_pylist()
    return most_restricted(levels)


def record_coincidences(store: EventStore, report: GridReport | dict[str, Any]) -> str:
    """Store an all-pairs coincidence grid; a pair is as restricted as its two series."""
    data = report.to_dict() if isinstance(report, GridReport) else report
    tlp = {label: series_tlp(store, label) for label in data["series"]}
    items = items_of("coincidences", data["pairs"],
                     [most_restricted([tlp[pair["a"]], tlp[pair["b"]]]) for pair in data["pairs"]])
    return save_run(store, "coincidences", {k: v for k, v in data.items() if k != "pairs"},
                    items)


def record_narrative_sync(store: EventStore, result: dict[str, Any]) -> str:
    """Store narrative synchronisation; articles carry no TLP marking, so items are clear."""
    items = items_of("narrative_sync", result["narratives"])
    return save_run(store, "narrative_sync",
                    {k: v for k, v in result.items() if k != "narratives"}, items)
