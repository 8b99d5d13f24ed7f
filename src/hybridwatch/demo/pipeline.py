"""The demo's main job as a library function: generate the scenario, ingest it, run every
analysis, record the findings and write the briefing. ``hybridwatch demo`` only prints it."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from hybridwatch.adapters import ReadOptions
from hybridwatch.demo.scenario import generate_scenario
from hybridwatch.model.outlet_groups import load_outlet_groups
from hybridwatch.outputs.briefing import write_briefing
from hybridwatch.store import EventStore
from hybridwatch.store.narratives_store import list_narratives
from hybridwatch.store.run_history import pin_run
from hybridwatch.store.ingest import ProgressCallback
from hybridwatch.workflows.assessment import run_assessment
from hybridwatch.workflows.convergence import measure_convergence, record_convergence
from hybridwatch.workflows.coordination import coincide_grid, detect_episodes
from hybridwatch.workflows.findings import (
    record_coincidences, record_episodes, record_narrative_sync,
)
from hybridwatch.workflows.ingest import ingest_file
from hybridwatch.workflows.narrative_build import build_narratives
from hybridwatch.workflows.narratives import narrative_sync
from hybridwatch.workflows.supply import SupplyQuery, record_supply, run_supply

#: The assessment's scenario spans these targets: a German port, the Taiwan Strait, Poland.
ASSESSMENT_TARGETS = ["DEU", "POL", "TWN"]
#: Series an analyst of the scenario would pair up: cyber and military pressure against each
#: target, and the disinformation aimed at it (plus an unrelated target as a control).
DEMO_GRID = ("domain=cyber actor=RUS target=DEU ; source=euvsdisinfo target=DEU ; "
             "domain=military actor=RUS target=POL ; source=euvsdisinfo target=POL ; "
             "domain=military actor=CHN target=TWN ; domain=cyber actor=CHN target=TWN ; "
             "domain=cyber actor=CHN target=DEU ; source=euvsdisinfo target=LTU")
#: The level the demo briefs at.
DEMO_TLP = "amber"

#: Progress of one file's ingest: a context manager yielding a "records read" callback.
FileProgress = Callable[[str], AbstractContextManager[ProgressCallback]]


#: Three years: a baseline year, then enough backtest origins (with the hidden campaigns) for
#: the risk model's episode backtest to hold well over 30 positive outcomes.
DEMO_DAYS = 1095
#: The demo's last day, whatever its length: before any ingest (records dated after the day
#: they are ingested are quarantined); two years start on 2024-01-01, three on 2023-01-01.
DEMO_END = date(2025, 12, 30)


def run_demo(out_dir: Path, db: Path, *, seed: int = 7, days: int = DEMO_DAYS,
             say: Callable[[str], None] = lambda _message: None,
             file_progress: FileProgress = lambda _label: nullcontext(lambda _n: None)
             ) -> dict[str, Any]:
    """Run the demo end to end; returns its summary (what ``demo --json`` prints).

    ``say`` receives one line per step; ``file_progress`` a label per ingested file.
    """
    started = time.perf_counter()
    say(f"generating the demo scenario (seed {seed}, {days} days) in {out_dir}/")
    files = generate_scenario(out_dir, random_state=seed, days=days, campaigns=True,
                              start=DEMO_END - timedelta(days=days - 1))
    reports = []
    with EventStore(db) as store:
        for path, format_name, mapping in files.inputs():
            with file_progress(path.name) as progress:
                report = ingest_file(store, path, format=format_name,
                                     options=ReadOptions(mapping_path=mapping), progress=progress)
            reports.append(report)
            say(f"  {path.relative_to(out_dir)}: {report.format}: {report.ingested:,} new, "
                f"{report.duplicates:,} duplicates, {report.quarantined:,} quarantined"
                + (" (already ingested)" if report.status == "unchanged" else ""))
        stats = store.stats()
        truth = json.loads(files.ground_truth.read_text(encoding="utf-8"))
        planted = [_planted_episode(store, episode) for episode in truth["episodes"]]
        say("detecting multi-domain episodes and coinciding series …")
        episodes = detect_episodes(store, target_groups=[ASSESSMENT_TARGETS],
                                   random_state=seed).to_dict()
        pairs = coincide_grid(store, DEMO_GRID, random_state=seed).to_dict()
        say("clustering articles into narratives and measuring their synchronisation …")
        build_narratives(store, random_state=seed)
        narratives = {n["id"]: n for n in list_narratives(store,
                                                          outlet_groups=load_outlet_groups())}
        sync = narrative_sync(store, random_state=seed)
        runs = {"episodes": record_episodes(store, episodes),
                "coincidences": record_coincidences(store, pairs),
                "narrative_sync": record_narrative_sync(store, sync)}
        say("measuring RUS–CHN convergence and assessing risk per target …")
        index, tlps = measure_convergence(store, random_state=seed)
        convergence = record_convergence(store, index, tlps, a="RUS", b="CHN")
        assessment = run_assessment(store, targets=ASSESSMENT_TARGETS, random_state=seed)
        runs.update(convergence=convergence["run_id"], assessment=assessment["run_id"])
        say("screening trade for diversion of integrated circuits to Russia …")
        supply = run_supply(store, SupplyQuery(product="8542", destination="RUS"))
        runs["supply"] = record_supply(store, supply)
        # pinned: the demo briefing never changes under a user's exploratory commands
        for run_id in runs.values():
            pin_run(store, run_id)
        say(f"writing the demo briefing (TLP:{DEMO_TLP.upper()}) …")
        briefing = write_briefing(store, out_dir / "briefing", tlp=DEMO_TLP, record=True)
    return {
        "out": str(out_dir), "db": str(db), "seed": seed, "ground_truth": str(files.ground_truth),
        "files": [r.to_dict() for r in reports], "stats": stats, "planted_episodes": planted,
        "episodes": episodes["episodes"],
        "significant_pairs": [p for p in pairs["pairs"] if p["significant"]],
        "coincidence": {k: v for k, v in pairs.items() if k != "pairs"},
        "narratives": list(narratives.values()),
        "synchronised_narratives": [{**row, "label": narratives[row["narrative"]]["label"]}
                                    for row in sync["narratives"] if row["significant"]],
        "planted_narratives": [{k: n[k] for k in ("id", "leader", "follower", "lag_days")}
                               for n in truth["narratives"]],
        "convergence": convergence["periods"][-6:],
        "assessment": assessment,
        "supply": {k: supply[k] for k in ("diversion", "diversion_test", "warnings")},
        "planted_diversion": truth.get("trade_diversion"),
        "runs": runs,
        "planted_campaigns": _campaigns_found(truth.get("campaigns"), episodes["episodes"]),
        "briefing": briefing.to_dict(),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _planted_episode(store: EventStore, episode: dict) -> dict:
    """A planted episode of the ground truth, with how many of its events the store holds."""
    ids = [record for records in episode["records"].values() for record in records]
    held = store.count_events_by_source_record(ids)
    return {"id": episode["id"], "start": episode["start"], "end": episode["end"],
            "domains": episode["domains"], "targets": episode["targets_iso3"],
            "planted_records": len(ids), "events_in_store": held}


def _campaigns_found(campaigns: dict | None, detected: list[dict]) -> dict | None:
    """The hidden campaigns' planted episodes per target, and how many the scan found (a
    detected episode against the target starting within three days of the planted start)."""
    if not campaigns:
        return None
    out = {}
    for target in campaigns["targets"]:
        planted = [e for e in campaigns["episodes"] if target in e["targets_iso3"]]
        starts = [np.datetime64(d["start"][:10], "D") for d in detected
                  if target in d["targets"]]
        found = sum(any(abs((np.datetime64(e["start"], "D") - s).astype(int)) <= 3
                        for s in starts) for e in planted)
        out[target] = {"planted": len(planted), "detected": found,
                       "campaign_days": campaigns["campaign_days"][target]}
    return out
