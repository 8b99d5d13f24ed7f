"""Organisation identities: STIX binding, identity documents, encrypted key files, trust stores."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import uuid
from pathlib import Path

import pytest

from hybridwatch.errors import InputError
from hybridwatch.outputs.identity import (
    IdentityDocument, key_id, stix_identity_id, stix_identity_object,
)
from hybridwatch.outputs.keystore import (
    KdfParams, create_identity, default_keys_dir, find_identity, generate_org_keys,
    list_identities, load_org_keys, load_trust_store,
)
from hybridwatch.outputs.signing import VerificationError

FAST_KDF = KdfParams(iterations=1, lanes=1, memory_kib=8)  # tests only: the default is 64 MiB


def test_stix_identity_id_is_uuid5_of_the_org_url():
    expected = uuid.uuid5(uuid.NAMESPACE_URL, "hybridwatch:org:ACME CERT")
    assert stix_identity_id("ACME CERT") == f"identity--{expected}"
    assert uuid.UUID(stix_identity_id("ACME CERT").split("--")[1]).version == 5
    assert stix_identity_id("ACME CERT") != stix_identity_id("ACME-CERT")


def test_stix_identity_object_is_valid_stix_and_reproducible():
    import stix2

    sdo = stix_identity_object("Bundesamt für Sicherheit")
    parsed = stix2.parse(json.dumps(sdo), allow_custom=False)  # the stix2 library as oracle
    assert parsed.identity_class == "organization"
    assert parsed.id == stix_identity_id("Bundesamt für Sicherheit")
    assert json.dumps(stix_identity_object("Bundesamt für Sicherheit")) == json.dumps(sdo)


@pytest.mark.parametrize("bad", ["", "   ", "line\nbreak", "x" * 201])
def test_bad_org_names_are_refused(bad):
    with pytest.raises(ValueError):
        stix_identity_id(bad)


def test_identity_document_binds_keys_to_the_stix_identity():
    keys = generate_org_keys("ACME CERT")
    doc = keys.identity.to_dict()
    assert doc["org"] == "ACME CERT"
    assert doc["stix_identity_id"] == stix_identity_id("ACME CERT")
    raw = {name: keys.identity.__dict__[name]
           for name in ("ml_dsa_65", "ed25519", "ml_kem_768", "x25519")}
    assert [len(v) for v in raw.values()] == [1952, 32, 1184, 32]
    # key ids: sha256 of the concatenated raw public keys, first 128 bits in hex
    assert doc["signing"]["key_id"] == hashlib.sha256(
        raw["ml_dsa_65"] + raw["ed25519"]).hexdigest()[:32]
    assert doc["encryption"]["key_id"] == key_id(raw["ml_kem_768"], raw["x25519"])
    assert set(doc["self_signature"]) == {"ML-DSA-65", "Ed25519"}
    assert "seed" not in json.dumps(doc) and "private" not in json.dumps(doc)
    assert IdentityDocument.from_dict(json.loads(json.dumps(doc))) == keys.identity


def _write_store(tmp_path: Path, *orgs: str) -> Path:
    folder = tmp_path / "trust"
    folder.mkdir()
    for org in orgs:
        (folder / f"{org}.json").write_text(json.dumps(generate_org_keys(org).identity.to_dict()))
    return folder


def test_trust_store_rejects_an_edited_identity_document(tmp_path):
    folder = _write_store(tmp_path, "Alpha", "Bravo")
    assert [i.org for i in load_trust_store(folder).identities] == ["Alpha", "Bravo"]
    doc = json.loads((folder / "Bravo.json").read_text())
    # swap in another organisation's encryption key (self-consistent key id): signature catches it
    other = generate_org_keys("Mallory").identity.to_dict()
    doc["encryption"] = other["encryption"]
    (folder / "Bravo.json").write_text(json.dumps(doc))
    with pytest.raises(VerificationError, match="Bravo.json.*self-signature") as info:
        load_trust_store(folder)
    assert info.value.code == "bad-signature"


def test_identity_document_with_a_renamed_org_is_refused(tmp_path):
    doc = generate_org_keys("Alpha").identity.to_dict()
    doc["org"] = "Bravo"
    with pytest.raises(ValueError, match="stix_identity_id .* does not belong"):
        IdentityDocument.from_dict(doc)
    doc["stix_identity_id"] = stix_identity_id("Bravo")
    path = tmp_path / "renamed.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(VerificationError, match="self-signature"):
        load_trust_store(path)


def test_create_and_load_keys_round_trip(tmp_path):
    folder = tmp_path / "keys"
    made = create_identity(folder, "ACME CERT", "correct horse", kdf=FAST_KDF)
    key_file = next(folder.glob("*.key.json"))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    text = key_file.read_text()
    for secret in (made.ml_dsa_65_seed, made.ed25519_private, made.ml_kem_768_seed):
        assert secret.hex() not in text and secret not in key_file.read_bytes()
    loaded = load_org_keys(folder, "correct horse")
    assert loaded.identity == made.identity
    assert loaded.ml_dsa_65_seed == made.ml_dsa_65_seed
    assert "seed" not in repr(loaded) and made.ed25519_private.hex() not in repr(loaded)
    with pytest.raises(InputError, match="wrong passphrase"):
        load_org_keys(folder, "Correct horse")
    with pytest.raises(InputError, match="already exist"):
        create_identity(folder, "ACME CERT", "x", kdf=FAST_KDF)


def test_key_file_kdf_cost_is_authenticated_and_bounded(tmp_path):
    folder = tmp_path / "keys"
    create_identity(folder, "ACME CERT", "pw", kdf=FAST_KDF)
    key_file = next(folder.glob("*.key.json"))
    doc = json.loads(key_file.read_text())
    assert doc["kdf"]["name"] == "argon2id" and doc["aead"] == "ChaCha20-Poly1305"
    doc["kdf"]["iterations"] = 2  # the header is the AEAD's associated data
    key_file.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="wrong passphrase .*altered"):
        load_org_keys(folder, "pw")
    doc["kdf"]["memory_kib"] = 1 << 40  # a crafted file must not exhaust memory
    key_file.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="out of range"):
        load_org_keys(folder, "pw")


def test_secure_default_kdf():
    assert KdfParams() == KdfParams(iterations=3, lanes=4, memory_kib=65536)  # RFC 9106 option 2


def test_several_identities_need_org(tmp_path):
    folder = tmp_path / "keys"
    create_identity(folder, "Alpha", "pw", kdf=FAST_KDF)
    create_identity(folder, "Bravo", "pw", kdf=FAST_KDF)
    with pytest.raises(InputError, match="several identities .*--org"):
        find_identity(folder)
    assert find_identity(folder, "bravo")[0].org == "Bravo"
    assert load_org_keys(folder, "pw", "Alpha").identity.org == "Alpha"
    # a keys folder is also a trust store of its own identities; key files are skipped
    assert [i.org for i, _ in list_identities(folder)] == ["Alpha", "Bravo"]


def test_trust_store_lookup_by_name_stix_id_or_key_id(tmp_path):
    folder = _write_store(tmp_path, "Alpha", "Bravo")
    trust = load_trust_store(folder)
    bravo = trust.recipient("BRAVO")
    assert trust.recipient(bravo.stix_identity_id) == bravo
    assert trust.recipient(bravo.signing_key_id) == bravo
    with pytest.raises(InputError, match="no partner 'Charlie'.*known: 'Alpha', 'Bravo'"):
        trust.recipient("Charlie")
    shutil.copy(folder / "Bravo.json", folder / "Bravo-copy.json")  # a duplicate is harmless
    assert load_trust_store(folder).recipient("Bravo") == bravo
    (folder / "Bravo-rekeyed.json").write_text(
        json.dumps(generate_org_keys("Bravo").identity.to_dict()))
    with pytest.raises(InputError, match="several identities"):
        load_trust_store(folder).recipient("Bravo")


def test_default_keys_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("HYBRIDWATCH_KEYS", str(tmp_path / "k"))
    assert default_keys_dir() == tmp_path / "k"
    monkeypatch.delenv("HYBRIDWATCH_KEYS")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_keys_dir() == tmp_path / "xdg" / "hybridwatch" / "keys"
