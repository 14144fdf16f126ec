"""Repair queues, a subject's applications and the statistics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.kit.workdays import WorkdayCalendar
from xinyong.repair import rules
from xinyong.repair.models import RepairApplication


def queue(
    session: Session,
    principal: Principal,
    today: dt.date,
    *,
    status: str | None = None,
    overdue_only: bool = False,
    limit: int = 200,
) -> Sequence[RepairApplication]:
    """A department's applications (the credit office sees all), oldest deadline first."""
    query = select(RepairApplication)
    if not principal.is_credit_office:
        query = query.where(RepairApplication.department_code == principal.department_code)
    if status == "open":
        query = query.where(RepairApplication.status.in_(sorted(rules.OPEN_STATES)))
    elif status:
        query = query.where(RepairApplication.status == status)
    if overdue_only:
        query = query.where(
            RepairApplication.status.in_(sorted(rules.OPEN_STATES - {rules.MATERIAL_REQUESTED})),
            RepairApplication.due_on < today,
        )
    return session.scalars(
        query.order_by(
            RepairApplication.due_on.is_(None), RepairApplication.due_on, RepairApplication.id
        ).limit(limit)
    ).all()


def of_subject(session: Session, subject_id: int) -> Sequence[RepairApplication]:
    return session.scalars(
        select(RepairApplication)
        .where(RepairApplication.subject_id == subject_id)
        .order_by(RepairApplication.id.desc())
    ).all()


def is_overdue(application: RepairApplication, today: dt.date) -> bool:
    """Overdue for the department (a supplement the applicant owes is not the department's delay)."""
    return application.status != rules.MATERIAL_REQUESTED and rules.is_overdue(
        application.status, application.due_on, today
    )


def statistics(session: Session, calendar: WorkdayCalendar) -> dict[str, list[dict[str, Any]]]:
    """Repairs by department and outcome, with the average working days from submission to decision."""
    rows = session.execute(
        select(
            RepairApplication.department_code,
            RepairApplication.status,
            RepairApplication.submitted_on,
            RepairApplication.decided_on,
        )
    ).all()
    by_department: dict[str, dict[str, Any]] = {}
    by_outcome: dict[str, int] = {}
    by_month: dict[str, int] = {}
    for department, status, submitted, decided in rows:
        entry = by_department.setdefault(
            department,
            {"department": department, "total": 0, "open": 0, "repaired": 0, "refused": 0, "days": []},
        )
        entry["total"] += 1
        by_outcome[status] = by_outcome.get(status, 0) + 1
        by_month[submitted.strftime("%Y-%m")] = by_month.get(submitted.strftime("%Y-%m"), 0) + 1
        if status in rules.OPEN_STATES:
            entry["open"] += 1
        elif status == rules.REPAIRED:
            entry["repaired"] += 1
        elif status in (rules.REFUSED, rules.NOT_ACCEPTED):
            entry["refused"] += 1
        if decided is not None:
            entry["days"].append(calendar.workdays_between(submitted, decided))
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
        "months": [{"month": m, "count": n} for m, n in sorted(by_month.items())],
    }
