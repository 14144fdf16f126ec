"""The follow-up of interview and training tasks: an interview goes open → interviewed (the rectification is
then due in working days) → rectified or not rectified; a training task goes open → attended (a session the
subject attended). A task is overdue when its next step's day has passed (`overdue_step`); the department gets
one notice per overdue step. Also the department's and the subject's lists of tasks and the statistics.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department
from xinyong.accounts.policy import Principal, may_act_for_department
from xinyong.kit.errors import Conflict, Forbidden, NotFound
from xinyong.kit.pagination import Page, clamp
from xinyong.kit.workdays import WorkdayCalendar
from xinyong.notices import service as notices
from xinyong.subjects.models import Subject
from xinyong.supervision.task_models import SupervisionTask, TaskKind, TaskState, TrainingSession
from xinyong.supervision.tasks import DONE_STATES, KIND_LABELS, STEP_LABELS, TaskError, TaskPolicy

PAGE_SIZE = 100  # tasks per page of the department's list

# --- overdue --------------------------------------------------------------------------------------------


def overdue_step(task: SupervisionTask, today: dt.date) -> str | None:
    """The step whose day has passed, or None: `interview` or `training` (still open after its deadline),
    `rectification` (interviewed, not closed after the rectification deadline)."""
    if task.state == TaskState.OPEN and today > task.due_on:
        return "interview" if task.kind == TaskKind.INTERVIEW else "training"
    if task.state == TaskState.INTERVIEWED and task.rectify_by is not None and today > task.rectify_by:
        return "rectification"
    return None


def _overdue_condition(today: dt.date) -> ColumnElement[bool]:
    return or_(
        and_(SupervisionTask.state == TaskState.OPEN, SupervisionTask.due_on < today),
        and_(SupervisionTask.state == TaskState.INTERVIEWED, SupervisionTask.rectify_by < today),
    )


def alert_overdue(session: Session, today: dt.date) -> int:
    """Send the supervising department one notice per overdue step of a task; idempotent."""
    sent = 0
    rows = session.execute(
        select(SupervisionTask, Subject.name)
        .join(Subject, Subject.id == SupervisionTask.subject_id)
        .where(_overdue_condition(today))
        .order_by(SupervisionTask.id)
    )
    for task, name in rows:
        step = overdue_step(task, today)
        if step is None:
            continue
        ref = f"supervision_task:{task.id}:{step}"
        if notices.exists(session, "supervision_overdue", ref):
            continue
        due = task.rectify_by if step == "rectification" else task.due_on
        notices.send(
            session,
            kind="supervision_overdue",
            ref=ref,
            title=f"{KIND_LABELS[task.kind]}任务逾期：{name}",
            body=f"{STEP_LABELS[step]}应于 {due:%Y年%m月%d日} 前完成，现已逾期。",
            link=f"/console/supervision/tasks/{task.id}",
            department_code=task.department_code,
        )
        sent += 1
    return sent


# --- reading --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskRow:
    task: SupervisionTask
    subject_name: str
    subject_uscc: str | None
    subject_kind: str
    department_name: str
    overdue: str | None


def _rows(
    session: Session, condition: ColumnElement[bool], today: dt.date, limit: int, offset: int = 0
) -> list[TaskRow]:
    rows = session.execute(
        select(SupervisionTask, Subject.name, Subject.uscc, Subject.kind, Department.name)
        .join(Subject, Subject.id == SupervisionTask.subject_id)
        .join(Department, Department.code == SupervisionTask.department_code)
        .where(condition)
        .order_by(SupervisionTask.due_on, SupervisionTask.id)
        .limit(limit)
        .offset(offset)
    )
    return [TaskRow(t, n, u, k, d, overdue_step(t, today)) for t, n, u, k, d in rows]


def department_tasks(
    session: Session,
    principal: Principal,
    today: dt.date,
    *,
    state: str | None = None,
    overdue_only: bool = False,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> Page[TaskRow]:
    """A page of the tasks of the caller's department (the credit office sees every department's), the
    earliest deadline first."""
    page, size = clamp(page, size)
    conditions: list[ColumnElement[bool]] = []
    if not principal.is_credit_office:
        if not principal.department_code:
            return Page([], 0, page, size)
        conditions.append(SupervisionTask.department_code == principal.department_code)
    if state == "active":
        conditions.append(SupervisionTask.state.not_in(sorted(DONE_STATES)))
    elif state == "done":
        conditions.append(SupervisionTask.state.in_(sorted(DONE_STATES)))
    if overdue_only:
        conditions.append(_overdue_condition(today))
    condition = and_(True, *conditions)
    total = int(session.scalar(select(func.count(SupervisionTask.id)).where(condition)) or 0)
    return Page(_rows(session, condition, today, size, (page - 1) * size), total, page, size)


def overdue_count(session: Session, principal: Principal, today: dt.date) -> int:
    """How many of the caller's department's tasks (the credit office: all) are overdue today."""
    query = select(func.count(SupervisionTask.id)).where(_overdue_condition(today))
    if not principal.is_credit_office:
        query = query.where(SupervisionTask.department_code == (principal.department_code or ""))
    return int(session.scalar(query) or 0)


def subject_tasks(session: Session, subject_id: int, today: dt.date) -> list[TaskRow]:
    """A subject's own tasks, newest first among equals of deadline."""
    return _rows(session, SupervisionTask.subject_id == subject_id, today, 200)


def get_task(session: Session, principal: Principal, task_id: int) -> SupervisionTask:
    """A task of the caller's department (the credit office: any); another department's is not found."""
    task = session.get(SupervisionTask, task_id)
    if task is None or not may_act_for_department(principal, task.department_code):
        raise NotFound("未找到该监管任务", code="supervision.task_not_found")
    return task


