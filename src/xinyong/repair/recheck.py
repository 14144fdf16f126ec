"""Repair jobs: overdue alerts and the monthly re-check sample (复核抽查)."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.kit.errors import Conflict, Forbidden
from xinyong.kit.workdays import WorkdayCalendar
from xinyong.notices import service as notices
from xinyong.repair import rules, workflow
from xinyong.repair.models import RepairApplication


def alert_overdue(session: Session, today: dt.date) -> int:
    """Notify each department of applications past their deadline (once per application and deadline)."""
    overdue = session.scalars(
        select(RepairApplication).where(
            RepairApplication.status.in_(sorted(rules.OPEN_STATES - {rules.MATERIAL_REQUESTED})),
            RepairApplication.due_on < today,
        )
    ).all()
    sent = 0
    for application in overdue:
        ref = f"repair:{application.id}:overdue:{application.due_on.isoformat()}"  # type: ignore[union-attr]
        if notices.exists(session, "repair_overdue", ref):
            continue
        notices.send(
            session,
            kind="repair_overdue",
            ref=ref,
            title="信用修复申请已逾期",
            body=f"“{application.target_label}”的修复申请（{rules.STATE_LABELS[application.status]}）"
            f"已超过办理期限{application.due_on.isoformat()}，请尽快办理。",  # type: ignore[union-attr]
            link=f"/console/repairs/{application.id}",
            department_code=application.department_code,
        )
        sent += 1
    return sent


def previous_month(today: dt.date) -> tuple[str, dt.date, dt.date]:
    first = today.replace(day=1)
    last = first - dt.timedelta(days=1)
    return last.strftime("%Y-%m"), last.replace(day=1), last


def draw_recheck(
    session: Session, repair_policy: rules.Policy, calendar: WorkdayCalendar, today: dt.date
) -> int:
    """Draw last month's re-check sample of decided cases (repaired, refused, not accepted).

    Idempotent: a month is drawn once. The draw is random but reproducible from the month (seeded), so
    the same data always gives the same sample and an auditor can re-run it.
    """
    period, start, end = previous_month(today)
    if session.scalar(
        select(RepairApplication.id).where(RepairApplication.recheck_period == period).limit(1)
    ):
        return 0
    decided = session.scalars(
        select(RepairApplication.id)
        .where(
            RepairApplication.status.in_(sorted(rules.DECIDED_STATES)),
            RepairApplication.decided_on >= start,
            RepairApplication.decided_on <= end,
            RepairApplication.recheck_status.is_(None),
        )
        .order_by(RepairApplication.id)
    ).all()
    count = rules.sample_size(len(decided), repair_policy)
    if not count:
        return 0
    seed = int(hashlib.sha256(f"recheck:{period}".encode()).hexdigest()[:16], 16)
    chosen = random.Random(seed).sample(list(decided), count)
    due = calendar.add_workdays(today, repair_policy.recheck_workdays)
    for application in session.scalars(select(RepairApplication).where(RepairApplication.id.in_(chosen))):
        application.recheck_status, application.recheck_period, application.recheck_due = (
            "sampled",
            period,
            due.due,
        )
    session.flush()
    return count


def confirm_recheck(
    session: Session, principal: Principal, application: RepairApplication, *, note: str, today: dt.date
) -> RepairApplication:
    """The re-check found the decision right."""
    if not (principal.is_credit_office or principal.kind == "system"):
        raise Forbidden("只有信用办可以复核", code="repair.recheck_only")
    if application.recheck_status != "sampled":
        raise Conflict("该申请不在待复核之列", code="repair.not_sampled")
    application.recheck_status, application.recheck_note = "confirmed", note.strip() or "复核无误"
    workflow.log_event(
        session,
        application,
        "recheck",
        application.status,
        application.status,
        today,
        principal,
        application.recheck_note,
    )
    return application


def recheck_queue(session: Session, *, limit: int = 200) -> Sequence[RepairApplication]:
    return session.scalars(
        select(RepairApplication)
        .where(
            or_(
                RepairApplication.recheck_status == "sampled", RepairApplication.recheck_status == "corrected"
            )
        )
        .order_by(
            RepairApplication.recheck_status.desc(), RepairApplication.recheck_due, RepairApplication.id
        )
        .limit(limit)
    ).all()
