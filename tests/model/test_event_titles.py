"""Event titles: CAMEO actions in words, headlines read from news links (real GDELT links)."""

from __future__ import annotations

import csv

import pytest

from hybridwatch.model.event_titles import event_title, headline_from_url


@pytest.mark.parametrize("url, headline", [
    ("https://www.bgdailynews.com/news/international/germany-arrests-people-suspected-of-"
     "trafficking-syrians/article_824a692c-a4e9-577a-bdfa-bd01d220bb84.html",
     "Germany arrests people suspected of trafficking syrians"),
    ("https://www.timescolonist.com/entertainment/jeremy-dutcher-brings-ancestors-songs-to-life"
     "-1.23985964", "Jeremy dutcher brings ancestors songs to life"),
    ("https://www.themoscowtimes.com/2019/10/24/russia-capital-outflow-trillion-ussr-putin-"
     "economist-a67891", "Russia capital outflow trillion ussr putin economist"),
    ("https://week.com/news/2019/10/24/modest-economic-growth-seen-to-reduce-district-87-tax-rate/",
     "Modest economic growth seen to reduce district 87 tax rate"),
    ("http://www.bernama.com/en/general/news.php?id=1782819", None),
    ("https://news.yahoo.com/anxiety-clapping-135045025.html", None),       # two words: a label
    ("https://www.asia-report.example/2024/01/01/story-1190000000", None),  # the demo's links
    ("https://www.panorama.am/en/news/2019/10/24/Franco/2186279", None),
    ("", None), (None, None), ("not a url", None),
])
def test_headline_from_url(url, headline):
    assert headline_from_url(url) == headline


def test_headlines_of_a_real_gdelt_export_use_only_words_of_the_link(shared_data):
    """Over a real 15-minute export: a headline, when found, is words of the link's path in order,
    at least three of them; most links of this export carry one."""
    path = shared_data / "gdelt_samples_and_lookups" / "samples" / "20191024143000.export.CSV"
    with path.open(encoding="utf-8") as handle:
        urls = {row[60] for row in csv.reader(handle, delimiter="\t")}
    found = 0
    for url in urls:
        headline = headline_from_url(url)
        if headline is None:
            continue
        found += 1
        words = headline.lower().split()
        assert len(words) >= 3
        rest = url.lower()
        for word in words:
            assert word in rest, (url, headline)
            rest = rest[rest.index(word) + len(word):]
    assert found >= 0.5 * len(urls)


def test_event_title():
    assert event_title(title="Phishing campaign", source="stix", source_type="campaign") == \
        "Phishing campaign"
    assert event_title(title=None, source="gdelt", source_type="111") == "Criticize or denounce"
    assert event_title(title=None, source="gdelt", source_type="1123",
                       url="https://x.example/news/moscow-accuses-berlin-of-aggression-12345") \
        == "Accuse of aggression: “Moscow accuses berlin of aggression”"
    assert event_title(title=None, source="gdelt", source_type="999") == "CAMEO 999"
    assert event_title(title=" ", source="acled", source_type="Armed clash") == "Armed clash"
    assert event_title(title=None, source="misp", source_type=None) == "(untitled)"
