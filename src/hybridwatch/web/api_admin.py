"""Who am I, tokens and the audit log (tokens and audit: admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Path as PathParam, Query, Request
from fastapi.responses import JSONResponse

from hybridwatch import __version__
from hybridwatch.store.access_store import (
    audit_entries, create_token, list_tokens, revoke_token,
)
from hybridwatch.store.store import EventStore
from hybridwatch.web.auth import Principal, current_principal, require_role
from hybridwatch.web.deps import audit_access, store_dependency
from hybridwatch.web.errors import ApiError, error_responses
from hybridwatch.web.models import AuditAnswer, PrincipalOut, TokenCreate, TokenList, TokenOut


def admin_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["access"])
    admin = require_role("admin")

    @router.get("/health", summary="Liveness (no token needed)")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @router.get("/me", response_model=PrincipalOut, summary="The token's identity",
                responses=error_responses(401))
    def me(principal: Principal = Depends(current_principal)) -> dict:
        return principal.to_dict()

    @router.get("/tokens", response_model=TokenList, summary="All tokens (admin)",
                responses=error_responses(401, 403))
    def tokens(store: EventStore = Depends(store_dependency),
               principal: Principal = Depends(admin)):
        return {"tokens": [t.to_dict() for t in list_tokens(store)]}

    @router.post("/tokens", response_model=TokenOut, status_code=201,
                 summary="Create a token (admin); its secret is in this answer only",
                 responses=error_responses(401, 403, 422))
    def new_token(request: TokenCreate = Body(...),
                  store: EventStore = Depends(store_dependency),
                  principal: Principal = Depends(admin)):
        created = create_token(store, role=request.role, name=request.name,
                               clearance=request.clearance)
        audit_access(store, principal, "token.create", f"tokens/{created.record.token_id}",
                     detail={"role": created.record.role,
                             "clearance": created.record.clearance}, status=201)
        return JSONResponse(created.to_dict(), status_code=201)

    @router.delete("/tokens/{token_id}", response_model=TokenOut, summary="Revoke a token (admin)",
                   responses=error_responses(401, 403, 404))
    def revoke(request: Request,
               token_id: str = PathParam(..., max_length=64, pattern=r"^[0-9a-f]+$"),
               store: EventStore = Depends(store_dependency),
               principal: Principal = Depends(admin)):
        if token_id not in {t.token_id for t in list_tokens(store)}:
            raise ApiError(404, f"no token {token_id!r}")
        record = revoke_token(store, token_id)
        request.app.state.token_cache.clear()  # the revoked token must fail from now on
        audit_access(store, principal, "token.revoke", f"tokens/{token_id}")
        return record.to_dict()

    @router.get("/audit", response_model=AuditAnswer, summary="The audit log (admin)",
                responses=error_responses(401, 403, 422))
    def audit_log(limit: int = Query(100, ge=1, le=10_000),
                  token_id: str | None = Query(None, max_length=64),
                  action: str | None = Query(None, max_length=40),
                  store: EventStore = Depends(store_dependency),
                  principal: Principal = Depends(admin)):
        if getattr(store, "audit_sink", None) is not None:
            store.audit_sink.flush()  # the log as of this request
        entries = audit_entries(store, limit=limit, token_id=token_id, action=action)
        audit_access(store, principal, "read", "/api/audit", detail={"returned": len(entries)})
        return JSONResponse({"entries": entries, "count": len(entries)})

    return router
