"""Commitment pages: a published commitment on the portal, with the platform's signature checked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.commitments import service
from xinyong.web.deps import PlatformDep, SessionDep
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
            "valid": service.verify(commitment, platform.signer.public_key_b64),
            "status_label": service.STATUS_LABELS.get(commitment.status, commitment.status),
            "channel_label": CHANNEL_LABELS.get(commitment.channel, commitment.channel),
            "public_key": platform.signer.public_key_b64,
        },
    )
