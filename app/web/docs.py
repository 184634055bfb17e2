"""The API documentation without internet: Swagger UI at /docs and ReDoc at /redoc, their scripts and
styles served from the pinned fastapi-offline package, under the pages' Content-Security-Policy (no
inline script: Swagger UI starts from a file of ours)."""

import secrets
from importlib.resources import files

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles

from app.web.pages import CSP, HEADERS, render

ASSETS = "/docs/assets"
router = APIRouter(include_in_schema=False)


def mount_assets(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")


@router.get("/docs")
def swagger_ui(request: Request):
    response = render(request, "swagger.html", assets=ASSETS)
    response.headers.update(HEADERS)
    return response


@router.get("/redoc")
def redoc(request: Request):
    """ReDoc's styles are added at run time: allowed by a nonce of this response, never 'unsafe-inline'."""
    nonce = secrets.token_urlsafe(16)
    response = render(request, "redoc.html", assets=ASSETS, nonce=nonce)
    response.headers.update(HEADERS)
    response.headers["Content-Security-Policy"] = CSP.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")
    return response
