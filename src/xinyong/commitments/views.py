"""Commitment pages: a published commitment on the portal, with the platform's signature checked."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.commitments import service
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)

CHANNEL_LABELS = {"online": "在线签署", "paper": "纸质签署（部门代为登记）"}


@router.get("/commitments/{commitment_id:int}", response_class=HTMLResponse)
def commitment_page(
    commitment_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
) -> HTMLResponse:
    """A published credit commitment (信用承诺书): its full text as signed and whether it is authentic."""
    commitment = service.get_public(session, commitment_id)
    return render(
        request,
        "commitment_public.html",
        {
            "commitment": commitment,
            "valid": service.verify(commitment, platform.signer),
            "status_label": service.STATUS_LABELS.get(commitment.status, commitment.status),
            "channel_label": CHANNEL_LABELS.get(commitment.channel, commitment.channel),
            "public_key": platform.signer.public_key_b64,
        },
    )


@router.get("/commitments", response_class=HTMLResponse)
def commitment_listing(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("public")],
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    """信用承诺公示: every published commitment, newest first, searchable by subject name."""
    return render(
        request,
        "commitment_listing.html",
        {
            "listing": service.public_listing(session, query=q, page=page),
            "q": q,
            "query": urlencode({"q": q}) + "&" if q else "",
            "status_labels": service.STATUS_LABELS,
        },
    )


@router.get("/console/commitments", response_class=HTMLResponse)
def follow_up_page(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("repairs:handle")],
    status: Annotated[str, Query(max_length=16)] = "due",
) -> HTMLResponse:
    """The department's follow-up of commitments (履约核查): record whether each was kept."""
    return render(
        request,
        "commitment_follow_up.html",
        {
            "commitments": service.queue(session, principal, today=today, view=status).items,
            "status": status,
            "status_labels": service.STATUS_LABELS,
        },
    )


@router.post("/console/commitments/{commitment_id:int}/fulfilment")
def record_fulfilment(
    commitment_id: int,
    session: SessionDep,
    today: TodayDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("repairs:handle")],
    _csrf: CsrfDep,
    outcome: Annotated[str, Form(pattern="^(fulfilled|breached)$")],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    commitment = service.get_for_department(session, principal, commitment_id)
    service.record_verification(
        session, platform.context(principal, today), commitment, outcome=outcome, facts=note
    )
    return RedirectResponse("/console/commitments", status_code=303)
