"""The keys / sign / verify / seal / open commands, end to end through the CLI (parses --json)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli

ENV = {"HYBRIDWATCH_PASSPHRASE": "correct horse battery", "HYBRIDWATCH_TRUST": None,
       "HYBRIDWATCH_KEYS": None}
LOW_COST = ["--kdf-memory-mib", "1"]  # tests only; the default is 64 MiB


def run(*args: str, env: dict | None = None) -> tuple[int, object, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args], env={**ENV, **(env or {})},
                                catch_exceptions=False)
    try:
        payload = json.loads(result.stdout) if "--json" in args else result.stdout
    except json.JSONDecodeError:
        payload = result.stdout
    return result.exit_code, payload, result.stderr


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """Two organisations, each with its keys, and a shared trust store of both identities."""
    paths = {"alpha": tmp_path / "alpha-keys", "bravo": tmp_path / "bravo-keys",
             "trust": tmp_path / "trust"}
    paths["trust"].mkdir()
    for org, folder in (("Alpha CERT", paths["alpha"]), ("Bravo MoD", paths["bravo"])):
        code, made, _ = run("keys", "create", "--org", org, "--dir", folder, "--json", *LOW_COST)
        assert code == 0 and made["org"] == org
        code, _, _ = run("keys", "export", "--dir", folder, "-o",
                         paths["trust"] / f"{folder.name}.json")
        assert code == 0
    return paths


def test_keys_create_list_export(world, tmp_path):
    code, listing, _ = run("keys", "list", "--trust", world["trust"], "--json")
    assert code == 0
    assert [i["org"] for i in listing["identities"]] == ["Alpha CERT", "Bravo MoD"]
    code, out, _ = run("keys", "export", "--dir", world["alpha"])
    doc = json.loads(out)
    assert doc["type"] == "hybridwatch-identity" and doc["org"] == "Alpha CERT"
    assert doc["stix_identity_id"] == listing["identities"][0]["stix_identity_id"]
    # the default keys folder comes from $HYBRIDWATCH_KEYS
    env = {"HYBRIDWATCH_KEYS": str(tmp_path / "envkeys")}
    code, made, _ = run("keys", "create", "--org", "Env Org", "--json", *LOW_COST, env=env)
    assert code == 0 and made["dir"] == str(tmp_path / "envkeys")
    code, listing, _ = run("keys", "list", "--json", env=env)
    assert [i["org"] for i in listing["identities"]] == ["Env Org"]
    code, _, err = run("keys", "create", "--org", "Env Org", *LOW_COST, env=env)
    assert code == 3 and "already exist" in err and len(err.strip().splitlines()) == 1


def test_sign_verify_and_each_failure_reason(world, tmp_path):
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": []}))
    code, signed, _ = run("sign", bundle, "--dir", world["alpha"], "--json")
    assert code == 0 and signed["canonicalization"] == "rfc8785"
    code, ok, _ = run("verify", bundle, "--trust", world["trust"], "--json")
    assert code == 0 and ok["valid"] and ok["signer"]["org"] == "Alpha CERT"
    assert ok["algs"] == ["ML-DSA-65", "Ed25519"]

    def reason() -> str:
        code, out, err = run("verify", bundle, "--trust", world["trust"], "--json")
        assert code == 5 and not out["valid"]
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
        return out["reason"]

    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--2", "objects": []}))
    assert reason() == "content-mismatch"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": []}))
    sig_path = tmp_path / "bundle.json.sig"
    sig = json.loads(sig_path.read_text())
    sig_path.write_text(json.dumps({**sig, "algs": ["Ed25519"]}))
    assert reason() == "algorithm-downgrade"
    raw = bytearray(base64.b64decode(sig["signatures"]["Ed25519"]))
    raw[0] ^= 1
    sig_path.write_text(json.dumps({**sig, "signatures": {
        **sig["signatures"], "Ed25519": base64.b64encode(bytes(raw)).decode()}}))
    assert reason() == "bad-signature"
    other = tmp_path / "other-keys"
    run("keys", "create", "--org", "Charlie", "--dir", other, *LOW_COST)
    run("sign", bundle, "--dir", other)
    assert reason() == "unknown-signer"
    sig_path.unlink()
    assert reason() == "missing-signature"


def test_wrong_passphrase_is_a_clean_error(world, tmp_path):
    page = tmp_path / "brief.html"
    page.write_text("<h1>brief</h1>")
    code, _, err = run("sign", page, "--dir", world["alpha"],
                       env={"HYBRIDWATCH_PASSPHRASE": "wrong"})
    assert code == 3 and "wrong passphrase" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "brief.html.sig").exists()


def test_seal_open_round_trip(world, tmp_path):
    brief = tmp_path / "brief.pdf"
    content = b"%PDF-1.7\n" + bytes(range(256)) * 10
    brief.write_bytes(content)
    code, sealed, _ = run("seal", brief, "--to", "bravo mod", "--trust", world["trust"],
                          "--dir", world["alpha"], "--json")
    assert code == 0 and sealed["recipient"]["org"] == "Bravo MoD"
    assert Path(sealed["sealed_file"]) == tmp_path / "brief.pdf.sealed"
    out = tmp_path / "received.pdf"
    code, opened, _ = run("open", sealed["sealed_file"], "--dir", world["bravo"], "--trust",
                          world["trust"], "-o", out, "--json")
    assert code == 0 and opened["sender_verified"] and opened["sender"]["org"] == "Alpha CERT"
    assert out.read_bytes() == content and opened["file_name"] == "brief.pdf"
    code, _, err = run("open", sealed["sealed_file"], "--dir", world["bravo"], "-o",
                       tmp_path / "refused.pdf")   # no trust store: no plaintext
    assert code == 5 and "unverified-sender" in err and not (tmp_path / "refused.pdf").exists()
    code, opened, err = run("open", sealed["sealed_file"], "--dir", world["bravo"], "-o",
                            tmp_path / "again.pdf", "--json", "--insecure-skip-verify")
    assert code == 0 and not opened["sender_verified"] and "NOT verified" in err
    code, _, err = run("open", sealed["sealed_file"], "--dir", world["alpha"], "--trust",
                       world["trust"])
    assert code == 5 and "wrong-recipient: sealed for 'Bravo MoD'" in err
    code, _, err = run("seal", brief, "--to", "Nobody", "--trust", world["trust"],
                       "--dir", world["alpha"])
    assert code == 3 and "no partner 'Nobody'" in err


def test_a_sealed_file_that_does_not_open_exits_5_with_its_reason_code(world, tmp_path):
    """Issue #14 §7: every failure to open names its reason code and exits 5."""
    brief = tmp_path / "brief.txt"
    brief.write_text("TLP:RED content")
    code, sealed, _ = run("seal", brief, "--to", "bravo mod", "--trust", world["trust"],
                          "--dir", world["alpha"], "--json")
    envelope = json.loads(Path(sealed["sealed_file"]).read_text())

    def attempt(name: str, content: str) -> tuple[int, str]:
        path = tmp_path / name
        path.write_text(content)
        code, _, err = run("open", path, "--dir", world["bravo"], "--trust", world["trust"],
                           "-o", tmp_path / f"{name}.out")
        assert not (tmp_path / f"{name}.out").exists()
        return code, err

    flipped = base64.b64decode(envelope["ciphertext"])
    flipped = flipped[:-1] + bytes([flipped[-1] ^ 1])
    cases = {
        "not-an-envelope": "not json at all",
        "suite-mismatch": json.dumps({**envelope, "version": 99}),
        "damaged-envelope": json.dumps({**envelope, "enc": "%%%"}),
        "bad-signature": json.dumps({**envelope, "ciphertext":
                                     base64.b64encode(flipped).decode()}),
    }
    for reason, content in cases.items():
        code, err = attempt(f"{reason}.sealed", content)
        assert code == 5 and f"{reason}" in err.split("error: ", 1)[1], (reason, err)
        assert "Traceback" not in err
    # without the signature check the same tampering is caught by the AEAD
    path = tmp_path / "tampered.sealed"
    path.write_text(cases["bad-signature"])
    code, _, err = run("open", path, "--dir", world["bravo"], "--insecure-skip-verify",
                       "-o", tmp_path / "t.out")
    assert code == 5 and "bad-ciphertext" in err


