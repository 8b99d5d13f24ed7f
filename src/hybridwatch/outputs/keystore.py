"""Organisation key pairs on disk, passphrase-encrypted, and the trust store of partners.

Layout of a keys folder (``--dir``; default ``$HYBRIDWATCH_KEYS`` or the per-user data folder)::

    <slug>.identity.json   the public identity document (share it: ``keys export``)
    <slug>.key.json        the private seeds, encrypted: Argon2id(passphrase) → ChaCha20-Poly1305

    <slug>.<key id>.identity.json / .key.json      a key made by ``keys rotate``
    <slug>.<key id>.rotation.json                  the rotation statement that introduced it
    <slug>.<key id>.revocation.json                a revocation made by ``keys revoke``

A trust store is any folder of identity documents plus the rotation and revocation statements that
``keys import`` checked and added (other JSON files in it are ignored), so a keys folder doubles
as a trust store of one's own identities. Identity documents are trusted as anchors; statements
only when they chain to an anchor (:class:`~hybridwatch.outputs.key_history.KeyHistory`).
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from hybridwatch.errors import InputError
from hybridwatch.outputs.canonical import canonical_json
from hybridwatch.outputs.identity import (
    IDENTITY_DOC_TYPE, IdentityDocument, b64decode, b64encode, stix_identity_id,
    validate_org_name,
)
from hybridwatch.outputs.key_history import (
    REVOCATION_TYPE, ROTATION_TYPE, KeyHistory, KeyRevocation, KeyRotation,
)
from hybridwatch.outputs.signing import (
    BAD_SIGNATURE, LABEL_IDENTITY, VerificationError, check_algorithms, composite_sign,
    composite_verify, utc_now_text,
)

__all__ = ["KdfParams", "OrgKeys", "TrustStore", "create_identity", "default_keys_dir",
           "find_identity", "generate_org_keys", "list_identities", "load_org_keys",
           "load_trust_store", "local_history", "read_statements"]

KEY_FILE_TYPE, KEY_FILE_VERSION = "hybridwatch-private-key", 1
_IDENTITY_SUFFIX, _KEY_SUFFIX = ".identity.json", ".key.json"
ROTATION_SUFFIX, REVOCATION_SUFFIX = ".rotation.json", ".revocation.json"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost (RFC 9106). The default is RFC 9106's second recommended option
    (t=3, p=4, m=64 MiB, ~0.25 s); tests pass a low ``memory_kib`` to stay fast."""

    iterations: int = 3
    lanes: int = 4
    memory_kib: int = 64 * 1024

    def to_dict(self) -> dict:
        return {"name": "argon2id", "iterations": self.iterations, "lanes": self.lanes,
                "memory_kib": self.memory_kib}

    @classmethod
    def from_dict(cls, doc: object, source: object) -> "KdfParams":
        # Bounds stop a crafted key file from asking for terabytes of memory.
        if not isinstance(doc, dict) or doc.get("name") != "argon2id":
            raise InputError(source, "kdf must be argon2id")
        params = cls(**{k: doc.get(k) for k in ("iterations", "lanes", "memory_kib")})
        if not all(isinstance(v, int) for v in params.__dict__.values()) \
                or not (1 <= params.iterations <= 64 and 1 <= params.lanes <= 64
                        and 8 * params.lanes <= params.memory_kib <= 4 * 1024 * 1024):
            raise InputError(source, f"kdf parameters out of range: {doc}")
        return params

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        return Argon2id(salt=salt, length=32, iterations=self.iterations, lanes=self.lanes,
                        memory_cost=self.memory_kib).derive(passphrase.encode("utf-8"))


