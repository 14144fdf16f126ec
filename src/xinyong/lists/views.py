"""List publicity on the portal and the due-process console for deciding departments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from xinyong.accounts.deps import CsrfDep, require
from xinyong.accounts.policy import Principal
from xinyong.kit.errors import NotFound, ValidationFailed
from xinyong.kit.identifiers import normalize_code
from xinyong.kit.pagination import Page
from xinyong.kit.workdays import default_calendar
from xinyong.lists import rules, service
from xinyong.subjects import service as subjects
from xinyong.web.deps import SessionDep, TodayDep
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)
EVENTS = ("notify", "statement", "decide", "drop", "remove")


@router.get("/lists/{list_type}", response_class=HTMLResponse)
def list_publicity(
    list_type: str,
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    if list_type not in rules.LIST_TYPE_LABELS:
        raise NotFound("名单类型不存在", code="list.unknown_type")
    rows, total = service.public_entries(session, list_type, today, query=q, page=page)
    return render(
        request,
        "list_publicity.html",
        {
            "list_type": list_type,
            "labels": rules.LIST_TYPE_LABELS,
            "q": q,
            "listing": Page(list(rows), total, page, 20),
        },
    )


@router.get("/console/lists", response_class=HTMLResponse)
def console_lists(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("lists:manage")],
    status: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    own = None if principal.is_credit_office else principal.department_code
    return render(
        request,
        "lists_console.html",
        {
            "entries": service.entries(session, department_code=own, status=status or None),
            "labels": rules.LIST_TYPE_LABELS,
            "states": rules.STATE_LABELS,
            "status": status,
        },
    )


@router.post("/console/lists")
def propose(
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("lists:manage")],
    _csrf: CsrfDep,
    uscc: Annotated[str, Form(max_length=40)],
    list_type: Annotated[str, Form(max_length=24)],
    legal_basis: Annotated[str, Form(max_length=1000)],
    facts: Annotated[str, Form(max_length=4000)],
    scope: Annotated[str, Form(max_length=200)] = "",
    permanent: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    subject = subjects.get_by_uscc(session, normalize_code(uscc))
    service.propose(
        session,
        principal,
        subject_id=subject.id,
        list_type=list_type,
        legal_basis=legal_basis,
        facts=facts,
        today=today,
        scope=scope,
        permanent=permanent,
    )
    return RedirectResponse("/console/lists", status_code=303)


@router.post("/console/lists/{entry_id}/{event}")
def advance(
    entry_id: int,
    event: str,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("lists:manage")],
    _csrf: CsrfDep,
    decision_no: Annotated[str, Form(max_length=128)] = "",
    reason: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> RedirectResponse:
    if event not in EVENTS:
        raise ValidationFailed("未知的操作", code="list.unknown_event")
    entry = service.get_entry(session, principal, entry_id)
    service.advance(
        session,
        principal,
        entry,
        event,
        today=today,
        calendar=default_calendar(),
        decision_no=decision_no or None,
        reason=reason or None,
        note=note or None,
    )
    return RedirectResponse("/console/lists", status_code=303)
