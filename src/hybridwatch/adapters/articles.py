"""News articles: JSON lines, headline CSVs and RSS/Atom feeds, into the articles table.

All three formats share ``source = "articles"``, so one article reached through two formats under
the same id (its ``id``, guid or URL) gets the same ``article_id`` and is stored once.

* ``articles-jsonl``: one JSON object a line: ``outlet``, ``published_at`` (ISO 8601, any zone),
  ``title``, ``text``, ``language``, ``url``, ``id`` (optional); other keys go to ``extra``.
* ``articles-csv``: a header naming ``outlet``, ``title`` and a date column (``published_at``,
  ``published`` or ``date``); optional ``text``/``summary``, ``language``, ``url``/``link``, ``id``.
  An empty date falls back to ``scraped_at`` (or ``retrieved_at``/``collected_at``) and ``extra``
  says so (``published_fallback``). Dates without a zone are taken as UTC: the CN state-media
  headline file gives times as shown on each site, whose zone the file does not record.
* ``rss``: RSS 2.0 / Atom (and RSS 1.0) via feedparser: outlet = feed title, one article per item.

Record ids: the record's ``id`` (guid), else its URL, else md5 of outlet, UTC time and title.
Language: the record's own, else a script guess for Cyrillic (ru) or CJK (zh) text, else the
feed's language; CSV files without a language column default to English ("en").
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hybridwatch.adapters.base import (
    RECORD_FAULTS,
    record_error,
    Adapter,
    Batch,
    ReadOptions,
    RecordError,
    Rejection,
    RowBuilder,
)
from hybridwatch.adapters.textio import (
    decode_head,
    iter_csv_records,
    iter_lines,
    open_bytes,
    read_csv_header,
)
from hybridwatch.errors import FormatError, InputError
from hybridwatch.model.times import parse_time

SOURCE = "articles"
FLUSH_ROWS = 50_000
_DATE_COLUMNS = ("published_at", "published", "date")
_FALLBACK_DATE_COLUMNS = ("scraped_at", "retrieved_at", "collected_at")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def fallback_record_id(outlet: str, published_at: datetime, title: str | None) -> str:
    """The id of a record that has neither id nor URL: md5 of outlet, ISO UTC time and title."""
    key = f"{outlet}\x1f{published_at.isoformat()}\x1f{title or ''}"
    return hashlib.md5(key.encode("utf-8")).hexdigest()


def guess_script_language(text: str | None) -> str | None:
    """'ru' for Cyrillic text, 'zh' for CJK ideographs, None otherwise (no guess for Latin)."""
    if not text:
        return None
    if _CJK.search(text):
        return "zh"
    if _CYRILLIC.search(text):
        return "ru"
    return None


def _language_code(value: Any) -> str | None:
    """ISO 639-1 part of a language tag ('en-US' → 'en')."""
    if not isinstance(value, str) or not value.strip():
        return None
    return re.split(r"[-_]", value.strip().lower())[0] or None


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _parse_published(value: Any) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise RecordError("published_at", "missing date")
    try:
        return parse_time(value)[0]
    except ValueError as exc:
        raise RecordError("published_at", str(exc)) from None


def _url_host(url: Any) -> str | None:
    """``www.``-less host of an http(s) URL, or None."""
    from urllib.parse import urlsplit

    text = _text_or_none(url)
    if text is None or not text.lower().startswith(("http://", "https://")):
        return None
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return host.removeprefix("www.") if host else None


def _article_row(outlet: Any, published_at: datetime, title: Any, text: Any, language: Any,
                 url: Any, record_id: Any, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The article row, with the record-id and language fallbacks of the module docstring."""
    title_text, body, link = _text_or_none(title), _text_or_none(text), _text_or_none(url)
    # a record with only a URL is named after its web domain, which outlet groups also match
    outlet_name = _text_or_none(outlet) or _url_host(link)
    if outlet_name is None:
        raise RecordError("outlet", "missing outlet (and no URL to take its domain from)")
    rid = (_text_or_none(record_id) or link
           or fallback_record_id(outlet_name, published_at, title_text))
    lang = _language_code(language) or guess_script_language(f"{title_text or ''} {body or ''}")
    return {"source_record_id": rid, "outlet": outlet_name, "published_at": published_at,
            "title": title_text, "text": body, "language": lang, "url": link,
            "extra": dict(extra) or None}


class _BatchCollector:
    """Accepted rows and rejections of one file, flushed every ``FLUSH_ROWS`` records."""

    def __init__(self, not_after: datetime) -> None:
        self.builder = RowBuilder("articles", SOURCE, not_after=not_after)
        self.rejections: list[Rejection] = []

    def add(self, make_row: Callable[..., dict[str, Any]], args: tuple[Any, ...], raw: str, *,
            line: int | None = None, record: str | None = None) -> None:
        """Append ``make_row(*args)``, or keep a rejection when it raises ``RecordError``."""
        try:
            self.builder.append(make_row(*args))
        except RECORD_FAULTS as caught:
            exc = record_error(caught)
            self.rejections.append(Rejection(exc.reason, raw, line=line, record=record,
                                             field=exc.field))

    def full(self) -> bool:
        return len(self.builder) + len(self.rejections) >= FLUSH_ROWS

    def flush(self) -> Batch:
        batch = Batch("articles", self.builder.flush(), self.rejections)
        self.rejections = []
        return batch


