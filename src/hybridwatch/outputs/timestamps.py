"""RFC 3161 time-stamp tokens on detached signatures, verified offline.

A token proves that a signature existed at the TSA's ``genTime``: the TSA signs a TSTInfo whose
message imprint is the hash of the *signature value* (both component signatures, ML-DSA-65 ‖
Ed25519, as RFC 3161 appendix A does for CMS signatures). Tokens travel beside the signature in
the ``.sig`` file (``"timestamps"``, outside the signed header: like CMS unsigned attributes they
are added later and check themselves).

Verification, with no network: the token is a CMS SignedData with eContentType id-ct-TSTInfo;
its imprint must equal the hash of this signature; the signed attributes must carry the
content type and the digest of the TSTInfo (and, when present, ESSCertID(v2) of the signing
certificate); the TSA's signature over them must verify; the TSA certificate must carry the
id-kp-timeStamping extended key usage and chain, valid at ``genTime``, to a certificate the user
configured (``--tsa FILE``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hybridwatch.errors import InputError, VerificationError
from hybridwatch.outputs.identity import b64decode, b64encode

__all__ = ["TimestampCheck", "imprint_data", "load_tsa_certificates", "make_request",
           "parse_token", "verify_token"]

BAD_TIMESTAMP, UNTRUSTED_TIMESTAMP = "bad-timestamp", "untrusted-timestamp"
_HASHES = {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512", "sha3_256": "sha3_256",
           "sha3_384": "sha3_384", "sha3_512": "sha3_512"}
_MAX_CHAIN = 6


def _asn1():
    from asn1crypto import cms, tsp  # tsp registers TSTInfo as a CMS content type

    return cms, tsp


def imprint_data(sig_doc: dict, source: object = "<signature>") -> bytes:
    """What a token's message imprint hashes: ML-DSA-65 signature ‖ Ed25519 signature."""
    sigs = sig_doc.get("signatures") if isinstance(sig_doc, dict) else None
    try:
        return b64decode(sigs["ML-DSA-65"], "ML-DSA-65") + b64decode(sigs["Ed25519"], "Ed25519")
    except (TypeError, KeyError, ValueError):
        raise VerificationError(source, "malformed-signature", "the signature has no ML-DSA-65 "
                                "and Ed25519 values to time-stamp") from None


def make_request(sig_doc: dict, *, hash_alg: str = "sha512", source: object = "<sig>") -> bytes:
    """A DER TimeStampReq (RFC 3161 section 2.4.1) for a signature, asking for the certificate."""
    _, tsp = _asn1()
    digest = hashlib.new(_HASHES[hash_alg], imprint_data(sig_doc, source)).digest()
    return tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": hash_alg}, "hashed_message": digest},
        "nonce": int.from_bytes(os.urandom(8), "big"), "cert_req": True}).dump()


def parse_token(der: bytes, source: object):
    """A TimeStampToken (CMS ContentInfo) from a DER TimeStampResp or a bare token."""
    cms, tsp = _asn1()
    try:
        response = tsp.TimeStampResp.load(der)
        status = response["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            raise InputError(source, f"the TSA did not grant the time-stamp (status {status})")
        token = response["time_stamp_token"]
        if token.native is None:
            raise ValueError("response has no token")
    except InputError:
        raise
    except Exception:  # noqa: BLE001  not a response: try a bare token
        try:
            token = cms.ContentInfo.load(der)
            token.native  # noqa: B018  force the lazy parse
        except Exception as exc:  # noqa: BLE001
            raise InputError(source, f"not an RFC 3161 time-stamp response or token ({exc})") \
                from None
    if token["content_type"].native != "signed_data":
        raise InputError(source, "the token is not CMS SignedData")
    if token["content"]["encap_content_info"]["content_type"].native != "tst_info":
        raise InputError(source, "the token does not hold a TSTInfo")
    return token


def load_tsa_certificates(path: Path) -> list:
    """The TSA certificates a user trusts: one PEM/DER file, or a folder of .pem/.crt/.cer."""
    from cryptography import x509

    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".pem", ".crt", ".cer")) \
        if path.is_dir() else [path]
    certs = []
    for file in files:
        try:
            data = file.read_bytes()
            certs.extend(x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data
                         else [x509.load_der_x509_certificate(data)])
        except (OSError, ValueError) as exc:
            raise InputError(file, f"not a certificate file ({exc})") from None
    if not certs:
        raise InputError(path, "no TSA certificate found (.pem, .crt or .cer)")
    return certs


