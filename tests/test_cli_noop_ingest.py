"""A no-op re-ingest (``hybridwatch ingest FILE`` of a file the store holds) is answered from the
ingest log without importing the adapters, Arrow, pandas, Ibis or SciPy, and says exactly what
the full ingest says of an unchanged file; anything else takes the full path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hybridwatch.store import EventStore
from hybridwatch.workflows.ingest import ingest_file

HEAVY = ("pyarrow", "pandas", "ibis", "scipy", "numpy", "sklearn", "hybridwatch.adapters",
         "hybridwatch.store.store", "hybridwatch.workflows")


def _run_cli(*args: str) -> tuple[dict, list[str], str]:
    """``hybridwatch ARGS --json`` in a fresh interpreter: its JSON, the heavy modules it
    imported, and its stderr."""
    code = ("import sys, json\n"
            "from hybridwatch.cli import main\n"
            f"sys.argv = ['hybridwatch', *{list(args)!r}, '--json']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    payload, loaded = done.stdout.strip().splitlines()[-2:]
    return json.loads(payload), json.loads(loaded), done.stderr


def _sample(shared_data: Path) -> Path:
    return shared_data / "gdelt_samples_and_lookups" / "samples" / "20191024143000.export.CSV"


def test_noop_reingest_imports_no_heavy_module_and_reports_as_the_full_path(shared_data,
                                                                            tmp_path):
    path, db = _sample(shared_data), tmp_path / "store.duckdb"
    with EventStore(db) as store:
        first = ingest_file(store, path)
        full = ingest_file(store, path)  # the full path's report of an unchanged file
    assert first.status == "ingested" and full.status == "unchanged"
    payload, loaded, stderr = _run_cli("ingest", str(path), "--db", str(db))
    assert loaded == []
    assert payload == {"read": 0, "ingested": 0, "duplicates": 0, "quarantined": 0,
                       "nulled": 0, "failed": 0, "files": [full.to_dict()]}
    assert f"already ingested (ingest #{first.ingest_id}), nothing to do" in stderr
    # --format naming the format it was read as: the same answer
    payload, loaded, _ = _run_cli("ingest", str(path), "--db", str(db), "--format", "gdelt2")
    assert loaded == [] and payload["files"] == [full.to_dict()]


def test_anything_but_a_known_file_takes_the_full_path(shared_data, tmp_path):
    path, db = _sample(shared_data), tmp_path / "store.duckdb"
    with EventStore(db) as store:
        ingest_file(store, path)
    changed = tmp_path / "changed.export.CSV"
    changed.write_bytes(path.read_bytes()[: path.stat().st_size // 2].rsplit(b"\n", 1)[0]
                        + b"\n")
    # one new file among known ones: every file goes the full way (and the new one is read)
    payload, loaded, _ = _run_cli("ingest", str(path), str(changed), "--db", str(db))
    assert "hybridwatch.adapters" in loaded
    assert [f["status"] for f in payload["files"]] == ["unchanged", "ingested"]
    # another format than the one it was read as: the full path decides (here: an error)
    payload, loaded, _ = _run_cli("ingest", str(path), "--db", str(db), "--format", "acled")
    assert "hybridwatch.adapters" in loaded and payload["files"][0]["status"] == "failed"
    # --replace always reads the file
    payload, loaded, _ = _run_cli("ingest", str(path), "--db", str(db), "--replace")
    assert payload["files"][0]["status"] == "ingested" and payload["files"][0]["replaced"] == 1
    # a store of another schema version is never answered quickly (the full path refuses it)
    with EventStore(db) as store:
        store._con.execute("UPDATE hybridwatch_meta SET value = '3' "
                          "WHERE key = 'schema_version'")
    code = ("import sys\nfrom hybridwatch.cli import main\n"
            f"sys.argv = ['hybridwatch', 'ingest', {str(path)!r}, '--db', {str(db)!r}]\nmain()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 4 and "hybridwatch migrate" in done.stderr
