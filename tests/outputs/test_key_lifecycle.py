"""Key rotation and revocation: statements, the trust store's key history, and what ``verify``
does with signatures made before and after a rotation or a revocation."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest

from hybridwatch.errors import InputError
from hybridwatch.outputs.key_history import (
    KeyHistory, KeyRevocation, KeyRotation, format_time, make_revocation, make_rotation,
)
from hybridwatch.outputs.keystore import (
    TrustStore, generate_org_keys, import_into_trust_store, load_trust_store,
)
from hybridwatch.outputs.signing import VerificationError, sign_file, verify_file
from pki_support import NOW

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "identity"


def t(days: float) -> str:
    """A time ``days`` from now (negative: in the past), as the statements write it."""
    return format_time(NOW + timedelta(days=days))


@pytest.fixture(scope="module")
def chain():
    """Alpha's three keys: k0 → k1 (rotated 10 days ago) → k2 (rotated 2 days ago)."""
    k0 = generate_org_keys("Alpha CERT", created=t(-100))
    k1 = generate_org_keys("Alpha CERT", created=t(-10))
    k2 = generate_org_keys("Alpha CERT", created=t(-2))
    return {"keys": (k0, k1, k2), "r1": make_rotation(k0, k1, rotated_at=t(-10)),
            "r2": make_rotation(k1, k2, rotated_at=t(-2))}


def _store(tmp_path: Path, *docs: dict) -> Path:
    folder = tmp_path / "trust"
    folder.mkdir(exist_ok=True)
    for n, doc in enumerate(docs):
        (folder / f"{n:02d}.json").write_text(json.dumps(doc))
    return folder


def _signed(tmp_path: Path, keys, name: str, created: str) -> Path:
    path = tmp_path / name
    path.write_text(f"report {name}\n")
    sign_file(path, keys, created=created)
    return path


def _reason(path: Path, trust: TrustStore, **kw) -> str:
    with pytest.raises(VerificationError) as info:
        verify_file(path, trust, **kw)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    return info.value.code


def test_rotation_statement_round_trips_and_is_signed_by_both_keys(chain):
    k0, k1, _ = chain["keys"]
    doc = json.loads(json.dumps(chain["r1"].to_dict()))
    assert doc["type"] == "hybridwatch-key-rotation" and doc["version"] == 1
    assert (doc["old_key_id"], doc["new_key_id"]) == (k0.identity.signing_key_id,
                                                     k1.identity.signing_key_id)
    parsed = KeyRotation.from_dict(doc, "r1.json")
    parsed.verify(k0.identity, "r1.json")
    assert parsed == chain["r1"]
    # the old key's signature is what vouches for the new key: another old key fails
    with pytest.raises(VerificationError, match="wrong key|checked against"):
        parsed.verify(generate_org_keys("Alpha CERT").identity, "r1.json")
    forged = {**doc, "old_key_signatures": chain["r2"].to_dict()["old_key_signatures"]}
    with pytest.raises(VerificationError, match="old key's signature") as info:
        KeyRotation.from_dict(forged, "forged.json").verify(k0.identity, "forged.json")
    assert info.value.code == "bad-signature"
    # swapping the embedded new identity breaks its self-signature or the new-key signature
    other = generate_org_keys("Alpha CERT").identity.to_dict()
    with pytest.raises(InputError):
        KeyRotation.from_dict({**doc, "new_identity": other}, "swap.json")


def test_history_chains_rotations_in_any_file_order(tmp_path, chain):
    k0, k1, k2 = chain["keys"]
    folder = _store(tmp_path, chain["r2"].to_dict(), chain["r1"].to_dict(),
                    k0.identity.to_dict())
    trust = load_trust_store(folder)
    history = trust.key_history
    ids = [k.identity.signing_key_id for k in (k0, k1, k2)]
    assert [row["key_id"] for row in history.chain(ids[0])] == ids
    assert [row["state"] for row in history.chain(ids[0])] == ["superseded", "superseded",
                                                               "current"]
    assert history.descends_from(ids[2], ids[0]) and not history.descends_from(ids[0], ids[2])
    # sealing to the organisation reaches its current key only
    assert trust.recipient("alpha cert").signing_key_id == ids[2]
    with pytest.raises(InputError, match="replaced by"):
        trust.recipient(ids[0])


def test_a_rotation_without_its_anchor_is_refused(tmp_path, chain):
    folder = _store(tmp_path, chain["r2"].to_dict(), chain["keys"][0].identity.to_dict())
    with pytest.raises(InputError, match="01.json|00.json") as info:
        load_trust_store(folder)
    assert "not in the trust store" in str(info.value)


def test_verify_superseded_key_before_and_after_the_rotation(tmp_path, chain):
    k0, k1, k2 = chain["keys"]
    trust = load_trust_store(_store(tmp_path, k0.identity.to_dict(), chain["r1"].to_dict(),
                                    chain["r2"].to_dict()))
    early = _signed(tmp_path, k0, "early.txt", created=t(-50))
    result = verify_file(early, trust)
    assert result.key_status == "superseded"
    assert result.superseded_by == k1.identity.signing_key_id
    assert any("replaced" in w for w in result.warnings)
    late = _signed(tmp_path, k0, "late.txt", created=t(-5))  # k0 was replaced 10 days ago
    assert _reason(late, trust) == "superseded-key"
    current = _signed(tmp_path, k2, "current.txt", created=t(0))
    assert verify_file(current, trust).key_status == "current"


