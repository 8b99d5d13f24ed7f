"""Composite (ML-DSA-65 + Ed25519) signatures, and detached ``FILE.sig`` files.

A composite signature holds while either scheme holds: both component signatures are made over
the same message and a verifier requires both. Construction (in the spirit of, not
wire-compatible with, draft-ietf-lamps-pq-composite-sigs)::

    M' = b"hybridwatch-composite-v1" 0x00 LABEL 0x00 TBS
    sig_mldsa = ML-DSA-65.Sign(sk, M', ctx=LABEL)      # FIPS 204 *pure* ML-DSA, context = LABEL
    sig_ed    = Ed25519.Sign(sk, M')                    # RFC 8032 pure Ed25519

LABEL separates uses (detached file signature, identity self-signature, sealed envelope) so a
signature made for one can never verify as another. TBS is always small RFC 8785 JSON; the
content itself enters as its SHA-512 digest (hash-then-sign at the application layer, like CMS
signed attributes), so ML-DSA runs in pure mode and HashML-DSA is not used.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybridwatch.errors import InputError, VerificationError
from hybridwatch.outputs.canonical import (
    CANONICALIZATIONS, canonical_bytes, canonical_json, choose_canonicalization,
)
from hybridwatch.outputs.identity import IdentityDocument, b64decode, b64encode

if TYPE_CHECKING:
    from hybridwatch.outputs.keystore import OrgKeys, TrustStore

__all__ = ["COMPOSITE_ALGS", "ED25519", "ML_DSA_65", "SignResult", "VerificationError",
           "VerificationResult", "composite_sign", "composite_verify", "sign_file", "verify_file"]

ML_DSA_65, ED25519 = "ML-DSA-65", "Ed25519"
COMPOSITE_ALGS = (ML_DSA_65, ED25519)
LABEL_DETACHED = "hybridwatch/detached-sig/v1"
LABEL_IDENTITY = "hybridwatch/identity/v1"
LABEL_SEAL = "hybridwatch/seal/v1"
SIG_TYPE, SIG_VERSION = "hybridwatch-signature", 1
DIGEST_ALG = "SHA-512"
_PREFIX = b"hybridwatch-composite-v1"

# Reason codes of VerificationError: one per way a signature can fail, stable for scripts.
MISSING, MALFORMED, DOWNGRADE = "missing-signature", "malformed-signature", "algorithm-downgrade"
UNKNOWN_SIGNER, WRONG_KEY = "unknown-signer", "wrong-key"
BAD_SIGNATURE, CONTENT_MISMATCH = "bad-signature", "content-mismatch"
REVOKED_KEY, SUPERSEDED_KEY = "revoked-key", "superseded-key"
BAD_TIMESTAMP, UNTRUSTED_TIMESTAMP = "bad-timestamp", "untrusted-timestamp"
REASONS = (MISSING, MALFORMED, DOWNGRADE, UNKNOWN_SIGNER, WRONG_KEY, BAD_SIGNATURE,
           CONTENT_MISMATCH, REVOKED_KEY, SUPERSEDED_KEY, BAD_TIMESTAMP, UNTRUSTED_TIMESTAMP)
#: Unsigned parts of a ``.sig`` (added after signing, each checks itself): RFC 3161 tokens.
UNSIGNED_FIELDS = ("signatures", "timestamps")


def utc_now_text() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def composite_message(label: str, tbs: bytes) -> bytes:
    """M': the one message both component signatures cover."""
    return _PREFIX + b"\x00" + label.encode("ascii") + b"\x00" + tbs


def composite_sign(keys: "OrgKeys", label: str, tbs: bytes) -> dict[str, bytes]:
    """Both component signatures over ``tbs`` under ``label``: {"ML-DSA-65": …, "Ed25519": …}."""
    message = composite_message(label, tbs)
    return {ML_DSA_65: keys.ml_dsa_key.sign(message, label.encode("ascii")),
            ED25519: keys.ed25519_key.sign(message)}


@lru_cache(maxsize=256)
def _mldsa_public(raw: bytes):
    from cryptography.hazmat.primitives.asymmetric import mldsa

    return mldsa.MLDSA65PublicKey.from_public_bytes(raw)


@lru_cache(maxsize=256)
def _ed25519_public(raw: bytes):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


