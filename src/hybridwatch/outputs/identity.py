"""Organisation identities shared by STIX export and signing.

An organisation is named once (its org name) and gets one deterministic STIX 2.1 identity id, so a
bundle exported on two machines, and the identity document holding its public keys, name the same
``identity--<uuid5>``. Pure: no I/O, no clock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

__all__ = ["ENCRYPTION_ALG", "IdentityDocument", "SIGNING_ALG", "STIX_IDENTITY_TIMESTAMP", "key_id",
           "stix_identity_id", "stix_identity_object", "validate_org_name"]

# Fixed so that exports are byte-for-byte reproducible (no wall clock in the identity SDO).
STIX_IDENTITY_TIMESTAMP = "2020-01-01T00:00:00.000Z"
_ORG_NAME_MAX_CHARS = 200


def validate_org_name(org_name: str) -> str:
    """Return ``org_name`` stripped, or raise ValueError naming why it cannot be an org name."""
    if not isinstance(org_name, str):
        raise ValueError(f"org name must be text, not {type(org_name).__name__}")
    name = org_name.strip()
    if not name:
        raise ValueError("org name is empty")
    if len(name) > _ORG_NAME_MAX_CHARS:
        raise ValueError(f"org name is longer than {_ORG_NAME_MAX_CHARS} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValueError(f"org name contains a control character ({name!r})")
    return name


def stix_identity_id(org_name: str) -> str:
    """An organisation's STIX identity id: ``identity--`` + uuid5(URL, "hybridwatch:org:NAME")."""
    name = validate_org_name(org_name)
    return "identity--" + str(uuid.uuid5(uuid.NAMESPACE_URL, "hybridwatch:org:" + name))


def stix_identity_object(org_name: str) -> dict:
    """A STIX 2.1 identity SDO (identity_class "organization") with fixed timestamps."""
    name = validate_org_name(org_name)
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": stix_identity_id(name),
        "created": STIX_IDENTITY_TIMESTAMP,
        "modified": STIX_IDENTITY_TIMESTAMP,
        "name": name,
        "identity_class": "organization",
    }


# --- the identity document: an organisation's public keys, bound to its STIX identity ---------

IDENTITY_DOC_TYPE = "hybridwatch-identity"
IDENTITY_DOC_VERSION = 1
SIGNING_ALG = "ML-DSA-65+Ed25519"
ENCRYPTION_ALG = "MLKEM768-X25519"
KEY_ID_HEX_CHARS = 32  # sha256 truncated to 128 bits: a lookup handle, not what security rests on

# Raw public key sizes (FIPS 204 / FIPS 203 / RFC 8032 / RFC 7748).
_KEY_BYTES = {"ml_dsa_65": 1952, "ed25519": 32, "ml_kem_768": 1184, "x25519": 32}


def key_id(*public_keys: bytes) -> str:
    """The key id of a (composite) public key: sha256 of the concatenated raw keys, 32 hex chars.

    Concatenation order is the composite's wire order: ML-DSA-65 ‖ Ed25519 for signing,
    ML-KEM-768 ‖ X25519 (the X-Wing public key) for encryption.
    """
    import hashlib

    return hashlib.sha256(b"".join(public_keys)).hexdigest()[:KEY_ID_HEX_CHARS]


