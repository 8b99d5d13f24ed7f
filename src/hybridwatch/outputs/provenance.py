"""Content provenance: C2PA manifests of images, video and PDF, verified offline with the C2PA
SDK (``c2pa-python``, the Content Authenticity Initiative's binding of c2pa-rs).

Nothing is fetched: remote manifests and OCSP are switched off in the SDK's settings, and the
only trust anchors are the certificates the user gives (``--trust``). Each file gets one verdict:

``valid``             the manifest verifies and its signer chains to a configured anchor
``untrusted-signer``  the manifest verifies, but its signer chains to no configured anchor
``invalid``           the manifest (or the content it binds) fails validation: edited after signing
``no-manifest``       no embedded C2PA manifest (a remote one, if referenced, is not fetched)

with the signer, the claim generator, the actions and the ingredient chain (each ingredient's
own manifest: signer, generator, actions, and whether it re-validated).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from hybridwatch.errors import InputError, MissingExtraError

__all__ = ["ProvenanceVerdict", "STATES", "load_trust_anchors", "verify_media"]

VALID, INVALID, UNTRUSTED, NO_MANIFEST = "valid", "invalid", "untrusted-signer", "no-manifest"
STATES = (VALID, INVALID, UNTRUSTED, NO_MANIFEST)
# Failure codes that say "who signed is not trusted", not "the content was changed".
_TRUST_CODES = frozenset({"signingCredential.untrusted", "signingCredential.ocsp.unknown",
                          "signingCredential.ocsp.skipped"})
_MAX_DEPTH = 16


def _c2pa():
    try:
        import c2pa
    except ImportError:
        raise MissingExtraError("c2pa-python", "provenance") from None
    return c2pa


def load_trust_anchors(path: Path | None) -> str:
    """PEM text of every certificate in a file or a folder (.pem/.crt/.cer), checked to parse."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    if path is None:
        return ""
    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".pem", ".crt", ".cer")) \
        if path.is_dir() else [path]
    pem = []
    for file in files:
        try:
            data = file.read_bytes()
            certs = x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data \
                else [x509.load_der_x509_certificate(data)]
        except (OSError, ValueError) as exc:
            raise InputError(file, f"not a certificate file ({exc})") from None
        pem.extend(c.public_bytes(Encoding.PEM).decode("ascii") for c in certs)
    if not pem:
        raise InputError(path, "no trust anchor certificates (.pem, .crt or .cer) found")
    return "".join(pem)


def offline_settings(anchors_pem: str) -> dict:
    """SDK settings: verify trust against ``anchors_pem`` only; never touch the network."""
    settings: dict = {"verify": {"verify_trust": True, "remote_manifest_fetch": False,
                                 "ocsp_fetch": False}}
    if anchors_pem:
        settings["trust"] = {"trust_anchors": anchors_pem}
    return settings


@dataclass(frozen=True)
class ProvenanceVerdict:
    """One file's C2PA verdict."""

    file: str
    media_sha256: str
    state: str
    format: str
    signer: dict | None = None
    claim_generator: str | None = None
    title: str | None = None
    manifest: str | None = None
    actions: tuple[dict, ...] = ()
    ingredients: tuple[dict, ...] = ()
    failures: tuple[dict, ...] = ()
    notes: tuple[str, ...] = ()
    url: str | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "extra"}
        return {**out, "actions": list(self.actions), "ingredients": list(self.ingredients),
                "failures": list(self.failures), "notes": list(self.notes)}


def _generator(manifest: dict) -> str | None:
    infos = manifest.get("claim_generator_info") or []
    if infos and isinstance(infos[0], dict):
        first = infos[0]
        return " ".join(str(first[k]) for k in ("name", "version") if first.get(k))
    return manifest.get("claim_generator")


def _signer(manifest: dict) -> dict | None:
    info = manifest.get("signature_info")
    if not isinstance(info, dict):
        return None
    return {"common_name": info.get("common_name"), "issuer": info.get("issuer"),
            "alg": info.get("alg"), "cert_serial_number": info.get("cert_serial_number"),
            "time": info.get("time")}


def _actions(manifest: dict) -> list[dict]:
    out = []
    for assertion in manifest.get("assertions") or []:
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            for action in (assertion.get("data") or {}).get("actions") or []:
                agent = action.get("softwareAgent")
                out.append({"action": action.get("action"), "when": action.get("when"),
                            "software_agent": agent.get("name") if isinstance(agent, dict)
                            else agent,
                            "digital_source_type": action.get("digitalSourceType")})
    return out


