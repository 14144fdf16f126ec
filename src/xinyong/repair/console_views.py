"""Repair pages of the console: the deciding department's queue, decisions and paper applications
(谁认定谁修复), evidence downloads, and the credit office's re-check of decided cases (错修、漏修).

The pages share their helpers with the applicant's pages in ``repair.views``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xinyong.accounts import people
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal, may_act_for_department
from xinyong.audit import service as audit
from xinyong.kit.errors import (
    Forbidden,
    NotFound,
    ValidationFailed,
    XinyongError,
)
from xinyong.kit.identifiers import normalize_code
from xinyong.platform import Platform
from xinyong.repair import rules, service
from xinyong.repair.models import RepairApplication
from xinyong.repair.views import (
    CHANNEL_LABELS,
    FORM_ERRORS,
    KIND_LABELS,
    RECHECK_LABELS,
    ApplicationFormDep,
    FileList,
    _application_context,
    _apply_page,
    _can_apply,
    _departments,
    _download,
    _submit,
)
from xinyong.subjects import service as subjects
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)


# -- the department console -----------------------------------------------------------------------------------


@router.get("/console/repairs", response_class=HTMLResponse)
def repair_queue(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("repairs:handle")],
    status: Annotated[str, Query(max_length=24)] = "open",
    overdue: bool = False,
) -> HTMLResponse:
    """The department's repair applications (the credit office sees all), nearest deadline first."""
    if status not in ("", "open", *rules.STATE_LABELS):
        raise ValidationFailed(f"状态“{status}”不存在", code="repair.unknown_state")
    applications = service.queue(session, principal, today, status=status or None, overdue_only=overdue)
    applicants = subjects.get_many(session, (a.subject_id for a in applications))
    return render(
        request,
        "repair_queue.html",
        {
            "applications": applications,
            "applicants": applicants,
            "overdue_ids": {a.id for a in applications if service.is_overdue(a, today)},
            "status": status,
            "overdue": overdue,
            "states": rules.STATE_LABELS,
            "channels": CHANNEL_LABELS,
            "departments": _departments(session),
            "is_credit_office": principal.is_credit_office,
        },
    )


@router.get("/console/repairs/new", response_class=HTMLResponse)
def new_paper_repair(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("repairs:handle")],
    kind: Annotated[str, Query(max_length=16)] = "record",
    id: Annotated[int | None, Query(ge=1)] = None,
    uscc: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """Record a paper application (纸质申请) received at the counter: first find the record or list entry."""
    if id is not None:
        info = _department_target(session, platform, principal, kind, id, today)
        return _apply_page(request, session, platform, today, info, paper=True, form={})
    targets: list[dict[str, Any]] = []
    error: XinyongError | None = None
    if uscc.strip():
        try:
            subject = subjects.get_by_uscc(session, normalize_code(uscc))
        except NotFound as exc:
            error = exc
        else:
            targets = [
                {
                    "info": info,
                    "eligible": eligibility.eligible,
                    "unmet": [c.explanation for c in _can_apply(eligibility.conditions) if not c.met],
                }
                for info, eligibility in service.repairable_targets(
                    session, platform.catalog, platform.repair_policy, subject.id, today
                )
                if may_act_for_department(principal, info.department_code)
            ]
    return render(
        request,
        "repair_find.html",
        {"kind": kind, "kinds": KIND_LABELS, "uscc": uscc, "targets": targets, "error": error},
        status_code=error.status_code if error is not None else 200,
    )


def _department_target(
    session: Session, platform: Platform, principal: Principal, kind: str, target_id: int, today: dt.date
) -> service.TargetInfo:
    info = service.load_target(session, platform.catalog, kind, target_id, today)
    if not may_act_for_department(principal, info.department_code):
        raise Forbidden("只能登记本部门认定的信息的修复申请（谁认定谁修复）", code="repair.other_department")
    return info


@router.post("/console/repairs/new", response_class=HTMLResponse)
def submit_paper_repair(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("repairs:handle")],
    _csrf: CsrfDep,
    form: ApplicationFormDep,
    evidence: FileList = None,
) -> Response:
    """Record a paper application; the signer is the name on the paper commitment."""
    info = _department_target(session, platform, principal, form.target_kind, form.target_id, today)
    try:
        application = _submit(session, platform, principal, today, info, form, evidence)
    except FORM_ERRORS as exc:
        return _apply_page(request, session, platform, today, info, paper=True, form=form.typed, error=exc)
    return RedirectResponse(f"/console/repairs/{application.id}", status_code=303)


def _recheck_page(
    request: Request,
    session: Session,
    today: dt.date,
    *,
    drawn: int | None = None,
    error: XinyongError | None = None,
) -> HTMLResponse:
    cases = service.recheck_queue(session)
    period, _start, _end = service.previous_month(today)
    return render(
        request,
        "repair_recheck.html",
        {
            "cases": cases,
            "applicants": subjects.get_many(session, (a.subject_id for a in cases)),
            "departments": _departments(session),
            "states": rules.STATE_LABELS,
            "recheck_labels": RECHECK_LABELS,
            "period": period,
            "drawn": drawn,
            "error": error,
            "repaired": rules.REPAIRED,
            "completable": (rules.REFUSED, rules.NOT_ACCEPTED),
        },
        status_code=error.status_code if error is not None else 200,
    )


