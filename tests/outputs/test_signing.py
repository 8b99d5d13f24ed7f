"""Detached composite signatures: canonical form, every way verification must fail, and
ML-DSA-65 interoperability with the independent pure-Python dilithium-py."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from hybridwatch.errors import InputError
from hybridwatch.outputs.canonical import canonical_bytes, choose_canonicalization
from hybridwatch.outputs.keystore import TrustStore, generate_org_keys
from hybridwatch.outputs.signing import (
    LABEL_DETACHED, LABEL_SEAL, VerificationError, composite_sign, composite_verify, sign_file,
    verify_file,
)

BUNDLE = {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
          "objects": [{"type": "indicator", "spec_version": "2.1", "confidence": 85,
                       "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                       "name": "Café ☕", "x_score": 1.50}]}


@pytest.fixture(scope="module")
def alpha():
    return generate_org_keys("Alpha CERT")


@pytest.fixture(scope="module")
def trust(alpha):
    return TrustStore(identities=(alpha.identity, generate_org_keys("Bravo").identity),
                      source="test-trust")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _sig(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".sig").read_text())


def _put_sig(path: Path, sig: dict) -> None:
    path.with_name(path.name + ".sig").write_text(json.dumps(sig))


def _reason(path: Path, trust: TrustStore) -> str:
    with pytest.raises(VerificationError) as info:
        verify_file(path, trust)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    return info.value.code


# --- canonical form ---------------------------------------------------------------------------

def test_rfc8785_canonical_form_matches_the_rfc_example():
    # RFC 8785 section 3.2.2: input and expected output, as printed in the RFC
    source = ('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
              ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
              ' "literals": [null, true, false]}')
    expected = ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,'
                '1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')
    assert canonical_bytes(source.encode(), "rfc8785") == expected.encode("utf-8")


@pytest.mark.parametrize("bad, why", [
    (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
    (b'{"a": NaN}', "NaN is not JSON"),
    (b'{"a": 9007199254740993}', "IntegerDomainError"),
    (b'{"a": ', "not valid JSON"),
    (b'\xff\xfe{}', "not UTF-8"),
])
def test_json_that_cannot_be_canonicalised_is_refused(bad, why):
    with pytest.raises(InputError, match=why):
        canonical_bytes(bad, "rfc8785", source="x.json")


def test_canonicalisation_is_chosen_by_suffix():
    assert choose_canonicalization("a/bundle.json") == "rfc8785"
    assert choose_canonicalization("x.STIX") == "rfc8785"
    assert choose_canonicalization("brief.pdf") == "raw"
    assert choose_canonicalization("brief.json", "raw") == "raw"
    assert canonical_bytes(b"%PDF \x00\xff", "raw") == b"%PDF \x00\xff"


# --- signing and verifying --------------------------------------------------------------------

def test_json_signature_survives_reserialisation(tmp_path, alpha, trust):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(BUNDLE))
    result = sign_file(path, alpha)
    assert result.canonicalization == "rfc8785"
    sig = _sig(path)
    assert sig["algs"] == ["ML-DSA-65", "Ed25519"]
    assert sig["signer"]["key_id"] == alpha.identity.signing_key_id
    assert sig["signer"]["stix_identity_id"] == alpha.identity.stix_identity_id
    assert len(base64.b64decode(sig["signatures"]["ML-DSA-65"])) == 3309  # FIPS 204 size
    # another tool re-serialises: other key order, indentation, 1.5 instead of 1.50, \u escapes
    shuffled = dict(reversed(list(BUNDLE.items())))
    path.write_text(json.dumps(shuffled, indent=4, ensure_ascii=True))
    ok = verify_file(path, trust)
    assert ok.valid and ok.signer["org"] == "Alpha CERT" and ok.canonicalization == "rfc8785"


def test_one_changed_value_or_byte_fails_as_content_mismatch(tmp_path, alpha, trust):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(BUNDLE))
    sign_file(path, alpha)
    path.write_text(json.dumps(BUNDLE).replace('"confidence": 85', '"confidence": 86'))
    assert _reason(path, trust) == "content-mismatch"
    pdf = tmp_path / "brief.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    sign_file(pdf, alpha)
    assert verify_file(pdf, trust).canonicalization == "raw"
    data = bytearray(pdf.read_bytes())
    data[5000] ^= 0x01  # one bit of one byte
    pdf.write_bytes(bytes(data))
    assert _reason(pdf, trust) == "content-mismatch"


def test_wrong_key_unknown_signer_and_forged_key_id(tmp_path, alpha, trust):
    path = tmp_path / "brief.html"
    path.write_text("<p>assessment</p>")
    sign_file(path, generate_org_keys("Alpha CERT"))  # same org, keys the partner never got
    assert _reason(path, trust) == "wrong-key"
    sign_file(path, generate_org_keys("Charlie"))
    assert _reason(path, trust) == "unknown-signer"
    # a stranger signs, then claims Alpha's trusted key in the .sig: the signatures fail
    sig = _sig(path)
    sig["signer"] = {"org": "Alpha CERT", "stix_identity_id": alpha.identity.stix_identity_id,
                     "key_id": alpha.identity.signing_key_id}
    _put_sig(path, sig)
    assert _reason(path, trust) == "bad-signature"


def test_a_flipped_signature_bit_names_the_component(tmp_path, alpha, trust):
    path = tmp_path / "brief.pdf"
    path.write_bytes(b"%PDF-1.7 body")
    sign_file(path, alpha)
    for alg in ("ML-DSA-65", "Ed25519"):
        sig = _sig(path)
        raw = bytearray(base64.b64decode(sig["signatures"][alg]))
        raw[10] ^= 0x80
        sig["signatures"][alg] = _b64(bytes(raw))
        _put_sig(path, sig)
        with pytest.raises(VerificationError, match=f"bad-signature: {alg} signature does not"):
            verify_file(path, trust)
        sign_file(path, alpha)


@pytest.mark.parametrize("kept", ["ML-DSA-65", "Ed25519"])
def test_stripped_component_fails_as_downgrade(tmp_path, alpha, trust, kept):
    path = tmp_path / "brief.pdf"
    path.write_bytes(b"%PDF-1.7 body")
    sign_file(path, alpha)
    sig = _sig(path)
    sig["signatures"] = {kept: sig["signatures"][kept]}
    _put_sig(path, sig)
    assert _reason(path, trust) == "algorithm-downgrade"


@pytest.mark.parametrize("kept", ["ML-DSA-65", "Ed25519"])
def test_downgraded_alg_list_fails_even_with_a_valid_single_signature(tmp_path, alpha, trust,
                                                                      kept):
    """An adversary who can forge one scheme (a quantum computer vs Ed25519, or a break of
    ML-DSA) rewrites the alg list and re-signs with that scheme alone: refused."""
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(BUNDLE))
    sign_file(path, alpha)
    sig = _sig(path)
    header = {k: v for k, v in sig.items() if k != "signatures"} | {"algs": [kept]}
    forged = composite_sign(alpha, LABEL_DETACHED, canonical_bytes(json.dumps(header).encode(),
                                                                   "rfc8785"))
    _put_sig(path, {**header, "signatures": {kept: _b64(forged[kept])}})
    assert _reason(path, trust) == "algorithm-downgrade"
    _put_sig(path, {**header, "signatures": {a: _b64(s) for a, s in forged.items()}})
    assert _reason(path, trust) == "algorithm-downgrade"


def test_missing_and_malformed_signature_files(tmp_path, alpha, trust):
    path = tmp_path / "brief.pdf"
    path.write_bytes(b"%PDF")
    assert _reason(path, trust) == "missing-signature"
    path.with_name("brief.pdf.sig").write_text("{not json")
    with pytest.raises(VerificationError, match="malformed-signature"):
        verify_file(path, trust)
    _put_sig(path, {"type": "something-else"})
    assert _reason(path, trust) == "malformed-signature"


def test_labels_separate_uses(alpha):
    """A signature made for a sealed envelope never verifies as a detached file signature."""
    sigs = composite_sign(alpha, LABEL_SEAL, b"same bytes")
    composite_verify(alpha.identity, LABEL_SEAL, b"same bytes", sigs, "x")
    with pytest.raises(VerificationError, match="ML-DSA-65 and Ed25519 signature does not"):
        composite_verify(alpha.identity, LABEL_DETACHED, b"same bytes", sigs, "x")


# --- interoperability with dilithium-py (independent ML-DSA implementation) -------------------

def _message_prime(label: str, tbs: bytes) -> bytes:
    # M' as documented in docs/sharing-crypto.md, rebuilt here rather than imported
    return b"hybridwatch-composite-v1\x00" + label.encode() + b"\x00" + tbs


def test_mldsa_interoperates_with_dilithium_py(tmp_path, alpha, trust):
    from dilithium_py.ml_dsa import ML_DSA_65

    pk, sk = ML_DSA_65.key_derive(alpha.ml_dsa_65_seed)  # FIPS 204 seed ξ → same key pair
    assert pk == alpha.identity.ml_dsa_65
    ctx = LABEL_DETACHED.encode()
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(BUNDLE))
    sign_file(path, alpha)
    sig = _sig(path)
    header = {k: v for k, v in sig.items() if k != "signatures"}
    message = _message_prime(LABEL_DETACHED, canonical_bytes(json.dumps(header).encode(),
                                                             "rfc8785"))
    assert header["digest"]["value"] == hashlib.sha512(
        canonical_bytes(path.read_bytes(), "rfc8785")).hexdigest()
    # cryptography-made signature → verified by dilithium-py (pure ML-DSA, context = label)
    assert ML_DSA_65.verify(pk, message, base64.b64decode(sig["signatures"]["ML-DSA-65"]), ctx)
    assert not ML_DSA_65.verify(pk, message, base64.b64decode(sig["signatures"]["ML-DSA-65"]),
                                b"other-context")
    # dilithium-py-made signature → accepted by hybridwatch verify (cryptography inside)
    sig["signatures"]["ML-DSA-65"] = _b64(ML_DSA_65.sign(sk, message, ctx))
    _put_sig(path, sig)
    assert verify_file(path, trust).valid