@dataclass(frozen=True, repr=False)
class OrgKeys:
    """An organisation's private keys (as seeds) with its public identity document."""

    identity: IdentityDocument
    ml_dsa_65_seed: bytes
    ed25519_private: bytes
    ml_kem_768_seed: bytes
    x25519_private: bytes

    def __repr__(self) -> str:  # never print secrets
        return f"OrgKeys(org={self.identity.org!r}, key_id={self.identity.signing_key_id})"

    @cached_property
    def ml_dsa_key(self):
        from cryptography.hazmat.primitives.asymmetric import mldsa

        return mldsa.MLDSA65PrivateKey.from_seed_bytes(self.ml_dsa_65_seed)

    @cached_property
    def ed25519_key(self):
        from cryptography.hazmat.primitives.asymmetric import ed25519

        return ed25519.Ed25519PrivateKey.from_private_bytes(self.ed25519_private)

    @cached_property
    def hpke_key(self):
        """The X-Wing (MLKEM768-X25519) private key for HPKE."""
        from cryptography.hazmat.primitives import hpke
        from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

        return hpke.MLKEM768X25519PrivateKey(
            mlkem.MLKEM768PrivateKey.from_seed_bytes(self.ml_kem_768_seed),
            x25519.X25519PrivateKey.from_private_bytes(self.x25519_private))

    def _secrets(self) -> dict:
        return {"ml_dsa_65_seed": b64encode(self.ml_dsa_65_seed),
                "ed25519": b64encode(self.ed25519_private),
                "ml_kem_768_seed": b64encode(self.ml_kem_768_seed),
                "x25519": b64encode(self.x25519_private)}


def _with_public_keys(org: str, created: str, seeds: dict[str, bytes]) -> OrgKeys:
    from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa, mlkem, x25519

    ident = IdentityDocument(
        org=org, created=created,
        ml_dsa_65=mldsa.MLDSA65PrivateKey.from_seed_bytes(seeds["ml_dsa_65_seed"])
        .public_key().public_bytes_raw(),
        ed25519=ed25519.Ed25519PrivateKey.from_private_bytes(seeds["ed25519_private"])
        .public_key().public_bytes_raw(),
        ml_kem_768=mlkem.MLKEM768PrivateKey.from_seed_bytes(seeds["ml_kem_768_seed"])
        .public_key().public_bytes_raw(),
        x25519=x25519.X25519PrivateKey.from_private_bytes(seeds["x25519_private"])
        .public_key().public_bytes_raw())
    return OrgKeys(identity=ident, **seeds)


def generate_org_keys(org: str, *, created: str | None = None) -> OrgKeys:
    """Fresh ML-DSA-65, Ed25519, ML-KEM-768 and X25519 keys with a self-signed identity."""
    org = validate_org_name(org)
    seeds = {"ml_dsa_65_seed": os.urandom(32), "ed25519_private": os.urandom(32),
             "ml_kem_768_seed": os.urandom(64), "x25519_private": os.urandom(32)}
    keys = _with_public_keys(org, created or utc_now_text(), seeds)
    sigs = composite_sign(keys, LABEL_IDENTITY, canonical_json(keys.identity.unsigned_dict()))
    signed = IdentityDocument(**{**keys.identity.__dict__, "self_signature": sigs})
    return OrgKeys(identity=signed, **seeds)


def check_identity(doc: object, source: object) -> IdentityDocument:
    """Parse an identity document and verify its self-signature; InputError otherwise."""
    try:
        ident = IdentityDocument.from_dict(doc)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(source, f"not a valid identity document: {exc}") from None
    sigs = {alg: sig for alg, sig in ident.self_signature.items()}
    check_algorithms(list(sigs), sigs, source)
    try:
        composite_verify(ident, LABEL_IDENTITY, canonical_json(ident.unsigned_dict()), sigs,
                         source)
    except VerificationError:
        raise VerificationError(source, BAD_SIGNATURE, "identity document self-signature does "
                                "not verify: it was edited after it was made") from None
    return ident


def default_keys_dir() -> Path:
    """$HYBRIDWATCH_KEYS, else the per-user data folder (XDG on Linux) + hybridwatch/keys."""
    if os.environ.get("HYBRIDWATCH_KEYS"):
        return Path(os.environ["HYBRIDWATCH_KEYS"]).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "hybridwatch" / "keys"


def _slug(org: str) -> str:
    # readable, filesystem-safe, and unique per org through the STIX uuid prefix
    text = re.sub(r"[^a-z0-9]+", "-", org.lower()).strip("-")[:40] or "org"
    return f"{text}-{stix_identity_id(org).split('--')[1][:8]}"


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not valid JSON ({exc})") from None
    except RecursionError:
        raise InputError(path, "not valid JSON (nested too deeply)") from None


