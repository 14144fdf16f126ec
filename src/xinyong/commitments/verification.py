"""The verification (核查) that closes a commitment's loop: each commitment with an accepting department gets a
verification task due in working days (or by the department's date), the department records the outcome
(an outcome emits `commitment.fulfilled` or `commitment.breached` in the same transaction; others turn a
breach into a record and measures), and verifications past their due date are alerted to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.commitments import rules
from xinyong.commitments.models import Commitment
from xinyong.commitments.template_catalog import template
from xinyong.events import service as events
from xinyong.files import service as files
from xinyong.kit.errors import Forbidden, ValidationFailed
from xinyong.kit.workdays import WorkdayCalendar
from xinyong.notices import service as notices


def due_date(commitment: Commitment, calendar: WorkdayCalendar) -> dt.date:
    """When the verification is due: the department's date, else the template's working days after signing."""
    if commitment.verify_by is not None:
        return commitment.verify_by
    days = template(commitment.template_code).verification.working_days
    if days is None:  # refused at signing; a row from before the template changed falls back to 20 days
        days = 20
    return calendar.add_workdays(commitment.signed_on, days).due


def open_verification(
    session: Session, commitment: Commitment, calendar: WorkdayCalendar, *, today: dt.date
) -> Commitment:
    """Generate the verification task (任务生成) for the accepting department: signed → verifying."""
    rules.check_transition(commitment.status, rules.VERIFYING)
    if commitment.department_code is None:
        raise ValidationFailed("该承诺没有受理部门，不能生成核查任务", code="commitment.no_department")
    commitment.status = rules.VERIFYING
    commitment.verification_opened_on = today
    commitment.verification_due = due_date(commitment, calendar)
    session.flush()
    return commitment


def open_pending_verifications(session: Session, calendar: WorkdayCalendar, today: dt.date) -> int:
    """The daily job: a verification task for every signed commitment with an accepting department that has
    none yet (e.g. signed before tasks existed). Idempotent."""
    pending = session.scalars(
        select(Commitment)
        .where(Commitment.status == rules.SIGNED, Commitment.department_code.is_not(None))
        .order_by(Commitment.id)
    ).all()
    for commitment in pending:
        open_verification(session, commitment, calendar, today=today)
    return len(pending)


def may_decide(principal: Principal, commitment: Commitment) -> bool:
    """Only the accepting department records the outcome (the system, e.g. the demo, too)."""
    return principal.kind == "system" or (
        commitment.department_code is not None and principal.department_code == commitment.department_code
    )


def record_verification(
    session: Session,
    ctx: UseCaseContext,
    commitment: Commitment,
    *,
    outcome: str,
    facts: str | None,
    decided_on: dt.date | None = None,
    evidence: Sequence[files.Upload] = (),
) -> Commitment:
    """Record the verification's outcome: fulfilled (履约), or breached (违诺) with the facts found and any
    evidence; only the accepting department may. Emits `commitment.fulfilled` or `commitment.breached` in
    the same transaction."""
    principal, today = ctx.principal, ctx.today
    if not may_decide(principal, commitment):
        raise Forbidden("只有受理该承诺的部门可以记录核查结果", code="commitment.not_accepting_department")
    if outcome not in rules.OUTCOMES:
        raise ValidationFailed(
            "核查结果须为 fulfilled（已履约）或 breached（违诺）", code="commitment.bad_outcome"
        )
    rules.check_transition(commitment.status, outcome)
    day = decided_on or today
    if day > today:
        raise ValidationFailed("核查日期不能晚于今天", code="commitment.decided_in_future")
    if len(evidence) > files.MAX_FILES:
        raise ValidationFailed(f"证据材料最多{files.MAX_FILES}个文件", code="commitment.too_many_files")
    _decide(
        session,
        principal,
        commitment,
        outcome=outcome,
        facts=facts,
        day=day,
        ip=ctx.ip,
        evidence=len(evidence),
    )
    for upload in evidence:
        files.store(
            session,
            ctx.data_dir,
            principal,
            owner=f"commitment:{commitment.id}",
            filename=upload.filename,
            content=upload.content,
        )
    return commitment


def _decide(
    session: Session,
    principal: Principal,
    commitment: Commitment,
    *,
    outcome: str,
    facts: str | None,
    day: dt.date,
    ip: str | None = None,
    evidence: int = 0,
) -> None:
    rules.check_transition(commitment.status, outcome)
    if day < commitment.signed_on:
        raise ValidationFailed("核查日期不能早于签署日期", code="commitment.decided_before_signing")
    text = (facts or "").strip() or None
    if outcome == rules.BREACHED and text is None:
        raise ValidationFailed("认定违诺须写明核查查明的事实", code="commitment.facts_required")
    if text is not None and len(text) > 2000:
        raise ValidationFailed("核查情况不能超过2000字", code="commitment.facts_too_long")
    commitment.status = outcome
    commitment.fulfilment_on, commitment.fulfilment_note = day, text
    commitment.decided_by = principal.name[:100]
    session.flush()
    audit.record(
        session,
        principal,
        "commitment.verification",
        subject_id=commitment.subject_id,
        target=f"commitment:{commitment.id}",
        ip=ip,
        details={"outcome": outcome, "decided_on": day.isoformat(), "evidence": evidence},
    )
    events.emit(
        session,
        events.COMMITMENT_FULFILLED if outcome == rules.FULFILLED else events.COMMITMENT_BREACHED,
        "commitment",
        commitment.id,
        subject_id=commitment.subject_id,
        payload=event_payload(commitment),
    )


def event_payload(commitment: Commitment) -> dict[str, Any]:
    """The payload of `commitment.fulfilled` / `commitment.breached` (a contract: consumers read it)."""
    assert commitment.fulfilment_on is not None
    return {
        "template": commitment.template_code,
        "kind": commitment.kind,
        "matter": commitment.matter,
        "department_code": commitment.department_code,
        "signed_on": commitment.signed_on.isoformat(),
        "decided_on": commitment.fulfilment_on.isoformat(),
        "facts": commitment.fulfilment_note,
        "ref": commitment.ref,
    }


def record_fulfilment(
    session: Session,
    principal: Principal,
    commitment: Commitment,
    *,
    fulfilled: bool,
    note: str,
    today: dt.date,
) -> Commitment:
    """Record whether a repair commitment was kept (履约) or broken (违诺) on ``today``, as the repair workflow
    and its demo history do (the deciding department or the credit office re-checking a wrong repair); the
    note is required. A commitment whose task was never generated gets it first."""
    if not (note or "").strip():
        raise ValidationFailed("须说明履约核查情况", code="commitment.note_required")
    if commitment.status == rules.SIGNED:  # the repair's follow-up is its verification task
        rules.check_transition(commitment.status, rules.VERIFYING)
        commitment.status, commitment.verification_opened_on = rules.VERIFYING, today
        commitment.verification_due = commitment.verification_due or today
    _decide(
        session,
        principal,
        commitment,
        outcome=rules.FULFILLED if fulfilled else rules.BREACHED,
        facts=note,
        day=today,
    )
    return commitment


def alert_overdue(session: Session, today: dt.date) -> int:
    """Notify each accepting department of verifications past their due date (once per commitment and due
    date, so the daily job may re-run). Returns how many notices were sent."""
    overdue = session.scalars(
        select(Commitment)
        .where(Commitment.status == rules.VERIFYING, Commitment.verification_due < today)
        .order_by(Commitment.id)
    ).all()
    sent = 0
    for commitment in overdue:
        assert commitment.verification_due is not None
        ref = f"commitment:{commitment.id}:overdue:{commitment.verification_due.isoformat()}"
        if notices.exists(session, "commitment_overdue", ref):
            continue
        notices.send(
            session,
            kind="commitment_overdue",
            ref=ref,
            title="信用承诺核查已逾期",
            body=f"{commitment.subject_name}的《{commitment.title}》（{commitment.matter or '—'}）应于"
            f"{commitment.verification_due.isoformat()}前完成核查，请尽快记录核查结果。",
            link=f"/console/commitments/{commitment.id}",
            department_code=commitment.department_code,
        )
        sent += 1
    return sent
