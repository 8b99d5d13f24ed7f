"""One JSON error shape for every answer that is not a success:

    {"error": {"status": 422, "code": "invalid_request", "message": "...", "details": [...]}}

``details`` lists the offending parameters (``loc``, ``msg``, ``type``) for validation errors and
is empty otherwise. Handlers below turn FastAPI's, Starlette's and hybridwatch's own errors into
it, so no client ever has to parse a second shape (and an unexpected error is a 500 in the same
shape, never an HTML page).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from hybridwatch.errors import HybridwatchError, SelectorError, StoreError

log = logging.getLogger("hybridwatch.web")

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
          415: "unsupported_media_type", 422: "invalid_request", 429: "too_many_requests",
          500: "internal_error", 503: "unavailable"}


class ErrorDetail(BaseModel):
    loc: list[str | int] = Field(default_factory=list, description="Where: e.g. [query, limit]")
    msg: str
    type: str


class ErrorBody(BaseModel):
    status: int
    code: str = Field(description="Stable machine-readable code, e.g. unauthorized")
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The shape of every error answer."""

    error: ErrorBody


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting the error shape for ``statuses``."""
    # explicit JSON content: routes answering HTML (the briefing) still err in JSON
    return {status: {"model": ErrorResponse, "description": _CODES.get(status, "error"),
                     "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
            for status in statuses}


class ApiError(Exception):
    """Raise from an endpoint to answer with the error shape."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.details = details or []
        self.headers = headers


def error_json(status: int, message: str, *, code: str | None = None,
               details: list[dict[str, Any]] | None = None,
               headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"status": status, "code": code or _CODES.get(status, "error"),
                      "message": message, "details": details or []}}
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # errors() may hold exception objects in ctx/input: keep only the JSON-safe parts
    return [{"loc": [str(p) if not isinstance(p, int) else p for p in err.get("loc", ())],
             "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))}
            for err in exc.errors()]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_json(exc.status, exc.message, code=exc.code, details=exc.details,
                          headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        where = ", ".join(".".join(str(p) for p in d["loc"]) + f": {d['msg']}" for d in details)
        return error_json(422, f"invalid request ({where})" if where else "invalid request",
                          details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else _CODES.get(exc.status_code,
                                                                            "error")
        return error_json(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(HybridwatchError)
    async def _ours(_: Request, exc: HybridwatchError) -> JSONResponse:
        if isinstance(exc, SelectorError):
            return error_json(422, str(exc))
        if isinstance(exc, StoreError):
            return error_json(503, str(exc))
        return error_json(400, str(exc))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_json(500, "unexpected error (a bug: the server log has the traceback)")