def _write_private(path: Path, text: str) -> None:
    # created 0600 from the start: no window in which the file is world-readable
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def encrypt_private_keys(keys: OrgKeys, passphrase: str, kdf: KdfParams) -> dict:
    """The key-file document: seeds under ChaCha20-Poly1305 keyed by Argon2id(passphrase)."""
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    if not passphrase:
        raise InputError("passphrase", "is empty: private keys need a passphrase")
    salt, nonce = os.urandom(16), os.urandom(12)
    header = {"type": KEY_FILE_TYPE, "version": KEY_FILE_VERSION, "org": keys.identity.org,
              "stix_identity_id": keys.identity.stix_identity_id,
              "signing_key_id": keys.identity.signing_key_id,
              "encryption_key_id": keys.identity.encryption_key_id,
              "kdf": {**kdf.to_dict(), "salt": b64encode(salt)},
              "aead": "ChaCha20-Poly1305", "nonce": b64encode(nonce)}
    plaintext = json.dumps(keys._secrets()).encode("utf-8")
    # the header is the AAD: kdf cost, ids and nonce cannot be altered without detection
    ciphertext = ChaCha20Poly1305(kdf.derive(passphrase, salt)).encrypt(
        nonce, plaintext, canonical_json(header))
    return {**header, "ciphertext": b64encode(ciphertext)}


def decrypt_private_keys(doc: object, identity: IdentityDocument, passphrase: str,
                         source: object) -> OrgKeys:
    """Open a key file; InputError on a wrong passphrase or a key file for other keys."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    if not isinstance(doc, dict) or doc.get("type") != KEY_FILE_TYPE \
            or doc.get("version") != KEY_FILE_VERSION:
        raise InputError(source, f"not a {KEY_FILE_TYPE} v{KEY_FILE_VERSION} file")
    kdf = KdfParams.from_dict(doc.get("kdf"), source)
    header = {k: v for k, v in doc.items() if k != "ciphertext"}
    try:
        salt = b64decode(doc["kdf"].get("salt"), "kdf.salt")
        nonce = b64decode(doc.get("nonce"), "nonce")
        ciphertext = b64decode(doc.get("ciphertext"), "ciphertext")
        plaintext = ChaCha20Poly1305(kdf.derive(passphrase, salt)).decrypt(
            nonce, ciphertext, canonical_json(header))
    except InvalidTag:
        raise InputError(source, "wrong passphrase (or the key file was altered)") from None
    except ValueError as exc:
        raise InputError(source, f"damaged key file: {exc}") from None
    secrets = json.loads(plaintext)
    seeds = {"ml_dsa_65_seed": b64decode(secrets["ml_dsa_65_seed"], "ml_dsa_65_seed"),
             "ed25519_private": b64decode(secrets["ed25519"], "ed25519"),
             "ml_kem_768_seed": b64decode(secrets["ml_kem_768_seed"], "ml_kem_768_seed"),
             "x25519_private": b64decode(secrets["x25519"], "x25519")}
    derived = _with_public_keys(identity.org, identity.created, seeds).identity
    if (derived.signing_key_id, derived.encryption_key_id) != \
            (identity.signing_key_id, identity.encryption_key_id):
        raise InputError(source, f"the private keys do not belong to identity "
                                 f"{identity.signing_key_id} of {identity.org!r}")
    return OrgKeys(identity=identity, **seeds)


def create_identity(keys_dir: Path, org: str, passphrase: str, *,
                    kdf: KdfParams = KdfParams(), overwrite: bool = False) -> OrgKeys:
    """Generate an organisation's keys and write both files into ``keys_dir``."""
    org = validate_org_name(org)
    keys_dir = Path(keys_dir)
    ident_path, key_path = (keys_dir / (_slug(org) + s) for s in (_IDENTITY_SUFFIX, _KEY_SUFFIX))
    if not overwrite and (ident_path.exists() or key_path.exists()):
        raise InputError(key_path, f"keys for {org!r} already exist (pass --force to replace "
                                   "them; partners holding the old identity must be told)")
    keys = generate_org_keys(org)
    key_doc = encrypt_private_keys(keys, passphrase, kdf)
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(key_path, json.dumps(key_doc, indent=2) + "\n")
    ident_path.write_text(json.dumps(keys.identity.to_dict(), indent=2) + "\n", encoding="utf-8")
    return keys