# ----------------------------------------------------------------------------- JSON lines
_JSONL_KEYS = ("outlet", "published_at", "title", "text", "language", "url", "id")


class ArticlesJsonlAdapter(Adapter):
    """One JSON object a line with outlet, published_at, title, text, language, url, id."""

    name = "articles-jsonl"
    description = "news articles as JSON lines (outlet, published_at, title, text, url, id ...)"
    kind = "articles"

    def sniff(self, path: Path, head: bytes) -> int:
        for line in decode_head(head).splitlines():
            if not line.strip():
                continue
            try:
                first = json.loads(line)
            except ValueError:
                return 0
            if not isinstance(first, dict) or not ({"outlet", "url"} & set(first)):
                return 0
            return 90 if ("title" in first or "text" in first) else 0
        return 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        collector = _BatchCollector(options.not_after())
        seen_any = False
        with open_bytes(path) as stream:
            lines = iter_lines(stream, options.max_record_bytes)  # sizes checked while reading
            for number, (raw_bytes, oversized) in enumerate(lines, start=1):
                if number == 1 and raw_bytes.startswith(b"\xef\xbb\xbf"):
                    raw_bytes = raw_bytes[3:]
                if not raw_bytes.strip():
                    continue
                seen_any = True
                raw = raw_bytes.decode("utf-8", errors="backslashreplace").rstrip("\r\n")
                if oversized:
                    raw += " … (cut: oversized)"
                collector.add(_jsonl_row, (raw_bytes, options, oversized), raw, line=number)
                if collector.full():
                    yield collector.flush()
        if not seen_any:
            raise InputError(path, "file is empty")
        yield collector.flush()


def _jsonl_row(raw_bytes: bytes, options: ReadOptions, oversized: bool = False
               ) -> dict[str, Any]:
    if oversized:
        raise RecordError(None, f"oversized line (more than {options.max_record_bytes:,} "
                                "bytes; the rest of it was skipped)")
    if len(raw_bytes) > options.max_record_bytes:
        raise RecordError(None, f"oversized line ({len(raw_bytes):,} bytes > "
                                f"{options.max_record_bytes:,})")
    try:
        record = json.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RecordError(None, f"not UTF-8 text (byte {exc.start}); re-save the file as UTF-8")
    except ValueError as exc:
        raise RecordError(None, f"not JSON ({exc})") from None
    except RecursionError:
        raise RecordError(None, "JSON nested too deeply to read") from None
    if not isinstance(record, dict):
        raise RecordError(None, f"not a JSON object ({type(record).__name__})")
    if _text_or_none(record.get("outlet")) is None and _url_host(record.get("url")) is None:
        raise RecordError("outlet", "missing outlet (and no URL to take its domain from)")
    published = _parse_published(record.get("published_at"))
    extra = {k: v for k, v in record.items() if k not in _JSONL_KEYS}
    return _article_row(record.get("outlet"), published, record.get("title"), record.get("text"),
                        record.get("language"), record.get("url"), record.get("id"), extra)


# ----------------------------------------------------------------------------- CSV
_CSV_ROLES = {  # role → accepted column names, first present wins
    "text": ("text", "summary", "body"), "language": ("language", "lang"),
    "url": ("url", "link"), "id": ("id", "article_id"),
}


class ArticlesCsvAdapter(Adapter):
    """Headline CSV with outlet, title and a date column (published_at, published or date)."""

    name = "articles-csv"
    description = "news headlines/articles as CSV (outlet, title, published_at|published|date)"
    kind = "articles"

    def sniff(self, path: Path, head: bytes) -> int:
        first = decode_head(head).splitlines()[:1]
        if not first:
            return 0
        columns = {c.strip().strip('"').lower() for c in first[0].split(",")}
        if {"outlet", "title"} <= columns and columns & set(_DATE_COLUMNS):
            return 80
        return 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        records = iter_csv_records(path, max_record_bytes=options.max_record_bytes)
        header = read_csv_header(records, path, required=("outlet", "title"))
        date_column = next((c for c in _DATE_COLUMNS if c in header), None)
        if date_column is None:
            raise FormatError(path, f"no date column (one of: {', '.join(_DATE_COLUMNS)})",
                              locator="line 1")
        layout = _CsvLayout(header, date_column)
        collector = _BatchCollector(options.not_after())
        for record in records:
            collector.add(layout.row, (record,), record.raw.rstrip("\r\n"), line=record.line)
            if collector.full():
                yield collector.flush()
        yield collector.flush()


