"""Staging folders of an ingest: where one file's accepted rows wait as Parquet before the single
INSERT that moves them into the store (see ``store.ingest``).

A staging folder sits beside the store and is named after the store and the ingesting process
(``.hybridwatch-ingest-<store file>-<pid>-<random>``). It is removed when the ingest ends, by
success or error; only a killed process leaves one behind. Opening the store for writing removes
such leftovers: the store's write lock guarantees no other process is ingesting into it, and a
folder is removed only if the process that made it is gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

PREFIX = ".hybridwatch-ingest-"


def _prefix(store_path: Path) -> str:
    return f"{PREFIX}{store_path.name}-"


@contextmanager
def staging_dir(store_path: Path) -> Iterator[Path]:
    """A fresh staging folder for one ingest into the store at ``store_path``; removed on exit."""
    with tempfile.TemporaryDirectory(prefix=f"{_prefix(store_path)}{os.getpid()}-",
                                     dir=store_path.parent) as folder:
        yield Path(folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # exists, owned by someone else
        return True
    return True


def remove_stale_staging(store_path: Path) -> list[Path]:
    """Remove the staging folders a killed ingest into ``store_path`` left; returns them."""
    prefix = _prefix(store_path)
    removed = []
    try:
        entries = list(store_path.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix) or not entry.is_dir():
            continue
        pid_text = entry.name[len(prefix):].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed
