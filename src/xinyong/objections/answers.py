"""Answering an objection: the provider department corrects (field by field), revokes or maintains with
reasons; to a grade objection it maintains the grade or corrects or revokes one of its records behind it.
Open objections past their deadline are escalated to the credit office.

A correction or a revocation is made by the record's owner (`records.lifecycle`): a new version, field by
field, the old one kept in record_versions under a batch of source ``correction``, the publicity window
recomputed when a date or the severity changed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal, allows, may_act_for_department
from xinyong.catalog.schemas import Catalog
from xinyong.disclosure.rules import RuleSet
from xinyong.kit.errors import Conflict, Forbidden, ValidationFailed
from xinyong.kit.identifiers import mask_embedded_ids
from xinyong.notices import service as notices
from xinyong.objections import rules
from xinyong.objections.history import log_event
from xinyong.objections.models import Objection
from xinyong.records import lifecycle
from xinyong.records import rules as record_rules
from xinyong.records.models import Record, RecordStatus


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
    log_event(session, objection, event, before, after, today, principal, reason)
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
    log_event(session, objection, "maintain", before, after, ctx.today, ctx.principal, reason)
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
        log_event(
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