def list_identities(folder: Path) -> list[tuple[IdentityDocument, Path]]:
    """Every valid identity document in ``folder`` (or the one file), sorted by org.

    JSON files that are not identity documents are skipped; an identity document that fails its
    self-signature is an error, never silently ignored.
    """
    folder = Path(folder)
    if folder.is_file():
        paths = [folder]
    elif folder.is_dir():
        paths = sorted(folder.glob("*.json"))
    else:
        raise InputError(folder, "no such folder")
    found = []
    for path in paths:
        doc = _read_json(path)
        if isinstance(doc, dict) and doc.get("type") == "hybridwatch-identity":
            found.append((check_identity(doc, path), path))
        elif folder.is_file():
            raise InputError(path, "not a hybridwatch identity document")
    return sorted(found, key=lambda pair: (pair[0].org.lower(), pair[0].created))


def find_identity(keys_dir: Path, org: str | None = None, *,
                  key_id: str | None = None) -> tuple[IdentityDocument, Path]:
    """The local identity to use: the one for ``org``, or the only one in ``keys_dir``.

    After a rotation the folder holds several keys of one organisation: the current one (the
    key no rotation superseded) is chosen, or the one named by ``key_id``.
    """
    keys_dir = Path(keys_dir)
    if not keys_dir.is_dir():
        raise InputError(keys_dir, "no keys folder: create keys with "
                                   "'hybridwatch keys create --org NAME'")
    found = [(i, p) for i, p in list_identities(keys_dir)
             if (p.parent / p.name.replace(_IDENTITY_SUFFIX, _KEY_SUFFIX)).exists()]
    if org is not None:
        found = [(i, p) for i, p in found if i.org.lower() == org.strip().lower()]
    if key_id is not None:
        found = [(i, p) for i, p in found if i.signing_key_id == key_id]
        if not found:
            raise InputError(keys_dir, f"no private key {key_id} here")
    if len(found) > 1:  # after ``keys rotate``: the key nothing superseded is the one to use
        history = local_history(keys_dir)
        found = [(i, p) for i, p in found
                 if history.status(i.signing_key_id).state != "superseded"] or found
    if len(found) == 1:
        return found[0]
    names = ", ".join(repr(i.org) for i, _ in found)
    if not found:
        raise InputError(keys_dir, f"no private keys for {org!r}" if org
                         else "no private keys here: run 'hybridwatch keys create --org NAME'")
    raise InputError(keys_dir, f"several identities ({names}): choose one with --org")


def load_org_keys(keys_dir: Path, passphrase: str, org: str | None = None, *,
                  key_id: str | None = None) -> OrgKeys:
    """Decrypt the local private keys of ``org`` (or of the only identity in ``keys_dir``)."""
    identity, ident_path = find_identity(keys_dir, org, key_id=key_id)
    key_path = ident_path.parent / ident_path.name.replace(_IDENTITY_SUFFIX, _KEY_SUFFIX)
    return decrypt_private_keys(_read_json(key_path), identity, passphrase, key_path)


