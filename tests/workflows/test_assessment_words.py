"""The assessment calls its episode outcome hostile only when it is."""

from __future__ import annotations

from datetime import datetime

from hybridwatch.store.findings_store import FindingRun
from hybridwatch.workflows.assessment import episode_words


def _run(include_cooperative: bool | None) -> FindingRun:
    parameters = {} if include_cooperative is None else {
        "include_cooperative": include_cooperative}
    return FindingRun("r", "episodes", datetime(2024, 1, 1), {"parameters": parameters}, (), 0)


def test_hostile_only_when_episodes_and_assessment_count_hostile_events() -> None:
    assert episode_words(_run(False), False) == ("hostile multi-domain episode", [])
    assert episode_words(None, False) == ("hostile multi-domain episode", [])
    words, notes = episode_words(_run(True), False)
    assert "hostile and cooperative" in words and "not called hostile" in notes[0]
    words, notes = episode_words(_run(None), False)      # stored before the rule
    assert "hostile and cooperative" in words and notes
    words, notes = episode_words(_run(False), True)
    assert words == "multi-domain episode (hostile and cooperative events)" and not notes
