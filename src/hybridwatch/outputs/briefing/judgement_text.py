"""Key judgements as sentences, rebuilt from a stored assessment item's fields.

The briefing words each judgement itself rather than print the stored ``statement``: runs stored
by older versions carry ungrammatical text ("It is remote chance that"), and the stored text
repeats the no-skill caveat that the briefing states once, above all judgements.
"""

from __future__ import annotations

from typing import Any

from hybridwatch.model.phia import phia_term
from hybridwatch.model.phrasing import country_phrase

#: The confidence reason every judgement shares when the backtest shows no skill; the briefing
#: states it once in its caveat, so it is not repeated under each judgement.
NO_SKILL_REASON = "the backtest shows no demonstrable skill over the base rate"


def _pct(value: float) -> str:
    return f"{100 * float(value):.0f}%"


def judgement_sentence(item: dict[str, Any]) -> str | None:
    """'There is a remote chance (≤5%) that Germany faces at least one significant hostile
    multi-domain episode in the next 30 days (2%; 1%–8%), low confidence.' — None when the
    item lacks a probability or an outcome (then the stored statement is shown)."""
    probability, outcome = item.get("probability"), item.get("outcome")
    if probability is None or not outcome:
        return None
    judgement = phia_term(min(max(float(probability), 0.0), 1.0))
    numbers = _pct(probability)
    if item.get("low") is not None and item.get("high") is not None:
        numbers += f"; {_pct(item['low'])}–{_pct(item['high'])}"
    confidence = f", {item['confidence']} confidence" if item.get("confidence") else ""
    sentence = judgement.sentence(
        f"{country_phrase(item['target'])} faces {outcome} ({numbers}){confidence}.")
    if item.get("model_fitted") is False:
        sentence += " There is too little history to fit the model: this is the base rate."
    return sentence


def confidence_reasons(item: dict[str, Any], *, caveat_shown: bool) -> list[str]:
    """The judgement's confidence reasons, less the shared no-skill one when the briefing's
    caveat already says it. (A reader who does not see the whole run gets the reasons with the
    backtest's skill figure withheld already: ``model.finding_kinds.withhold_run_figures``.)"""
    return [r for r in item.get("confidence_reasons") or []
            if not (caveat_shown and r == NO_SKILL_REASON)]
