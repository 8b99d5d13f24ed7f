"""Alerts: what the saved watches raised (``hybridwatch watch run``), within the caller's
clearance; analysts and admins acknowledge them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path as PathParam, Query
from fastapi.responses import JSONResponse

from hybridwatch.errors import StoreError
from hybridwatch.store.alerts_store import acknowledge_alert, list_alerts
from hybridwatch.store.store import EventStore
from hybridwatch.web.auth import Principal, current_principal, require_role
from hybridwatch.web.deps import audit_access, store_dependency
from hybridwatch.web.errors import ApiError, error_responses
from hybridwatch.web.models import AlertOut, AlertsAnswer


def alerts_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["alerts"], responses=error_responses(401, 403, 422))

    @router.get("/alerts", response_model=AlertsAnswer, summary="Open alerts of the watches")
    def alerts(include_acknowledged: bool = Query(False, alias="all",
                                                  description="acknowledged alerts too"),
               limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000),
               store: EventStore = Depends(store_dependency),
               principal: Principal = Depends(current_principal)):
        """The alerts raised by `hybridwatch watch run`, newest first: open ones unless
        ``all=true``. Alerts on findings above your clearance are counted, not shown."""
        shown, total, withheld = list_alerts(store, clearance=principal.clearance,
                                             include_acknowledged=include_acknowledged,
                                             limit=limit, offset=offset)
        audit_access(store, principal, "read", "/api/alerts",
                     detail={"returned": len(shown), "withheld": withheld})
        return JSONResponse({"alerts": [a.to_dict() for a in shown], "total": total,
                             "withheld": withheld, "limit": limit, "offset": offset})

    @router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut,
                 summary="Acknowledge an alert (analyst, admin)", responses=error_responses(404))
    def acknowledge(alert_id: int = PathParam(..., ge=1, le=2**31 - 1),
                    store: EventStore = Depends(store_dependency),
                    principal: Principal = Depends(require_role("analyst", "admin"))):
        """The alert leaves the open list; who acknowledged it is recorded (and audited)."""
        try:
            done = acknowledge_alert(store, alert_id, by=principal.name,
                                     clearance=principal.clearance)
        except StoreError as exc:
            audit_access(store, principal, "acknowledge", f"alerts/{alert_id}", status=404)
            raise ApiError(404, str(exc)) from None
        audit_access(store, principal, "acknowledge", f"alerts/{alert_id}")
        return JSONResponse(done.to_dict())

    return router
