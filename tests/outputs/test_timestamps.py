"""RFC 3161 time-stamps on signatures: tokens from a test TSA (cross-checked by ``openssl ts
-verify``) and from OpenSSL's own TSA (``openssl ts -reply``), verified offline; a signature by a
compromised key counts only when a trusted token shows it predates the compromise."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from hybridwatch.cli import cli
from hybridwatch.errors import InputError
from hybridwatch.outputs import timestamps as ts
from hybridwatch.outputs.key_history import format_time, make_revocation
from hybridwatch.outputs.keystore import TrustStore, generate_org_keys, load_trust_store
from hybridwatch.outputs.signing import VerificationError, sign_file, verify_file
from pki_support import (
    NOW, make_token, make_tsa, openssl, openssl_tsa_reply, openssl_verifies_token,
)

needs_openssl = pytest.mark.skipif(openssl() is None, reason="the openssl command is not "
                                   "installed (it serves as the independent TSA and verifier)")


def t(days: float) -> str:
    return format_time(NOW + timedelta(days=days))


@pytest.fixture(scope="module")
def tsa():
    return make_tsa("Test TSA")


@pytest.fixture(scope="module")
def alpha():
    return generate_org_keys("Alpha CERT", created=t(-30))


@pytest.fixture
def world(tmp_path, alpha, tsa):
    """A file Alpha signed 3 days ago; Alpha's key compromised from 1 day ago (revoked now)."""
    root, _ = tsa
    doc = tmp_path / "report.txt"
    doc.write_text("assessment of 2026-12-03\n")
    sign_file(doc, alpha, created=t(-3))
    trust_dir = tmp_path / "trust"
    trust_dir.mkdir()
    (trust_dir / "alpha.json").write_text(json.dumps(alpha.identity.to_dict()))
    revocation = make_revocation(alpha, alpha.identity, reason="key-compromise",
                                 revoked_at=t(0), effective_from=t(-1))
    (trust_dir / "alpha-revoked.json").write_text(json.dumps(revocation.to_dict()))
    (tmp_path / "tsa.pem").write_bytes(root.cert_pem())
    return {"doc": doc, "sig": tmp_path / "report.txt.sig", "trust": load_trust_store(trust_dir),
            "trust_dir": trust_dir, "tsa_pem": tmp_path / "tsa.pem", "root": root}


def _sig(world) -> dict:
    return json.loads(world["sig"].read_text())


def _attach(world, token: bytes, anchors=None) -> None:
    doc, _ = ts.attach(_sig(world), token, anchors=anchors)
    world["sig"].write_text(json.dumps(doc))


@needs_openssl
def test_the_test_tsa_issues_tokens_openssl_accepts(tmp_path, tsa):
    root, leaf = tsa
    datum = b"signature bytes"
    token = make_token(leaf, datum, NOW - timedelta(days=2))
    assert openssl_verifies_token(tmp_path / "ok", root, token, datum)
    assert not openssl_verifies_token(tmp_path / "other", root, token, b"other bytes")


def test_token_before_the_compromise_rescues_the_signature(world, tsa):
    _, leaf = tsa
    with pytest.raises(VerificationError, match="only the signer's own claim") as info:
        verify_file(world["doc"], world["trust"])
    assert info.value.code == "revoked-key"
    datum = ts.imprint_data(_sig(world))
    _attach(world, make_token(leaf, datum, NOW - timedelta(days=2)))
    anchors = ts.load_tsa_certificates(world["tsa_pem"])
    result = verify_file(world["doc"], world["trust"], tsa_certs=anchors)
    assert result.time_source == "timestamp" and result.key_status == "revoked"
    assert result.signed_at == format_time(NOW - timedelta(days=2))
    assert result.timestamps[0]["tsa"].startswith("C=DE,O=Hybridwatch Test PKI,CN=Test TSA")
    # without the TSA certificate the token proves nothing, and says so
    with pytest.raises(VerificationError) as info:
        verify_file(world["doc"], world["trust"])
    assert info.value.code == "revoked-key"