def check_algorithms(algs: object, signatures: object, source: object) -> None:
    """Refuse a signature that lacks a component or lists fewer algorithms (a downgrade)."""
    if not isinstance(algs, list) or not all(isinstance(a, str) for a in algs):
        raise VerificationError(source, MALFORMED, "algs must be a list of algorithm names")
    if not isinstance(signatures, dict):
        raise VerificationError(source, MALFORMED, "signatures must be an object")
    unknown = sorted((set(algs) | set(signatures)) - set(COMPOSITE_ALGS))
    if unknown:
        raise VerificationError(source, MALFORMED, f"unknown algorithm {', '.join(unknown)}; "
                                f"expected exactly {' + '.join(COMPOSITE_ALGS)}")
    for alg in COMPOSITE_ALGS:
        if alg not in algs or alg not in signatures:
            where = "alg list" if alg not in algs else "signatures"
            present = " + ".join(a for a in COMPOSITE_ALGS if a in algs and a in signatures)
            raise VerificationError(
                source, DOWNGRADE, f"{alg} is missing from the {where} (only {present or 'none'}"
                f"); a hybridwatch signature needs both {' and '.join(COMPOSITE_ALGS)}")
    if len(algs) != len(COMPOSITE_ALGS):
        raise VerificationError(source, MALFORMED, f"alg list {algs} repeats an algorithm")


def composite_verify(identity: IdentityDocument, label: str, tbs: bytes,
                     signatures: dict[str, Any], source: object) -> None:
    """Raise VerificationError(bad-signature) unless *both* component signatures verify."""
    from cryptography.exceptions import InvalidSignature

    message = composite_message(label, tbs)
    failed = []
    for alg in COMPOSITE_ALGS:
        try:
            sig = signatures[alg]
            sig = sig if isinstance(sig, bytes) else b64decode(sig, alg)
            if alg == ML_DSA_65:
                _mldsa_public(identity.ml_dsa_65).verify(sig, message, label.encode("ascii"))
            else:
                _ed25519_public(identity.ed25519).verify(sig, message)
        except (InvalidSignature, ValueError):
            failed.append(alg)
    if failed:
        raise VerificationError(source, BAD_SIGNATURE,
                                f"{' and '.join(failed)} signature does not verify with "
                                f"{identity.org!r} key {identity.signing_key_id}")


def resolve_signer(trust: "TrustStore", signer: object, source: object) -> IdentityDocument:
    """The trusted identity a signature claims; unknown-signer or wrong-key otherwise."""
    if not isinstance(signer, dict) or not isinstance(signer.get("key_id"), str):
        raise VerificationError(source, MALFORMED, "signer.key_id is missing")
    claimed_org = signer.get("org") if isinstance(signer.get("org"), str) else "?"
    identity = trust.by_signing_key_id(signer["key_id"])
    if identity is None:
        same_org = trust.by_stix_id(str(signer.get("stix_identity_id")))
        if same_org:
            known = ", ".join(i.signing_key_id for i in same_org)
            raise VerificationError(source, WRONG_KEY,
                                    f"signed by key {signer['key_id']}, but the trust store "
                                    f"holds key {known} for {claimed_org!r}")
        raise VerificationError(source, UNKNOWN_SIGNER,
                                f"signer {claimed_org!r} (key {signer['key_id']}) is not in the "
                                f"trust store {trust.source}")
    if signer.get("stix_identity_id") != identity.stix_identity_id:
        raise VerificationError(source, WRONG_KEY,
                                f"key {signer['key_id']} belongs to {identity.org!r}, not to "
                                f"{claimed_org!r}")
    return identity


