"""Ingest a file: pick the adapter that reads it, then let the store write its records.

The split keeps the layers one-way: adapters know formats, the store knows transactions
(``store.ingest.ingest_source``), and this module is the only one that knows both.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

from hybridwatch.adapters import ReadOptions, detect_format, get_adapter, read_batches
from hybridwatch.errors import InputError
from hybridwatch.store.ingest import (
    FileReport, IngestSource, ProgressCallback, fingerprint_file, ingest_source,
)
from hybridwatch.store.store import EventStore
from hybridwatch.store.versions import Signer

__all__ = ["FileReport", "ingest_file"]


def ingest_file(store: EventStore, path: str | Path, *, format: str | None = None,
                options: ReadOptions = ReadOptions(), strict: bool = False,
                replace: bool = False, progress: ProgressCallback | None = None,
                signer: Signer | None = None) -> FileReport:
    """Ingest ``path`` into ``store``; raise ``InputError`` if the file cannot be ingested at all.

    ``format`` names the adapter (detected from the file when None). With ``strict`` the first
    rejected record raises ``StrictModeError`` and nothing is written; with ``replace`` what
    earlier ingests of the file stored is replaced (see ``store.ingest``). ``signer``: who
    signed the file, when its detached signature verified (``store.versions``).
    """
    path = Path(path)
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    if "\x00" in str(path):  # the OS would refuse it with a ValueError
        raise InputError(str(path).replace("\x00", "\\x00"), "a file name holds a NUL byte")
    if not path.is_file():
        raise InputError(path, "no such file" if not path.exists() else "not a regular file")
    file_sha256, size = fingerprint_file(path)
    if size == 0:
        raise InputError(path, "file is empty")
    adapter = get_adapter(format) if format else detect_format(path)
    if options.ingest_time is None:  # records dated after it are quarantined
        options = dataclasses.replace(options, ingest_time=started)

    def read(scratch: Path):
        return read_batches(adapter, path, dataclasses.replace(options, scratch_dir=scratch))

    source = IngestSource(path=path, format=adapter.name, file_sha256=file_sha256, size=size,
                          settings_sha256=adapter.settings_digest(options), read=read,
                          sql=adapter.sql_source(path, options))
    return ingest_source(store, source, strict=strict, replace=replace, progress=progress,
                         started=started, signer=signer)
