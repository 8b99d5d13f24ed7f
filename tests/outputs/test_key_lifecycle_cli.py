"""keys rotate / revoke / import / history through the CLI, from one partner to another."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from hybridwatch.cli import cli

ENV = {"HYBRIDWATCH_PASSPHRASE": "correct horse battery", "HYBRIDWATCH_TRUST": None,
       "HYBRIDWATCH_KEYS": None, "HYBRIDWATCH_TSA": None}
LOW_COST = ["--kdf-memory-mib", "1"]


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=ENV, catch_exceptions=False)
    out = json.loads(result.stdout) if "--json" in args and result.stdout.strip() \
        else result.stdout
    return result.exit_code, out, result.stderr


def test_rotate_revoke_import_verify(tmp_path: Path):
    keys, trust = tmp_path / "alpha-keys", tmp_path / "bravo-trust"
    assert run("keys", "create", "--org", "Alpha CERT", "--dir", keys, *LOW_COST)[0] == 0
    run("keys", "export", "--dir", keys, "-o", tmp_path / "alpha.identity.json")
    code, imported, _ = run("keys", "import", tmp_path / "alpha.identity.json", "--trust", trust,
                            "--json")
    assert code == 0 and imported["kind"] == "identity" and imported["added"]
    old = tmp_path / "old.txt"
    old.write_text("signed with the first key\n")
    assert run("sign", old, "--dir", keys)[0] == 0

    code, rotated, _ = run("keys", "rotate", "--dir", keys, "-o", tmp_path / "rotation.json",
                           "--json", *LOW_COST)
    assert code == 0 and rotated["old_key_id"] == imported["key_id"]
    new = tmp_path / "new.txt"
    new.write_text("signed with the second key\n")
    code, signed, _ = run("sign", new, "--dir", keys, "--json")
    assert signed["signer"]["key_id"] == rotated["new_key_id"]  # the folder's current key
    # the partner does not know the new key until it imports the rotation
    code, out, _ = run("verify", new, "--trust", trust, "--json")
    assert code == 5 and out["reason"] == "wrong-key"
    code, imported, _ = run("keys", "import", tmp_path / "rotation.json", "--trust", trust,
                            "--json")
    assert code == 0 and [k["state"] for k in imported["history"]] == ["superseded", "current"]
    code, ok, _ = run("verify", new, "--trust", trust, "--json")
    assert code == 0 and ok["key_status"] == "current"
    code, ok, err = run("verify", old, "--trust", trust, "--json")
    assert code == 0 and ok["key_status"] == "superseded"
    assert ok["superseded_by"] == rotated["new_key_id"] and "warning" in err

    time.sleep(1.1)  # times have 1 s resolution; a signature in the revocation's second is refused
    code, revoked, _ = run("keys", "revoke", "--dir", keys, "--reason", "retired",
                           "-o", tmp_path / "revocation.json", "--json")
    assert code == 0 and revoked["key_id"] == rotated["new_key_id"]
    code, _, err = run("sign", new, "--dir", keys)
    assert code == 3 and "revoked" in err
    assert run("keys", "import", tmp_path / "revocation.json", "--trust", trust)[0] == 0
    code, history, _ = run("keys", "history", "--trust", trust, "--json")
    rows = history["organisations"][0]["keys"]
    assert [r["state"] for r in rows] == ["superseded", "revoked"]
    assert rows[1]["revocation"]["reason"] == "retired"
    # made before the (non-compromise) revocation: still verifies, with its state
    code, ok, _ = run("verify", new, "--trust", trust, "--json")
    assert code == 0 and ok["key_status"] == "revoked"
    code, _, err = run("seal", new, "--to", "Alpha CERT", "--trust", trust, "--dir", keys)
    assert code == 3 and "revoked" in err
    code, _, err = run("keys", "import", tmp_path / "new.txt", "--trust", trust)
    assert code == 3 and "not valid JSON" in err
