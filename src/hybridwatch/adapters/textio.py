"""Reading files the way every adapter needs: through .zip/.gz, record by record, keeping raw text.

``iter_csv_records`` is the one CSV reader of the row-wise adapters: it reports the line each
record starts on, keeps the record's raw text for quarantine, and turns bad encoding, oversized
records and ragged rows into per-record problems instead of crashing the file. Record sizes are
checked while reading (a 2 GB line never sits in memory), and a compressed file may expand only
within ``DecompressionLimits`` (a bomb is an input error for that file).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import shutil
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hybridwatch.errors import FormatError, InputError

HEAD_BYTES = 64 * 1024
csv.field_size_limit(sys.maxsize)  # we check record size ourselves, with a clear message


@dataclass(frozen=True)
class DecompressionLimits:
    """How far a compressed file may expand. Real GDELT zips expand about 8:1, JSON and CSV
    gzips 5-20:1; a deflate bomb expands 1000:1. The ratio is judged once ``ratio_floor``
    bytes have come out, so a small, very repetitive file is never refused for it."""

    max_bytes: int = 4 << 30           # 4 GiB expanded, whatever the ratio
    max_ratio: float = 200.0           # expanded bytes per byte of the compressed file
    ratio_floor: int = 16 << 20

    def describe(self) -> str:
        return f"{_size_text(self.max_bytes)} and {self.max_ratio:g}:1"


_LIMITS: ContextVar[DecompressionLimits] = ContextVar("hybridwatch_decompression_limits",
                                                      default=DecompressionLimits())


@contextmanager
def decompression_limits(limits: DecompressionLimits) -> Iterator[None]:
    """Apply ``limits`` to every compressed file opened inside the block (ingest sets them
    from ``ReadOptions`` around an adapter's read, so no adapter has to pass them along)."""
    token = _LIMITS.set(limits)
    try:
        yield
    finally:
        _LIMITS.reset(token)


def _size_text(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TiB"


class _CorruptionGuard(io.RawIOBase):
    """A decompressing stream whose corrupt data (a bad deflate block, a CRC mismatch, a
    truncated gzip) raises ``InputError`` naming the file, whichever adapter is reading; and
    which refuses to expand beyond the ``DecompressionLimits`` in force (a bomb)."""

    def __init__(self, stream: IO[bytes], path: Path) -> None:
        self._stream, self._path = stream, path
        self._limits = _LIMITS.get()
        self._compressed = max(path.stat().st_size, 1)
        self._expanded = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._stream.read(len(buffer))
        except (zlib.error, EOFError, zipfile.BadZipFile, gzip.BadGzipFile) as exc:
            raise InputError(self._path, f"corrupt compressed data ({exc or type(exc).__name__})"
                             ) from exc
        self._expanded += len(data)
        self._check()
        buffer[:len(data)] = data
        return len(data)

    def _check(self) -> None:
        limits, expanded = self._limits, self._expanded
        if expanded > limits.max_bytes:
            raise InputError(self._path, f"compressed file expands beyond "
                             f"{_size_text(limits.max_bytes)}, the limit on expanded size "
                             "(refused as a decompression bomb; raise --max-expanded-size "
                             "if it is genuine)")
        ratio = expanded / self._compressed
        if expanded > limits.ratio_floor and ratio > limits.max_ratio:
            raise InputError(self._path, f"compressed file expands more than "
                             f"{limits.max_ratio:g}:1 ({_size_text(self._compressed)} to over "
                             f"{_size_text(expanded)}; refused as a decompression bomb; raise "
                             "--max-expansion-ratio if it is genuine)")

    def close(self) -> None:
        self._stream.close()
        super().close()


def _guarded(stream: IO[bytes], path: Path) -> IO[bytes]:
    return io.BufferedReader(_CorruptionGuard(stream, path))


def open_bytes(path: Path) -> IO[bytes]:
    """Open ``path`` for binary reading, decompressing .zip (one member) and .gz transparently."""
    try:
        if zipfile.is_zipfile(path):
            archive = zipfile.ZipFile(path)
            members = [m for m in archive.infolist() if not m.is_dir()]
            if not members:
                raise InputError(path, "zip archive is empty")
            if len(members) > 1:
                raise InputError(path, f"zip archive holds {len(members)} files; "
                                       "hybridwatch reads archives of one file (unzip it first)")
            return _guarded(archive.open(members[0]), path)
        with open(path, "rb") as probe:
            magic = probe.read(4)
        if magic[:2] == b"\x1f\x8b":
            return _guarded(gzip.open(path, "rb"), path)
        if magic == b"PK\x03\x04":
            raise InputError(path, "truncated or corrupt zip archive (no central directory)")
        return open(path, "rb")
    except zipfile.BadZipFile as exc:
        raise InputError(path, f"corrupt zip archive ({exc})") from exc
    except FileNotFoundError as exc:
        raise InputError(path, "no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(path, "is a directory, not a file") from exc


def is_compressed(path: Path) -> bool:
    """Whether ``path`` is a .zip or .gz (by its bytes, not its name)."""
    try:
        with open(path, "rb") as probe:
            magic = probe.read(4)
    except OSError:
        return False
    return magic[:2] == b"\x1f\x8b" or magic == b"PK\x03\x04" or (
        magic[:2] == b"PK" and zipfile.is_zipfile(path))


@contextmanager
def plain_copy(path: Path, scratch_dir: Path | None = None) -> Iterator[Path]:
    """``path`` itself if it is not compressed, else its expanded copy in a temporary folder
    (inside ``scratch_dir`` when given), removed on exit.

    For readers that hand the file to DuckDB: DuckDB reads no zip, and would expand a .gz itself,
    beyond the ``DecompressionLimits`` in force. The copy is streamed through the same guard as
    every other compressed input, so a bomb is refused while it expands (an ``InputError``
    naming the file and the limit exceeded) and a corrupt stream is an input error too."""
    if not is_compressed(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="hybridwatch-expand-", dir=scratch_dir) as folder:
        plain = Path(folder) / "expanded"
        with open_bytes(path) as source, open(plain, "wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
        yield plain


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of the (decompressed) file; raises ``InputError`` if it is empty."""
    try:
        with open_bytes(path) as stream:
            head = stream.read(size)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputError(path, f"cannot read file ({exc})") from exc
    if not head.strip():
        raise InputError(path, "file is empty")
    return head


def read_json(path: Path) -> Any:
    """The whole (decompressed) file parsed as JSON; ``InputError`` naming the file and reason
    if it is empty, not UTF-8 or not valid JSON."""
    with open_bytes(path) as stream:
        data = stream.read()
    if not data.strip():
        raise InputError(path, "file is empty")
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON ({exc.msg})", locator=f"line {exc.lineno}") from exc
    except RecursionError:
        raise InputError(path, "JSON nested too deeply to read") from None


def iter_lines(stream: IO[bytes], max_bytes: int) -> Iterator[tuple[bytes, bool]]:
    """``(line, oversized)`` for every line of ``stream``: a line longer than ``max_bytes`` is
    cut there and the rest skipped while reading, never held in memory whole."""
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if len(line) <= max_bytes or line.endswith(b"\n"):
            yield line, False
            continue
        rest = line
        while rest and not rest.endswith(b"\n"):
            rest = stream.readline(1 << 20)
        yield line[:max_bytes], True


def decode_head(head: bytes) -> str:
    """``head`` as text for sniffing: UTF-8 without BOM, undecodable bytes replaced."""
    return head.decode("utf-8-sig", errors="replace")


@dataclass(frozen=True)
class CsvRecord:
    """One CSV record: its starting line, its fields (None if the record is unusable), its raw text,
    and the problem that makes it unusable."""

    line: int
    fields: list[str] | None
    raw: str
    problem: str | None = None


class _Oversized(Exception):
    """A record grew past the size limit while being read (raised through ``csv.reader``)."""


_NEWLINES = ("\n", "\r")


class _LineTap:
    """Feeds lines to ``csv.reader`` while remembering them, so each record's raw text is known.

    A record may not grow beyond ``max_chars`` while it is read: past it, the rest of the
    physical line is skipped unread into memory and ``_Oversized`` raised, so a 2 GB line (or
    an unterminated quote swallowing the file) never sits in memory. ``count`` is the number of
    physical lines consumed."""

    def __init__(self, stream: IO[str], max_chars: int) -> None:
        self._stream = stream
        self._max = max_chars
        self._size = 0
        self.taken: list[str] = []
        self.count = 0

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = self._stream.readline(self._max + 1)
        if not line:
            raise StopIteration
        self.count += 1
        if self._size + len(line) > self._max:
            self.taken.append(line[: self._max - self._size + 1])
            while not line.endswith(_NEWLINES):  # skip the rest of this line, chunk by chunk
                line = self._stream.readline(1 << 20)
                if not line:
                    break
            raise _Oversized()
        self.taken.append(line)
        self._size += len(line)
        return line

    def take(self) -> str:
        """The raw text of the record just read, and start a new one."""
        raw = "".join(self.taken)
        self.taken.clear()
        self._size = 0
        return raw


def iter_csv_records(path: Path, *, delimiter: str = ",",
                     max_record_bytes: int = 1 << 20) -> Iterator[CsvRecord]:
    """Yield every record of a delimited text file (header included, as line 1).

    Bytes that are not UTF-8 are kept (as surrogate escapes) so the raw text survives, and the
    record gets the problem "not UTF-8"; records longer than ``max_record_bytes`` get "oversized".
    """
    with open_bytes(path) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape",
                                newline="")
        tap = _LineTap(text, max_record_bytes)
        reader = csv.reader(tap, delimiter=delimiter)
        line = 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except _Oversized:
                yield CsvRecord(line, None, _printable(tap.take()) + " … (cut: oversized)",
                                f"oversized record (more than {max_record_bytes:,} bytes; "
                                "the rest of its line was skipped)")
                line = tap.count + 1
                reader = csv.reader(tap, delimiter=delimiter)  # start afresh on the next line
                continue
            except csv.Error as exc:
                yield CsvRecord(line, None, _printable(tap.take()), f"malformed CSV ({exc})")
                line = tap.count + 1
                continue
            except (EOFError, zipfile.BadZipFile, OSError) as exc:
                raise InputError(path, f"file is truncated or corrupt after line {line} ({exc})")
            raw = tap.take()
            start, line = line, tap.count + 1
            if not fields and not raw.strip():
                continue
            problem = None
            if len(raw.encode("utf-8", errors="surrogateescape")) > max_record_bytes:
                problem = f"oversized record ({len(raw):,} characters > {max_record_bytes:,} bytes)"
            elif _has_surrogates(raw):
                problem = f"not UTF-8 text (byte {_first_bad_byte(raw)}); re-save the file as UTF-8"
            yield CsvRecord(start, None if problem else fields, _printable(raw), problem)


def read_csv_header(records: Iterator[CsvRecord], path: Path,
                    required: Sequence[str] = ()) -> list[str]:
    """Take the header from ``records`` and check it names every ``required`` column."""
    first = next(records, None)
    if first is None:
        raise InputError(path, "file is empty")
    if first.fields is None:
        raise InputError(path, first.problem or "unreadable header", locator="line 1")
    header = [name.strip() for name in first.fields]
    missing = [name for name in required if name not in header]
    if missing:
        raise FormatError(path, f"missing column(s) {', '.join(missing)} "
                                f"(header has: {', '.join(header[:12])}"
                                f"{' …' if len(header) > 12 else ''})", locator="line 1")
    return header


_SURROGATE = re.compile("[\udc80-\udcff]")  # undecodable bytes under surrogateescape


def _has_surrogates(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def _first_bad_byte(text: str) -> str:
    found = _SURROGATE.search(text)
    return f"0x{ord(found.group()) - 0xDC00:02x}" if found else "?"


def _printable(raw: str) -> str:
    """Raw record text safe to store: undecodable bytes become ``\\xNN`` escapes."""
    if _has_surrogates(raw):
        return raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")
    return raw
