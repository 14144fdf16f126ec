"""Notice pages: a subject's inbox (修复告知书 and decisions) and a department's notices."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.kit.errors import NotFound
from xinyong.notices import service
from xinyong.notices.models import Notice
from xinyong.platform import Platform
from xinyong.repair import notices as repair_notices
from xinyong.repair import service as repair
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)


def _inbox(request: Request, session: Session, principal: Principal, *, console: bool) -> HTMLResponse:
    return render(
        request,
        "notices_inbox.html",
        {
            "notices": service.inbox(session, principal),
            "unread": service.unread_count(session, principal),
            "console": console,
            "base": "/console/notices" if console else "/account/notices",
        },
    )


def _repair_notice(
    session: Session, platform: Platform, notice: Notice, today: dt.date
) -> dict[str, Any] | None:
    """The content of a 修复告知书, rendered from the record as it stands today."""
    if notice.kind != repair_notices.REPAIR_NOTICE or notice.record_id is None:
        return None
    info = repair.load_target(session, platform.catalog, "record", notice.record_id, today)
    view = repair.notice_view(platform.repair_policy, info)
    try:
        department = accounts.get_department(session, info.department_code).name
    except NotFound:  # a department code without a row still shows its code
        department = info.department_code
    return view | {
        "record_id": notice.record_id,
        "department": department,
        "in_force": info.target.in_force,
        "can_apply_now": view["earliest"] is None or today >= view["earliest"],
    }


def _detail(
    request: Request,
    session: Session,
    platform: Platform,
    principal: Principal,
    notice_id: int,
    today: dt.date,
    *,
    console: bool,
) -> HTMLResponse:
    notice = service.get(session, principal, notice_id)
    service.mark_read(session, notice)
    return render(
        request,
        "notices_detail.html",
        {
            "notice": notice,
            "repair": _repair_notice(session, platform, notice, today),
            "console": console,
            "base": "/console/notices" if console else "/account/notices",
        },
    )


@router.get("/account/notices", response_class=HTMLResponse)
def account_inbox(
    request: Request, session: SessionDep, principal: Annotated[Principal, require("account:own")]
) -> HTMLResponse:
    """My notices: repair notices (修复告知书) and the progress of my applications."""
    return _inbox(request, session, principal, console=False)


@router.get("/account/notices/{notice_id:int}", response_class=HTMLResponse)
def account_notice(
    notice_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
) -> HTMLResponse:
    """One of my notices; opening it marks it read."""
    return _detail(request, session, platform, principal, notice_id, today, console=False)


@router.get("/console/notices", response_class=HTMLResponse)
def console_inbox(
    request: Request, session: SessionDep, principal: Annotated[Principal, require("console:view")]
) -> HTMLResponse:
    """The department's notices: new repair applications, overdue alerts, objections."""
    return _inbox(request, session, principal, console=True)


@router.get("/console/notices/{notice_id:int}", response_class=HTMLResponse)
def console_notice(
    notice_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("console:view")],
) -> HTMLResponse:
    """One department notice; opening it marks it read."""
    return _detail(request, session, platform, principal, notice_id, today, console=True)
