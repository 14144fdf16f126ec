"""Reading objections: one its viewer may see, the records and grades under objection (异议处理中), a
department's queue, a subject's objections, the statistics by department and outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, distinct, func, or_, select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal, may_act_for_department
from xinyong.kit.errors import NotFound
from xinyong.kit.workdays import WorkdayCalendar
from xinyong.objections import rules
from xinyong.objections.models import Objection
from xinyong.records.models import Record


def grade_pending(session: Session, subject_id: int, model_code: str) -> bool:
    """Whether an objection to the subject's grade under the model is being handled (异议处理中)."""
    found = select(Objection.id).where(
        Objection.subject_id == subject_id,
        Objection.model_code == model_code,
        Objection.evaluation_result_id.is_not(None),
        Objection.status == rules.OPEN,
    )
    return session.scalar(found.limit(1)) is not None


def get_objection(session: Session, principal: Principal, objection_id: int) -> Objection:
    """An objection its filer, its subject, the provider department or the credit office may see."""
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound("未找到该异议", code="objection.not_found")
    allowed = (
        (principal.subject_id is not None and principal.subject_id == objection.subject_id)
        or (principal.user_id is not None and principal.user_id == objection.filed_by)
        or (principal.is_government and may_act_for_department(principal, objection.department_code))
        or principal.kind == "system"
    )
    if not allowed:
        raise NotFound("未找到该异议", code="objection.not_found")
    return objection


def open_record_ids(session: Session, record_ids: Sequence[int]) -> set[int]:
    """Of these records, those under objection (marked 异议处理中 on the portal)."""
    if not record_ids:
        return set()
    found = set(
        session.scalars(
            select(Objection.record_id).where(
                Objection.record_id.in_(list(record_ids)), Objection.status == rules.OPEN
            )
        ).all()
    )
    return {i for i in found if i is not None}


def open_count(session: Session, subject_id: int, visible: ColumnElement[bool]) -> int:
    """How many of a subject's records that `visible` selects are under objection (the file's pending count),
    counted in SQL."""
    chosen = select(Record.id).where(Record.subject_id == subject_id, visible)
    return int(
        session.scalar(
            select(func.count(distinct(Objection.record_id))).where(
                Objection.record_id.in_(chosen), Objection.status == rules.OPEN
            )
        )
        or 0
    )


def queue(
    session: Session,
    principal: Principal,
    today: dt.date,
    *,
    status: str | None = None,
    overdue_only: bool = False,
    escalated_only: bool = False,
    limit: int = 200,
) -> Sequence[Objection]:
    query = select(Objection)
    if not principal.is_credit_office:
        query = query.where(Objection.department_code == principal.department_code)
    if status:
        query = query.where(Objection.status == status)
    if overdue_only:
        query = query.where(Objection.status == rules.OPEN, Objection.due_on < today)
    if escalated_only:
        query = query.where(Objection.escalated_on.is_not(None), Objection.status == rules.OPEN)
    return session.scalars(
        query.order_by(Objection.status != rules.OPEN, Objection.due_on, Objection.id).limit(limit)
    ).all()


def of_subject(session: Session, principal: Principal) -> Sequence[Objection]:
    """Objections about the principal's subject or filed by the principal."""
    conditions = []
    if principal.subject_id is not None:
        conditions.append(Objection.subject_id == principal.subject_id)
    if principal.user_id is not None:
        conditions.append(Objection.filed_by == principal.user_id)
    if not conditions:
        return []
    return session.scalars(select(Objection).where(or_(*conditions)).order_by(Objection.id.desc())).all()


def statistics(session: Session, calendar: WorkdayCalendar) -> dict[str, list[dict[str, Any]]]:
    """Objections by department and outcome, with the average working days taken to answer."""
    rows = session.execute(
        select(
            Objection.department_code,
            Objection.status,
            Objection.filed_on,
            Objection.answered_on,
            Objection.escalated_on,
        )
    ).all()
    by_department: dict[str, dict[str, Any]] = {}
    by_outcome: dict[str, int] = {}
    for department, status, filed, answered, escalated in rows:
        entry = by_department.setdefault(
            department,
            {
                "department": department,
                "total": 0,
                "open": 0,
                "corrected": 0,
                "revoked": 0,
                "maintained": 0,
                "escalated": 0,
                "days": [],
            },
        )
        entry["total"] += 1
        if status in entry:
            entry[status] += 1
        if escalated is not None:
            entry["escalated"] += 1
        by_outcome[status] = by_outcome.get(status, 0) + 1
        if answered is not None:
            entry["days"].append(calendar.workdays_between(filed, answered))
    departments = []
    for entry in sorted(by_department.values(), key=lambda e: -e["total"]):
        days = entry.pop("days")
        entry["avg_workdays"] = round(sum(days) / len(days), 1) if days else None
        departments.append(entry)
    return {
        "departments": departments,
        "outcomes": [
            {"status": s, "label": rules.STATE_LABELS.get(s, s), "count": n}
            for s, n in sorted(by_outcome.items())
        ],
    }