def test_revocation_refuses_signatures_made_after_it(tmp_path, chain):
    k0, k1, k2 = chain["keys"]
    retired = make_revocation(k2, k2.identity, reason="retired", revoked_at=t(-1))
    # signed by k1's successor; takes effect after k1 → k2, so k2 stays trusted
    compromised = make_revocation(k2, k1.identity, reason="key-compromise", revoked_at=t(-1),
                                  effective_from=t(-1.8))
    folder = _store(tmp_path, k0.identity.to_dict(), chain["r1"].to_dict(),
                    chain["r2"].to_dict(), retired.to_dict(), compromised.to_dict())
    trust = load_trust_store(folder)
    # retired: the signer's clock is believed; before the revocation is fine, after is not
    ok = verify_file(_signed(tmp_path, k2, "before.txt", created=t(-1.5)), trust)
    assert ok.key_status == "revoked" and ok.revocation["reason"] == "retired"
    assert _reason(_signed(tmp_path, k2, "after.txt", created=t(-0.5)), trust) == "revoked-key"
    # key-compromise: the claimed time is not believed, not even from before the compromise
    k1_early = _signed(tmp_path, k1, "k1-early.txt", created=t(-5))
    with pytest.raises(VerificationError, match="RFC 3161") as info:
        verify_file(k1_early, trust)
    assert info.value.code == "revoked-key"


def test_rotation_made_after_a_compromise_does_not_vouch_for_its_key(chain):
    k0, k1, k2 = chain["keys"]
    compromise = make_revocation(k1, k1.identity, reason="key-compromise", revoked_at=t(-1),
                                 effective_from=t(-5))  # r2 (k1 → k2, 2 days ago) came after
    history = KeyHistory.build([k0.identity], [(chain["r1"], "r1"), (chain["r2"], "r2")],
                               [(compromise, "rev")])
    assert history.status(k2.identity.signing_key_id).state == "revoked"
    assert history.status(k0.identity.signing_key_id).state == "superseded"


def test_revocation_must_come_from_the_key_or_its_successor(chain):
    k0, k1, _ = chain["keys"]
    by_stranger = make_revocation(generate_org_keys("Alpha CERT"), k0.identity,
                                  reason="key-compromise", revoked_at=t(0))
    with pytest.raises(VerificationError, match="neither that key nor its successor"):
        KeyHistory.build([k0.identity], [(chain["r1"], "r1")], [(by_stranger, "rev.json")])
    # a successor may revoke; a predecessor may not revoke its successor
    KeyHistory.build([k0.identity], [(chain["r1"], "r1")],
                     [(make_revocation(k1, k0.identity, reason="superseded",
                                       revoked_at=t(0)), "ok")])
    with pytest.raises(VerificationError, match="neither"):
        KeyHistory.build([k0.identity], [(chain["r1"], "r1")],
                         [(make_revocation(k0, k1.identity, reason="retired",
                                           revoked_at=t(0)), "bad")])
    doc = make_revocation(k0, k0.identity, reason="retired", revoked_at=t(0)).to_dict()
    with pytest.raises(InputError, match="not one of"):
        KeyRevocation.from_dict({**doc, "reason": "bored"}, "r.json")
    with pytest.raises(InputError, match="future"):
        KeyRevocation.from_dict({**doc, "effective_from": t(1)}, "r.json")
    with pytest.raises(InputError, match="unsupported .* version 2"):
        KeyRevocation.from_dict({**doc, "version": 2}, "r.json")


def test_import_checks_and_never_leaves_a_bad_file(tmp_path, chain):
    k0, k1, k2 = chain["keys"]
    trust_dir = tmp_path / "trust"
    files = {}
    for name, doc in (("k0", k0.identity.to_dict()), ("r1", chain["r1"].to_dict()),
                      ("r2", chain["r2"].to_dict())):
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps(doc))
    with pytest.raises(InputError, match="import that identity first"):
        import_into_trust_store(files["r1"], trust_dir)
    assert import_into_trust_store(files["k0"], trust_dir).added
    assert not import_into_trust_store(files["k0"], trust_dir).added  # idempotent
    bad = json.loads(files["r1"].read_text())
    raw = bytearray(base64.b64decode(bad["old_key_signatures"]["Ed25519"]))
    raw[5] ^= 1
    bad["old_key_signatures"]["Ed25519"] = base64.b64encode(bytes(raw)).decode()
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    before = sorted(p.name for p in trust_dir.iterdir())
    with pytest.raises(VerificationError) as info:
        import_into_trust_store(tmp_path / "bad.json", trust_dir)
    assert info.value.code == "bad-signature"
    assert sorted(p.name for p in trust_dir.iterdir()) == before
    result = import_into_trust_store(files["r1"], trust_dir)
    assert result.kind == "rotation" and result.key_id == k1.identity.signing_key_id
    assert [r["state"] for r in result.history] == ["superseded", "current"]
    import_into_trust_store(files["r2"], trust_dir)
    # an unrelated new key for a known organisation needs the explicit flag
    (tmp_path / "rekey.json").write_text(json.dumps(
        generate_org_keys("Alpha CERT").identity.to_dict()))
    with pytest.raises(InputError, match="--allow-new-key"):
        import_into_trust_store(tmp_path / "rekey.json", trust_dir)
    assert import_into_trust_store(tmp_path / "rekey.json", trust_dir,
                                   allow_new_key=True).added


def test_identity_documents_of_the_first_format_still_load(tmp_path):
    # written by hybridwatch before key rotation existed (identity document v1, no statements)
    trust = load_trust_store(FIXTURES)
    assert [i.org for i in trust.identities] == ["ACME CERT"]
    assert trust.key_history.status(trust.identities[0].signing_key_id).state == "current"
