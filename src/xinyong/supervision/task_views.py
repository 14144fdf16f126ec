"""Console pages of grade-steered supervision: the department's interview and training tasks (with overdue
alerts and their follow-up), the credit office's training sessions, task statistics per department, and the
entry of inspection results for a plan's drawn subjects (which become `JC` records through ingestion)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts import people
from xinyong.accounts.deps import require
from xinyong.accounts.models import Department
from xinyong.accounts.policy import Principal, allows
from xinyong.audit import service as audit
from xinyong.kit.errors import Forbidden, NotFound, ValidationFailed, XinyongError
from xinyong.kit.identifiers import normalize_code
from xinyong.platform import Platform
from xinyong.subjects.models import Subject
from xinyong.supervision import results, rules, task_followup, tasks, training_sessions
from xinyong.supervision.models import InspectionDrawSubject, InspectionPlan
from xinyong.web import flash
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)
TASKS = "/console/supervision/tasks"
TRAINING = "/console/supervision/training"


def _page(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    response = render(request, name, {"flash": flash.take(request), **context})
    flash.clear(request, response)
    return response


def _refused(request: Request, back: str, exc: XinyongError) -> RedirectResponse:
    return flash.redirect(request, back, f"操作未执行：{exc.message}", ok=False, code=exc.code)


def _refused_form(
    request: Request,
    name: str,
    context: dict[str, Any],
    exc: XinyongError,
    typed: dict[str, str],
) -> HTMLResponse:
    """The form's page again, at once, with the reason and what the user typed (nothing of it saved)."""
    refusal = flash.Flash(f"操作未执行：{exc.message}", ok=False, code=exc.code)
    return render(request, name, {**context, "flash": refusal, "typed": typed}, status_code=exc.status_code)


def _labels() -> dict[str, Any]:
    return {
        "kind_labels": tasks.KIND_LABELS,
        "state_labels": tasks.STATE_LABELS,
        "step_labels": tasks.STEP_LABELS,
    }


@router.get(TASKS, response_class=HTMLResponse)
def task_list(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("supervision:view")],
    state: Annotated[str, Query(pattern="^(active|done|all)$")] = "active",
    overdue: Annotated[bool, Query()] = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Interview (约谈) and training (信用培训) tasks of the department, overdue ones flagged, a page at a time."""
    listing = task_followup.department_tasks(
        session, principal, today, state=None if state == "all" else state, overdue_only=overdue, page=page
    )
    audit.record(
        session,
        principal,
        "supervision.tasks_view",
        ip=client_ip(request),
        details={"state": state, "overdue": overdue, "page": page, "rows": len(listing.items)},
    )
    overdue_count = task_followup.overdue_count(session, principal, today)
    return _page(
        request,
        "supervision/task_list.html",
        {"listing": listing, "state": state, "overdue": overdue, "overdue_count": overdue_count, **_labels()},
    )


@router.get(TASKS + "/{task_id:int}", response_class=HTMLResponse)
def task_page(
    task_id: int,
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("supervision:view")],
) -> HTMLResponse:
    """One task: the subject, its grade, the deadline, the follow-up so far and the next step's form."""
    context = _task_context(session, principal, task_id, today)
    audit.record(
        session,
        principal,
        "supervision.task_view",
        subject_id=context["row"].task.subject_id,
        target=str(task_id),
        ip=client_ip(request),
    )
    return _page(request, "supervision/task_detail.html", context)


def _task_context(session: Session, principal: Principal, task_id: int, today: dt.date) -> dict[str, Any]:
    row = task_followup.task_row(session, principal, task_id, today)
    attended = None
    if row.task.session_id is not None:
        attended = next((s for s in training_sessions.sessions(session) if s.id == row.task.session_id), None)
    offered = [
        s for s in training_sessions.sessions(session, since=row.task.created_on) if s.held_on <= today
    ]
    return {
        "row": row,
        "today": today,
        "sessions": offered,
        "attended": attended,
        "may_manage": allows(principal, "supervision:manage"),
        "typed": {},
        "people": people.labels(session, [row.task.handled_by]),
        **_labels(),
    }


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD", code="supervision.date_invalid") from exc


