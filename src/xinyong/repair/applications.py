"""Submitting a repair application (online by the subject, on paper by a clerk) and reading one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal, allows, may_act_for_department
from xinyong.commitments import service as commitments
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.notices import service as notices
from xinyong.repair import rules, workflow
from xinyong.repair.models import RepairApplication
from xinyong.repair.targets import (
    evaluate,
    load_target,
)
from xinyong.subjects.models import Subject

COMMITMENT_TEMPLATE = "credit_repair"


def apply(
    session: Session,
    ctx: UseCaseContext,
    *,
    repair_policy: rules.Policy,
    target_kind: str,
    target_id: int,
    statement: str,
    contact_name: str,
    contact_phone: str,
    signer_name: str,
    evidence: Sequence[Upload],
) -> RepairApplication:
    """Submit a repair application: online by the subject, or on paper recorded by a department clerk.

    The commitment is signed from the standard template as part of the application (and published with
    it); the evidence is stored; eligibility is checked by the rules and refused with every unmet
    condition explained. Who applies, on what day, and the catalog, calendar, signer and data directory come
    from the context.
    """
    principal, today = ctx.principal, ctx.today
    info = load_target(session, ctx.catalog, target_kind, target_id, today)
    online = principal.subject_id is not None
    if online:
        if principal.subject_id != info.subject_id:
            raise Forbidden("只能为本主体的信用信息申请修复", code="repair.not_own_subject")
    elif not (
        allows(principal, "repairs:handle") and may_act_for_department(principal, info.department_code)
    ):
        raise Forbidden("只有认定部门可以代为登记纸质申请", code="repair.other_department")
    if not statement.strip():
        raise ValidationFailed("请说明失信行为的纠正和义务履行情况", code="repair.statement_required")
    if len(statement) > 4000:
        raise ValidationFailed("情况说明不能超过4000字", code="repair.statement_too_long")
    if not contact_name.strip() or not contact_phone.strip():
        raise ValidationFailed("请填写联系人和联系电话", code="repair.contact_required")
    if len(contact_phone.strip()) > 32 or not any(ch.isdigit() for ch in contact_phone):
        raise ValidationFailed("联系电话格式不正确", code="repair.contact_phone_invalid")
    eligibility = evaluate(
        session,
        repair_policy,
        info,
        today=today,
        evidence_count=len(evidence),
        commitment_signed=bool(signer_name.strip()),
    )
    if not eligibility.eligible:
        raise ValidationFailed(
            "不符合信用修复申请条件：" + "；".join(c.explanation for c in eligibility.unmet),
            code=rules.NOT_ELIGIBLE,
            details=eligibility.as_dict(),
        )
    subject = session.get(Subject, info.subject_id)
    assert subject is not None
    due = rules.due_after("submit", today, repair_policy, ctx.calendar)
    assert due is not None
    application = RepairApplication(
        subject_id=info.subject_id,
        target_kind=info.kind,
        record_id=info.record.id if info.record else None,
        list_entry_id=info.entry.id if info.entry else None,
        target_label=info.label[:300],
        department_code=info.department_code,
        channel="online" if online else "paper",
        status=rules.SUBMITTED,
        statement=workflow.free_text(statement),
        contact_name=contact_name.strip()[:100],
        contact_phone=contact_phone.strip(),
        eligibility=eligibility.as_dict(),
        submitted_on=today,
        due_on=due.due,
        due_provisional=due.provisional,
        created_by=principal.user_id,
    )
    try:
        with session.begin_nested():
            session.add(application)
            session.flush()
    except IntegrityError:  # another submission for the same target won the race
        raise Conflict("该信息有正在办理的修复申请，请勿重复申请", code="repair.pending") from None
    for upload in evidence:
        files.store(
            session,
            ctx.data_dir,
            principal,
            owner=f"repair:{application.id}",
            filename=upload.filename,
            content=upload.content,
        )
    commitment = commitments.sign(
        session,
        ctx,
        template_code=COMMITMENT_TEMPLATE,
        subject=subject,
        target=info.label,
        signer_name=signer_name,
        ref=f"repair:{application.id}",
        channel="online" if online else "paper",
        department_code=info.department_code,
    )
    application.commitment_id = commitment.id
    workflow.log_event(session, application, "submit", None, rules.SUBMITTED, today, principal, None)
    notices.send(
        session,
        kind="repair_received",
        ref=f"repair:{application.id}",
        title="信用修复申请待受理",
        body=f"{subject.name}申请修复“{info.label}”，请在{due.due.isoformat()}前作出是否受理的决定。",
        link=f"/console/repairs/{application.id}",
        department_code=info.department_code,
    )
    return application


def get_application(session: Session, principal: Principal, application_id: int) -> RepairApplication:
    """An application its subject, its deciding department or the credit office may see."""
    application = session.get(RepairApplication, application_id)
    if application is None:
        raise NotFound("未找到该修复申请", code="repair.not_found")
    own = principal.subject_id is not None and principal.subject_id == application.subject_id
    department = principal.is_government and may_act_for_department(principal, application.department_code)
    if not (own or department or principal.is_credit_office or principal.kind == "system"):
        raise NotFound("未找到该修复申请", code="repair.not_found")
    return application
