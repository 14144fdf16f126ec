"""Joint rewards and punishments after the check: the check log (a department's own checks and batches), the
feedback on each hit (applied measures become cases) and the statistics.

The check itself is `measures.check`; the measure list editor `measures.editor`; the pure rules
`measures.rules`; the queries `measures.repository`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, String, func, or_, select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.kit.dates import add_months
from xinyong.kit.errors import Forbidden, NotFound, ValidationFailed
from xinyong.lists.models import ListEntry
from xinyong.measures.check import MAX_BATCH, StoredCheck
from xinyong.measures.models import Check, MeasureFeedback
from xinyong.subjects.models import Subject


def get_check(session: Session, principal: Principal, check_id: str) -> Check:
    """A stored check, to its own department (the credit office: any)."""
    check = session.get(Check, check_id)
    if check is None:
        raise NotFound("未找到该核查记录", code="check.not_found")
    if not (principal.is_credit_office or principal.department_code == check.department_code):
        raise Forbidden("只能查看本部门的核查记录", code="check.other_department")
    return check


def record_feedback(
    session: Session,
    principal: Principal,
    check: Check | StoredCheck,
    items: Sequence[dict[str, str]],
    today: dt.date,
) -> list[MeasureFeedback]:
    """The department reports, per hit, whether it applied the measure; applied ones become cases."""
    by_code = {h["measure"]: h for h in check.result.get("hits", [])}
    rows = []
    for item in items:
        code, outcome, reason = (
            item.get("measure", ""),
            item.get("outcome", ""),
            (item.get("reason") or "").strip(),
        )
        if code not in by_code:
            raise ValidationFailed(f"措施“{code}”不在本次核查的命中结果中", code="feedback.unknown_measure")
        if outcome not in ("applied", "not_applicable"):
            raise ValidationFailed("outcome 应为 applied 或 not_applicable", code="feedback.outcome")
        if outcome == "not_applicable" and not reason:
            raise ValidationFailed("未采取措施的须说明理由", code="feedback.reason_required")
        rows.append(
            MeasureFeedback(
                check_id=check.id,
                measure_code=code,
                measure_kind=by_code[code]["kind"],
                scenario=check.scenario,
                department_code=check.department_code,
                outcome=outcome,
                reason=reason or None,
                reported_on=today,
                actor=principal.name,
            )
        )
    session.add_all(rows)
    audit.record(
        session,
        principal,
        "check.feedback",
        subject_id=check.subject_id,
        target=check.id,
        details={"items": len(rows)},
    )
    session.flush()
    return rows


def statistics(session: Session, group: str) -> list[dict[str, Any]]:
    """Checks, hits and applied measures (cases) grouped by department, measure, scenario or month."""
    if group == "measure":
        column: Any = MeasureFeedback.measure_code
        rows = session.execute(
            select(column, func.count(), func.sum(func.cast(MeasureFeedback.outcome == "applied", Integer)))
            .group_by(column)
            .order_by(column)
        ).all()
        return [{"key": k, "feedback": n, "cases": int(c or 0)} for k, n, c in rows]
    column = {
        "department": Check.department_code,
        "scenario": Check.scenario,
        "month": func.substr(func.cast(Check.checked_at, String), 1, 7),
    }.get(group)
    if column is None:
        raise ValidationFailed("group 应为 department、measure、scenario 或 month", code="stats.group")
    checks = session.execute(
        select(column, func.count(), func.sum(Check.hit_count)).group_by(column).order_by(column)
    ).all()
    cases_column = {
        "department": MeasureFeedback.department_code,
        "scenario": MeasureFeedback.scenario,
        "month": func.substr(func.cast(MeasureFeedback.reported_on, String), 1, 7),
    }[group]
    cases: dict[Any, int] = dict(
        session.execute(
            select(cases_column, func.count())
            .where(MeasureFeedback.outcome == "applied")
            .group_by(cases_column)
        ).all()
    )
    return [{"key": k, "checks": n, "hits": int(h or 0), "cases": int(cases.get(k, 0))} for k, n, h in checks]


def punishment_share(session: Session, today: dt.date, months: int = 24) -> list[dict[str, Any]]:
    """Share of market subjects on a punishment list (严重失信 or 市场禁入) at each month end ("降比例")."""
    points = []
    for back in range(months - 1, -1, -1):
        first_of_next = add_months(today.replace(day=1), 1 - back)
        day = first_of_next - dt.timedelta(days=1)
        listed = (
            session.scalar(
                select(func.count(func.distinct(ListEntry.subject_id))).where(
                    ListEntry.list_type.in_(("serious_dishonesty", "market_ban")),
                    ListEntry.decided_on.is_not(None),
                    ListEntry.decided_on <= day,
                    or_(ListEntry.removed_on.is_(None), ListEntry.removed_on > day),
                    or_(ListEntry.public_until.is_(None), ListEntry.public_until >= day),
                )
            )
            or 0
        )
        market = (
            session.scalar(
                select(func.count(Subject.id)).where(
                    Subject.kind.in_(("legal_person", "individual_business")),
                    or_(Subject.registered_on.is_(None), Subject.registered_on <= day),
                )
            )
            or 0
        )
        points.append(
            {
                "month": day.strftime("%Y-%m"),
                "listed": int(listed),
                "subjects": int(market),
                "share": round(listed / market, 6) if market else 0.0,
            }
        )
    return points


def recent_checks(session: Session, principal: Principal, limit: int = 50) -> Sequence[Check]:
    """The latest checks, own department's only (the credit office: all)."""
    query = select(Check).order_by(Check.checked_at.desc()).limit(limit)
    if not principal.is_credit_office:
        query = query.where(Check.department_code == principal.department_code)
    return session.scalars(query).all()


def batch_checks(session: Session, principal: Principal, batch_id: str) -> Sequence[Check]:
    """The checks of one batch, in the order they were run; own department's only (the credit office: any)."""
    query = select(Check).where(Check.batch_id == batch_id).order_by(Check.checked_at, Check.id)
    if not principal.is_credit_office:
        query = query.where(Check.department_code == principal.department_code)
    checks = session.scalars(query.limit(MAX_BATCH)).all()
    if not checks:
        raise NotFound("未找到该批量核查", code="check.batch_not_found")
    return checks


def feedback_of(session: Session, check_id: str) -> Sequence[MeasureFeedback]:
    """What the department reported of a check's hits."""
    return session.scalars(select(MeasureFeedback).where(MeasureFeedback.check_id == check_id)).all()
