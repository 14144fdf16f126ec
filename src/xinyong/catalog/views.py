"""Catalog pages on the portal."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.catalog import service
from xinyong.web.deps import PlatformDep
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/catalog", response_class=HTMLResponse)
def catalog_page(
    request: Request, platform: PlatformDep, principal: Annotated[Principal, require("public")]
) -> HTMLResponse:
    return render(request, "catalog.html", {"catalog": platform.catalog})


@router.get("/catalog/{code}", response_class=HTMLResponse)
def catalog_item_page(
    code: str, request: Request, platform: PlatformDep, principal: Annotated[Principal, require("public")]
) -> HTMLResponse:
    item = service.get_item(platform.catalog, code)
    return render(request, "catalog_item.html", {"catalog": platform.catalog, "item": item})
