"""The dashboard: one HTML page and its bundled assets (no CDN), plus the world outlines.

The page holds no data: its sign-in form exchanges an API token for an HttpOnly session cookie
(``hybridwatch.web.sessions``), and the page asks the API with that cookie. A token is never
put in a URL: ``/?token=…`` is not used (the page removes it from the address and asks to sign
in).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from hybridwatch.web.errors import ApiError

STATIC_DIR = Path(__file__).with_name("static")


def dashboard_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html",
                            headers={"Cache-Control": "no-cache"})

    @router.get("/api/geo/world.json")
    def world() -> FileResponse:
        """Natural Earth 1:110m country outlines keyed by ISO3 (public domain)."""
        try:
            from hybridwatch.outputs.geo import world_geojson_path
        except ImportError:
            raise ApiError(503, "world outlines are not available in this installation") \
                from None
        return FileResponse(world_geojson_path(), media_type="application/geo+json",
                            headers={"Cache-Control": "public, max-age=86400"})

    return router