@dataclass(frozen=True)
class TrustStore:
    """The partner identities a verifier accepts, with each partner's key history.

    ``identities`` holds every key the store knows (anchors and keys introduced by checked
    rotations); ``history`` says which are current, superseded or revoked.
    """

    identities: tuple[IdentityDocument, ...]
    source: str
    history: KeyHistory | None = None

    @property
    def key_history(self) -> KeyHistory:
        return self.history if self.history is not None \
            else KeyHistory(identities=self.identities)

    def by_signing_key_id(self, key_id: str) -> IdentityDocument | None:
        return next((i for i in self.identities if i.signing_key_id == key_id), None)

    def by_stix_id(self, stix_id: str) -> list[IdentityDocument]:
        return [i for i in self.identities if i.stix_identity_id == stix_id]

    def recipient(self, name: str) -> IdentityDocument:
        """A partner by org name (case-insensitive), STIX id or signing key id.

        An organisation with a key history resolves to its current key; a revoked or superseded
        key named by its id is refused (encrypting to it would reach the wrong holder).
        """
        wanted = name.strip()
        hits = [i for i in self.identities
                if wanted.lower() == i.org.lower() or wanted in (i.stix_identity_id,
                                                                 i.signing_key_id)]
        history = self.key_history
        if len(hits) > 1:
            current = [i for i in hits if history.status(i.signing_key_id).state == "current"]
            if not current and len({i.stix_identity_id for i in hits}) == 1:
                revoked = [history.status(i.signing_key_id) for i in hits]
                raise InputError(self.source, f"{hits[0].org!r} has no current key: " + ", ".join(
                    f"{s.key_id} {s.state}" for s in revoked))
            hits = current or hits
        if len(hits) == 1:
            status = history.status(hits[0].signing_key_id)
            if status.state == "revoked":
                raise InputError(self.source, f"{hits[0].org!r} key {status.key_id} was revoked "
                                              f"({status.revocation.reason}, "
                                              f"{status.revocation.effective_from})")
            if status.state == "superseded":
                raise InputError(self.source, f"{hits[0].org!r} key {status.key_id} was replaced "
                                              f"by {status.superseded_by}: name the "
                                              "organisation to use its current key")
            return hits[0]
        if not hits:
            known = ", ".join(sorted({repr(i.org) for i in self.identities})) or "none"
            raise InputError(self.source, f"no partner {name!r} in the trust store "
                                          f"(known: {known})")
        ids = ", ".join(i.signing_key_id for i in hits)
        raise InputError(self.source, f"{name!r} has several identities (keys {ids}): "
                                      "name one by its key id")


def read_statements(folder: Path) -> tuple[list[tuple[KeyRotation, Path]],
                                           list[tuple[KeyRevocation, Path]]]:
    """The rotation and revocation statements in a folder (or one file), shapes checked."""
    folder = Path(folder)
    paths = [folder] if folder.is_file() else sorted(folder.glob("*.json"))
    rotations, revocations = [], []
    for path in paths:
        doc = _read_json(path)
        kind = doc.get("type") if isinstance(doc, dict) else None
        if kind == ROTATION_TYPE:
            rotations.append((KeyRotation.from_dict(doc, path), path))
        elif kind == REVOCATION_TYPE:
            revocations.append((KeyRevocation.from_dict(doc, path), path))
    return rotations, revocations


def _build_history(path: Path) -> KeyHistory:
    unique: dict[str, IdentityDocument] = {}
    for identity, where in list_identities(Path(path)):
        seen = unique.setdefault(identity.signing_key_id, identity)
        if seen != identity:  # same signing key, different documents: refuse to guess
            raise InputError(where, f"conflicts with another identity document for signing "
                                    f"key {identity.signing_key_id}")
    rotations, revocations = read_statements(Path(path))
    return KeyHistory.build(list(unique.values()), rotations, revocations)


def load_trust_store(path: Path) -> TrustStore:
    """Identity documents, rotations and revocations in a folder (or one file), each checked.

    Identity documents are anchors; a rotation counts only if it chains to an anchor, and a
    revocation only if the revoked key (or a successor) signed it. Anything that does not check
    out is an error naming its file, never silently skipped.
    """
    history = _build_history(Path(path))
    return TrustStore(identities=history.identities, source=str(path), history=history)


def local_history(keys_dir: Path) -> KeyHistory:
    """The key history of a keys folder (its own identities, rotations and revocations)."""
    return _build_history(Path(keys_dir))


def write_rotated_keys(keys_dir: Path, old: OrgKeys, passphrase: str, *, kdf: KdfParams,
                       rotated_at: str) -> tuple[OrgKeys, KeyRotation, Path]:
    """Make the successor of ``old``: new keys and the rotation statement, all in ``keys_dir``.

    The old key files stay (earlier signatures still verify, and the old key can still sign its
    own revocation); ``find_identity`` now picks the new key.
    """
    from hybridwatch.outputs.key_history import make_rotation

    new = generate_org_keys(old.identity.org, created=rotated_at)
    rotation = make_rotation(old, new, rotated_at=rotated_at)
    stem = f"{_slug(new.identity.org)}.{new.identity.signing_key_id[:12]}"
    keys_dir = Path(keys_dir)
    paths = {s: keys_dir / (stem + s) for s in (_KEY_SUFFIX, _IDENTITY_SUFFIX, ROTATION_SUFFIX)}
    _write_private(paths[_KEY_SUFFIX],
                   json.dumps(encrypt_private_keys(new, passphrase, kdf), indent=2) + "\n")
    paths[_IDENTITY_SUFFIX].write_text(json.dumps(new.identity.to_dict(), indent=2) + "\n",
                                       encoding="utf-8")
    paths[ROTATION_SUFFIX].write_text(json.dumps(rotation.to_dict(), indent=2) + "\n",
                                      encoding="utf-8")
    return new, rotation, paths[ROTATION_SUFFIX]