@dataclass(frozen=True)
class TimestampCheck:
    """A token that verified: when, by which TSA, with which imprint hash."""

    gen_time: datetime
    tsa: str
    hash_alg: str
    serial_number: int

    def to_dict(self) -> dict:
        return {"gen_time": self.gen_time.strftime("%Y-%m-%dT%H:%M:%SZ"), "tsa": self.tsa,
                "hash_alg": self.hash_alg, "serial_number": str(self.serial_number)}


def _verify_signature(cert, signature: bytes, data: bytes, hash_name: str, algo: str,
                      source: object) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    key = cert.public_key()
    hash_cls = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}.get(
        hash_name)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif hash_cls is None:
            raise VerificationError(source, BAD_TIMESTAMP, f"unsupported digest {hash_name}")
        elif isinstance(key, rsa.RSAPublicKey):
            pad = padding.PSS(padding.MGF1(hash_cls()), padding.PSS.AUTO) \
                if algo == "rsassa_pss" else padding.PKCS1v15()
            key.verify(signature, data, pad, hash_cls())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hash_cls()))
        else:
            raise VerificationError(source, BAD_TIMESTAMP, "unsupported TSA key type")
    except InvalidSignature:
        raise VerificationError(source, BAD_TIMESTAMP, "the TSA's signature over the token "
                                "does not verify") from None


def _valid_at(cert, when: datetime) -> bool:
    return cert.not_valid_before_utc <= when <= cert.not_valid_after_utc


def _chain_to_anchor(leaf, pool: list, anchors: list, when: datetime, source: object) -> None:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    anchor_der = {a.public_bytes(_der()) for a in anchors}
    cert = leaf
    for _ in range(_MAX_CHAIN):
        if not _valid_at(cert, when):
            raise VerificationError(source, UNTRUSTED_TIMESTAMP, f"certificate "
                                    f"{cert.subject.rfc4514_string()} was not valid at the "
                                    f"token's time {when:%Y-%m-%dT%H:%M:%SZ}")
        if cert.public_bytes(_der()) in anchor_der:
            return
        issuers = [c for c in anchors + pool if c.subject == cert.issuer and c is not cert]
        for issuer in issuers:
            try:
                cert.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature):  # not this issuer: try the next
                continue
            try:
                is_ca = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
            except x509.ExtensionNotFound:
                is_ca = False
            if not is_ca:
                continue
            cert = issuer
            break
        else:
            raise VerificationError(source, UNTRUSTED_TIMESTAMP, f"TSA certificate "
                                    f"{leaf.subject.rfc4514_string()} does not chain to a "
                                    "configured TSA certificate (--tsa)")
    raise VerificationError(source, UNTRUSTED_TIMESTAMP, "TSA certificate chain is too long")


