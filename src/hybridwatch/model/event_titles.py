"""What an event is, in words a reader can scan: its title, else what its source's code means
plus the headline its link carries.

GDELT codes news reports with a CAMEO action and a link but no headline; most news sites put
the headline in the link's path ("…/germany-arrests-people-suspected-of-trafficking-syrians/…").
An untitled GDELT event therefore reads "Accuse: Germany arrests people suspected of
trafficking Syrians" rather than "CAMEO 112" beside a bare URL. A link without a readable slug
("story-1150000000", "news.php?id=1782819") gives the action alone.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from hybridwatch.model.cameo import describe_cameo

__all__ = ["event_title", "headline_from_url"]

#: Fewer slug words than this is a label ("anxiety-clapping"), not a headline.
MIN_HEADLINE_WORDS = 3
_EXTENSION = re.compile(r"\.(s?html?|php|aspx?|jsp|cms)$", re.IGNORECASE)
_WORD = re.compile(r"^[^\W\d_]+(?:'[^\W\d_]+)?$", re.UNICODE)


def _slug_words(segment: str) -> list[str]:
    """The words of one path segment, with trailing id-like tokens removed."""
    tokens = [t for t in re.split(r"[-_+]+", _EXTENSION.sub("", unquote(segment))) if t]
    while tokens and not _WORD.match(tokens[-1]):      # ids: "1.23985964", "a67891", hashes
        tokens.pop()
    while tokens and not _WORD.match(tokens[0]) and not tokens[0].isdigit():
        tokens.pop(0)
    return tokens


def headline_from_url(url: str | None) -> str | None:
    """The headline a news link's path spells, sentence-cased; None when it has none.

    >>> headline_from_url("https://x.example/news/germany-arrests-people-suspected-of-trafficking-syrians/article_824a.html")
    'Germany arrests people suspected of trafficking syrians'
    """
    if not url:
        return None
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return None
    best: list[str] = []
    for segment in path.split("/"):
        words = _slug_words(segment)
        alphabetic = [w for w in words if _WORD.match(w)]
        if len(alphabetic) >= MIN_HEADLINE_WORDS and len(alphabetic) >= 0.6 * len(words) \
                and len(alphabetic) > len([w for w in best if _WORD.match(w)]):
            best = words
    if not best:
        return None
    text = " ".join(best)
    return text[:1].upper() + text[1:]


def event_title(*, title: str | None, source: str | None, source_type: str | None,
                url: str | None = None) -> str:
    """The event's own title; else, for GDELT, its CAMEO action and the link's headline; else
    its source's type; else '(untitled)'."""
    if title and title.strip():
        return title.strip()
    if source == "gdelt":
        action = describe_cameo(source_type) or (f"CAMEO {source_type}" if source_type else None)
        headline = headline_from_url(url)
        if action and headline:
            return f"{action}: “{headline}”"
        return action or headline or "(untitled)"
    return source_type or headline_from_url(url) or "(untitled)"