@router.get("/console/repairs/recheck", response_class=HTMLResponse)
def recheck(
    request: Request,
    today: TodayDep,
    session: SessionDep,
    principal: Annotated[Principal, require("repairs:recheck")],
    drawn: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    """The credit office's re-check of sampled decisions: confirm, or correct a wrong (错修) or missed (漏修) one."""
    return _recheck_page(request, session, today, drawn=drawn)


@router.post("/console/repairs/recheck/draw")
def draw_recheck(
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("repairs:recheck")],
    _csrf: CsrfDep,
) -> RedirectResponse:
    """Draw last month's re-check sample (once per month; the same data always gives the same sample)."""
    drawn = service.draw_recheck(session, platform.repair_policy, platform.calendar, today)
    return RedirectResponse(f"/console/repairs/recheck?drawn={drawn}", status_code=303)


@router.post("/console/repairs/recheck/{application_id:int}/{action}", response_class=HTMLResponse)
def recheck_action(
    application_id: int,
    action: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("repairs:recheck")],
    _csrf: CsrfDep,
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Confirm a sampled decision, revert a wrong repair (错修) or complete a missed one (漏修)."""
    if action not in ("confirm", *rules.RECHECK_EVENTS):
        raise NotFound("未知的复核操作", code="repair.unknown_event")
    application = service.get_application(session, principal, application_id)
    try:
        with session.begin_nested():
            if action == "confirm":
                service.confirm_recheck(session, principal, application, note=note, today=today)
            else:
                service.advance(
                    session,
                    platform.context(principal, today),
                    application,
                    action,
                    repair_policy=platform.repair_policy,
                    note=note.strip() or None,
                )
    except FORM_ERRORS as exc:
        session.refresh(application)
        return _recheck_page(request, session, today, error=exc)
    return RedirectResponse("/console/repairs/recheck", status_code=303)


def _console_page(
    request: Request,
    session: Session,
    platform: Platform,
    principal: Principal,
    today: dt.date,
    application: RepairApplication,
    error: XinyongError | None = None,
) -> HTMLResponse:
    context = _application_context(session, platform, application, today)
    # Re-evaluated now with the evidence on file: what an approval would be checked against.
    now = service.evaluate(
        session,
        platform.repair_policy,
        context["info"],
        today=today,
        evidence_count=len(context["attachments"]),
        commitment_signed=application.commitment_id is not None,
        application_id=application.id,
    )
    may_act = may_act_for_department(principal, application.department_code)
    events = [e for e in rules.allowed_events(application.status) if e in rules.DEPARTMENT_EVENTS]
    failed = error.details if error is not None and isinstance(error.details, dict) else None
    context |= {
        "eligibility_now": now,
        "department_events": events if may_act else [],
        "error": error,
        "unmet": [c for c in failed.get("conditions", []) if not c["met"]] if failed else [],
        "people": people.labels(session, [e.actor for e in context["events"]]),
    }
    return render(
        request,
        "repair_console_detail.html",
        context,
        status_code=error.status_code if error is not None else 200,
    )


@router.get("/console/repairs/{application_id:int}", response_class=HTMLResponse)
def console_repair(
    application_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("repairs:handle")],
) -> HTMLResponse:
    """One application as the deciding department handles it: eligibility then and now, evidence, steps."""
    application = service.get_application(session, principal, application_id)
    return _console_page(request, session, platform, principal, today, application)


@router.post("/console/repairs/{application_id:int}/{event}", response_class=HTMLResponse)
def console_step(
    application_id: int,
    event: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("repairs:handle")],
    _csrf: CsrfDep,
    note: Annotated[str, Form(max_length=1000)] = "",
    decision_no: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """One department step: accept, reject, review, request material, approve (with its decision no.), refuse."""
    if event not in rules.DEPARTMENT_EVENTS:
        raise NotFound("未知的办理操作", code="repair.unknown_event")
    application = service.get_application(session, principal, application_id)
    try:
        with session.begin_nested():
            service.advance(
                session,
                platform.context(principal, today),
                application,
                event,
                repair_policy=platform.repair_policy,
                note=note.strip() or None,
                decision_no=decision_no.strip() or None,
            )
    except FORM_ERRORS as exc:
        session.refresh(application)
        return _console_page(request, session, platform, principal, today, application, exc)
    return RedirectResponse(f"/console/repairs/{application.id}", status_code=303)


@router.get("/console/repairs/{application_id:int}/files/{file_id:int}")
def console_repair_file(
    application_id: int,
    file_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("repairs:handle")],
) -> Response:
    """Download an applicant's evidence (logged: it is the subject's non-public material)."""
    application = service.get_application(session, principal, application_id)
    response = _download(session, platform, application, file_id)
    audit.record(
        session,
        principal,
        "repair.evidence_download",
        subject_id=application.subject_id,
        target=f"repair:{application.id}",
        purpose="办理信用修复申请",
        ip=client_ip(request),
        details={"file": file_id},
    )
    return response