@dataclass(frozen=True)
class SignResult:
    """A detached signature that was written."""

    file: str
    signature_file: str
    signer: dict
    canonicalization: str
    digest_sha512: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class VerificationResult:
    """A detached signature that verified against the trust store.

    ``key_status`` is the signing key's state now: ``current``, ``superseded`` (replaced by
    ``superseded_by`` after this signature was made) or ``revoked`` (after this signature was
    made). ``signed_at`` is the time the verdict rests on: a trusted RFC 3161 ``genTime`` when
    ``time_source`` is ``timestamp``, else the signer's own claim (``created``).
    """

    file: str
    signature_file: str
    signer: dict
    algs: tuple[str, ...]
    canonicalization: str
    created: str
    valid: bool = True
    key_status: str = "current"
    superseded_by: str | None = None
    revocation: dict | None = None
    signed_at: str | None = None
    time_source: str = "claimed"
    timestamps: tuple[dict, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {**self.__dict__, "algs": list(self.algs), "timestamps": list(self.timestamps),
                "warnings": list(self.warnings)}


def signature_header(keys: "OrgKeys", content: bytes, canonicalization: str,
                     created: str | None = None) -> dict:
    """The signed fields of a ``.sig``: everything but the signatures themselves."""
    ident = keys.identity
    return {"type": SIG_TYPE, "version": SIG_VERSION, "algs": list(COMPOSITE_ALGS),
            "signer": {"org": ident.org, "stix_identity_id": ident.stix_identity_id,
                       "key_id": ident.signing_key_id},
            "canonicalization": canonicalization,
            "digest": {"alg": DIGEST_ALG, "value": hashlib.sha512(content).hexdigest()},
            "created": created or utc_now_text()}


def sign_bytes(keys: "OrgKeys", data: bytes, canonicalization: str, *, source: object = "<data>",
               created: str | None = None) -> dict:
    """A detached signature document (the JSON written to ``FILE.sig``) for ``data``."""
    content = canonical_bytes(data, canonicalization, source=source)
    header = signature_header(keys, content, canonicalization, created)
    sigs = composite_sign(keys, LABEL_DETACHED, canonical_json(header))
    return {**header, "signatures": {alg: b64encode(sig) for alg, sig in sigs.items()}}


def sign_file(path: Path, keys: "OrgKeys", *, canon: str = "auto", out: Path | None = None,
              created: str | None = None) -> SignResult:
    """Write a detached composite signature of ``path`` to ``out`` (default ``path.sig``)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    method = choose_canonicalization(path, canon)
    doc = sign_bytes(keys, data, method, source=path, created=created)
    out = Path(out) if out else path.with_name(path.name + ".sig")
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return SignResult(file=str(path), signature_file=str(out), signer=doc["signer"],
                      canonicalization=method, digest_sha512=doc["digest"]["value"])


def verify_document(sig: object, data: bytes, trust: "TrustStore", *,
                    source: object = "<signature>") -> tuple[IdentityDocument, dict]:
    """Check a parsed ``.sig`` against ``data``; returns (signer identity, sig) or raises.

    Order: shape → algorithm set (downgrade) → signer in trust store → both signatures over the
    header → content digest. The header is authenticated before the digest is compared, so a
    content-mismatch means "this file is not what the signer signed".
    """
    if not isinstance(sig, dict) or sig.get("type") != SIG_TYPE:
        raise VerificationError(source, MALFORMED, f"not a {SIG_TYPE} document")
    if sig.get("version") != SIG_VERSION:
        raise VerificationError(source, MALFORMED, f"unsupported version {sig.get('version')!r}")
    check_algorithms(sig.get("algs"), sig.get("signatures"), source)
    identity = resolve_signer(trust, sig.get("signer"), source)
    header = {k: v for k, v in sig.items() if k not in UNSIGNED_FIELDS}
    try:
        tbs = canonical_json(header)
    except ValueError as exc:
        raise VerificationError(source, MALFORMED, str(exc)) from None
    composite_verify(identity, LABEL_DETACHED, tbs, sig["signatures"], source)
    method, digest = sig.get("canonicalization"), sig.get("digest")
    if method not in CANONICALIZATIONS or not isinstance(digest, dict) \
            or digest.get("alg") != DIGEST_ALG:
        raise VerificationError(source, MALFORMED, "canonicalization or digest is not supported")
    try:
        content = canonical_bytes(data, method, source=source)
    except InputError as exc:
        raise VerificationError(source, CONTENT_MISMATCH,
                                f"the file no longer canonicalises as signed ({exc.reason})") \
            from None
    if hashlib.sha512(content).hexdigest() != digest.get("value"):
        raise VerificationError(source, CONTENT_MISMATCH,
                                f"the file differs from what {identity.org!r} signed "
                                f"({method} SHA-512 mismatch)")
    return identity, sig


def trusted_signing_time(sig: dict, tsa_certs: list | None, source: object) \
        -> tuple[datetime | None, list[dict], list[str]]:
    """The earliest ``genTime`` of the signature's RFC 3161 tokens that verify against
    ``tsa_certs``; a token that is present but fails is an error, not ignored."""
    from hybridwatch.outputs import timestamps as ts

    try:
        tokens = ts.token_entries(sig)
    except ValueError as exc:
        raise VerificationError(source, MALFORMED, str(exc)) from None
    if not tokens:
        return None, [], []
    if not tsa_certs:
        return None, [], [f"{len(tokens)} RFC 3161 time-stamp token(s) not checked: no TSA "
                          "certificate configured (--tsa)"]
    datum = ts.imprint_data(sig, source)
    checks = []
    for der in tokens:
        try:
            token = ts.parse_token(der, source)
        except InputError as exc:
            raise VerificationError(source, BAD_TIMESTAMP, exc.reason) from None
        checks.append(ts.verify_token(token, datum, tsa_certs, source))
    checks.sort(key=lambda c: c.gen_time)
    return checks[0].gen_time, [c.to_dict() for c in checks], []


def check_key_lifecycle(trust: "TrustStore", identity: IdentityDocument, claimed: str,
                        trusted_at: datetime | None, source: object) -> dict:
    """Apply the signer's key history to one signature; raise revoked-key / superseded-key.

    * revoked: accepted only when made before the revocation took effect: proven by a trusted
      time-stamp, or (unless the reason is key-compromise, when the key holder's own clock
      cannot be believed) by the signature's claimed time;
    * superseded: accepted when made before the rotation, refused when made after it (the
      organisation signs with its new key from then on).
    """
    from hybridwatch.outputs.key_history import KEY_COMPROMISE, format_time, parse_time

    try:
        claimed_at = parse_time(claimed, "created")
    except ValueError as exc:
        raise VerificationError(source, MALFORMED, str(exc)) from None
    when, time_source = (trusted_at, "timestamp") if trusted_at else (claimed_at, "claimed")
    history = trust.key_history
    key = identity.signing_key_id
    out = {"key_status": "current", "superseded_by": None, "revocation": None,
           "signed_at": format_time(when), "time_source": time_source, "warnings": []}
    if trusted_at is not None and claimed_at > trusted_at + timedelta(minutes=10):
        out["warnings"].append(f"the signature claims {claimed}, after its trusted time-stamp "
                               f"{format_time(trusted_at)}")
    revocation = history.revocation(key)
    if revocation is not None:
        before = when < revocation.effective_time
        if not before or (time_source == "claimed" and revocation.reason == KEY_COMPROMISE):
            proof = ("a trusted time-stamp of " + format_time(when)) if trusted_at else \
                f"only the signer's own claim ({claimed}); attach an RFC 3161 token made " \
                "before the revocation (hybridwatch timestamp attach) and pass --tsa"
            if not before:
                proof = f"it was made at {format_time(when)} ({time_source})"
            raise VerificationError(source, REVOKED_KEY,
                                    f"key {key} of {identity.org!r} was revoked "
                                    f"({revocation.reason}) with effect from "
                                    f"{revocation.effective_from}; {proof}")
        out.update(key_status="revoked", revocation=revocation.summary())
        out["warnings"].append(f"key {key} was revoked ({revocation.reason}) from "
                               f"{revocation.effective_from}, after this signature was made")
    rotation = history.successor(key)
    if rotation is not None:
        if when > rotation.rotated_at_time:  # the same second counts as before (1 s clocks)
            raise VerificationError(source, SUPERSEDED_KEY,
                                    f"signed at {format_time(when)} ({time_source}) with key "
                                    f"{key}, which {identity.org!r} replaced by key "
                                    f"{rotation.new_key_id} on {rotation.rotated_at}: ask for a "
                                    "signature by the current key")
        if out["key_status"] == "current":
            out["key_status"] = "superseded"
        out["superseded_by"] = rotation.new_key_id
        out["warnings"].append(f"signed with an earlier key of {identity.org!r}, since replaced "
                               f"by {rotation.new_key_id} ({rotation.rotated_at})")
    return out


def verify_file(path: Path, trust: "TrustStore", *, sig_path: Path | None = None,
                tsa_certs: list | None = None) -> VerificationResult:
    """Verify ``path`` against its detached signature (default ``path.sig``) and ``trust``.

    Beyond the signature itself, the signer's key history in ``trust`` is applied (revoked-key,
    superseded-key), with RFC 3161 tokens checked against ``tsa_certs`` as the trusted time.
    """
    path = Path(path)
    sig_path = Path(sig_path) if sig_path else path.with_name(path.name + ".sig")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        sig = json.loads(sig_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VerificationError(path, MISSING, f"no signature file {sig_path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VerificationError(sig_path, MALFORMED, f"not a readable JSON signature ({exc})") \
            from None
    except RecursionError:
        raise VerificationError(sig_path, MALFORMED, "not a readable JSON signature (nested "
                                "too deeply)") from None
    identity, sig = verify_document(sig, data, trust, source=path)
    trusted_at, checks, notes = trusted_signing_time(sig, tsa_certs, path)
    lifecycle = check_key_lifecycle(trust, identity, sig.get("created"), trusted_at, path)
    warnings = tuple(notes + lifecycle.pop("warnings"))
    return VerificationResult(file=str(path), signature_file=str(sig_path),
                              signer=identity.summary(), algs=tuple(sig["algs"]),
                              canonicalization=sig["canonicalization"], created=str(sig["created"]),
                              timestamps=tuple(checks), warnings=warnings, **lifecycle)
