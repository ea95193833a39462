"""The web page (``/``, ``/static``) and the offline Swagger UI (``/docs``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from ..errors import ApiError
from ..middleware import PAGE_CSP

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

router = APIRouter()


@router.get("/", include_in_schema=False)
def page() -> Response:
    index = STATIC_DIR / "index.html"
    if not index.is_file():
        raise ApiError(404, "not_found", "the web page is not installed")
    return FileResponse(index, media_type="text/html", headers={"Content-Security-Policy": PAGE_CSP})


def _docs_assets() -> Path | None:
    try:
        import fastapi_offline
    except ImportError:  # the page still names the machine-readable schema
        return None
    return Path(fastapi_offline.__file__).parent / "static"


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI from files installed with the server (FastAPI's default loads them from a CDN,
    which an air-gapped machine cannot reach)."""
    from fastapi.openapi.docs import get_swagger_ui_html

    if _docs_assets() is None:
        return HTMLResponse('<p>API schema: <a href="/openapi.json">/openapi.json</a></p>')
    return get_swagger_ui_html(openapi_url="/openapi.json", title="facetrust API",
                               swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                               swagger_css_url="/docs-assets/swagger-ui.css",
                               swagger_favicon_url="/docs-assets/favicon.png")


def mount_static(app: FastAPI) -> None:
    """The page's files and the Swagger UI's (mounts belong to the app, not to a router)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    assets = _docs_assets()
    if assets is not None:
        app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")
