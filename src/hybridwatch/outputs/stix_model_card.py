"""The risk model's model card as a STIX 2.1 ``note`` on the assessment run's grouping."""

from __future__ import annotations

from typing import Any

from hybridwatch.model.stix_findings import note_content
from hybridwatch.outputs.model_card import render_markdown
from hybridwatch.outputs.stix_objects import Obj, derived, sdo
from hybridwatch.store.store import EventStore
from hybridwatch.workflows.model_card import model_card


def model_card_note(store: EventStore, run: Any, *, stamp: str, creator_id: str,
                    group_id: str, tlp: str) -> Obj:
    """A note whose content is the card in Markdown followed by its JSON record
    (``"hybridwatch": "model-card"``; importers that do not know it keep it as a plain note).
    Built from the run alone, so a store that imported the bundle exports the same note."""
    card = model_card(store, run=run, from_store=False)
    return sdo("note", f"model-card:{tlp}", stamp, created_by_ref=creator_id,
               abstract=f"hybridwatch risk model: model card (evaluated {stamp[:10]})",
               content=note_content(render_markdown(card), {
                   "hybridwatch": "model-card", "run_id": run.run_id, "card": card}),
               object_refs=[group_id], external_references=derived("model-card"))
