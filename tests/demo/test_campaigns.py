"""The demo's hidden campaigns: a schedule with the stated rates and spacing, planted from their
own random stream beside the named episodes, with their records in the files."""

from __future__ import annotations

import json

import numpy as np

from hybridwatch.demo import scenario_campaigns as camp
from hybridwatch.demo.scenario import CAMPAIGNS, generate_scenario


def test_schedule_rates_spacing_and_reserved_days():
    rng = np.random.default_rng(1)
    schedule = camp.campaign_schedule(rng, 20_000, ("A", "B"), reserved=[(500, 504)])
    share = camp.START_RATE / (camp.START_RATE + camp.END_RATE)     # stationary campaign share
    assert abs(schedule.active.mean() - share) < 0.05
    for k, target in enumerate(schedule.targets):
        days = np.array(schedule.episode_days[target])
        assert days.min() >= camp.WARM_UP_DAYS and np.diff(days).min() >= camp.MIN_GAP_DAYS
        assert not any(abs(d - r) < camp.MIN_GAP_DAYS for d in days for r in range(500, 505))
        # episodes come with campaigns: far more often on campaign days than off them
        on = schedule.active[days, k].mean()
        assert on > 0.9, on


def test_campaigns_are_planted_beside_the_named_episodes(tmp_path):
    plain = generate_scenario(tmp_path / "plain", random_state=7, days=400)
    with_campaigns = generate_scenario(tmp_path / "camp", random_state=7, days=400,
                                       campaigns=True)
    before = json.loads(plain.ground_truth.read_text(encoding="utf-8"))
    after = json.loads(with_campaigns.ground_truth.read_text(encoding="utf-8"))
    assert "campaigns" not in before
    assert [(e["id"], e["start"], e["end"]) for e in before["episodes"]] == \
        [(e["id"], e["start"], e["end"]) for e in after["episodes"]]
    truth = after["campaigns"]
    assert truth["targets"] == list(CAMPAIGNS) and truth["episodes"]
    stix = with_campaigns.stix.read_text(encoding="utf-8")
    gdelt = with_campaigns.gdelt.read_text(encoding="utf-8")
    for episode in truth["episodes"]:
        target = episode["targets_iso3"][0]
        assert target in CAMPAIGNS and len(episode["domains"]) >= 3
        assert episode["records"]
        for record in episode["records"].get("stix", [])[:3]:
            assert record in stix
        for record in episode["records"].get("gdelt", [])[:3]:
            assert record in gdelt
