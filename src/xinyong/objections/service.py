"""Objection use cases: file, answer (correct / revoke / maintain), withdraw, escalate overdue ones.

An objection targets a record, or an evaluation result (a grade, `file_grade`): the evaluation package routes
a grade objection to the provider of the disputed input and files it here; its provider answers by maintaining
the grade with reasons, or by correcting or revoking one of its records behind it (the next incremental
evaluation re-grades).

A correction or a revocation is made by the record's owner (`records.lifecycle`): a new version, field by
field, the old one kept in record_versions under a batch of source ``correction``, the publicity window
recomputed when a date or the severity changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, distinct, func, select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal, allows, may_act_for_department
from xinyong.catalog.schemas import Catalog
from xinyong.disclosure import rules as disclosure
from xinyong.disclosure.rules import RuleSet
from xinyong.events import workflow
from xinyong.events.models import WorkflowEvent
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.kit.identifiers import mask_embedded_ids
from xinyong.kit.workdays import WorkdayCalendar
from xinyong.notices import service as notices
from xinyong.objections import rules
from xinyong.objections.models import Objection
from xinyong.records import lifecycle
from xinyong.records import rules as record_rules
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


def _event(
    session: Session,
    objection: Objection,
    event: str,
    before: str | None,
    after: str,
    today: dt.date,
    principal: Principal,
    note: str | None,
) -> None:
    objection.updated_at = dt.datetime.now(dt.UTC)
    workflow.log(
        session,
        principal,
        workflow.OBJECTION,
        objection.id,
        event,
        before,
        after,
        today=today,
        note=note,
        subject_id=objection.subject_id,
        details=(
            {"record_id": objection.record_id}
            if objection.record_id is not None
            else {
                "evaluation_result_id": objection.evaluation_result_id,
                "indicator": objection.indicator_code,
            }
        ),
    )


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
    catalog, calendar, data_dir = ctx.catalog, ctx.calendar, ctx.data_dir
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
    objection = Objection(
        record_id=record.id,
        subject_id=record.subject_id,
        department_code=record.provider_code,
        filer_kind="subject" if own else "public",
        filer_name=name,
        filer_contact=contact or None,
        filed_by=principal.user_id,
        reasons=reasons,
        status=rules.OPEN,
        filed_on=today,
        due_on=due.due,
        due_provisional=due.provisional,
        record_version=record.version,
    )
    session.add(objection)
    session.flush()
    for upload in evidence:
        files.store(
            session,
            data_dir,
            principal,
            owner=f"objection:{objection.id}",
            filename=upload.filename,
            content=upload.content,
        )
    _event(session, objection, "file", None, rules.OPEN, today, principal, None)
    notices.send(
        session,
        kind="objection_received",
        ref=f"objection:{objection.id}",
        title="信用信息异议待处理",
        body=f"对记录“{record.doc_no or record.id}”的异议，请在{due.due.isoformat()}前答复。",
        link=f"/console/objections/{objection.id}",
        department_code=record.provider_code,
    )
    return objection


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
    objection = Objection(
        record_id=None,
        evaluation_result_id=result_id,
        model_code=model_code,
        indicator_code=indicator_code,
        other_departments=sorted(set(other_departments) - {department_code}) or None,
        subject_id=subject_id,
        department_code=department_code,
        filer_kind="subject",
        filer_name=name,
        filer_contact=contact or None,
        filed_by=principal.user_id,
        reasons=reasons,
        status=rules.OPEN,
        filed_on=today,
        due_on=due.due,
        due_provisional=due.provisional,
        record_version=None,
    )
    session.add(objection)
    session.flush()
    for upload in evidence:
        files.store(
            session,
            ctx.data_dir,
            principal,
            owner=f"objection:{objection.id}",
            filename=upload.filename,
            content=upload.content,
        )
    _event(session, objection, "file", None, rules.OPEN, today, principal, None)
    notices.send(
        session,
        kind="objection_received",
        ref=f"objection:{objection.id}",
        title="信用评价结果异议待处理",
        body=f"对评价结果“{label}”的异议，请在{due.due.isoformat()}前答复。",
        link=f"/console/objections/{objection.id}",
        department_code=department_code,
    )
    return objection


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


def _answered_record(
    session: Session, objection: Objection, event: str, record_id: int | None
) -> Record | None:
    """The record an answer acts on: the one objected to, or for a grade objection corrected or revoked, the
    chosen record of the subject the department provided and still in force (None: a grade maintained)."""
    if objection.record_id is not None:
        found = session.get(Record, objection.record_id)
        assert found is not None
        return found
    if event == "maintain":
        return None
    record = session.get(Record, record_id) if record_id is not None else None
    if record is None or record.subject_id != objection.subject_id:
        raise ValidationFailed("请选择要更正或撤销的信用记录", code="objection.record_required")
    if record.provider_code != objection.department_code or record.status != RecordStatus.ACTIVE:
        raise ValidationFailed(
            "只能更正或撤销本部门提供、仍然有效的该主体信用记录", code="objection.record_not_provided"
        )
    return record


def _changes(
    catalog: Catalog, record: Record, corrections: dict[str, Any] | None, today: dt.date
) -> list[record_rules.FieldChange]:
    """A correction's field-level changes, checked against the item's correctable fields."""
    item = catalog.item(record.item_code)
    assert item is not None
    allowed = {spec.name: spec.label for spec in record_rules.correctable_fields(item)}
    refused = sorted(set(corrections or {}) - set(allowed))
    if refused:
        raise ValidationFailed(
            f"这些字段不能通过异议更正：{'、'.join(refused)}（主体身份、文书号和证件号码须由报送部门重新报送）",
            code="objection.field_not_correctable",
        )
    converted, errors = record_rules.validate_fields(item, corrections or {}, today=today)
    if errors:
        raise ValidationFailed(
            "更正内容有误：" + "；".join(e.message for e in errors),
            code="objection.invalid_correction",
            details=[e.as_dict() for e in errors],
        )
    return record_rules.field_changes(record.fields, converted, allowed)


def answer(
    session: Session,
    ctx: UseCaseContext,
    objection: Objection,
    event: str,
    *,
    rule_sets: list[RuleSet],
    reason: str | None,
    corrections: dict[str, Any] | None = None,
    record_id: int | None = None,
) -> Objection:
    """The provider department's answer: correct (field by field), revoke, or maintain with reasons (who
    answers, on what day, the catalog and the cipher come from the context). To a grade objection, correcting
    or revoking acts on ``record_id``: one of the subject's records in force that the department provided."""
    principal, today, catalog, cipher = ctx.principal, ctx.today, ctx.catalog, ctx.cipher
    if event not in rules.ANSWERS:
        raise ValidationFailed(f"答复方式“{event}”不存在", code="objection.unknown_event")
    reason = mask_embedded_ids(reason.strip())[0] if reason else reason  # IDs are never stored in clear
    if not (
        allows(principal, "objections:handle")
        and may_act_for_department(principal, objection.department_code)
    ):
        raise Forbidden("只有提供该记录的部门可以答复异议", code="objection.other_department")
    grade = objection.record_id is None
    record = _answered_record(session, objection, event, record_id)
    if record is None:
        return _answer_grade(session, ctx, objection, reason)
    changes = _changes(catalog, record, corrections, today) if event == "correct" else []
    before = objection.status
    try:
        after = rules.transition(before, event, changes=changes, reason=reason)
    except rules.ObjectionRuleError as exc:
        raise Conflict(exc.message, code=exc.code) from None
    ref = f"objection:{objection.id}"
    if event == "correct":
        objection.new_version = lifecycle.correct(
            session, record, changes, catalog=catalog, rule_sets=rule_sets, cipher=cipher, ref=ref
        )
        objection.changes = [c.as_dict() for c in changes]
    elif event == "revoke":
        objection.new_version = lifecycle.revoke(
            session, record, catalog=catalog, rule_sets=rule_sets, cipher=cipher, ref=ref
        )
    if grade:  # the record corrected or revoked behind the grade
        objection.changes = [{"record_id": record.id, **c} for c in objection.changes or [{}]]
    objection.status, objection.answered_on, objection.answer = after, today, reason or ""
    _event(session, objection, event, before, after, today, principal, reason)
    notices.send(
        session,
        kind="objection_answer",
        ref=f"objection:{objection.id}",
        title=f"信用信息异议处理结果：{rules.STATE_LABELS[after]}",
        body=f"对{'评价结果所依据的' if grade else ''}记录“{record.doc_no or record.id}”的异议已处理："
        f"{rules.STATE_LABELS[after]}。理由：{(reason or '').strip()}",
        link=f"/account/objections/{objection.id}",
        subject_id=objection.subject_id,
    )
    return objection


