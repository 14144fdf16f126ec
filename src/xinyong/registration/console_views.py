"""The competent department's pages of voluntary registration (自愿注册核实): its queue of declared entries,
an entry with its evidence and history, and the decision (confirm, reject with a reason, find a confirmed
entry false). Each department sees the entries assigned to it; the credit office sees all."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.kit.errors import ValidationFailed, XinyongError
from xinyong.registration import rules, service
from xinyong.registration.models import Registration
from xinyong.registration.views import download, entry_context
from xinyong.subjects import service as subjects
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)

PURPOSE = "核实自愿注册信息"


@router.get("/console/registrations", response_class=HTMLResponse)
def registration_queue(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("registrations:handle")],
    status: Annotated[str, Query(max_length=16)] = rules.DECLARED,
) -> HTMLResponse:
    """Entries of registered information to confirm (待核实), oldest first; other states by filter."""
    if status and status not in rules.STATE_LABELS:
        raise ValidationFailed(f"状态“{status}”不存在", code="registration.unknown_status")
    entries = service.queue(session, principal, status=status or None)
    return render(
        request,
        "registration_queue.html",
        {
            "entries": entries,
            "subjects": subjects.get_many(session, {r.subject_id for r in entries}),
            "kind_set": service.kind_set(),
            "states": rules.STATE_LABELS,
            "status": status,
            "is_credit_office": principal.is_credit_office,
        },
    )


def _detail(
    request: Request,
    session: SessionDep,
    principal: Principal,
    registration: Registration,
    error: XinyongError | None = None,
    note: str = "",
) -> HTMLResponse:
    return render(
        request,
        "registration_console_detail.html",
        entry_context(session, registration)
        | {
            "allowed": set(rules.allowed_events(registration.status)) & rules.DEPARTMENT_EVENTS,
            "error": error,
            "note": note,  # what the department typed, shown again after a refusal
        },
        status_code=error.status_code if error is not None else 200,
    )


@router.get("/console/registrations/{registration_id:int}", response_class=HTMLResponse)
def registration_detail(
    registration_id: int,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("registrations:handle")],
) -> HTMLResponse:
    """One entry to confirm: the subject, what it declared (every version), its evidence and commitment."""
    registration = service.get_for_department(session, principal, registration_id)
    audit.record(  # the department reads what the subject declared, public or not
        session,
        principal,
        "registration.view",
        subject_id=registration.subject_id,
        target=f"registration:{registration.id}",
        purpose=PURPOSE,
        ip=client_ip(request),
        details={"kind": registration.kind, "version": registration.version},
    )
    return _detail(request, session, principal, registration)


@router.post("/console/registrations/{registration_id:int}/decision", response_class=HTMLResponse)
def decide(
    registration_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("registrations:handle")],
    _csrf: CsrfDep,
    event: Annotated[str, Form(max_length=16)],
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Confirm an entry (已核实), reject it with a reason, or find a confirmed one false (虚假申报)."""
    registration = service.get_for_department(session, principal, registration_id)
    try:
        with session.begin_nested():
            service.decide(session, platform.context(principal, today), registration, event, note=note)
    except ValidationFailed as exc:
        session.refresh(registration)
        return _detail(request, session, principal, registration, exc, note=note)
    return RedirectResponse(f"/console/registrations/{registration.id}", status_code=303)


@router.get("/console/registrations/{registration_id:int}/files/{file_id:int}")
def registration_file(
    registration_id: int,
    file_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registrations:handle")],
) -> Response:
    """Download evidence of an entry the department handles (audited)."""
    registration = service.get_for_department(session, principal, registration_id)
    response = download(session, platform, registration, file_id)
    audit.record(
        session,
        principal,
        "registration.evidence_download",
        subject_id=registration.subject_id,
        target=f"registration:{registration.id}",
        purpose=PURPOSE,
        ip=client_ip(request),
        details={"file": file_id},
    )
    return response
