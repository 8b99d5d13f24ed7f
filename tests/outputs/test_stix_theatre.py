"""An episode whose where is a theatre exports as a campaign targeting a theatre location (name,
coordinates inside the theatre), not as a fake country."""

from __future__ import annotations

import json
from pathlib import Path

import stix2

from hybridwatch.outputs.stix_export import export_stix
from hybridwatch.store import EventStore
from hybridwatch.workflows.findings import record_episodes


def test_theatre_episode_targets_a_theatre_location(tmp_path: Path) -> None:
    with EventStore(tmp_path / "s.duckdb") as store:
        store._con.execute(
            "INSERT INTO events (event_id, source, source_record_id, occurred_at, "
            "occurred_precision, domain, target_iso3s, lat, lon) VALUES "
            "('a', 'test', 'a', '2024-01-02', 'day', 'military', [], 24.0, 119.5), "
            "('b', 'test', 'b', '2024-01-02', 'day', 'cyber', ['DEU'], NULL, NULL)")
        record_episodes(store, {"start": "2024-01-01", "end": "2024-01-31", "episodes": [{
            "start": "2024-01-02", "end": "2024-01-03", "targets": ["DEU", "Taiwan Strait"],
            "domains": ["cyber", "military"], "p_value": 0.01, "statistic": 5.0,
            "zone": "cross", "window_days": 2, "n_events": 2, "event_ids": ["a", "b"],
            "signals": []}]})
        bundle = json.loads(export_stix(store, tlp="red").to_json())
    stix2.parse(bundle, allow_custom=True)
    by_id = {o["id"]: o for o in bundle["objects"]}
    campaign = next(o for o in bundle["objects"] if o["type"] == "campaign"
                    and o["name"].startswith("Multi-domain episode"))
    targeted = [by_id[o["target_ref"]] for o in bundle["objects"]
                if o["type"] == "relationship" and o["relationship_type"] == "targets"
                and o["source_ref"] == campaign["id"]]
    strait = next(t for t in targeted if t["name"] == "Taiwan Strait")
    assert 22 < strait["latitude"] < 26 and 117 < strait["longitude"] < 122
    assert "country" not in strait and "CHN, TWN" in strait["description"]
    assert any(t.get("country") == "DE" for t in targeted)
