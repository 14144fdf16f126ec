"""The API documentation page (/docs, Swagger UI), served offline under the site's CSP.

FastAPI's own pages load Swagger UI and ReDoc from a CDN and start Swagger UI with an inline script, so under
the site's `script-src 'self'` they stay blank, and offline they cannot load at all. Here the assets come from
the fastapi-offline package (the Swagger UI bundle kept current by its maintainer), mounted under
`/docs/assets`, and Swagger UI is started by a static script of ours (`/static/api-docs.js`) that reads the
OpenAPI URL from a data attribute: no inline script, no nonce.

There is no /redoc: ReDoc inserts its styles as `<style>` elements at run time (styled-components), builds
its search index in a `blob:` worker and loads its logo from Redocly's CDN, so it would need `'unsafe-inline'`
styles, `blob:` workers and a foreign image — more than the site's CSP allows for a second view of the same
operations.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.web.templating import render

ASSETS = "/docs/assets"

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request, principal: Annotated[Principal, require("public")]) -> HTMLResponse:
    """The API's operations, browsable and callable (Swagger UI)."""
    return render(
        request,
        "api_docs.html",
        {"title": request.app.title, "openapi_url": request.app.openapi_url, "assets": ASSETS},
    )


@router.get("/favicon.ico")
def favicon(principal: Annotated[Principal, require("public")]) -> RedirectResponse:
    """Browsers that ask for /favicon.ico find the site's icon."""
    return RedirectResponse("/static/favicon.svg", status_code=308)


def install(app: FastAPI) -> None:
    """Mount the documentation assets and add the pages (the app must be built with docs_url=None)."""
    assets = resources.files("fastapi_offline") / "static"
    app.mount(ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")
    app.include_router(router)
