"""Test PKI made on the fly: certificate chains (cryptography) and an RFC 3161 TSA that issues
tokens with any genTime (asn1crypto). Nothing here is used by the package itself."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.now(timezone.utc).replace(microsecond=0)
PEM = serialization.Encoding.PEM


def _name(cn: str, org: str = "Hybridwatch Test PKI") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "DE")])


def _usage(**on: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{n: on.get(n, False) for n in names})


@dataclass
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def make_ca(cn: str, *, days: int = 3650) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=days)).not_valid_after(NOW + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_usage(digital_signature=True, key_cert_sign=True, crl_sign=True),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return Issued(cert, key)


def issue(ca: Issued, cn: str, *, eku: list | None, days: int = 3650) -> Issued:
    """An end-entity certificate (ES256) signed by ``ca`` with the given extended key usages."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca.cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - timedelta(days=days))
               .not_valid_after(NOW + timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_usage(digital_signature=True), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca.key.public_key()), critical=False))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def make_tsa(cn: str = "Test TSA", *, eku: bool = True) -> tuple[Issued, Issued]:
    """(root CA, TSA certificate with the critical id-kp-timeStamping usage)."""
    root = make_ca(cn + " Root")
    return root, issue(root, cn, eku=[ExtendedKeyUsageOID.TIME_STAMPING] if eku else None)


def make_token(tsa: Issued, datum: bytes, gen_time: datetime, *, hash_alg: str = "sha256",
               serial: int = 1) -> bytes:
    """A DER TimeStampToken (CMS SignedData over TSTInfo) for ``datum`` at ``gen_time``."""
    from asn1crypto import cms, core, tsp
    from asn1crypto import x509 as ax509

    tst = tsp.TSTInfo({
        "version": "v1", "policy": "1.3.6.1.4.1.99999.1",
        "message_imprint": {"hash_algorithm": {"algorithm": hash_alg},
                            "hashed_message": hashlib.new(hash_alg, datum).digest()},
        "serial_number": serial, "gen_time": gen_time.astimezone(timezone.utc)})
    tst_der = tst.dump()
    cert_der = tsa.cert.public_bytes(serialization.Encoding.DER)
    acert = ax509.Certificate.load(cert_der)
    attrs = cms.CMSAttributes([
        {"type": "content_type", "values": ["tst_info"]},
        {"type": "message_digest", "values": [hashlib.sha256(tst_der).digest()]},
        {"type": "signing_certificate_v2",
         "values": [{"certs": [{"cert_hash": hashlib.sha256(cert_der).digest()}]}]},
    ])
    signature = tsa.key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": acert.issuer, "serial_number": acert.serial_number}}),
        "digest_algorithm": {"algorithm": "sha256"}, "signed_attrs": attrs,
        "signature_algorithm": {"algorithm": "sha256_ecdsa"}, "signature": signature})
    signed = cms.SignedData({
        "version": "v3", "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "tst_info",
                               "content": core.ParsableOctetString(tst_der)},
        "certificates": [acert], "signer_infos": [signer_info]})
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def openssl() -> str | None:
    return shutil.which("openssl")


def openssl_tsa_reply(folder: Path, root: Issued, tsa: Issued, query: bytes) -> bytes:
    """OpenSSL's own TSA (``openssl ts -reply``) answering a DER request: an independent
    producer of tokens for the verifier."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tsa.pem").write_bytes(tsa.cert_pem())
    (folder / "tsa.key").write_bytes(tsa.key_pem())
    (folder / "root.pem").write_bytes(root.cert_pem())
    (folder / "serial").write_text("01\n")
    (folder / "req.tsq").write_bytes(query)
    (folder / "tsa.cnf").write_text(f"""
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {folder / 'serial'}
crypto_device = builtin
signer_cert = {folder / 'tsa.pem'}
certs = {folder / 'root.pem'}
signer_key = {folder / 'tsa.key'}
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")
    subprocess.run([openssl(), "ts", "-reply", "-config", str(folder / "tsa.cnf"),
                    "-queryfile", str(folder / "req.tsq"), "-out", str(folder / "resp.tsr")],
                   check=True, capture_output=True)
    return (folder / "resp.tsr").read_bytes()


def openssl_verifies_token(folder: Path, root: Issued, token: bytes, datum: bytes) -> bool:
    """``openssl ts -verify`` of a bare token against the root, for the SHA-256 of ``datum``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "root.pem").write_bytes(root.cert_pem())
    (folder / "token.der").write_bytes(token)
    done = subprocess.run([openssl(), "ts", "-verify", "-token_in", "-in",
                           str(folder / "token.der"), "-digest",
                           hashlib.sha256(datum).hexdigest(), "-CAfile",
                           str(folder / "root.pem")], capture_output=True, text=True)
    return done.returncode == 0 and "OK" in done.stdout
