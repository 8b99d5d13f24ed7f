"""Key lifecycle statements: rotation (old key → new key) and revocation, and the key history
they build for each organisation.

A **rotation statement** carries the new identity document and is signed twice over the same
RFC 8785 header: by the old key (it vouches for its successor) and by the new key (it consents to
the link and proves possession). A **revocation statement** names a key, a reason, when it was
issued (``revoked_at``) and from when it takes effect (``effective_from``, earlier than
``revoked_at`` when a compromise is discovered late); it is signed by the revoked key itself or by
a key that descends from it through rotations.

:class:`KeyHistory` answers "what was the status of key K at time t?" for the verifier.
Every statement carries ``type`` and ``version``; readers refuse versions they do not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from hybridwatch.errors import InputError, VerificationError
from hybridwatch.outputs.canonical import canonical_json
from hybridwatch.outputs.identity import IdentityDocument, b64decode, b64encode
from hybridwatch.outputs.signing import (
    BAD_SIGNATURE, MALFORMED, check_algorithms, composite_sign, composite_verify,
)

__all__ = ["KeyHistory", "KeyRevocation", "KeyRotation", "REVOCATION_REASONS", "parse_time",
           "make_revocation", "make_rotation"]

ROTATION_TYPE, REVOCATION_TYPE, STATEMENT_VERSION = \
    "hybridwatch-key-rotation", "hybridwatch-key-revocation", 1
LABEL_ROTATION = "hybridwatch/key-rotation/v1"
LABEL_REVOCATION = "hybridwatch/key-revocation/v1"
KEY_COMPROMISE = "key-compromise"
#: RFC 5280-style reasons. Only ``key-compromise`` distrusts the signer's own claimed times.
REVOCATION_REASONS = (KEY_COMPROMISE, "superseded", "retired", "unspecified")


def parse_time(text: object, what: str) -> datetime:
    """An RFC 3339 UTC time (``2026-12-06T10:00:00Z``, offsets allowed) → aware datetime."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"{what}: expected an RFC 3339 time, got {text!r}")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{what}: not an RFC 3339 time ({text!r})") from None
    if value.tzinfo is None:
        raise ValueError(f"{what}: time has no zone ({text!r}); add Z for UTC")
    return value.astimezone(timezone.utc)


def format_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signatures(doc: dict, key: str, source: object) -> dict[str, bytes]:
    sigs = doc.get(key)
    check_algorithms(list(sigs) if isinstance(sigs, dict) else None, sigs, source)
    try:
        return {alg: b64decode(sig, f"{key}.{alg}") for alg, sig in sigs.items()}
    except ValueError as exc:
        raise VerificationError(source, MALFORMED, str(exc)) from None


@dataclass(frozen=True)
class KeyRotation:
    """``old_key_id`` of ``org`` handed over to ``new_identity`` at ``rotated_at``."""

    org: str
    stix_identity_id: str
    old_key_id: str
    new_identity: IdentityDocument
    rotated_at: str
    old_signatures: dict[str, bytes] = field(default_factory=dict)
    new_signatures: dict[str, bytes] = field(default_factory=dict)

    @property
    def new_key_id(self) -> str:
        return self.new_identity.signing_key_id

    @property
    def rotated_at_time(self) -> datetime:
        return parse_time(self.rotated_at, "rotated_at")

    def header(self) -> dict:
        return {"type": ROTATION_TYPE, "version": STATEMENT_VERSION, "org": self.org,
                "stix_identity_id": self.stix_identity_id, "old_key_id": self.old_key_id,
                "new_key_id": self.new_key_id, "new_identity": self.new_identity.to_dict(),
                "rotated_at": self.rotated_at}

    def to_dict(self) -> dict:
        return {**self.header(),
                "old_key_signatures": {a: b64encode(s) for a, s in self.old_signatures.items()},
                "new_key_signatures": {a: b64encode(s) for a, s in self.new_signatures.items()}}

    @classmethod
    def from_dict(cls, doc: object, source: object) -> KeyRotation:
        """Parse the shape (not the signatures: :meth:`verify` needs the old identity)."""
        from hybridwatch.outputs.keystore import check_identity

        doc = _statement(doc, ROTATION_TYPE, source)
        new_identity = check_identity(doc.get("new_identity"), source)
        try:
            parse_time(doc.get("rotated_at"), "rotated_at")
        except ValueError as exc:
            raise InputError(source, str(exc)) from None
        for name, expected in (("org", new_identity.org),
                               ("stix_identity_id", new_identity.stix_identity_id),
                               ("new_key_id", new_identity.signing_key_id)):
            if doc.get(name) != expected:
                raise InputError(source, f"{name} {doc.get(name)!r} does not match the new "
                                         f"identity ({expected!r})")
        if not isinstance(doc.get("old_key_id"), str) \
                or doc["old_key_id"] == new_identity.signing_key_id:
            raise InputError(source, "old_key_id must name a different key")
        return cls(org=new_identity.org, stix_identity_id=new_identity.stix_identity_id,
                   old_key_id=doc["old_key_id"], new_identity=new_identity,
                   rotated_at=doc["rotated_at"],
                   old_signatures=_signatures(doc, "old_key_signatures", source),
                   new_signatures=_signatures(doc, "new_key_signatures", source))

    def verify(self, old_identity: IdentityDocument, source: object) -> None:
        """Both signatures, and that the old key belongs to the same organisation."""
        if old_identity.signing_key_id != self.old_key_id:
            raise VerificationError(source, MALFORMED, "rotation checked against the wrong key")
        if old_identity.stix_identity_id != self.stix_identity_id:
            raise VerificationError(source, "wrong-key", f"key {self.old_key_id} belongs to "
                                    f"{old_identity.org!r}, not to {self.org!r}")
        tbs = canonical_json(self.header())
        for identity, sigs, who in ((old_identity, self.old_signatures, "old"),
                                    (self.new_identity, self.new_signatures, "new")):
            try:
                composite_verify(identity, LABEL_ROTATION, tbs, sigs, source)
            except VerificationError as exc:
                raise VerificationError(source, BAD_SIGNATURE, f"rotation statement: the {who} "
                                        f"key's signature does not verify ({exc.reason})") \
                    from None