@router.post(TASKS + "/{task_id:int}/{step}")
def task_step(
    task_id: int,
    step: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("supervision:manage")],
    _csrf: CsrfDep,
    day: Annotated[str, Form(max_length=10)] = "",
    notes: Annotated[str, Form(max_length=2000)] = "",
    outcome: Annotated[str, Form(pattern="^(|rectified|not_rectified)$")] = "",
    session_id: Annotated[int | None, Form()] = None,
) -> Response:
    """The next step of a task: the interview held, the rectification's outcome, or training attended."""
    back = f"{TASKS}/{task_id}"
    task = task_followup.get_task(session, principal, task_id)
    try:
        if step == "interview":
            policy = tasks.load_policy(platform.settings.data_dir)
            task_followup.record_interview(
                session,
                principal,
                task,
                day=_day(day),
                notes=notes,
                policy=policy,
                calendar=platform.calendar,
                today=today,
            )
        elif step == "close":
            if not outcome:
                raise ValidationFailed("请选择整改结果", code="supervision.outcome_required")
            task_followup.close_interview(
                session,
                principal,
                task,
                rectified=outcome == "rectified",
                day=_day(day),
                notes=notes,
                today=today,
            )
        elif step == "attendance":
            if session_id is None:
                raise ValidationFailed("请选择参加的培训场次", code="supervision.session_required")
            task_followup.record_attendance(session, principal, task, session_id=session_id, today=today)
        else:
            raise NotFound("未知的处理步骤", code="supervision.unknown_step")
    except XinyongError as exc:
        if isinstance(exc, NotFound):
            return _refused(request, back, exc)
        session.rollback()
        typed = {"day": day, "notes": notes, "outcome": outcome}
        context = _task_context(session, principal, task_id, today)
        return _refused_form(request, "supervision/task_detail.html", context, exc, typed)
    audit.record(
        session,
        principal,
        f"supervision.task_{step}",
        subject_id=task.subject_id,
        target=str(task.id),
        ip=client_ip(request),
        details={"state": task.state},
    )
    return flash.redirect(request, back, f"已记录：{tasks.STATE_LABELS[task.state]}", ok=True)


@router.get("/console/supervision/statistics", response_class=HTMLResponse)
def task_statistics(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("supervision:view")],
) -> HTMLResponse:
    """Interview and training tasks per department: open, overdue and done."""
    return _page(
        request,
        "supervision/task_statistics.html",
        {"counts": task_followup.statistics(session, principal, today), "today": today, **_labels()},
    )


@router.get(TRAINING, response_class=HTMLResponse)
def training_page(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("supervision:view")],
) -> HTMLResponse:
    """Credit-training sessions (信用培训) and their attendance; the credit office adds sessions."""
    return _page(request, "supervision/task_training.html", _training_context(session, principal))


def _training_context(session: Session, principal: Principal) -> dict[str, Any]:
    return {
        "sessions": training_sessions.sessions(session),
        "attendance": training_sessions.attendance_counts(session),
        "organiser_kinds": training_sessions.ORGANISER_KINDS,
        "may_add": principal.is_credit_office,
        "typed": {},
    }


@router.post(TRAINING)
def add_training(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("supervision:manage")],
    _csrf: CsrfDep,
    title: Annotated[str, Form(max_length=200)],
    held_on: Annotated[str, Form(max_length=10)],
    place: Annotated[str, Form(max_length=200)],
    organiser: Annotated[str, Form(max_length=200)],
    organiser_kind: Annotated[str, Form(max_length=16)],
    authorisation: Annotated[str, Form(max_length=200)] = "",
    capacity: Annotated[int, Form(ge=1, le=100000)] = 100,
) -> Response:
    """Add a training session (the credit office's)."""
    try:
        if not principal.is_credit_office:
            raise Forbidden("培训场次由信用办登记", code="supervision.credit_office_only")
        training = training_sessions.add_session(
            session,
            principal,
            title=title,
            held_on=_day(held_on),
            place=place,
            organiser=organiser,
            organiser_kind=organiser_kind,
            authorisation=authorisation,
            capacity=capacity,
        )
    except XinyongError as exc:
        if isinstance(exc, Forbidden):
            return _refused(request, TRAINING, exc)
        session.rollback()
        typed = {
            "title": title,
            "held_on": held_on,
            "place": place,
            "organiser": organiser,
            "organiser_kind": organiser_kind,
            "authorisation": authorisation,
            "capacity": str(capacity),
        }
        context = _training_context(session, principal)
        return _refused_form(request, "supervision/task_training.html", context, exc, typed)
    audit.record(
        session, principal, "supervision.training_add", target=str(training.id), ip=client_ip(request)
    )
    return flash.redirect(request, TRAINING, f"已登记培训场次：{training.title}", ok=True)