def _der():
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def verify_token(token, datum: bytes, anchors: list, source: object) -> TimestampCheck:
    """Check one token against the signature bytes ``datum`` and the trusted TSA certificates."""
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    signed_data = token["content"]
    encap = signed_data["encap_content_info"]
    tst_der = encap["content"].contents
    tst_info = encap["content"].parsed
    imprint = tst_info["message_imprint"]
    hash_alg = imprint["hash_algorithm"]["algorithm"].native
    if hash_alg not in _HASHES:
        raise VerificationError(source, BAD_TIMESTAMP, f"unsupported imprint hash {hash_alg}")
    if hashlib.new(_HASHES[hash_alg], datum).digest() != imprint["hashed_message"].native:
        raise VerificationError(source, BAD_TIMESTAMP, "the token's message imprint is not the "
                                "hash of this signature (a token for another file?)")
    gen_time = tst_info["gen_time"].native
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise VerificationError(source, BAD_TIMESTAMP, "a token has exactly one signer")
    signer_info = signer_infos[0]
    pool = [x509.load_der_x509_certificate(c.chosen.dump())
            for c in (signed_data["certificates"] or []) if c.name == "certificate"]
    sid = signer_info["sid"]
    candidates = pool + list(anchors)
    if sid.name == "issuer_and_serial_number":
        serial = sid.chosen["serial_number"].native
        issuer_der = sid.chosen["issuer"].dump()
        tsa_cert = next((c for c in candidates if c.serial_number == serial
                         and c.issuer.public_bytes() == issuer_der), None)
    else:
        ski = sid.chosen.native
        tsa_cert = None
        for cert in candidates:
            try:
                if cert.extensions.get_extension_for_class(
                        x509.SubjectKeyIdentifier).value.digest == ski:
                    tsa_cert = cert
                    break
            except x509.ExtensionNotFound:
                continue
    if tsa_cert is None:
        raise VerificationError(source, UNTRUSTED_TIMESTAMP, "the TSA certificate is neither in "
                                "the token nor among the configured TSA certificates (--tsa)")
    attrs = signer_info["signed_attrs"]
    if not attrs:
        raise VerificationError(source, BAD_TIMESTAMP, "the token has no signed attributes")
    values = {a["type"].native: a["values"][0] for a in attrs}
    if len(values) != len(attrs) or any(len(a["values"]) != 1 for a in attrs):
        raise VerificationError(source, BAD_TIMESTAMP, "a signed attribute is repeated")
    digest_alg = signer_info["digest_algorithm"]["algorithm"].native
    if digest_alg not in _HASHES:
        raise VerificationError(source, BAD_TIMESTAMP, f"unsupported digest {digest_alg}")
    if values.get("content_type") is None or values["content_type"].native != "tst_info":
        raise VerificationError(source, BAD_TIMESTAMP, "signed content type is not TSTInfo")
    if values.get("message_digest") is None or values["message_digest"].native != \
            hashlib.new(_HASHES[digest_alg], tst_der).digest():
        raise VerificationError(source, BAD_TIMESTAMP, "the TSTInfo was altered after the TSA "
                                "signed it (message digest mismatch)")
    cert_der = tsa_cert.public_bytes(_der())
    for name, default_hash in (("signing_certificate_v2", "sha256"),
                               ("signing_certificate", "sha1")):
        if values.get(name) is not None:
            first = values[name]["certs"][0]
            alg = first["hash_algorithm"]["algorithm"].native if name.endswith("v2") \
                and first["hash_algorithm"].native else default_hash
            if hashlib.new(alg, cert_der).digest() != first["cert_hash"].native:
                raise VerificationError(source, BAD_TIMESTAMP, "the token's ESSCertID does not "
                                        "name the certificate that signed it")
    signed_bytes = b"\x31" + attrs.dump()[1:]  # signed over the DER SET OF, not the [0] tag
    _verify_signature(tsa_cert, signer_info["signature"].native, signed_bytes, digest_alg,
                      signer_info["signature_algorithm"].signature_algo, source)
    try:
        eku = tsa_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = []
    if ExtendedKeyUsageOID.TIME_STAMPING not in eku:
        raise VerificationError(source, UNTRUSTED_TIMESTAMP, "the signing certificate is not "
                                "a time-stamping certificate (no id-kp-timeStamping usage)")
    _chain_to_anchor(tsa_cert, pool, list(anchors), gen_time, source)
    return TimestampCheck(gen_time=gen_time, tsa=tsa_cert.subject.rfc4514_string(),
                          hash_alg=hash_alg, serial_number=tst_info["serial_number"].native)


def token_entries(sig_doc: dict) -> list[bytes]:
    """The DER tokens attached to a signature document."""
    entries = sig_doc.get("timestamps", [])
    if not isinstance(entries, list):
        raise ValueError("timestamps must be a list")
    return [b64decode(e.get("token") if isinstance(e, dict) else None, "timestamps.token")
            for e in entries]


def attach(sig_doc: dict, token_der: bytes, *, anchors: list | None = None,
           source: object = "<token>") -> tuple[dict, TimestampCheck | None]:
    """``sig_doc`` with the token added (checked: imprint always, TSA chain when ``anchors``)."""
    token = parse_token(token_der, source)
    datum = imprint_data(sig_doc, source)
    check = None
    if anchors:
        check = verify_token(token, datum, anchors, source)
    else:  # without a TSA certificate we can still refuse a token for another signature
        imprint = token["content"]["encap_content_info"]["content"].parsed["message_imprint"]
        alg = imprint["hash_algorithm"]["algorithm"].native
        if alg not in _HASHES or hashlib.new(_HASHES[alg], datum).digest() != \
                imprint["hashed_message"].native:
            raise VerificationError(source, BAD_TIMESTAMP, "the token's message imprint is not "
                                    "the hash of this signature")
    entry = {"type": "rfc3161", "token": b64encode(token.dump())}
    existing = [e for e in sig_doc.get("timestamps", []) if e != entry]
    return {**sig_doc, "timestamps": existing + [entry]}, check