def test_token_after_the_compromise_does_not(world, tsa):
    _, leaf = tsa
    _attach(world, make_token(leaf, ts.imprint_data(_sig(world)), NOW - timedelta(hours=1)))
    with pytest.raises(VerificationError, match="it was made at") as info:
        verify_file(world["doc"], world["trust"],
                    tsa_certs=ts.load_tsa_certificates(world["tsa_pem"]))
    assert info.value.code == "revoked-key"


def test_untrusted_tsa_and_a_tsa_without_the_time_stamping_usage(world):
    datum = ts.imprint_data(_sig(world))
    _, rogue = make_tsa("Rogue TSA")
    _attach(world, make_token(rogue, datum, NOW - timedelta(days=2)))
    anchors = ts.load_tsa_certificates(world["tsa_pem"])
    with pytest.raises(VerificationError, match="neither in the token|does not chain") as info:
        verify_file(world["doc"], world["trust"], tsa_certs=anchors)
    assert info.value.code == "untrusted-timestamp"
    root, no_eku = make_tsa("Plain signer", eku=False)
    token = make_token(no_eku, datum, NOW - timedelta(days=2))
    with pytest.raises(VerificationError, match="id-kp-timeStamping") as info:
        ts.verify_token(ts.parse_token(token, "t"), datum, [root.cert], "t")
    assert info.value.code == "untrusted-timestamp"


def test_a_token_for_another_signature_or_altered_is_refused(world, tsa, tmp_path):
    _, leaf = tsa
    with pytest.raises(VerificationError, match="imprint") as info:
        ts.attach(_sig(world), make_token(leaf, b"someone else's signature", NOW))
    assert info.value.code == "bad-timestamp"
    token = bytearray(make_token(leaf, ts.imprint_data(_sig(world)), NOW - timedelta(days=2)))
    stamp = (NOW - timedelta(days=2)).strftime("%Y%m%d%H%M%S").encode()
    at = bytes(token).index(stamp)
    token[at + 3] = ord("0") if token[at + 3] != ord("0") else ord("1")  # move genTime a year
    _attach(world, bytes(token))
    with pytest.raises(VerificationError, match="altered") as info:
        verify_file(world["doc"], world["trust"],
                    tsa_certs=ts.load_tsa_certificates(world["tsa_pem"]))
    assert info.value.code == "bad-timestamp"
    (tmp_path / "junk.tsr").write_bytes(b"not DER")
    with pytest.raises(InputError, match="not an RFC 3161"):
        ts.parse_token(b"not DER", tmp_path / "junk.tsr")


@needs_openssl
def test_openssl_tsa_reply_is_verified_through_the_cli(world, tsa, tmp_path):
    root, leaf = tsa
    runner = CliRunner()
    env = {"HYBRIDWATCH_TSA": None, "HYBRIDWATCH_TRUST": None}

    def run(*args):
        result = runner.invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)
        return result.exit_code, (json.loads(result.stdout) if "--json" in args
                                  else result.stdout), result.stderr

    code, made, _ = run("timestamp", "request", world["sig"], "--json")
    assert code == 0
    reply = openssl_tsa_reply(tmp_path / "openssl", root, leaf,
                              Path(made["request"]).read_bytes())
    (tmp_path / "reply.tsr").write_bytes(reply)
    code, attached, _ = run("timestamp", "attach", world["sig"], tmp_path / "reply.tsr",
                            "--tsa", world["tsa_pem"], "--json")
    assert code == 0 and attached["checked"]["tsa"].endswith("CN=Test TSA")
    # OpenSSL stamped it now, after the compromise took effect: refused, with the reason
    code, out, err = run("verify", world["doc"], "--trust", world["trust_dir"], "--tsa",
                         world["tsa_pem"], "--json")
    assert code == 5 and out["reason"] == "revoked-key" and "(timestamp)" in out["error"]
    # the same token on a signature of a key in good standing verifies, time from the TSA
    good = TrustStore(identities=(world["trust"].identities[0],), source="no-revocations")
    result = verify_file(world["doc"], good, tsa_certs=[root.cert])
    assert result.time_source == "timestamp" and result.key_status == "current"
    assert result.timestamps[0]["gen_time"] > t(-1)