@dataclass(frozen=True)
class KeyRevocation:
    """``key_id`` of ``org`` is revoked from ``effective_from`` on; signed by ``signed_by``."""

    org: str
    stix_identity_id: str
    key_id: str
    reason: str
    revoked_at: str
    effective_from: str
    signed_by: str
    comment: str = ""
    signatures: dict[str, bytes] = field(default_factory=dict)

    @property
    def effective_time(self) -> datetime:
        return parse_time(self.effective_from, "effective_from")

    def header(self) -> dict:
        return {"type": REVOCATION_TYPE, "version": STATEMENT_VERSION, "org": self.org,
                "stix_identity_id": self.stix_identity_id, "key_id": self.key_id,
                "reason": self.reason, "revoked_at": self.revoked_at,
                "effective_from": self.effective_from, "comment": self.comment,
                "signed_by": self.signed_by}

    def to_dict(self) -> dict:
        return {**self.header(),
                "signatures": {a: b64encode(s) for a, s in self.signatures.items()}}

    def summary(self) -> dict:
        return {k: v for k, v in self.header().items() if k not in ("type", "version")}

    @classmethod
    def from_dict(cls, doc: object, source: object) -> KeyRevocation:
        doc = _statement(doc, REVOCATION_TYPE, source)
        fields = {name: doc.get(name) for name in ("org", "stix_identity_id", "key_id", "reason",
                                                   "revoked_at", "effective_from", "signed_by",
                                                   "comment")}
        bad = [name for name, value in fields.items() if not isinstance(value, str)]
        if bad:
            raise InputError(source, f"revocation: {', '.join(bad)} must be text")
        if fields["reason"] not in REVOCATION_REASONS:
            raise InputError(source, f"revocation reason {fields['reason']!r} is not one of "
                                     f"{', '.join(REVOCATION_REASONS)}")
        try:
            revoked = parse_time(fields["revoked_at"], "revoked_at")
            effective = parse_time(fields["effective_from"], "effective_from")
        except ValueError as exc:
            raise InputError(source, str(exc)) from None
        if effective > revoked:
            raise InputError(source, "effective_from is after revoked_at: a revocation cannot "
                                     "take effect in the future")
        return cls(**fields, signatures=_signatures(doc, "signatures", source))

    def verify(self, signer: IdentityDocument, source: object) -> None:
        if signer.signing_key_id != self.signed_by or \
                signer.stix_identity_id != self.stix_identity_id:
            raise VerificationError(source, "wrong-key", f"revocation of {self.org!r} signed by "
                                    f"key {signer.signing_key_id} of {signer.org!r}")
        try:
            composite_verify(signer, LABEL_REVOCATION, canonical_json(self.header()),
                             self.signatures, source)
        except VerificationError as exc:
            raise VerificationError(source, BAD_SIGNATURE, f"revocation statement does not "
                                    f"verify ({exc.reason})") from None


