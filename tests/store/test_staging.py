"""Staging folders of ingest: a killed ingest's leftovers go when the store is next opened for
writing; folders of live processes, of this process and of other stores stay."""

from __future__ import annotations

import os
import subprocess
import sys

from hybridwatch.store import EventStore
from hybridwatch.store.staging import PREFIX, remove_stale_staging


def test_stale_staging_of_a_dead_process_is_removed_when_the_store_opens(tmp_path, store_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        name = store_path.name
        stale = tmp_path / f"{PREFIX}{name}-{dead_pid}-abc"
        running = tmp_path / f"{PREFIX}{name}-{alive.pid}-def"
        mine = tmp_path / f"{PREFIX}{name}-{os.getpid()}-ghi"
        foreign = tmp_path / f"{PREFIX}other.duckdb-{dead_pid}-jkl"
        for folder in (stale, running, mine, foreign):
            folder.mkdir()
            (folder / "events.parquet").write_bytes(b"PAR1")
        with EventStore(store_path, read_only=False):
            pass
        assert not stale.exists()
        assert running.exists() and mine.exists() and foreign.exists()
        assert remove_stale_staging(store_path) == []
    finally:
        alive.kill()
        alive.wait()
