"""The audit trail in the console, for auditors and the credit office."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.audit import service
from xinyong.web.deps import SessionDep
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/console/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("audit:read")],
    action: Annotated[str, Query(max_length=48)] = "",
    actor: Annotated[str, Query(max_length=64)] = "",
    department: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    entries = service.search(
        session, action=action or None, actor=actor or None, department_code=department or None
    )
    return render(
        request,
        "audit.html",
        {"entries": entries, "filters": {"action": action, "actor": actor, "department": department}},
    )