def _answer_grade(
    session: Session, ctx: UseCaseContext, objection: Objection, reason: str | None
) -> Objection:
    """Maintain a grade with the department's reasons."""
    before = objection.status
    try:
        after = rules.transition(before, "maintain", reason=reason)
    except rules.ObjectionRuleError as exc:
        raise Conflict(exc.message, code=exc.code) from None
    objection.status, objection.answered_on, objection.answer = after, ctx.today, reason or ""
    _event(session, objection, "maintain", before, after, ctx.today, ctx.principal, reason)
    notices.send(
        session,
        kind="objection_answer",
        ref=f"objection:{objection.id}",
        title=f"信用评价结果异议处理结果：{rules.STATE_LABELS[after]}",
        body=f"对评价结果的异议已处理：维持原评价结果。理由：{(reason or '').strip()}",
        link=f"/account/objections/{objection.id}",
        subject_id=objection.subject_id,
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
    _event(session, objection, "withdraw", before, after, today, principal, None)
    return objection


def escalate_overdue(session: Session, today: dt.date, *, credit_office: str, principal: Principal) -> int:
    """Escalate open objections past their deadline to the credit office (once each)."""
    candidates = session.scalars(
        select(Objection).where(
            Objection.status == rules.OPEN, Objection.escalated_on.is_(None), Objection.due_on < today
        )
    ).all()
    count = 0
    for objection in candidates:
        if not rules.should_escalate(objection.status, objection.due_on, objection.escalated_on, today):
            continue
        objection.escalated_on = today
        _event(
            session,
            objection,
            "escalate",
            objection.status,
            objection.status,
            today,
            principal,
            "逾期未答复，已提请信用办督办",
        )
        notices.send(
            session,
            kind="objection_escalated",
            ref=f"objection:{objection.id}",
            title="异议逾期未答复，提请督办",
            body=f"部门{objection.department_code}未在{objection.due_on.isoformat()}前答复异议{objection.id}。",
            link=f"/console/objections/{objection.id}",
            department_code=credit_office,
        )
        count += 1
    return count


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
    from sqlalchemy import or_

    return session.scalars(select(Objection).where(or_(*conditions)).order_by(Objection.id.desc())).all()


def events_of(session: Session, objection_id: int) -> Sequence[WorkflowEvent]:
    return workflow.history(session, workflow.OBJECTION, objection_id)


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
