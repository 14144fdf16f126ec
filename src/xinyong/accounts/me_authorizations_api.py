"""The mobile channel's authorisations (`/api/v1/me/authorizations`): the subject's own, granting one to an
organisation and revoking it, through the services the account pages call.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request
from sqlalchemy.orm import Session

from xinyong.accounts.deps import require
from xinyong.accounts.me_schemas import (
    AUTHORIZATION_EXAMPLE,
    GUARDED,
    Grant,
    MyAuthorization,
    answers,
    error_answer,
    ok_answer,
    own_subject_id,
)
from xinyong.accounts.policy import Principal
from xinyong.authorizations import service as authorizations
from xinyong.authorizations.models import Authorization
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip

router = APIRouter()


def _authorizations(session: Session, found: list[Authorization], today: dt.date) -> list[MyAuthorization]:
    shown = authorizations.views(session, found, today)
    return [
        MyAuthorization(
            id=v.id,
            organization_name=v.organization_name,
            organization_uscc=v.organization_uscc,
            scopes=list(v.scopes),
            scope_labels=list(v.scope_labels),
            purpose_kind=a.purpose_kind,
            purpose_kind_label=v.purpose_kind_label,
            purpose=v.purpose,
            valid_until=v.valid_until,
            granted_at=v.granted_at,
            revoked_at=v.revoked_at,
            state=v.state,
            state_label=v.state_label,
        )
        for a, v in zip(found, shown, strict=True)
    ]


# -- authorisations ------------------------------------------------------------------------------------------


@router.get(
    "/authorizations",
    response_model=list[MyAuthorization],
    responses=answers(ok_answer([AUTHORIZATION_EXAMPLE]), GUARDED),
)
def my_authorizations(
    session: SessionDep, today: TodayDep, principal: Annotated[Principal, require("me:own")]
) -> list[MyAuthorization]:
    """The authorisations (授权) I gave, newest first: active, revoked or expired (computed from the day)."""
    found = list(authorizations.of_subject(session, own_subject_id(principal)))
    return _authorizations(session, found, today)


@router.post(
    "/authorizations",
    status_code=201,
    response_model=MyAuthorization,
    responses=answers(
        ok_answer(AUTHORIZATION_EXAMPLE, 201, "已授权"),
        GUARDED,
        error_answer(
            422, "authorizations.unknown_organization", "平台上没有该统一社会信用代码的机构，请核对后再试"
        ),
    ),
)
def grant(
    body: Grant,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("me:own")],
) -> MyAuthorization:
    """Authorise an organisation (an agency or a bank, by its USCC) to read my non-public file and/or obtain my
    standard credit report, for a purpose, until a day at most a year ahead; audited."""
    granted = authorizations.grant(
        session,
        platform.context(principal, today, ip=client_ip(request)),
        organization_uscc=body.organization_uscc,
        scopes=body.scopes,
        purpose_kind=body.purpose_kind,
        purpose=body.purpose,
        valid_until=body.valid_until,
    )
    return _authorizations(session, [granted], today)[0]


@router.post(
    "/authorizations/{authorization_id}/revoke",
    response_model=MyAuthorization,
    responses=answers(
        ok_answer(AUTHORIZATION_EXAMPLE | {"state": "revoked", "state_label": "已撤销"}),
        GUARDED,
        error_answer(404, "authorizations.not_found", "授权不存在"),
        error_answer(409, "authorizations.already_revoked", "该授权已撤销"),
    ),
)
def revoke(
    authorization_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("me:own")],
) -> MyAuthorization:
    """Revoke one of my authorisations at once: the organisation reads nothing more under it; audited.
    Another subject's authorisation does not exist for me (404)."""
    revoked = authorizations.revoke(
        session, platform.context(principal, today, ip=client_ip(request)), authorization_id
    )
    return _authorizations(session, [revoked], today)[0]
