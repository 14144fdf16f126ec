"""The public credit information catalog as JSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.catalog import service
from xinyong.catalog.schemas import CatalogRead
from xinyong.web.deps import PlatformDep

router = APIRouter(tags=["catalog"])


@router.get("/catalog", response_model=CatalogRead)
def get_catalog(platform: PlatformDep, principal: Annotated[Principal, require("public")]) -> CatalogRead:
    """Read the catalog in force: every information item with its fields, classes, rules and legal basis."""
    return service.to_read(platform.catalog)