def _failures(results: dict | None) -> list[dict]:
    active = (results or {}).get("activeManifest") or {}
    return [{"code": f.get("code"), "explanation": f.get("explanation")}
            for f in active.get("failure") or []]


def _ingredient_chain(store: dict, manifest: dict, deltas: dict, depth: int = 1) -> list[dict]:
    """Ingredients of ``manifest``, depth-first, each with its own manifest's details."""
    chain = []
    if depth > _MAX_DEPTH:
        return chain
    for ingredient in manifest.get("ingredients") or []:
        label = ingredient.get("active_manifest")
        own = store.get(label) or {}
        # the re-validation under the user's anchors, else what the manifest recorded
        codes = deltas.get(label) or ((ingredient.get("validation_results") or {})
                                      .get("activeManifest") or {})
        failures = [f.get("code") for f in codes.get("failure") or []]
        trusted = label in deltas and any(c.get("code") == "signingCredential.trusted"
                                          for c in codes.get("success") or [])
        chain.append({"depth": depth, "title": ingredient.get("title"),
                      "format": ingredient.get("format"),
                      "relationship": ingredient.get("relationship"),
                      "manifest": label, "signer": _signer(own) if own else None,
                      "claim_generator": _generator(own) if own else None,
                      "actions": _actions(own) if own else [],
                      "state": (NO_MANIFEST if not label else
                                INVALID if any(c not in _TRUST_CODES for c in failures) else
                                VALID if trusted else UNTRUSTED)})
        if own:
            chain.extend(_ingredient_chain(store, own, deltas, depth + 1))
    return chain


def _deltas_by_manifest(results: dict | None) -> dict[str, dict]:
    """Re-validation of each ingredient's manifest under the current trust, by manifest label."""
    out = {}
    for item in (results or {}).get("ingredientDeltas") or []:
        codes = item.get("validationDeltas") or {}
        for entry in codes.get("success", []) + codes.get("failure", []):
            url = str(entry.get("url", ""))
            if "/c2pa/" in url:
                label = url.split("/c2pa/", 1)[1].split("/", 1)[0]
                out.setdefault(label, codes)
    return out


def verify_media(path: Path, anchors_pem: str, *, url: str | None = None) -> ProvenanceVerdict:
    """The C2PA verdict of one file (the SDK validates; this maps its result to a state)."""
    c2pa = _c2pa()
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in c2pa.Reader.get_supported_mime_types():
        raise InputError(path, f"the C2PA SDK does not read .{fmt} files")
    base = {"file": str(path), "media_sha256": digest, "format": fmt, "url": url}
    context = c2pa.Context.from_dict(offline_settings(anchors_pem))
    import io

    try:
        reader = c2pa.Reader(fmt, io.BytesIO(data), context=context)
        report = json.loads(reader.json())
    except c2pa.C2paError as exc:
        # the SDK names the kind in the class (C2paError.ManifestNotFound) or the message
        kind = type(exc).__name__.lstrip("_").removeprefix("C2pa")
        if kind in ("Error", "Other", ""):
            kind = str(exc).split(":", 1)[0].strip()
        if kind == "Remote":
            kind = "RemoteManifest"
        if kind == "ManifestNotFound":
            return ProvenanceVerdict(**base, state=NO_MANIFEST)
        if kind == "RemoteManifest":
            return ProvenanceVerdict(**base, state=NO_MANIFEST,
                                     notes=(f"a remote manifest is referenced and was not "
                                            f"fetched ({exc})",))
        return ProvenanceVerdict(**base, state=INVALID,
                                 failures=({"code": kind, "explanation": str(exc)},))
    store = report.get("manifests") or {}
    active_label = report.get("active_manifest")
    manifest = store.get(active_label) or {}
    results = report.get("validation_results")
    failures = _failures(results)
    sdk_state = report.get("validation_state")
    content_failures = [f for f in failures if f["code"] not in _TRUST_CODES]
    if content_failures or sdk_state == "Invalid" and not failures:
        state = INVALID
    elif sdk_state == "Trusted":
        state = VALID
    else:
        state = UNTRUSTED
    notes = [] if anchors_pem else ["no trust anchors given (--trust): no signer is trusted"]
    return ProvenanceVerdict(
        **base, state=state, signer=_signer(manifest), claim_generator=_generator(manifest),
        title=manifest.get("title"), manifest=active_label, actions=tuple(_actions(manifest)),
        ingredients=tuple(_ingredient_chain(store, manifest, _deltas_by_manifest(results))),
        failures=tuple(content_failures or failures), notes=tuple(notes))
