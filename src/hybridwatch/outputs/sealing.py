"""Sealed envelopes: hybrid post-quantum encryption to one partner, signed by the sender.

Encryption is HPKE (RFC 9180, base mode) from ``cryptography``'s ``hpke`` module with the KEM
MLKEM768-X25519 (X-Wing, HPKE KEM id 0x647A: ML-KEM-768 and X25519 combined with SHA3-256, secure
while either holds), HKDF-SHA256 and ChaCha20-Poly1305.

Encrypt-then-sign: the sender signs the envelope header plus the SHA-512 of the HPKE output with
the composite (ML-DSA-65 + Ed25519) signature. The recipient checks who sent it *before*
decrypting anything. Stripping the signature and re-signing under another name fails too: the
header (sender, recipient key id, algorithms) is also the HPKE ``info``, so a changed sender makes
decryption fail, and the recipient key id under the signature stops re-targeting to another key.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hybridwatch.errors import InputError, VerificationError
from hybridwatch.outputs.canonical import canonical_json
from hybridwatch.outputs.identity import IdentityDocument, b64decode, b64encode
from hybridwatch.outputs.signing import (
    COMPOSITE_ALGS, LABEL_SEAL, check_algorithms, check_key_lifecycle, composite_sign,
    composite_verify, resolve_signer, utc_now_text,
)

if TYPE_CHECKING:
    from hybridwatch.outputs.keystore import OrgKeys, TrustStore

__all__ = ["HPKE_SUITE", "OpenResult", "SealResult", "open_envelope", "open_file", "seal_bytes",
           "seal_file"]

SEAL_TYPE, SEAL_VERSION = "hybridwatch-sealed", 1
HPKE_SUITE = {"mode": "base", "kem": "MLKEM768-X25519", "kem_id": 0x647A, "kdf": "HKDF-SHA256",
              "kdf_id": 0x0001, "aead": "ChaCha20-Poly1305", "aead_id": 0x0003}
ENC_BYTES = 1120  # X-Wing encapsulation: ML-KEM-768 ciphertext (1088) ‖ X25519 ephemeral (32)
MAX_PLAINTEXT_BYTES = 1 << 30  # single-shot HPKE holds the file in memory: 1 GiB is plenty
_FRAME_MAGIC = b"HWS1"


def _suite():
    from cryptography.hazmat.primitives import hpke

    return hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)


def recipient_public_key(identity: IdentityDocument):
    """The X-Wing public key of a partner, from its identity document."""
    from cryptography.hazmat.primitives import hpke
    from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

    return hpke.MLKEM768X25519PublicKey(
        mlkem.MLKEM768PublicKey.from_public_bytes(identity.ml_kem_768),
        x25519.X25519PublicKey.from_public_bytes(identity.x25519))


def hpke_info(header: dict) -> bytes:
    """HPKE ``info``: binds the whole header (sender, recipient, suite) into the key schedule."""
    return LABEL_SEAL.encode("ascii") + b"\x00" + canonical_json(header)


def _tbs(header: dict, enc: bytes, ciphertext: bytes) -> bytes:
    return canonical_json({"header": header,
                           "payload_sha512": hashlib.sha512(enc + ciphertext).hexdigest()})


def _frame(file_name: str, data: bytes) -> bytes:
    # the file name travels inside the ciphertext: names like "RUS-DEU-briefing.pdf" leak
    meta = json.dumps({"file_name": file_name, "size_bytes": len(data)}).encode("utf-8")
    return _FRAME_MAGIC + len(meta).to_bytes(4, "big") + meta + data


def _unframe(plaintext: bytes, source: object) -> tuple[str, bytes]:
    if plaintext[:4] != _FRAME_MAGIC or len(plaintext) < 8:
        raise VerificationError(source, BAD_FRAME, "decrypted payload is not a hybridwatch "
                                "frame")
    size = int.from_bytes(plaintext[4:8], "big")
    meta = json.loads(plaintext[8:8 + size])
    data = plaintext[8 + size:]
    if meta.get("size_bytes") != len(data):
        raise VerificationError(source, BAD_FRAME, "decrypted payload length does not match "
                                "its frame")
    return str(meta.get("file_name") or ""), data


def seal_bytes(data: bytes, file_name: str, sender: "OrgKeys", recipient: IdentityDocument, *,
               created: str | None = None) -> dict:
    """The sealed envelope (JSON-ready dict) of ``data`` for ``recipient``, signed by ``sender``."""
    if len(data) > MAX_PLAINTEXT_BYTES:
        raise InputError(file_name, f"{len(data)} bytes is more than the {MAX_PLAINTEXT_BYTES} "
                                    "bytes a sealed envelope holds")
    ident = sender.identity
    header = {"type": SEAL_TYPE, "version": SEAL_VERSION, "hpke": HPKE_SUITE,
              "algs": list(COMPOSITE_ALGS),
              "sender": {"org": ident.org, "stix_identity_id": ident.stix_identity_id,
                         "key_id": ident.signing_key_id},
              "recipient": {"org": recipient.org, "stix_identity_id": recipient.stix_identity_id,
                            "key_id": recipient.encryption_key_id},
              "created": created or utc_now_text()}
    sealed = _suite().encrypt(_frame(file_name, data), recipient_public_key(recipient),
                              info=hpke_info(header))
    enc, ciphertext = sealed[:ENC_BYTES], sealed[ENC_BYTES:]
    sigs = composite_sign(sender, LABEL_SEAL, _tbs(header, enc, ciphertext))
    return {**header, "enc": b64encode(enc), "ciphertext": b64encode(ciphertext),
            "signatures": {alg: b64encode(sig) for alg, sig in sigs.items()}}


#: Why a sealed file does not open: the code heads the message, and ``open`` exits 5.
NOT_ENVELOPE, SUITE_MISMATCH, WRONG_RECIPIENT = "not-an-envelope", "suite-mismatch", \
    "wrong-recipient"
DAMAGED, BAD_CIPHERTEXT, BAD_FRAME = "damaged-envelope", "bad-ciphertext", "bad-frame"
UNVERIFIED_SENDER = "unverified-sender"


@dataclass(frozen=True)
class OpenResult:
    """A decrypted envelope. ``sender_verified`` is False when no trust store was given."""

    file_name: str
    data: bytes
    sender: dict
    sender_verified: bool
    created: str
    output: str | None = None

    def to_dict(self) -> dict:
        return {"file_name": self.file_name, "size_bytes": len(self.data), "sender": self.sender,
                "sender_verified": self.sender_verified, "created": self.created,
                "output": self.output}


def open_envelope(envelope: object, keys: "OrgKeys", trust: "TrustStore | None" = None, *,
                  source: object = "<envelope>") -> OpenResult:
    """Check (when ``trust`` is given: sender signature first) and decrypt an envelope."""
    from cryptography.exceptions import InvalidTag

    if not isinstance(envelope, dict) or envelope.get("type") != SEAL_TYPE:
        raise VerificationError(source, NOT_ENVELOPE, f"not a {SEAL_TYPE} envelope")
    if envelope.get("version") != SEAL_VERSION or envelope.get("hpke") != HPKE_SUITE:
        raise VerificationError(source, SUITE_MISMATCH, f"unsupported envelope version or "
                                f"suite ({envelope.get('version')!r}, {envelope.get('hpke')!r})")
    header = {k: v for k, v in envelope.items() if k not in ("enc", "ciphertext", "signatures")}
    recipient = header.get("recipient") if isinstance(header.get("recipient"), dict) else {}
    if recipient.get("key_id") != keys.identity.encryption_key_id:
        raise VerificationError(source, WRONG_RECIPIENT, f"sealed for {recipient.get('org')!r} "
                                f"(key {recipient.get('key_id')}), not for the local identity "
                                f"{keys.identity.org!r} (key {keys.identity.encryption_key_id})")
    try:
        enc = b64decode(envelope.get("enc"), "enc")
        ciphertext = b64decode(envelope.get("ciphertext"), "ciphertext")
        info = hpke_info(header)
    except ValueError as exc:
        raise VerificationError(source, DAMAGED, str(exc)) from None
    if len(enc) != ENC_BYTES:
        raise VerificationError(source, DAMAGED, f"enc is {len(enc)} bytes, not {ENC_BYTES}")
    sender = header.get("sender") if isinstance(header.get("sender"), dict) else {}
    verified = False
    if trust is not None:
        check_algorithms(header.get("algs"), envelope.get("signatures"), source)
        identity = resolve_signer(trust, sender, source)
        composite_verify(identity, LABEL_SEAL, _tbs(header, enc, ciphertext),
                         envelope["signatures"], source)
        # a sender key revoked (or replaced) before the envelope was made is refused
        check_key_lifecycle(trust, identity, header.get("created"), None, source)
        sender, verified = identity.summary(), True
    try:
        plaintext = _suite().decrypt(enc + ciphertext, keys.hpke_key, info=info)
    except InvalidTag:
        raise VerificationError(source, BAD_CIPHERTEXT, "cannot decrypt: the envelope was "
                                "altered (or its header changed) after sealing") from None
    file_name, data = _unframe(plaintext, source)
    return OpenResult(file_name=file_name, data=data, sender=sender, sender_verified=verified,
                      created=str(header.get("created")))


@dataclass(frozen=True)
class SealResult:
    file: str
    sealed_file: str
    sender: dict
    recipient: dict
    size_bytes: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def seal_file(path: Path, sender: "OrgKeys", recipient: IdentityDocument, *,
              out: Path | None = None) -> SealResult:
    """Seal ``path`` for ``recipient`` into ``out`` (default ``path.sealed``)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    envelope = seal_bytes(data, path.name, sender, recipient)
    out = Path(out) if out else path.with_name(path.name + ".sealed")
    out.write_text(json.dumps(envelope) + "\n", encoding="utf-8")
    return SealResult(file=str(path), sealed_file=str(out), sender=envelope["sender"],
                      recipient=envelope["recipient"], size_bytes=len(data))


