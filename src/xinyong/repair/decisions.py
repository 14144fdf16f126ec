"""The department's (and the re-check's) steps on an application, and what a repair changes.

A repaired record gets status ``repaired`` (`records.lifecycle`): the public filter, the sharing filter and the
check's triggers all require ``active``, so at the moment of the decision it stops being public, shared and able
to trigger measures, and stays in the archive with the decision. A repaired list entry is removed (移出, reason
信用修复) through the lists state machine. A wrong repair (错修) found on re-check puts both back (the entry is
reinstated, 恢复列入).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal, allows, may_act_for_department
from xinyong.catalog.schemas import Catalog
from xinyong.commitments.models import Commitment
from xinyong.events.models import WorkflowEvent
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.errors import Conflict, Forbidden, ValidationFailed
from xinyong.kit.workdays import Deadline
from xinyong.lists import rules as list_rules
from xinyong.lists import service as lists
from xinyong.lists.models import ListEntry
from xinyong.notices import service as notices
from xinyong.records import lifecycle
from xinyong.records.models import Record
from xinyong.repair import rules, workflow
from xinyong.repair.models import RepairApplication
from xinyong.repair.targets import (
    evaluate,
    load_target,
)


def _set_repaired(session: Session, application: RepairApplication, ctx: UseCaseContext) -> None:
    ref = f"repair:{application.id}"
    if application.record_id is not None:
        record = session.get(Record, application.record_id)
        assert record is not None
        lifecycle.mark_repaired(session, record, ref=ref)
    elif application.list_entry_id is not None:
        entry = session.get(ListEntry, application.list_entry_id)
        assert entry is not None
        lists.advance(
            session,
            ctx,
            entry,
            list_rules.REMOVE,
            reason="repaired",
            note=f"信用修复（修复申请 {application.id}）",
        )
    session.flush()


def _undo_repair(session: Session, application: RepairApplication, ctx: UseCaseContext, note: str) -> None:
    ref = f"repair:{application.id}"
    if application.record_id is not None:
        record = session.get(Record, application.record_id)
        assert record is not None
        lifecycle.revert_repair(session, record, ref=ref)
    elif application.list_entry_id is not None:
        entry = session.get(ListEntry, application.list_entry_id)
        assert entry is not None
        if entry.status == list_rules.REMOVED and entry.removal_reason == "repaired":
            lists.advance(
                session,
                ctx,
                entry,
                list_rules.REINSTATE,
                note=f"错修纠正（修复申请 {application.id}）：{note}",
            )
    session.flush()


def _current_eligibility(
    session: Session,
    catalog: Catalog,
    repair_policy: rules.Policy,
    application: RepairApplication,
    today: dt.date,
) -> rules.Eligibility:
    kind = application.target_kind
    target_id = application.record_id if kind == "record" else application.list_entry_id
    assert target_id is not None
    info = load_target(session, catalog, kind, target_id, today)
    evidence = len(files.attachments_of(session, f"repair:{application.id}"))
    return evaluate(
        session,
        repair_policy,
        info,
        today=today,
        evidence_count=evidence,
        commitment_signed=application.commitment_id is not None,
        application_id=application.id,
    )


def _authorize(principal: Principal, application: RepairApplication, event: str) -> None:
    """Who may take a step: the applicant (or a clerk, for paper), the credit office on re-check, else the
    deciding department (谁认定谁修复)."""
    own = principal.subject_id is not None and principal.subject_id == application.subject_id
    department = allows(principal, "repairs:handle") and may_act_for_department(
        principal, application.department_code
    )
    if event in rules.APPLICANT_EVENTS:
        if not (own or (application.channel == "paper" and department)):
            raise Forbidden("只有申请人可以补正材料或撤回申请", code="repair.not_applicant")
    elif event in rules.RECHECK_EVENTS:
        if not (principal.is_credit_office or principal.kind == "system"):
            raise Forbidden("只有信用办可以在复核中纠正错修、漏修", code="repair.recheck_only")
    elif not department:
        raise Forbidden("只有认定部门可以办理该修复申请（谁认定谁修复）", code="repair.other_department")


def _eligibility_for(
    session: Session,
    catalog: Catalog,
    repair_policy: rules.Policy,
    application: RepairApplication,
    event: str,
    today: dt.date,
) -> rules.Eligibility | None:
    if event not in ("approve", "complete"):
        return None
    eligibility = _current_eligibility(session, catalog, repair_policy, application, today)
    if event == "complete":  # the pending application is this one, refused earlier
        eligibility = rules.Eligibility(
            tuple(c for c in eligibility.conditions if c.code != "no_pending"), eligibility.earliest
        )
    return eligibility


def _record_step(
    application: RepairApplication,
    event: str,
    today: dt.date,
    note: str | None,
    decision_no: str | None,
    due: Deadline | None,
) -> None:
    """The application's own fields a step sets: its deadline, dates, notes and decision number."""
    if due is not None:
        application.due_on, application.due_provisional = due.due, due.provisional
    elif event not in rules.KEEPS_DEADLINE:
        application.due_on, application.due_provisional = None, False
    if event == "accept":
        application.accepted_on = today
    elif event == "request_material":
        application.material_note = workflow.free_text(note or "")
    elif event in ("approve", "refuse", "reject", "complete"):
        application.decided_on = today
        application.decision_note = workflow.free_text(note or "") or None
        if decision_no:
            application.decision_no = decision_no.strip()[:128]


