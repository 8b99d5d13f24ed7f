"""The browsable API documentation at ``/api/docs``: Swagger UI from files installed with the
package, never from a CDN.

Swagger UI's own files (``swagger-ui-bundle.js``, ``swagger-ui.css``) come from the PyPI package
``fastapi-offline``, which bundles them; only its static folder is used. The page and the script
that starts Swagger UI are ours (``web/docs/``): no inline script, so the page runs under a
Content-Security-Policy that allows this server alone (``app.DOCS_CSP``).
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from hybridwatch.web.errors import ApiError

DOCS_DIR = Path(__file__).with_name("docs")


def swagger_ui_dir() -> Path | None:
    """The folder holding ``swagger-ui-bundle.js`` and ``swagger-ui.css``, or None."""
    spec = find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def install_api_docs(app: FastAPI) -> None:
    """Serve ``/api/docs`` (the page), its start-up script and Swagger UI's bundled assets."""
    router = APIRouter(include_in_schema=False)
    assets = swagger_ui_dir()

    @router.get("/api/docs")
    def docs_page() -> FileResponse:
        if assets is None:
            raise ApiError(503, "the API docs need the package fastapi-offline (bundled "
                                "Swagger UI); the OpenAPI document is at /openapi.json")
        return FileResponse(DOCS_DIR / "index.html", media_type="text/html",
                            headers={"Cache-Control": "no-cache"})

    @router.get("/api/docs/swagger-init.js")
    def docs_script() -> FileResponse:
        return FileResponse(DOCS_DIR / "swagger-init.js", media_type="text/javascript",
                            headers={"Cache-Control": "no-cache"})

    app.include_router(router)
    if assets is not None:
        app.mount("/api/docs/assets", StaticFiles(directory=assets), name="api-docs-assets")
