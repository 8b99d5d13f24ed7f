"""Sealed envelopes: round trip, tampering, wrong recipient, and an independent decryption of
cryptography's HPKE output (RFC 9180 + X-Wing rebuilt from kyber-py, X25519 and hashlib)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat

import pytest

from hybridwatch.errors import InputError
from hybridwatch.outputs.keystore import TrustStore, generate_org_keys
from hybridwatch.outputs.sealing import (
    ENC_BYTES, HPKE_SUITE, hpke_info, open_envelope, open_file, seal_bytes, seal_file,
)
from hybridwatch.outputs.signing import LABEL_SEAL, VerificationError, composite_sign

CONTENT = bytes(range(256)) * 64 + "TLP:AMBER briefing – Ø".encode()


@pytest.fixture(scope="module")
def alpha():
    return generate_org_keys("Alpha")


@pytest.fixture(scope="module")
def bravo():
    return generate_org_keys("Bravo")


@pytest.fixture(scope="module")
def trust(alpha, bravo):
    return TrustStore(identities=(alpha.identity, bravo.identity), source="test-trust")


def test_seal_and_open_round_trip(tmp_path, alpha, bravo, trust):
    path = tmp_path / "briefing.pdf"
    path.write_bytes(CONTENT)
    sealed = seal_file(path, alpha, trust.recipient("Bravo"))
    envelope = json.loads((tmp_path / "briefing.pdf.sealed").read_text())
    assert envelope["hpke"] == HPKE_SUITE and envelope["hpke"]["kem_id"] == 0x647A
    assert envelope["recipient"]["key_id"] == bravo.identity.encryption_key_id
    assert envelope["sender"]["key_id"] == alpha.identity.signing_key_id
    assert len(base64.b64decode(envelope["enc"])) == ENC_BYTES
    text = (tmp_path / "briefing.pdf.sealed").read_text()
    assert "briefing.pdf" not in text and "TLP:AMBER" not in text  # both are inside
    assert sealed.size_bytes == len(CONTENT)
    path.unlink()
    opened = open_file(tmp_path / "briefing.pdf.sealed", bravo, trust=trust)
    assert opened.sender_verified and opened.sender["org"] == "Alpha"
    assert path.read_bytes() == CONTENT and opened.output == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(InputError, match="already exists"):
        open_file(tmp_path / "briefing.pdf.sealed", bravo, trust=trust)
    unverified = open_envelope(envelope, bravo)  # no trust store: decrypts, says so
    assert unverified.data == CONTENT and not unverified.sender_verified


def test_only_the_recipient_can_open(alpha, bravo, trust):
    envelope = seal_bytes(b"secret", "x.txt", alpha, bravo.identity)
    with pytest.raises(InputError, match="sealed for 'Bravo'.*not for the local identity 'Alpha'"):
        open_envelope(envelope, alpha, trust)
    # lie about the recipient key id: the HPKE info no longer matches, so no key opens it
    impostor = generate_org_keys("Bravo")
    envelope["recipient"]["key_id"] = impostor.identity.encryption_key_id
    with pytest.raises(InputError, match="cannot decrypt"):
        open_envelope(envelope, impostor)


def test_tampered_ciphertext_fails_signature_then_decryption(alpha, bravo, trust):
    envelope = seal_bytes(CONTENT, "x.bin", alpha, bravo.identity)
    raw = bytearray(base64.b64decode(envelope["ciphertext"]))
    raw[100] ^= 1
    envelope["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(VerificationError) as info:
        open_envelope(envelope, bravo, trust)  # sender signature is checked before decrypting
    assert info.value.code == "bad-signature"
    with pytest.raises(InputError, match="cannot decrypt"):
        open_envelope(envelope, bravo)  # and without a trust store the AEAD catches it


def test_resigned_envelope_with_another_sender_does_not_decrypt(alpha, bravo, trust):
    """Encrypt-then-sign pitfall: Mallory strips Alpha's signature and signs as herself.
    The sender is part of the HPKE info, so the re-labelled envelope cannot be decrypted."""
    mallory = generate_org_keys("Mallory")
    envelope = seal_bytes(b"Alpha's report", "r.txt", alpha, bravo.identity)
    header = {k: v for k, v in envelope.items() if k not in ("enc", "ciphertext", "signatures")}
    header["sender"] = {"org": "Mallory", "stix_identity_id": mallory.identity.stix_identity_id,
                        "key_id": mallory.identity.signing_key_id}
    enc, ct = (base64.b64decode(envelope[k]) for k in ("enc", "ciphertext"))
    from hybridwatch.outputs.canonical import canonical_json
    tbs = canonical_json({"header": header,
                          "payload_sha512": hashlib.sha512(enc + ct).hexdigest()})
    sigs = composite_sign(mallory, LABEL_SEAL, tbs)
    forged = {**header, "enc": envelope["enc"], "ciphertext": envelope["ciphertext"],
              "signatures": {a: base64.b64encode(s).decode() for a, s in sigs.items()}}
    with_mallory = TrustStore(identities=trust.identities + (mallory.identity,), source="t")
    with pytest.raises(InputError, match="cannot decrypt"):
        open_envelope(forged, bravo, with_mallory)


def test_sender_checks_unknown_and_stripped(alpha, bravo):
    envelope = seal_bytes(b"x", "x.txt", alpha, bravo.identity)
    only_bravo = TrustStore(identities=(bravo.identity,), source="t")
    with pytest.raises(VerificationError) as info:
        open_envelope(envelope, bravo, only_bravo)
    assert info.value.code == "unknown-signer"
    del envelope["signatures"]["ML-DSA-65"]
    trust = TrustStore(identities=(alpha.identity, bravo.identity), source="t")
    with pytest.raises(VerificationError) as info:
        open_envelope(envelope, bravo, trust)
    assert info.value.code == "algorithm-downgrade"


def test_sender_chosen_file_name_cannot_escape(tmp_path, alpha, bravo):
    sealed = tmp_path / "evil.sealed"
    sealed.write_text(json.dumps(seal_bytes(b"x", "../../etc/evil", alpha, bravo.identity)))
    with pytest.raises(InputError, match="not a plain file name"):
        open_file(sealed, bravo)
    out = open_file(sealed, bravo, out=tmp_path / "chosen.txt")
    assert (tmp_path / "chosen.txt").read_bytes() == b"x" and out.file_name == "../../etc/evil"


# --- independent checks: kyber-py for ML-KEM-768, RFC 9180 + X-Wing by hand ----------------------

def test_mlkem768_interoperates_with_kyber_py(bravo):
    from cryptography.hazmat.primitives.asymmetric import mlkem
    from kyber_py.ml_kem import ML_KEM_768

    ek, dk = ML_KEM_768.key_derive(bravo.ml_kem_768_seed)  # FIPS 203 seed d ‖ z
    assert ek == bravo.identity.ml_kem_768
    ours = mlkem.MLKEM768PrivateKey.from_seed_bytes(bravo.ml_kem_768_seed)
    secret, ct = ours.public_key().encapsulate()  # cryptography encaps → kyber-py decaps
    assert ML_KEM_768.decaps(dk, ct) == secret
    secret2, ct2 = ML_KEM_768.encaps(ek)  # kyber-py encaps → cryptography decaps
    assert ours.decapsulate(ct2) == secret2


def _hpke_open_by_hand(keys, enc: bytes, ciphertext: bytes, info: bytes) -> bytes:
    """RFC 9180 base-mode Open with the X-Wing KEM (draft-connolly-cfrg-xwing-kem), written
    from the specifications with kyber-py, X25519, SHA3-256, HMAC-SHA256 and ChaCha20-Poly1305."""
    from cryptography.hazmat.primitives.asymmetric import x25519
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    from kyber_py.ml_kem import ML_KEM_768

    _, dk = ML_KEM_768.key_derive(keys.ml_kem_768_seed)
    ct_m, ct_x = enc[:1088], enc[1088:]
    ss_m = ML_KEM_768.decaps(dk, ct_m)
    sk_x = x25519.X25519PrivateKey.from_private_bytes(keys.x25519_private)
    ss_x = sk_x.exchange(x25519.X25519PublicKey.from_public_bytes(ct_x))
    pk_x = sk_x.public_key().public_bytes_raw()
    shared = hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + b"\\.//^\\").digest()  # X-Wing combiner
    # suite_id = "HPKE" ‖ kem_id 0x647A ‖ kdf_id 1 (HKDF-SHA256) ‖ aead_id 3 (ChaCha20-Poly1305)
    suite_id = b"HPKE" + bytes.fromhex("647a") + bytes.fromhex("0001") + bytes.fromhex("0003")

    def extract(salt: bytes, label: bytes, ikm: bytes) -> bytes:
        return hmac.new(salt or bytes(32), b"HPKE-v1" + suite_id + label + ikm,
                        hashlib.sha256).digest()

    def expand(prk: bytes, label: bytes, ctx: bytes, length: int) -> bytes:
        labeled = length.to_bytes(2, "big") + b"HPKE-v1" + suite_id + label + ctx
        out, block, counter = b"", b"", 1
        while len(out) < length:
            block = hmac.new(prk, block + labeled + bytes([counter]), hashlib.sha256).digest()
            out, counter = out + block, counter + 1
        return out[:length]

    context = b"\x00" + extract(b"", b"psk_id_hash", b"") + extract(b"", b"info_hash", info)
    secret = extract(shared, b"secret", b"")
    key, nonce = expand(secret, b"key", context, 32), expand(secret, b"base_nonce", context, 12)
    return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, b"")


def test_hpke_output_decrypts_with_an_independent_xwing_hpke(alpha, bravo):
    envelope = seal_bytes(CONTENT, "brief.pdf", alpha, bravo.identity)
    header = {k: v for k, v in envelope.items() if k not in ("enc", "ciphertext", "signatures")}
    plaintext = _hpke_open_by_hand(bravo, base64.b64decode(envelope["enc"]),
                                   base64.b64decode(envelope["ciphertext"]), hpke_info(header))
    assert plaintext.endswith(CONTENT) and plaintext.startswith(b"HWS1")
    meta_len = int.from_bytes(plaintext[4:8], "big")
    assert json.loads(plaintext[8:8 + meta_len]) == {"file_name": "brief.pdf",
                                                     "size_bytes": len(CONTENT)}