def _safe_name(name: str, source: object) -> str:
    # the name comes from the sender: never let it climb out of the output folder
    if not name or name in (".", "..") or Path(name).name != name or "\\" in name:
        raise InputError(source, f"the sealed file name {name!r} is not a plain file name; "
                                 "choose one with -o")
    return name


def open_file(path: Path, keys: "OrgKeys", *, trust: "TrustStore | None" = None,
              out: Path | None = None, force: bool = False) -> OpenResult:
    """Open a ``.sealed`` file; writes the original name beside it (or ``out``), mode 0600."""
    path = Path(path)
    try:
        envelope = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VerificationError(path, NOT_ENVELOPE, f"not JSON ({exc})") from None
    except RecursionError:
        raise VerificationError(path, NOT_ENVELOPE, "JSON nested too deeply") from None
    except ValueError as exc:  # a NUL in the path
        raise InputError(path, f"cannot read: {exc}") from None
    result = open_envelope(envelope, keys, trust, source=path)
    target = Path(out) if out else path.parent / _safe_name(result.file_name, path)
    if target.exists() and not force:
        raise InputError(target, "already exists: pass --force to overwrite, or -o")
    # decrypted content may be TLP:AMBER/RED: readable by the owner only
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(result.data)
    return OpenResult(**{**result.__dict__, "output": str(target)})