def write_revocation(keys_dir: Path, revocation: KeyRevocation) -> Path:
    path = Path(keys_dir) / (f"{_slug(revocation.org)}.{revocation.key_id[:12]}"
                             f"{REVOCATION_SUFFIX}")
    path.write_text(json.dumps(revocation.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class ImportResult:
    """What ``keys import`` added to a trust store."""

    kind: str              # identity | rotation | revocation
    org: str
    key_id: str
    file: str
    added: bool            # False: the store already held exactly this document
    history: list

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def import_into_trust_store(document: Path, trust_dir: Path, *,
                            allow_new_key: bool = False) -> ImportResult:
    """Check ``document`` against the trust store and copy it in; the store is reloaded after
    the copy and the copy removed again if the store no longer loads (never half-imported).

    An identity document for an organisation the store already knows under another key is
    refused unless ``allow_new_key``: a rotation statement signed by the old key is the checked
    way to change keys.
    """
    document, trust_dir = Path(document), Path(trust_dir)
    doc = _read_json(document)
    kind = doc.get("type") if isinstance(doc, dict) else None
    trust_dir.mkdir(parents=True, exist_ok=True)
    trust = load_trust_store(trust_dir) if any(trust_dir.glob("*.json")) \
        else TrustStore(identities=(), source=str(trust_dir))
    history = trust.key_history
    if kind == IDENTITY_DOC_TYPE:
        identity = check_identity(doc, document)
        org, key = identity.org, identity.signing_key_id
        others = [i for i in trust.by_stix_id(identity.stix_identity_id)
                  if i.signing_key_id != key]
        if others and trust.by_signing_key_id(key) is None and not allow_new_key:
            raise InputError(document, f"the trust store already holds key(s) "
                                       f"{', '.join(i.signing_key_id for i in others)} for "
                                       f"{org!r}; import the rotation statement signed by the "
                                       "old key, or pass --allow-new-key to trust this key on "
                                       "its own")
        name, suffix = f"{_slug(org)}.{key[:12]}", _IDENTITY_SUFFIX
    elif kind == ROTATION_TYPE:
        rotation = KeyRotation.from_dict(doc, document)
        old = trust.by_signing_key_id(rotation.old_key_id)
        if old is None:
            raise InputError(document, f"rotation from key {rotation.old_key_id} of "
                                       f"{rotation.org!r}, which the trust store does not hold: "
                                       "import that identity first")
        rotation.verify(old, document)
        org, key = rotation.org, rotation.new_key_id
        name, suffix = f"{_slug(org)}.{key[:12]}", ROTATION_SUFFIX
    elif kind == REVOCATION_TYPE:
        revocation = KeyRevocation.from_dict(doc, document)
        KeyHistory.build(list(history.identities), [(r, trust_dir) for r in history.rotations],
                         [(revocation, document)])
        org, key = revocation.org, revocation.key_id
        name, suffix = f"{_slug(org)}.{key[:12]}", REVOCATION_SUFFIX
    else:
        raise InputError(document, f"not an identity document, rotation or revocation "
                                   f"statement (type {kind!r})")
    target = trust_dir / (name + suffix)
    for n in range(2, 100):
        if not target.exists() or _read_json(target) == doc:
            break
        target = trust_dir / f"{name}.{n}{suffix}"
    added = not target.exists()
    if added:
        target.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        try:
            reloaded = load_trust_store(trust_dir)
        except Exception:
            target.unlink()
            raise
    else:
        reloaded = trust
    return ImportResult(kind=kind.removeprefix("hybridwatch-").removeprefix("key-"), org=org,
                        key_id=key, file=str(target), added=added,
                        history=reloaded.key_history.chain(key))