def make_rotation(old_keys, new_keys, *, rotated_at: str) -> KeyRotation:
    """A rotation statement from ``old_keys`` to ``new_keys`` (both OrgKeys), signed by both."""
    old, new = old_keys.identity, new_keys.identity
    if old.stix_identity_id != new.stix_identity_id:
        raise InputError(old.org, "a key can only be rotated within one organisation")
    draft = KeyRotation(org=old.org, stix_identity_id=old.stix_identity_id,
                        old_key_id=old.signing_key_id, new_identity=new, rotated_at=rotated_at)
    tbs = canonical_json(draft.header())
    return KeyRotation(**{**draft.__dict__,
                          "old_signatures": composite_sign(old_keys, LABEL_ROTATION, tbs),
                          "new_signatures": composite_sign(new_keys, LABEL_ROTATION, tbs)})


def make_revocation(signer_keys, revoked: IdentityDocument, *, reason: str, revoked_at: str,
                    effective_from: str | None = None, comment: str = "") -> KeyRevocation:
    """A revocation of ``revoked`` signed by ``signer_keys`` (the key itself or a successor)."""
    if reason not in REVOCATION_REASONS:
        raise InputError("--reason", f"{reason!r} is not one of {', '.join(REVOCATION_REASONS)}")
    effective_from = effective_from or revoked_at
    if parse_time(effective_from, "--since") > parse_time(revoked_at, "revoked_at"):
        raise InputError("--since", "a revocation cannot take effect in the future")
    draft = KeyRevocation(org=revoked.org, stix_identity_id=revoked.stix_identity_id,
                          key_id=revoked.signing_key_id, reason=reason, revoked_at=revoked_at,
                          effective_from=format_time(parse_time(effective_from, "--since")),
                          signed_by=signer_keys.identity.signing_key_id, comment=comment)
    sigs = composite_sign(signer_keys, LABEL_REVOCATION, canonical_json(draft.header()))
    return KeyRevocation(**{**draft.__dict__, "signatures": sigs})


@dataclass(frozen=True)
class KeyStatus:
    """What the history says about one key at one time."""

    key_id: str
    state: str                       # current | superseded | revoked
    superseded_by: str | None = None
    superseded_at: str | None = None
    revocation: KeyRevocation | None = None