def b64encode(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def b64decode(text: object, what: str) -> bytes:
    """Strict standard base64 → bytes; ValueError naming ``what`` otherwise."""
    import base64
    import binascii

    if not isinstance(text, str):
        raise ValueError(f"{what}: expected base64 text, got {type(text).__name__}")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError(f"{what}: not valid base64") from None


@dataclass(frozen=True)
class IdentityDocument:
    """An organisation's shareable public identity: what partners keep in their trust store.

    ``self_signature`` is a composite signature (by the document's own signing keys) over the
    RFC 8785 form of everything else, so an edited org name or swapped encryption key is caught.
    """

    org: str
    created: str
    ml_dsa_65: bytes
    ed25519: bytes
    ml_kem_768: bytes
    x25519: bytes
    self_signature: dict[str, bytes] = field(default_factory=dict)

    @property
    def stix_identity_id(self) -> str:
        return stix_identity_id(self.org)

    @property
    def signing_key_id(self) -> str:
        return key_id(self.ml_dsa_65, self.ed25519)

    @property
    def encryption_key_id(self) -> str:
        return key_id(self.ml_kem_768, self.x25519)

    def unsigned_dict(self) -> dict:
        """The document without its self-signature: what the self-signature covers."""
        return {
            "type": IDENTITY_DOC_TYPE,
            "version": IDENTITY_DOC_VERSION,
            "org": self.org,
            "stix_identity_id": self.stix_identity_id,
            "created": self.created,
            "signing": {"alg": SIGNING_ALG, "key_id": self.signing_key_id,
                        "ml_dsa_65": b64encode(self.ml_dsa_65), "ed25519": b64encode(self.ed25519)},
            "encryption": {"alg": ENCRYPTION_ALG, "key_id": self.encryption_key_id,
                           "ml_kem_768": b64encode(self.ml_kem_768),
                           "x25519": b64encode(self.x25519)},
        }

    def to_dict(self) -> dict:
        doc = self.unsigned_dict()
        doc["self_signature"] = {alg: b64encode(sig) for alg, sig in self.self_signature.items()}
        return doc

    def summary(self) -> dict:
        """Org, STIX id and key ids: the parts a person compares when exchanging identities."""
        return {"org": self.org, "stix_identity_id": self.stix_identity_id,
                "signing_key_id": self.signing_key_id,
                "encryption_key_id": self.encryption_key_id, "created": self.created}

    @classmethod
    def from_dict(cls, doc: object) -> IdentityDocument:
        """Parse and check the shape of an identity document; ValueError says what is wrong.

        Checks types, key sizes, that key ids match the keys and that the STIX id matches the
        org name. The self-signature is checked by the caller (it needs the crypto layer).
        """
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        if doc.get("type") != IDENTITY_DOC_TYPE:
            raise ValueError(f"type is {doc.get('type')!r}, not {IDENTITY_DOC_TYPE!r}")
        if doc.get("version") != IDENTITY_DOC_VERSION:
            raise ValueError(f"unsupported version {doc.get('version')!r}")
        org = validate_org_name(doc.get("org") if isinstance(doc.get("org"), str) else "")
        if doc.get("stix_identity_id") != stix_identity_id(org):
            raise ValueError(f"stix_identity_id {doc.get('stix_identity_id')!r} does not belong "
                             f"to org {org!r} (expected {stix_identity_id(org)})")
        signing, encryption = doc.get("signing"), doc.get("encryption")
        if not isinstance(signing, dict) or signing.get("alg") != SIGNING_ALG:
            raise ValueError(f"signing.alg must be {SIGNING_ALG!r}")
        if not isinstance(encryption, dict) or encryption.get("alg") != ENCRYPTION_ALG:
            raise ValueError(f"encryption.alg must be {ENCRYPTION_ALG!r}")
        keys = {}
        for section, name in (("signing", "ml_dsa_65"), ("signing", "ed25519"),
                              ("encryption", "ml_kem_768"), ("encryption", "x25519")):
            raw = b64decode(doc[section].get(name), f"{section}.{name}")
            if len(raw) != _KEY_BYTES[name]:
                raise ValueError(f"{section}.{name}: {len(raw)} bytes, expected {_KEY_BYTES[name]}")
            keys[name] = raw
        sigs = doc.get("self_signature", {})
        if not isinstance(sigs, dict):
            raise ValueError("self_signature must be an object")
        created = doc.get("created")
        if not isinstance(created, str):
            raise ValueError("created must be a timestamp string")
        parsed = cls(org=org, created=created,
                     self_signature={str(alg): b64decode(sig, f"self_signature.{alg}")
                                     for alg, sig in sigs.items()}, **keys)
        for section, expected in (("signing", parsed.signing_key_id),
                                  ("encryption", parsed.encryption_key_id)):
            if doc[section].get("key_id") != expected:
                raise ValueError(f"{section}.key_id {doc[section].get('key_id')!r} does not match "
                                 f"its keys ({expected})")
        return parsed