def task_row(session: Session, principal: Principal, task_id: int, today: dt.date) -> TaskRow:
    get_task(session, principal, task_id)
    return _rows(session, SupervisionTask.id == task_id, today, 1)[0]


@dataclass(frozen=True, slots=True)
class DepartmentCounts:
    department_code: str
    department_name: str
    open: int
    overdue: int
    done: int


def statistics(session: Session, principal: Principal, today: dt.date) -> dict[str, list[DepartmentCounts]]:
    """Counts of open, overdue and done tasks per department and kind (the caller's department alone unless
    the credit office asks)."""
    done = SupervisionTask.state.in_(sorted(DONE_STATES))
    query = (
        select(
            SupervisionTask.kind,
            SupervisionTask.department_code,
            Department.name,
            func.sum(case((done, 0), else_=1)),
            func.sum(case((_overdue_condition(today), 1), else_=0)),
            func.sum(case((done, 1), else_=0)),
        )
        .join(Department, Department.code == SupervisionTask.department_code)
        .group_by(SupervisionTask.kind, SupervisionTask.department_code, Department.name)
        .order_by(SupervisionTask.department_code)
    )
    if not principal.is_credit_office:
        query = query.where(SupervisionTask.department_code == (principal.department_code or ""))
    result: dict[str, list[DepartmentCounts]] = {TaskKind.INTERVIEW: [], TaskKind.TRAINING: []}
    for kind, code, name, open_, overdue, closed in session.execute(query):
        result[kind].append(
            DepartmentCounts(code, name, int(open_ or 0), int(overdue or 0), int(closed or 0))
        )
    return result


# --- follow-up ------------------------------------------------------------------------------------------


def _check_day(day: dt.date, task: SupervisionTask, today: dt.date, what: str) -> None:
    if day > today:
        raise TaskError(f"{what}日期不能晚于今天", code="supervision.date_in_future")
    if day < task.created_on:
        raise TaskError(f"{what}日期不能早于任务生成日期", code="supervision.date_before_task")


def record_interview(
    session: Session,
    principal: Principal,
    task: SupervisionTask,
    *,
    day: dt.date,
    notes: str,
    policy: TaskPolicy,
    calendar: WorkdayCalendar,
    today: dt.date,
) -> None:
    """The interview took place: the rectification is due in the policy's working days from that day."""
    if task.kind != TaskKind.INTERVIEW:
        raise TaskError("培训任务无需约谈", code="supervision.not_an_interview")
    if task.state != TaskState.OPEN:
        raise Conflict("该任务已记录约谈", code="supervision.task_state")
    if not may_act_for_department(principal, task.department_code):
        raise Forbidden("只能处理本部门的监管任务", code="supervision.other_department")
    _check_day(day, task, today, "约谈")
    if not notes.strip():
        raise TaskError("请填写约谈情况", code="supervision.notes_required")
    task.state = TaskState.INTERVIEWED
    task.interviewed_on = day
    task.interview_notes = notes.strip()
    task.rectify_by = calendar.add_workdays(day, policy.interview.rectification_working_days).due
    task.handled_by = principal.name
    task.updated_at = dt.datetime.now(dt.UTC)
    session.flush()


def close_interview(
    session: Session,
    principal: Principal,
    task: SupervisionTask,
    *,
    rectified: bool,
    day: dt.date,
    notes: str,
    today: dt.date,
) -> None:
    """The rectification's follow-up: rectified, or not rectified."""
    if task.kind != TaskKind.INTERVIEW or task.state != TaskState.INTERVIEWED:
        raise Conflict("只有已约谈的任务可以记录整改结果", code="supervision.task_state")
    if not may_act_for_department(principal, task.department_code):
        raise Forbidden("只能处理本部门的监管任务", code="supervision.other_department")
    _check_day(day, task, today, "整改核查")
    if task.interviewed_on is not None and day < task.interviewed_on:
        raise TaskError("整改核查日期不能早于约谈日期", code="supervision.date_before_interview")
    if not notes.strip():
        raise TaskError("请填写整改核查情况", code="supervision.notes_required")
    task.state = TaskState.RECTIFIED if rectified else TaskState.NOT_RECTIFIED
    task.closed_on = day
    task.outcome_notes = notes.strip()
    task.handled_by = principal.name
    task.updated_at = dt.datetime.now(dt.UTC)
    session.flush()


def record_attendance(
    session: Session, principal: Principal, task: SupervisionTask, *, session_id: int, today: dt.date
) -> None:
    """The subject attended a training session (held by today)."""
    if task.kind != TaskKind.TRAINING:
        raise TaskError("约谈任务不记录培训出勤", code="supervision.not_a_training")
    if task.state != TaskState.OPEN:
        raise Conflict("该任务已记录培训出勤", code="supervision.task_state")
    if not may_act_for_department(principal, task.department_code):
        raise Forbidden("只能处理本部门的监管任务", code="supervision.other_department")
    training = session.get(TrainingSession, session_id)
    if training is None:
        raise NotFound("未找到该培训场次", code="supervision.session_not_found")
    if training.held_on > today:
        raise TaskError("培训尚未举办，不能记录出勤", code="supervision.session_not_held")
    if training.held_on < task.created_on:
        raise TaskError("该场次早于任务生成日期，不能计为本次培训", code="supervision.session_before_task")
    task.state = TaskState.ATTENDED
    task.session_id = training.id
    task.closed_on = training.held_on
    task.handled_by = principal.name
    task.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