@dataclass(frozen=True)
class KeyHistory:
    """Anchors (identity documents trusted directly) plus the rotations and revocations that were
    checked against them. Built by :meth:`build`, which refuses anything it cannot chain."""

    identities: tuple[IdentityDocument, ...] = ()
    rotations: tuple[KeyRotation, ...] = ()
    revocations: tuple[KeyRevocation, ...] = ()

    @classmethod
    def build(cls, anchors: list[IdentityDocument],
              rotations: list[tuple[KeyRotation, object]],
              revocations: list[tuple[KeyRevocation, object]]) -> KeyHistory:
        """Chain rotations from the anchors (in any file order) and check every signature."""
        known = {i.signing_key_id: i for i in anchors}
        accepted: list[KeyRotation] = []
        pending = list(rotations)
        while pending:
            ready = [(r, src) for r, src in pending if r.old_key_id in known]
            if not ready:
                rotation, source = pending[0]
                raise InputError(source, f"rotation of {rotation.org!r} from key "
                                         f"{rotation.old_key_id}, which is not in the trust "
                                         "store: import that key's identity (or the earlier "
                                         "rotation) first")
            for rotation, source in ready:
                rotation.verify(known[rotation.old_key_id], source)
                previous = known.setdefault(rotation.new_key_id, rotation.new_identity)
                if previous != rotation.new_identity:
                    raise InputError(source, f"key {rotation.new_key_id} is known with "
                                             "another identity document")
                if rotation not in accepted:
                    accepted.append(rotation)
            pending = [item for item in pending if item not in ready]
        forks = {}
        for rotation in accepted:
            other = forks.setdefault(rotation.old_key_id, rotation)
            if other.new_key_id != rotation.new_key_id:
                raise InputError(rotation.org, f"key {rotation.old_key_id} was rotated to two "
                                 f"different keys ({other.new_key_id}, {rotation.new_key_id})")
        history = cls(identities=tuple(known.values()), rotations=tuple(accepted))
        checked: list[KeyRevocation] = []
        for revocation, source in revocations:
            if revocation.key_id not in known:
                raise InputError(source, f"revocation of key {revocation.key_id} of "
                                         f"{revocation.org!r}, which is not in the trust store")
            signer = known.get(revocation.signed_by)
            if signer is None or not (revocation.signed_by == revocation.key_id or
                                      history.descends_from(revocation.signed_by,
                                                            revocation.key_id)):
                raise VerificationError(source, "wrong-key", f"revocation of key "
                                        f"{revocation.key_id} is signed by key "
                                        f"{revocation.signed_by}, which is neither that key nor "
                                        "its successor")
            revocation.verify(signer, source)
            if revocation not in checked:
                checked.append(revocation)
        return cls(identities=history.identities, rotations=history.rotations,
                   revocations=tuple(checked))

    def identity(self, key_id: str) -> IdentityDocument | None:
        return next((i for i in self.identities if i.signing_key_id == key_id), None)

    def successor(self, key_id: str) -> KeyRotation | None:
        return next((r for r in self.rotations if r.old_key_id == key_id), None)

    def predecessor(self, key_id: str) -> KeyRotation | None:
        return next((r for r in self.rotations if r.new_key_id == key_id), None)

    def descends_from(self, key_id: str, ancestor_id: str) -> bool:
        seen = set()
        rotation = self.predecessor(key_id)
        while rotation is not None and rotation.old_key_id not in seen:
            if rotation.old_key_id == ancestor_id:
                return True
            seen.add(rotation.old_key_id)
            rotation = self.predecessor(rotation.old_key_id)
        return False

    def revocation(self, key_id: str) -> KeyRevocation | None:
        """The revocation of ``key_id`` that takes effect earliest (compromise wins ties).

        A key introduced by a rotation that its predecessor signed after the predecessor's
        compromise took effect inherits that revocation: the attacker could have made it.
        """
        own = [r for r in self.revocations if r.key_id == key_id]
        rotation = self.predecessor(key_id)
        if rotation is not None:
            parent = self.revocation(rotation.old_key_id)
            if parent is not None and parent.reason == KEY_COMPROMISE \
                    and rotation.rotated_at_time >= parent.effective_time:
                own.append(KeyRevocation(**{**parent.__dict__, "key_id": key_id,
                                            "comment": f"introduced by key {parent.key_id} "
                                                       f"after its compromise"}))
        if not own:
            return None
        return min(own, key=lambda r: (r.effective_time, r.reason != KEY_COMPROMISE))

    def status(self, key_id: str, at: datetime | None = None) -> KeyStatus:
        """The state of ``key_id`` at ``at`` (default: now, i.e. after every statement)."""
        revocation = self.revocation(key_id)
        if revocation is not None and (at is None or at >= revocation.effective_time):
            return KeyStatus(key_id, "revoked", revocation=revocation)
        rotation = self.successor(key_id)
        if rotation is not None and (at is None or at > rotation.rotated_at_time):
            return KeyStatus(key_id, "superseded", superseded_by=rotation.new_key_id,
                             superseded_at=rotation.rotated_at, revocation=revocation)
        return KeyStatus(key_id, "current", revocation=revocation)

    def current_keys(self, stix_id: str) -> list[IdentityDocument]:
        return [i for i in self.identities if i.stix_identity_id == stix_id
                and self.status(i.signing_key_id).state == "current"]

    def chain(self, key_id: str) -> list[dict]:
        """The key history of the organisation of ``key_id``, oldest first, with states."""
        identity = self.identity(key_id)
        if identity is None:
            return []
        rows = []
        for ident in sorted((i for i in self.identities
                             if i.stix_identity_id == identity.stix_identity_id),
                            key=lambda i: i.created):
            status = self.status(ident.signing_key_id)
            rows.append({"key_id": ident.signing_key_id, "created": ident.created,
                         "state": status.state, "superseded_by": status.superseded_by,
                         "superseded_at": status.superseded_at,
                         "revocation": status.revocation.summary() if status.revocation
                         else None})
        return rows


def _statement(doc: object, kind: str, source: object) -> dict:
    """``doc`` if it is a ``kind`` statement of the version this hybridwatch reads."""
    if not isinstance(doc, dict) or doc.get("type") != kind:
        raise InputError(source, f"not a {kind} statement")
    if doc.get("version") != STATEMENT_VERSION:
        raise InputError(source, f"unsupported {kind} version {doc.get('version')!r} "
                                 f"(this hybridwatch reads {STATEMENT_VERSION})")
    return doc