def test_a_nul_in_a_file_name_is_an_error_not_a_crash(tmp_path):
    for args in (["open", "a\x00b.sealed"], ["verify", "a\x00b", "--trust", str(tmp_path)],
                 ["ingest", "a\x00b.csv", "--db", str(tmp_path / "s.duckdb")]):
        code, _, err = run(*args)
        assert code == 2 and "NUL" in err and "Traceback" not in err
    from hybridwatch.errors import InputError
    from hybridwatch.store import EventStore
    from hybridwatch.workflows.ingest import ingest_file

    with EventStore(tmp_path / "s.duckdb") as store, pytest.raises(InputError, match="NUL"):
        ingest_file(store, "a\x00b.csv")


DEEP = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"


def test_deeply_nested_signature_sealed_file_and_mapping_are_errors_not_crashes(world, tmp_path):
    """Issue #14 §4: JSON nested past Python's recursion limit in a ``.sig`` or a ``.sealed``,
    and a mapping TOML nested so, each crashed with a RecursionError; now each is the error of
    its file: exit 5 with its reason code (signature, sealed file), exit 2 (mapping)."""
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    (tmp_path / "data.csv.sig").write_text(DEEP)
    code, _, err = run("verify", data, "--trust", world["trust"])
    assert code == 5 and "malformed-signature" in err and "nested too deeply" in err
    sealed = tmp_path / "deep.sealed"
    sealed.write_text(DEEP)
    code, _, err = run("open", sealed, "--dir", world["bravo"], "--trust", world["trust"],
                       "-o", tmp_path / "deep.out")
    assert code == 5 and "not-an-envelope" in err and not (tmp_path / "deep.out").exists()
    mapping = tmp_path / "deep.toml"
    mapping.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    code, _, err = run("ingest", data, "--format", "mapped", "--mapping", mapping,
                       "--db", tmp_path / "s.duckdb")
    assert code == 2 and f"{mapping}: not valid TOML (nested too deeply to read)" in err
    for text in (err,):
        assert "Traceback" not in text
