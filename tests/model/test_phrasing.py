"""The phrasing rules against sentences a careful writer would produce (cases written by hand)."""

from __future__ import annotations

import pytest

from hybridwatch.model.phia import phia_term
from hybridwatch.model.phrasing import (
    capitalise_first, count, country_phrase, indefinite_article, join_words, phia_lead,
    phia_sentence, plural, with_article,
)


@pytest.mark.parametrize("word, article", [
    ("analyst", "an"), ("episode", "an"), ("intrusion set", "an"), ("outlet", "an"),
    ("hostile episode", "a"), ("significant pair", "a"), ("cyber attack", "a"),
    ("university", "a"), ("user", "a"), ("usual pattern", "a"), ("European partner", "a"),
    ("one-off spike", "a"), ("once-only event", "a"), ("Ukrainian port", "a"),
    ("umbrella", "an"), ("urgent warning", "an"), ("hour", "an"), ("honest broker", "an"),
    ("heir", "an"), ("historic low", "a"), ("EU member", "an"), ("FBI report", "an"),
    ("NGO", "an"), ("MoD", "an"), ("UN resolution", "a"), ("US ally", "a"),
    ("NATO exercise", "a"), ("STIX bundle", "a"), ("GDELT event", "a"), ("ACLED record", "an"),
    ("ISO3 code", "an"), ("TLP marking", "a"), ("8-day window", "an"), ("11-day lag", "an"),
    ("18% rise", "an"), ("1-day lag", "a"), ("80% band", "an"), ("100-day window", "a"),
    ("X25519 key", "an"), ("", "a"),
])
def test_indefinite_article(word, article):
    assert indefinite_article(word) == article


def test_with_article():
    assert with_article("analyst") == "an analyst"
    assert with_article("remote chance") == "a remote chance"


@pytest.mark.parametrize("noun, expected", [
    ("identity", "identities"), ("episode", "episodes"), ("analysis", "analyses"),
    ("series", "series"), ("coinciding series pair", "coinciding series pairs"),
    ("evidence event", "evidence events"), ("judgement", "judgements"),
    ("convergence period", "convergence periods"), ("day", "days"), ("key", "keys"),
    ("country", "countries"), ("policy", "policies"), ("box", "boxes"), ("match", "matches"),
    ("crash", "crashes"), ("bus", "buses"), ("index", "indices"), ("embargo", "embargoes"),
    ("NGO", "NGOs"), ("person", "people"), ("life", "lives"), ("narrative", "narratives"),
    ("Analysis", "Analyses"), ("survey", "surveys"), ("theatre", "theatres"),
])
def test_plural(noun, expected):
    assert plural(noun) == expected


@pytest.mark.parametrize("n, noun, expected", [
    (1, "identity", "1 identity"), (0, "identity", "0 identities"),
    (2, "identity", "2 identities"), (1, "coinciding series pair", "1 coinciding series pair"),
    (3, "coinciding series pair", "3 coinciding series pairs"), (1204, "event", "1,204 events"),
    (1.0, "day", "1 day"), (2.5, "day", "2.5 days"), (1, "series", "1 series"),
    (4, "series", "4 series"), (1, "analysis", "1 analysis"),
])
def test_count(n, noun, expected):
    assert count(n, noun) == expected


def test_count_reads_registry_nouns():
    assert count(1, "episode(s)") == "1 episode"
    assert count(3, "coincidence pair(s)") == "3 coincidence pairs"
    assert count(1, "screening match(es)") == "1 screening match"
    assert count(2, "screening match(es)") == "2 screening matches"


def test_count_zero_and_irregular():
    assert count(0, "episode", zero="no episode") == "no episode"
    assert count(1, "episode", zero="no episode") == "1 episode"
    assert count(2, "datum", "data points") == "2 data points"


@pytest.mark.parametrize("value, expected", [
    ("DEU", "Germany"), ("USA", "the United States"), ("GBR", "the United Kingdom"),
    ("NLD", "the Netherlands"), ("PHL", "the Philippines"), ("CZE", "Czechia"),
    ("ARE", "the United Arab Emirates"), ("CAF", "the Central African Republic"),
    ("DOM", "the Dominican Republic"), ("SLB", "the Solomon Islands"), ("BHS", "the Bahamas"),
    ("GMB", "the Gambia"), ("TWN", "Taiwan"), ("POL", "Poland"), ("RUS", "Russia"),
    ("COG", "the Republic of the Congo"), ("Czech Republic", "the Czech Republic"),
    ("United States", "the United States"), ("Russian Federation", "the Russian Federation"),
    ("Germany", "Germany"), ("The Hague", "the Hague"), ("XYZ", "XYZ"),
])
def test_country_phrase(value, expected):
    assert country_phrase(value) == expected


def test_country_phrase_at_sentence_start():
    assert country_phrase("USA", sentence_start=True) == "The United States"
    assert country_phrase("DEU", sentence_start=True) == "Germany"


@pytest.mark.parametrize("term, lead", [
    ("remote chance", "There is a remote chance"),
    ("realistic possibility", "There is a realistic possibility"),
    ("highly unlikely", "It is highly unlikely"), ("unlikely", "It is unlikely"),
    ("likely", "It is likely"), ("highly likely", "It is highly likely"),
    ("almost certain", "It is almost certain"),
])
def test_phia_lead(term, lead):
    assert phia_lead(term) == lead


def test_phia_sentences_from_probabilities():
    assert phia_term(0.02).sentence("Germany faces an episode.") == \
        "There is a remote chance (≤5%) that Germany faces an episode."
    assert phia_term(0.45).sentence("the United States faces an episode.") == \
        "There is a realistic possibility (40–50%) that the United States faces an episode."
    assert phia_term(0.6).sentence("Poland faces X.") == "It is likely (55–75%) that Poland faces X."
    assert phia_term(0.07).sentence("X.").startswith(
        "There is a remote chance (7%, in the yardstick's 5–10% gap) that")
    assert phia_sentence("unlikely", "it rains.", "25–35%") == \
        "It is unlikely (25–35%) that it rains."


def test_join_words_and_capitalise():
    assert join_words([]) == ""
    assert join_words(["cyber"]) == "cyber"
    assert join_words(["cyber", "military"]) == "cyber and military"
    assert join_words(["cyber", "military", "information"]) == "cyber, military and information"
    assert join_words(["DEU", "POL"], "or") == "DEU or POL"
    assert capitalise_first("the United States") == "The United States"
    assert capitalise_first("") == ""


def test_dates():
    from datetime import date

    from hybridwatch.model.phrasing import date_range, long_date
    assert long_date(date(2024, 1, 1)) == "1 January 2024"
    assert date_range(date(2024, 1, 1), date(2025, 12, 30)) == "1 January 2024 – 30 December 2025"
    assert date_range(date(2025, 3, 1), date(2025, 6, 30)) == "1 March – 30 June 2025"
    assert date_range(date(2025, 3, 1), date(2025, 3, 31)) == "1 – 31 March 2025"
    assert date_range(date(2025, 3, 4), date(2025, 3, 4)) == "4 March 2025"
    assert date_range(date(2025, 3, 4), None) == "from 4 March 2025"
    assert date_range(None, date(2025, 3, 4)) == "until 4 March 2025"
    assert date_range(None, None) == ""