class _CsvLayout:
    """Which header column plays which role, and how one record becomes an article row."""

    def __init__(self, header: list[str], date_column: str) -> None:
        self.header = header
        self.date_column = date_column
        self.fallbacks = [c for c in _FALLBACK_DATE_COLUMNS if c in header]
        self.roles = {role: next((c for c in names if c in header), None)
                      for role, names in _CSV_ROLES.items()}
        used = {"outlet", "title", date_column, *(c for c in self.roles.values() if c)}
        self.extra_columns = [c for c in header if c not in used]

    def row(self, record: Any) -> dict[str, Any]:
        if record.fields is None:
            raise RecordError(None, record.problem or "unreadable record")
        if len(record.fields) != len(self.header):
            raise RecordError(None, f"expected {len(self.header)} fields, "
                                    f"found {len(record.fields)}")
        values = dict(zip(self.header, record.fields))
        extra: dict[str, Any] = {c: values[c] for c in self.extra_columns if values[c] != ""}
        date_text, column = values[self.date_column], self.date_column
        if not date_text.strip():
            column = next((c for c in self.fallbacks if values[c].strip()), column)
            date_text = values[column]
            if column != self.date_column:
                extra["published_fallback"] = column
        try:
            published = _parse_published(date_text)
        except RECORD_FAULTS as caught:
            exc = record_error(caught)
            raise RecordError(column, exc.reason) from None
        role = {r: (values[c] if c else None) for r, c in self.roles.items()}
        language = role["language"] or "en"
        if not role["language"]:  # no language column: English unless the script says otherwise
            language = guess_script_language(f"{values['title']} {role['text'] or ''}") or "en"
        return _article_row(values["outlet"], published, values["title"], role["text"], language,
                            role["url"], role["id"], extra)


# ----------------------------------------------------------------------------- RSS / Atom
_ATOM_NS = "http://www.w3.org/2005/Atom"
_RAW_ITEM = re.compile(rb"<(item|entry)[\s>].*?</\1\s*>", re.DOTALL)


class RssAdapter(Adapter):
    """RSS 2.0, RSS 1.0 and Atom feeds: one article per item or entry."""

    name = "rss"
    description = "RSS 2.0 / Atom news feeds (one article per item; outlet = feed title)"
    kind = "articles"

    def sniff(self, path: Path, head: bytes) -> int:
        text = decode_head(head)[:4096]
        if "<rss" in text or ("<feed" in text and _ATOM_NS in text):
            return 90
        if "<rdf:RDF" in text and "purl.org/rss" in text:
            return 80
        return 0

    def read(self, path: Path, options: ReadOptions) -> Iterator[Batch]:
        import feedparser  # a core dependency, imported late so other formats don't pay for it

        with open_bytes(path) as stream:
            data = stream.read()
        if not data.strip():
            raise InputError(path, "file is empty")
        feed = feedparser.parse(io.BytesIO(data))
        if not feed.entries and (feed.bozo or not feed.version):
            reason = getattr(feed, "bozo_exception", None) or "no RSS or Atom items"
            raise FormatError(path, f"not a readable RSS/Atom feed ({reason})")
        outlet = _text_or_none(feed.feed.get("title")) or path.stem
        feed_language = _language_code(feed.feed.get("language"))
        raws = [m.group(0).decode("utf-8", errors="backslashreplace")
                for m in _RAW_ITEM.finditer(data)]
        collector = _BatchCollector(options.not_after())
        for number, entry in enumerate(feed.entries, start=1):
            raw = raws[number - 1] if len(raws) == len(feed.entries) else \
                json.dumps(entry, ensure_ascii=False, default=str)
            collector.add(_feed_row, (entry, outlet, feed_language, feed.feed), raw,
                          record=f"item {number}")
            if collector.full():
                yield collector.flush()
        yield collector.flush()


def _feed_row(entry: Mapping[str, Any], outlet: str, feed_language: str | None,
              feed_meta: Mapping[str, Any]) -> dict[str, Any]:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if not stamp:
        raise RecordError("published_at", "item has no published or updated date")
    published = datetime.fromtimestamp(calendar.timegm(stamp), UTC).replace(tzinfo=None)
    title = _strip_html(entry.get("title"))
    content = entry.get("content") or []
    text = _strip_html(content[0].get("value") if content else entry.get("summary"))
    # an item's own xml:lang counts only where it differs from the feed's (feedparser copies
    # the feed's down to every item)
    own_language = _language_code((entry.get("title_detail") or {}).get("language"))
    if own_language == feed_language:
        own_language = None
    language = own_language or guess_script_language(f"{title or ''} {text or ''}") or feed_language
    extra: dict[str, Any] = {}
    if not entry.get("published_parsed"):
        extra["published_fallback"] = "updated"
    if entry.get("author"):
        extra["author"] = entry["author"]
    tags = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
    if tags:
        extra["tags"] = tags
    if feed_meta.get("link"):
        extra["feed_link"] = feed_meta["link"]
    return _article_row(outlet, published, title, text, language, entry.get("link"),
                        entry.get("id"), extra)


def _strip_html(value: Any) -> str | None:
    """Feed text as plain text: tags dropped, entities decoded, whitespace collapsed."""
    if not isinstance(value, str):
        return None
    text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", value))).strip()
    return text or None


ADAPTERS = (ArticlesJsonlAdapter(), ArticlesCsvAdapter(), RssAdapter())
