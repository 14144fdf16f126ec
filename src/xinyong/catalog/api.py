"""The public credit information catalog as JSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.catalog import service
from xinyong.catalog.schemas import CatalogRead
from xinyong.web import downloads
from xinyong.web.deps import PlatformDep

router = APIRouter(tags=["catalog"])


@router.get("/catalog", response_model=CatalogRead)
def get_catalog(platform: PlatformDep, principal: Annotated[Principal, require("public")]) -> CatalogRead:
    """Read the catalog in force: every information item with its fields, classes, rules and legal basis."""
    return service.to_read(platform.catalog)


@router.get(
    "/catalog/{code}/template.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the header row, UTF-8 with BOM"}},
)
def get_template_csv(
    code: str, platform: PlatformDep, principal: Annotated[Principal, require("public")]
) -> Response:
    """Download an item's CSV file template: Chinese field names with their national field codes, as
    ingestion reads them."""
    item = service.get_item(platform.catalog, code)
    filename = service.template_filename(platform.catalog, item, "csv")
    return downloads.attachment(service.template_csv(item), filename, "text/csv; charset=utf-8")


@router.get(
    "/catalog/{code}/template.xlsx",
    response_class=Response,
    responses={200: {"content": {service.XLSX_TYPE: {}}, "description": "header sheet and notes sheet"}},
)
def get_template_xlsx(
    code: str, platform: PlatformDep, principal: Annotated[Principal, require("public")]
) -> Response:
    """Download an item's XLSX file template: the header row on the first sheet, each column's type,
    whether it is required and its allowed values on the second."""
    item = service.get_item(platform.catalog, code)
    filename = service.template_filename(platform.catalog, item, "xlsx")
    return downloads.attachment(service.template_xlsx(item), filename, service.XLSX_TYPE)
