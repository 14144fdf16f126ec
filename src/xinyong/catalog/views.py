"""Catalog pages on the portal, and each item's file template for departments (CSV and XLSX)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.catalog import service
from xinyong.catalog.schemas import FIELD_TYPE_LABELS
from xinyong.web import downloads
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
    return render(
        request,
        "catalog_item.html",
        {
            "catalog": platform.catalog,
            "item": item,
            "headers": service.template_headers(item),
            "field_type_labels": FIELD_TYPE_LABELS,
        },
    )


@router.get("/catalog/{code}/template.csv")
def catalog_template_csv(
    code: str, platform: PlatformDep, principal: Annotated[Principal, require("public")]
) -> Response:
    """The item's CSV template: a header row of Chinese field names with national field codes (UTF-8, BOM)."""
    item = service.get_item(platform.catalog, code)
    filename = service.template_filename(platform.catalog, item, "csv")
    return downloads.attachment(service.template_csv(item), filename, "text/csv; charset=utf-8")


@router.get("/catalog/{code}/template.xlsx")
def catalog_template_xlsx(
    code: str, platform: PlatformDep, principal: Annotated[Principal, require("public")]
) -> Response:
    """The item's XLSX template: the header row on the first sheet, what each column takes on the second."""
    item = service.get_item(platform.catalog, code)
    filename = service.template_filename(platform.catalog, item, "xlsx")
    return downloads.attachment(service.template_xlsx(item), filename, service.XLSX_TYPE)
