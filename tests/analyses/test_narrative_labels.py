"""Narrative labels lose each outlet's site furniture: words an outlet repeats in the kicker or
tail of unrelated headlines ("Roundup:", "… - most read") across many of its narratives.
Planted boilerplate on generated headlines, and the real Xinhua/CGTN/BBC headlines of
../shared/data, whose column kickers are known (Xinhua's "Feature:", "Roundup:", "Focus:",
"Commentary:", "Xinhua Headlines:", "GLOBALINK |", "Interview:")."""

from __future__ import annotations

import duckdb
import numpy as np

from hybridwatch.analyses.narratives import (
    ClusterParams, fit_narratives, headline_frame, label_terms, make_label, outlet_boilerplate,
)

STORIES = {
    "s1": ["Flood waters rise along the Danube river", "Danube river flood forces evacuations",
           "Evacuations as the Danube river floods"],
    "s2": ["Chip export controls tighten on semiconductors", "Semiconductors face chip export curbs",
           "New chip export rules hit semiconductors"],
    "s3": ["Drought withers wheat harvest in the plains", "Wheat harvest shrinks in the drought",
           "Plains drought cuts the wheat harvest"],
    "s4": ["Satellite launch delayed by rocket fault", "Rocket fault delays satellite launch",
           "Satellite launch slips after rocket fault"],
    "s5": ["Teachers strike over pay across schools", "Schools shut as teachers strike on pay",
           "Pay strike by teachers closes schools"],
    "s6": ["Museum returns looted bronze statues", "Looted bronze statues returned by museum",
           "Bronze statues back home from the museum"],
}


def _planted() -> tuple[list[str], list[str], list[str]]:
    """Outlet A frames every headline ("Most read: …", "… | Daily Gazette"); outlet B does not."""
    texts, ids, outlets = [], [], []
    for story, headlines in STORIES.items():
        for i, text in enumerate(headlines):
            texts.append(f"Most read: {text}" if i % 2 else f"{text} | Daily Gazette")
            ids.append(story)
            outlets.append("gazette")
            texts.append(text)
            ids.append(story)
            outlets.append("wire")
    return texts, ids, outlets


def test_headline_frame_is_the_kicker_and_the_tail():
    assert headline_frame("Roundup: Sudan talks resume in Jeddah") == {"roundup"}
    assert headline_frame("Talks resume - most read") == {"most", "read"}
    assert headline_frame("GLOBALINK | Farmers harvest tea") == {"globalink"}
    assert headline_frame("Farmers harvest tea in Yunnan") == set()
    # a long clause before a colon is a sentence, not a kicker
    assert headline_frame("The minister said on Monday in the capital city: talks go on") == set()


def test_planted_boilerplate_is_stripped_from_labels_and_stories_kept():
    texts, ids, outlets = _planted()
    boilerplate = outlet_boilerplate(texts, ids, outlets)
    assert boilerplate == {"gazette": {"most", "read", "daily", "gazette"}}
    plain = label_terms(texts, ids)
    clean = label_terms(texts, ids, outlets=outlets)
    furniture = {"most", "read", "daily", "gazette"}
    # without outlets the furniture is among the narratives' terms; with them, never
    assert sum(bool(set(terms) & furniture) for terms in plain.values()) >= 4
    assert not any(set(terms) & furniture for terms in clean.values())
    assert "danube" in clean["s1"][:3] and "chip" in clean["s2"][:3]


def test_a_kicker_every_outlet_writes_is_not_boilerplate():
    texts, ids, outlets = _planted()
    # both outlets write "Update:" before unrelated headlines: no outlet owns it
    texts = [f"Update: {t}" for t in texts]
    assert "update" not in set().union(*outlet_boilerplate(texts, ids, outlets).values())
    # a kicker in fewer narratives than min_narratives is a story's, not the outlet's
    few = outlet_boilerplate(texts, ids, outlets, min_narratives=7)
    assert few == {}


def test_real_xinhua_column_kickers_are_found_and_leave_the_labels(shared_data):
    rows = duckdb.sql(
        "SELECT outlet, title FROM read_csv_auto(?) WHERE title IS NOT NULL "
        "AND outlet IN ('xinhuanet', 'cgtn', 'bbc') ORDER BY md5(outlet || title) LIMIT 4000",
        params=[str(shared_data / "cn_state_media_headlines_2022" / "headlines_all.csv")]
    ).fetchall()
    outlets, texts = [r[0] for r in rows], [r[1] for r in rows]
    _, update = fit_narratives(texts, ClusterParams.for_model("tfidf", random_state=7),
                               model="tfidf")
    ids = list(update.narrative_ids)
    boilerplate = outlet_boilerplate(texts, ids, outlets)
    xinhua = boilerplate.get("xinhuanet", set())
    columns = {"feature", "focus", "roundup", "commentary", "xinhua", "globalink", "interview"}
    assert len(xinhua & columns) >= 4, xinhua
    # story words are not furniture, whichever outlet writes them
    content = {"china", "chinese", "ukraine", "covid", "russia", "president", "cases"}
    assert not content & set().union(*boilerplate.values())
    # and every word found really is a kicker: at least half the outlet's uses in the frame
    for outlet, words in boilerplate.items():
        mine = [t for t, o in zip(texts, outlets) if o == outlet]
        for word in words:
            using = [t for t in mine if word in t.lower()]
            framed = np.mean([word in headline_frame(t) for t in using])
            assert framed >= 0.5, (outlet, word)
    clean = label_terms(texts, ids, outlets=outlets)
    stripped = set().union(*boilerplate.values())
    xinhua_narratives = {n for n, o in zip(ids, outlets) if o == "xinhuanet" and n}
    assert xinhua_narratives
    for narrative in xinhua_narratives:
        label = make_label(clean.get(narrative, []))
        assert not set(label.split(" / ")) & (stripped & columns), label