def _tell_applicant(
    session: Session, application: RepairApplication, event: str, note: str | None, today: dt.date
) -> None:
    if event in ("review", "supplement", "withdraw"):
        return
    notices.send(
        session,
        kind="repair_update",
        ref=f"repair:{application.id}:{event}:{today.isoformat()}",
        title=f"信用修复申请{rules.STATE_LABELS[application.status]}",
        body=f"您对“{application.target_label}”的修复申请：{rules.EVENT_LABELS[event]}。"
        + (f"说明：{note.strip()}" if note and note.strip() else ""),
        link=f"/account/repairs/{application.id}",
        subject_id=application.subject_id,
    )


def advance(
    session: Session,
    ctx: UseCaseContext,
    application: RepairApplication,
    event: str,
    *,
    repair_policy: rules.Policy,
    note: str | None = None,
    decision_no: str | None = None,
    evidence: Sequence[Upload] = (),
) -> RepairApplication:
    """One step of the workflow, by the department, the applicant or (re-check) the credit office: who acts,
    on what day, and the catalog, calendar and data directory come from the context."""
    principal, today, calendar = ctx.principal, ctx.today, ctx.calendar
    _authorize(principal, application, event)
    eligibility = _eligibility_for(session, ctx.catalog, repair_policy, application, event, today)
    if event == "approve" and not (decision_no or "").strip():
        raise ValidationFailed("准予修复须有修复决定文号", code="repair.decision_no_required")
    if event == "supplement" and not evidence:
        raise ValidationFailed("补正须上传材料", code="repair.evidence_required")
    before = application.status
    try:
        after = rules.transition(before, event, eligibility=eligibility, note=note)
    except rules.RepairRuleError as exc:
        details = (
            eligibility.as_dict() if eligibility is not None and exc.code == rules.NOT_ELIGIBLE else None
        )
        raise Conflict(exc.message, code=exc.code, details=details) from None
    for upload in evidence:
        files.store(
            session,
            ctx.data_dir,
            principal,
            owner=f"repair:{application.id}",
            filename=upload.filename,
            content=upload.content,
        )
    _record_step(
        application, event, today, note, decision_no, rules.due_after(event, today, repair_policy, calendar)
    )
    application.status = after
    if after == rules.REPAIRED:
        _set_repaired(session, application, ctx)
    elif event == "revert":
        _undo_repair(session, application, ctx, note or "")
    if event in rules.RECHECK_EVENTS:
        application.recheck_status, application.recheck_note = "corrected", (note or "").strip()
    note = workflow.free_text(note) if note else note
    workflow.log_event(session, application, event, before, after, today, principal, note)
    _tell_applicant(session, application, event, note, today)
    return application


def events_of(session: Session, application_id: int) -> Sequence[WorkflowEvent]:
    return workflow.history(session, application_id)


def commitment_of(session: Session, application: RepairApplication) -> Commitment | None:
    return session.get(Commitment, application.commitment_id) if application.commitment_id else None