# --- inspection results ---------------------------------------------------------------------------------


def _plans_of(session: Session, principal: Principal) -> list[tuple[InspectionPlan, str]]:
    query = (
        select(InspectionPlan, Department.name)
        .join(Department, Department.code == InspectionPlan.department_code)
        .order_by(InspectionPlan.period_from.desc(), InspectionPlan.id.desc())
        .limit(200)
    )
    if not principal.is_credit_office:
        query = query.where(InspectionPlan.department_code == (principal.department_code or ""))
    return [(p, n) for p, n in session.execute(query)]


@router.get("/console/supervision/results", response_class=HTMLResponse)
def results_index(
    request: Request, session: SessionDep, principal: Annotated[Principal, require("supervision:view")]
) -> HTMLResponse:
    """The department's plans, each linking to its drawn subjects and their results."""
    return _page(request, "supervision/task_results_index.html", {"plans": _plans_of(session, principal)})


@router.get("/console/supervision/results/{plan_id:int}", response_class=HTMLResponse)
def plan_results(
    plan_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("supervision:view")],
) -> HTMLResponse:
    """A plan's drawn subjects with their results, and the form to enter one."""
    context = _results_context(session, platform, principal, plan_id, today)
    audit.record(session, principal, "supervision.results_view", target=str(plan_id), ip=client_ip(request))
    return _page(request, "supervision/task_results.html", context)


def _results_context(
    session: Session, platform: Platform, principal: Principal, plan_id: int, today: dt.date
) -> dict[str, Any]:
    plan = results.get_plan(session, plan_id)
    if not results.principal_may_enter(principal, plan):
        raise NotFound(f"未找到抽查计划 {plan_id}", code="supervision.plan_not_found")
    drawn = session.execute(
        select(InspectionDrawSubject, Subject.name)
        .join(Subject, Subject.id == InspectionDrawSubject.subject_id)
        .where(InspectionDrawSubject.plan_id == plan.id)
        .order_by(InspectionDrawSubject.position)
    ).all()
    return {
        "plan": plan,
        "drawn": drawn,
        "found": results.plan_results(session, plan.id),
        "choices": results.result_choices(platform.catalog),
        "today": today,
        "department": session.get(Department, plan.department_code),
        "tier_names": {t.code: t.name for t in rules.parse_tier_table(plan.tiers).tiers},
        "typed": {},
    }


@router.post("/console/supervision/results/{plan_id:int}")
def enter_result(
    plan_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("supervision:manage")],
    _csrf: CsrfDep,
    uscc: Annotated[str, Form(max_length=32)],
    result: Annotated[str, Form(max_length=32)],
    inspected_on: Annotated[str, Form(max_length=10)],
    inspection_items: Annotated[str, Form(max_length=2000)],
    doc_no: Annotated[str, Form(max_length=128)],
) -> Response:
    """Enter a drawn subject's inspection result: it becomes a `JC` record of the plan's department."""
    back = f"/console/supervision/results/{plan_id}"
    ctx = platform.context(principal, today, ip=client_ip(request))
    try:
        entered = results.enter_result(
            session,
            ctx,
            platform.ingest_context(today),
            plan_id=plan_id,
            uscc=normalize_code(uscc),
            data=results.ResultInput(
                result=result,
                inspected_on=_day(inspected_on),
                inspection_items=inspection_items,
                doc_no=doc_no,
            ),
        )
    except XinyongError as exc:
        if isinstance(exc, NotFound) and exc.code == "supervision.plan_not_found":
            raise
        if isinstance(exc, Forbidden):
            return _refused(request, back, exc)
        session.rollback()
        typed = {
            "uscc": uscc,
            "result": result,
            "inspected_on": inspected_on,
            "inspection_items": inspection_items,
            "doc_no": doc_no,
        }
        context = _results_context(session, platform, principal, plan_id, today)
        return _refused_form(request, "supervision/task_results.html", context, exc, typed)
    audit.record(
        session,
        principal,
        "supervision.result_enter",
        subject_id=entered.subject_id,
        target=str(entered.record_id),
        ip=client_ip(request),
        details={"plan": plan_id, "result": entered.result},
    )
    return flash.redirect(request, back, f"已录入抽查结果（检查编号 {entered.doc_no}）", ok=True)
