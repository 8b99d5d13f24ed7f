"""Sign in and out of the dashboard: ``POST /api/session`` exchanges an API token for an
HttpOnly, SameSite=Strict session cookie; ``DELETE /api/session`` ends the session.
See ``hybridwatch.web.sessions``."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from hybridwatch.store.access_store import verify_token
from hybridwatch.store.store import EventStore
from hybridwatch.web.auth import Principal, current_principal
from hybridwatch.web.deps import audit_access, store_dependency
from hybridwatch.web.errors import ApiError, error_responses
from hybridwatch.web.sessions import SESSION_COOKIE, cookie_settings, same_origin


class SignIn(BaseModel):
    token: str = Field(..., min_length=1, max_length=200,
                       description="An API token (`hybridwatch token create --role viewer`)")


class SessionOut(BaseModel):
    token_id: str
    name: str
    role: str
    clearance: str
    expires_in: int = Field(description="seconds until the session ends")


def session_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["session"])

    @router.post("/session", response_model=SessionOut, summary="Sign in (dashboard)",
                 responses=error_responses(401, 403, 422))
    def sign_in(request: Request, body: SignIn = Body(...),
                store: EventStore = Depends(store_dependency)):
        """Exchange an API token for a session cookie (HttpOnly, SameSite=Strict): the
        dashboard's sign-in form posts here, so the token never appears in a URL."""
        if request.headers.get("origin") and not same_origin(request):
            raise ApiError(403, "sign-in from another site refused")
        record = verify_token(store, body.token.strip())
        if record is None:
            audit_access(store, None, "denied", "/api/session", status=401,
                         detail={"reason": "invalid token"})
            raise ApiError(401, "invalid token: unknown, malformed or revoked")
        table = request.app.state.sessions
        secret = table.create(record.token_id)
        principal = Principal(record.token_id, record.name, record.role, record.clearance)
        audit_access(store, principal, "session.create", "/api/session")
        answer = JSONResponse({**principal.to_dict(), "expires_in": int(table.ttl_seconds)},
                              headers={"Cache-Control": "no-store"})
        answer.set_cookie(value=secret, **cookie_settings(request, int(table.ttl_seconds)))
        return answer

    @router.delete("/session", status_code=204, summary="Sign out (dashboard)",
                   responses=error_responses(401, 403))
    def sign_out(request: Request, principal: Principal = Depends(current_principal),
                 store: EventStore = Depends(store_dependency)):
        """End the session of the cookie sent (a bearer token has no session to end)."""
        secret = request.cookies.get(SESSION_COOKIE)
        if secret:
            request.app.state.sessions.drop(secret)
        audit_access(store, principal, "session.end", "/api/session")
        answer = Response(status_code=204)
        answer.delete_cookie(**{k: v for k, v in cookie_settings(request, 0).items()
                                if k != "max_age"})
        return answer

    return router
