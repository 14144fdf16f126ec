"""List publicity on the portal and the due-process console for deciding departments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.kit.errors import NotFound, ValidationFailed, XinyongError
from xinyong.kit.identifiers import normalize_code
from xinyong.kit.pagination import Page
from xinyong.lists import rules, service
from xinyong.subjects import service as subjects
from xinyong.web import flash
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited_search
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)
EVENT_LABELS = {service.STATEMENT: "登记陈述申辩", **rules.EVENT_LABELS}
EVENTS = tuple(EVENT_LABELS)
CONSOLE = "/console/lists"


@router.get("/lists/{list_type}", response_class=HTMLResponse, dependencies=[rate_limited_search()])
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
    response = render(
        request,
        "lists_console.html",
        {
            "rows": service.console_entries(
                session, department_code=own, status=status if status in rules.STATE_LABELS else None
            ),
            "labels": rules.LIST_TYPE_LABELS,
            "states": rules.STATE_LABELS,
            "event_labels": EVENT_LABELS,
            "removal_reasons": rules.REMOVAL_REASONS,
            "status": status,
            "flash": flash.take(request),
        },
    )
    flash.clear(request, response)
    return response


def _back(status: str, entry_id: int | None = None) -> str:
    url = f"{CONSOLE}?status={status}" if status in rules.STATE_LABELS else CONSOLE
    return f"{url}#entry-{entry_id}" if entry_id else url


def _refused(request: Request, session: Session, back: str, exc: XinyongError) -> RedirectResponse:
    """A refused step goes back to the console with the reason; whatever it had begun is undone."""
    session.rollback()
    return flash.redirect(request, back, f"操作未执行：{exc.message}", ok=False, code=exc.code)


def _too_long(**fields: tuple[str, int, str]) -> None:
    for value, limit, label in fields.values():
        if len(value) > limit:
            raise ValidationFailed(f"{label}不能超过{limit}个字", code="list.field_too_long")


@router.post("/console/lists")
def propose(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("lists:manage")],
    _csrf: CsrfDep,
    uscc: Annotated[str, Form()] = "",
    list_type: Annotated[str, Form()] = "",
    legal_basis: Annotated[str, Form()] = "",
    facts: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "",
    permanent: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    try:
        _too_long(
            uscc=(uscc, 40, "统一社会信用代码"),
            legal_basis=(legal_basis, 1000, "认定依据"),
            facts=(facts, 4000, "主要事实"),
            scope=(scope, 200, "禁入范围"),
            list_type=(list_type, 24, "名单类型"),
        )
        if not uscc.strip():
            raise ValidationFailed("请填写统一社会信用代码", code="list.subject_required")
        subject = subjects.get_by_uscc(session, normalize_code(uscc))
        entry = service.propose(
            session,
            platform.context(principal, today, ip=client_ip(request)),
            subject_id=subject.id,
            list_type=list_type,
            legal_basis=legal_basis,
            facts=facts,
            scope=scope,
            permanent=permanent,
        )
    except XinyongError as exc:
        return _refused(request, session, CONSOLE, exc)
    label = rules.LIST_TYPE_LABELS[entry.list_type]
    return flash.redirect(
        request, _back("", entry.id), f"已拟列入{label}：{subject.name}（#{entry.id}）", ok=True
    )


@router.post("/console/lists/{entry_id}/{event}")
def advance(
    entry_id: int,
    event: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("lists:manage")],
    _csrf: CsrfDep,
    decision_no: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    back_status: Annotated[str, Form()] = "",
) -> RedirectResponse:
    back = _back(back_status, entry_id)
    try:
        if event not in EVENTS:
            raise ValidationFailed("未知的操作", code="list.unknown_event")
        _too_long(
            decision_no=(decision_no, 128, "认定文号"),
            reason=(reason, 32, "移出理由"),
            note=(note, 1000, "说明"),
        )
        entry = service.get_entry(session, principal, entry_id)
        service.advance(
            session,
            platform.context(principal, today, ip=client_ip(request)),
            entry,
            event,
            decision_no=decision_no or None,
            reason=reason or None,
            note=note or None,
        )
        subject = subjects.get(session, entry.subject_id)
    except XinyongError as exc:
        return _refused(request, session, back, exc)
    state = rules.STATE_LABELS.get(entry.status, entry.status)
    return flash.redirect(
        request, back, f"已{EVENT_LABELS[event]}：{subject.name}（#{entry.id}），当前状态：{state}", ok=True
    )
