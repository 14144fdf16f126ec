"""Filing an objection: to a record (its subject on any record of its own file, anyone on a record public today)
or to the subject's own grade (an evaluation result, routed by `evaluation.grade_objections`); withdrawal by
its filer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal
from xinyong.catalog.schemas import Catalog
from xinyong.disclosure import rules as disclosure
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.kit.identifiers import mask_embedded_ids
from xinyong.kit.workdays import Deadline
from xinyong.notices import service as notices
from xinyong.objections import rules
from xinyong.objections.history import log_event
from xinyong.objections.models import Objection
from xinyong.records.models import Record, RecordStatus


def _public_now(catalog: Catalog, record: Record, today: dt.date) -> bool:
    item = catalog.item(record.item_code)
    if item is None or item.disclosure_class != "public":
        return False
    if record.subject_kind == "natural_person" and not item.public_for_natural_persons:
        return False
    return disclosure.is_public_now(
        status=record.status, public_from=record.public_from, public_until=record.public_until, today=today
    )


def objectable_record(
    session: Session, principal: Principal, catalog: Catalog, record_id: int, today: dt.date
) -> Record:
    """The record this principal may object to: any of its own file, else one public today (404 otherwise,
    so a non-public record's existence is not revealed)."""
    record = session.get(Record, record_id)
    own = (
        record is not None and principal.subject_id is not None and principal.subject_id == record.subject_id
    )
    if record is None or not (own or _public_now(catalog, record, today)):
        raise NotFound("未找到该信用记录", code="objection.record_not_found")
    return record


def file(
    session: Session,
    ctx: UseCaseContext,
    *,
    answer_workdays: int,
    record_id: int,
    reasons: str,
    filer_name: str,
    filer_contact: str | None,
    evidence: Sequence[Upload],
) -> Objection:
    """File an objection: the subject on any record of its own file, anyone on a record public today (who
    files, on what day, and the catalog, calendar and data directory come from the context)."""
    principal, today = ctx.principal, ctx.today
    catalog, calendar = ctx.catalog, ctx.calendar
    record = objectable_record(session, principal, catalog, record_id, today)
    own = principal.subject_id is not None and principal.subject_id == record.subject_id
    reasons, name, contact = _filer(reasons, filer_name, filer_contact, own)
    if record.status != RecordStatus.ACTIVE:
        raise Conflict("该记录已撤销或已修复，无需提出异议", code="objection.record_inactive")
    duplicate = select(Objection.id).where(
        Objection.record_id == record.id,
        Objection.status == rules.OPEN,
        (Objection.filed_by == principal.user_id)
        if principal.user_id is not None
        else (Objection.filer_contact == contact),
    )
    if session.scalar(duplicate.limit(1)) is not None:
        raise Conflict("您对该记录的异议正在处理中，请勿重复提交", code="objection.duplicate")
    due = rules.answer_deadline(today, calendar, answer_workdays)
    return _open(
        session,
        ctx,
        Objection(
            record_id=record.id,
            subject_id=record.subject_id,
            department_code=record.provider_code,
            filer_kind="subject" if own else "public",
            record_version=record.version,
        ),
        (reasons, name, contact),
        due,
        evidence,
        title="信用信息异议待处理",
        body=f"对记录“{record.doc_no or record.id}”的异议，请在{due.due.isoformat()}前答复。",
    )


def _filer(reasons: str, filer_name: str, filer_contact: str | None, own: bool) -> tuple[str, str, str]:
    """The filer's reasons, name and contact, checked, with IDs masked."""
    reasons = mask_embedded_ids(reasons.strip())[0]  # IDs are never stored in clear
    if len(reasons) < 10:
        raise ValidationFailed("请写明异议的事实和理由（至少10个字）", code="objection.reasons_required")
    if len(reasons) > 4000:
        raise ValidationFailed("异议理由不能超过4000字", code="objection.reasons_too_long")
    name = mask_embedded_ids(filer_name.strip())[0]
    if not 2 <= len(name) <= 100:
        raise ValidationFailed("请填写异议人姓名或名称", code="objection.filer_required")
    contact = mask_embedded_ids((filer_contact or "").strip())[0]
    if not own and not contact:
        raise ValidationFailed("请填写联系方式，以便告知处理结果", code="objection.contact_required")
    if len(contact) > 100:
        raise ValidationFailed("联系方式过长", code="objection.contact_too_long")
    return reasons, name, contact


def file_grade(
    session: Session,
    ctx: UseCaseContext,
    *,
    answer_workdays: int,
    result_id: int,
    subject_id: int,
    model_code: str,
    indicator_code: str | None,
    label: str,
    department_code: str,
    other_departments: Sequence[str],
    reasons: str,
    filer_name: str,
    filer_contact: str | None,
    evidence: Sequence[Upload],
) -> Objection:
    """File the subject's objection to its own grade (an evaluation result), naming the disputed indicator
    (None: the model as a whole, 整体评价). The evaluation package found the result and routed it: the
    department answering and the other providers behind the indicator; ``label`` names the target in notices."""
    principal, today = ctx.principal, ctx.today
    if principal.subject_id is None or principal.subject_id != subject_id or principal.user_id is None:
        raise NotFound("未找到该评价结果", code="objection.result_not_found")
    reasons, name, contact = _filer(reasons, filer_name, filer_contact, True)
    duplicate = select(Objection.id).where(
        Objection.evaluation_result_id == result_id,
        Objection.status == rules.OPEN,
        Objection.indicator_code.is_(None)
        if indicator_code is None
        else (Objection.indicator_code == indicator_code),
    )
    if session.scalar(duplicate.limit(1)) is not None:
        raise Conflict("您对该评价结果的异议正在处理中，请勿重复提交", code="objection.duplicate")
    due = rules.answer_deadline(today, ctx.calendar, answer_workdays)
    return _open(
        session,
        ctx,
        Objection(
            record_id=None,
            evaluation_result_id=result_id,
            model_code=model_code,
            indicator_code=indicator_code,
            other_departments=sorted(set(other_departments) - {department_code}) or None,
            subject_id=subject_id,
            department_code=department_code,
            filer_kind="subject",
            record_version=None,
        ),
        (reasons, name, contact),
        due,
        evidence,
        title="信用评价结果异议待处理",
        body=f"对评价结果“{label}”的异议，请在{due.due.isoformat()}前答复。",
    )


def _open(
    session: Session,
    ctx: UseCaseContext,
    objection: Objection,
    filer: tuple[str, str, str],
    due: Deadline,
    evidence: Sequence[Upload],
    *,
    title: str,
    body: str,
) -> Objection:
    """Open a new objection to its target (record or grade: its department and filer kind set by the caller)
    with the filer's reasons, name and contact and the answer's deadline; store its evidence, log its filing
    and tell the answering department."""
    objection.reasons, objection.filer_name, contact = filer
    objection.filer_contact = contact or None
    objection.filed_by = ctx.principal.user_id
    objection.status = rules.OPEN
    objection.filed_on = ctx.today
    objection.due_on, objection.due_provisional = due.due, due.provisional
    session.add(objection)
    session.flush()
    for upload in evidence:
        files.store(
            session,
            ctx.data_dir,
            ctx.principal,
            owner=f"objection:{objection.id}",
            filename=upload.filename,
            content=upload.content,
        )
    log_event(session, objection, "file", None, rules.OPEN, ctx.today, ctx.principal, None)
    notices.send(
        session,
        kind="objection_received",
        ref=f"objection:{objection.id}",
        title=title,
        body=body,
        link=f"/console/objections/{objection.id}",
        department_code=objection.department_code,
    )
    return objection


def withdraw(session: Session, principal: Principal, objection: Objection, *, today: dt.date) -> Objection:
    own = (principal.user_id is not None and principal.user_id == objection.filed_by) or (
        principal.subject_id is not None
        and principal.subject_id == objection.subject_id
        and objection.filer_kind == "subject"
    )
    if not own:
        raise Forbidden("只有异议人可以撤回异议", code="objection.not_filer")
    before = objection.status
    try:
        after = rules.transition(before, "withdraw")
    except rules.ObjectionRuleError as exc:
        raise Conflict(exc.message, code=exc.code) from None
    objection.status = after
    log_event(session, objection, "withdraw", before, after, today, principal, None)
    return objection
