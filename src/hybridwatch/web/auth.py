"""Who is asking: bearer tokens, roles and TLP clearance.

A request carries ``Authorization: Bearer hw_<id>_<secret>`` (tokens come from
``hybridwatch token create --role R``), or the dashboard's session cookie, which stands for a
token typed once into its sign-in form (``hybridwatch.web.sessions``). ``current_principal`` turns it into a ``Principal`` or
answers 401 in the JSON error shape; ``require_role("admin")`` answers 403 to other roles.
``clearance`` is the most restricted TLP 2.0 level the principal may read: endpoints drop items
above it and report how many they withheld.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hybridwatch.model.tlp import levels_readable_at, readable
from hybridwatch.store.access_store import ROLE_CLEARANCE, ROLES, active_token, verify_token
from hybridwatch.store.store import EventStore
from hybridwatch.web.deps import audit_access, store_dependency
from hybridwatch.web.errors import ApiError
from hybridwatch.web.sessions import SAFE_METHODS, SESSION_COOKIE, same_origin

__all__ = ["Principal", "ROLES", "ROLE_CLEARANCE", "allowed_tlp_levels", "current_principal",
           "require_role"]

_bearer = HTTPBearer(auto_error=False, bearerFormat="hw_<id>_<secret>",
                     description="An API token from `hybridwatch token create --role R`.")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Principal:
    """The holder of a valid token."""

    token_id: str
    name: str
    role: str          # viewer, analyst or admin
    clearance: str     # highest TLP level readable: clear, green, amber, amber+strict or red

    def can_read(self, tlp: str | None) -> bool:
        """Whether an item marked ``tlp`` (None = clear) is within this clearance."""
        return readable(tlp, self.clearance)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def allowed_tlp_levels(clearance: str) -> list[str]:
    """The TLP levels readable at ``clearance``, least restricted first."""
    return list(levels_readable_at(clearance))


async def current_principal(request: Request,
                      credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                      store: EventStore = Depends(store_dependency)) -> Principal:
    """FastAPI dependency: the principal of the request's bearer token, or a 401.

    ``async``: a cached token costs a dict lookup, an uncached one a point query of a few
    milliseconds (then cached), cheaper than a thread-pool hop on every request."""
    if (credentials is None or not credentials.credentials) \
            and request.cookies.get(SESSION_COOKIE):
        return _session_principal(request, store)
    if credentials is None or not credentials.credentials:
        _audit_refusal(store, request, "missing token")
        raise ApiError(401, "missing token: send 'Authorization: Bearer <token>' "
                            "(create one with `hybridwatch token create --role viewer`)",
                       headers=_CHALLENGE)
    if credentials.scheme.lower() != "bearer":
        _audit_refusal(store, request, "unsupported scheme")
        raise ApiError(401, f"unsupported authorization scheme {credentials.scheme!r}: use Bearer",
                       headers=_CHALLENGE)
    token = credentials.credentials.strip()
    cache = getattr(request.app.state, "token_cache", None)
    record = cache.get(token) if cache is not None else None
    if record is None:
        record = verify_token(store, token)
        if record is not None and cache is not None:
            cache.put(token, record)
    if record is None:
        _audit_refusal(store, request, "invalid token")
        raise ApiError(401, "invalid token: unknown, malformed or revoked", headers=_CHALLENGE)
    return Principal(record.token_id, record.name, record.role, record.clearance)


def _session_principal(request: Request, store: EventStore) -> Principal:
    """The principal of a dashboard session cookie (``hybridwatch.web.sessions``): 401 when
    the session is unknown, expired or its token revoked; 403 for a state-changing request
    that does not come from this server's own pages (cross-site request forgery)."""
    table = getattr(request.app.state, "sessions", None)
    session = table.get(request.cookies[SESSION_COOKIE]) if table is not None else None
    record = active_token(store, session.token_id) if session is not None else None
    if record is None:
        _audit_refusal(store, request, "invalid session")
        raise ApiError(401, "session expired or signed out: sign in again with an API token",
                       headers=_CHALLENGE)
    principal = Principal(record.token_id, record.name, record.role, record.clearance)
    if request.method not in SAFE_METHODS and not same_origin(request):
        audit_access(store, principal, "denied", request.url.path[:200], status=403,
                     detail={"reason": "cross-site request with a session cookie"})
        raise ApiError(403, "a request that changes something with a session cookie must "
                            "come from this server's pages (Origin header); API clients send "
                            "'Authorization: Bearer <token>'")
    return principal


def _audit_refusal(store: EventStore, request: Request, reason: str) -> None:
    """A 401 goes into the audit log: the path only (never its query, which may carry a
    token), the reason, never the credentials sent."""
    audit_access(store, None, "denied", request.url.path[:200], status=401,
                 detail={"reason": reason})


def require_role(*roles: str) -> Callable[..., Principal]:
    """A dependency admitting only principals whose role is one of ``roles`` (else 403)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"require_role: unknown roles {unknown} (roles: {', '.join(ROLES)})")

    async def dependency(principal: Principal = Depends(current_principal),
                   store: EventStore = Depends(store_dependency)) -> Principal:
        if principal.role not in roles:
            audit_access(store, principal, "denied", f"role:{'|'.join(roles)}", status=403)
            raise ApiError(403, f"a {principal.role} token may not do this (needs role "
                                f"{' or '.join(roles)})")
        return principal

    return dependency
