"""Repair use cases: the policy, notices (修复告知书), applications, department decisions, re-checks.

A repaired record gets status ``repaired``: the public filter, the sharing filter and the check's triggers
all require ``active`` (or exclude ``repaired``), so at the moment of the decision it stops being public,
shared and able to trigger measures, and stays in the archive with the decision. A repaired list entry is
removed (移出, reason 信用修复). A wrong repair (错修) found on re-check puts both back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal, allows, may_act_for_department
from xinyong.audit import service as audit
from xinyong.catalog.schemas import Catalog
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.kit.identifiers import mask_embedded_ids
from xinyong.kit.workdays import WorkdayCalendar
from xinyong.lists import rules as list_rules
from xinyong.lists.models import ListEntry, ListEntryEvent
from xinyong.notices import service as notices
from xinyong.records.models import Record
from xinyong.repair import rules
from xinyong.repair.models import RepairApplication, RepairEvent
from xinyong.subjects.models import Subject

OVERRIDE_NAME = "repair.yaml"
COMMITMENT_TEMPLATE = "credit_repair"


# -- policy ----------------------------------------------------------------------------------------------------


@cache
def _load(path: str | None) -> rules.Policy:
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("xinyong.repair").joinpath("data/repair.yaml").read_text(encoding="utf-8")
    return rules.Policy.from_mapping(yaml.safe_load(text))


def policy(data_dir: Path | None = None) -> rules.Policy:
    """The repair policy: the shipped data, or the credit office's corrected copy in the data directory."""
    if data_dir is not None and (data_dir / OVERRIDE_NAME).is_file():
        return _load(str((data_dir / OVERRIDE_NAME).resolve()))
    return _load(None)


def notice_items(repair_policy: rules.Policy) -> frozenset[str]:
    """Items whose published records get a repair notice: repairable, with no legal bar."""
    barred = {code for bar in repair_policy.bars for code in bar.items}
    return frozenset(code for code in repair_policy.item_minimums if code not in barred)


# -- targets and eligibility -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetInfo:
    """A repair target as the workflow sees it: the rule input, the row, a label and the deciding department."""

    target: rules.Target
    kind: str
    record: Record | None
    entry: ListEntry | None
    label: str
    department_code: str
    subject_id: int


def _record_public(record: Record, today: dt.date) -> bool:
    if record.status != "active" or record.public_from is None or today < record.public_from:
        return False
    return record.public_until is None or today <= record.public_until


def target_of_record(catalog: Catalog, record: Record, today: dt.date) -> TargetInfo:
    item = catalog.item(record.item_code)
    name = item.name if item else record.item_code
    label = f"{name} {record.doc_no or ''}".strip()
    return TargetInfo(
        target=rules.Target(
            kind="record",
            code=record.item_code,
            in_force=_record_public(record, today),
            decided_on=record.decision_date,
            min_until=record.min_public_until,
        ),
        kind="record",
        record=record,
        entry=None,
        label=label,
        department_code=record.provider_code,
        subject_id=record.subject_id,
    )


def target_of_entry(entry: ListEntry, today: dt.date) -> TargetInfo:
    listed = entry.status == "listed" and (entry.public_until is None or entry.public_until >= today)
    label = f"{list_rules.LIST_TYPE_LABELS.get(entry.list_type, entry.list_type)} {entry.decision_no or ''}"
    return TargetInfo(
        target=rules.Target(
            kind="list_entry",
            code=entry.list_type,
            in_force=listed,
            decided_on=entry.decided_on,
            permanent=entry.permanent,
        ),
        kind="list_entry",
        record=None,
        entry=entry,
        label=label.strip(),
        department_code=entry.department_code,
        subject_id=entry.subject_id,
    )


def load_target(session: Session, catalog: Catalog, kind: str, target_id: int, today: dt.date) -> TargetInfo:
    if kind == "record":
        record = session.get(Record, target_id)
        if record is None:
            raise NotFound("未找到该信用记录", code="repair.target_not_found")
        return target_of_record(catalog, record, today)
    if kind == "list_entry":
        entry = session.get(ListEntry, target_id)
        if entry is None:
            raise NotFound("未找到该名单记录", code="repair.target_not_found")
        return target_of_entry(entry, today)
    raise ValidationFailed(f"修复对象类型“{kind}”不存在：应为 record 或 list_entry", code="repair.bad_target")


def _pending(session: Session, info: TargetInfo, exclude: int | None = None) -> bool:
    column = RepairApplication.record_id if info.kind == "record" else RepairApplication.list_entry_id
    target_id = info.record.id if info.record else info.entry.id  # type: ignore[union-attr]
    query = select(RepairApplication.id).where(
        column == target_id, RepairApplication.status.in_(sorted(rules.OPEN_STATES))
    )
    if exclude is not None:
        query = query.where(RepairApplication.id != exclude)
    return session.scalar(query.limit(1)) is not None


def evaluate(
    session: Session,
    repair_policy: rules.Policy,
    info: TargetInfo,
    *,
    today: dt.date,
    evidence_count: int,
    commitment_signed: bool,
    application_id: int | None = None,
) -> rules.Eligibility:
    return rules.eligibility(
        info.target,
        repair_policy,
        today=today,
        evidence_count=evidence_count,
        commitment_signed=commitment_signed,
        pending_application=_pending(session, info, exclude=application_id),
    )


def repairable_targets(
    session: Session, catalog: Catalog, repair_policy: rules.Policy, subject_id: int, today: dt.date
) -> list[tuple[TargetInfo, rules.Eligibility]]:
    """A subject's records and list entries that could be repaired, each with its (partial) eligibility.

    Evidence and the commitment come with the application, so here they count as if provided: what is
    shown is whether the period, the bars and pending applications allow applying today.
    """
    items = sorted(repair_policy.item_minimums)
    records = session.scalars(
        select(Record)
        .where(Record.subject_id == subject_id, Record.item_code.in_(items), Record.status == "active")
        .order_by(Record.decision_date.desc())
        .limit(200)
    ).all()
    entries = session.scalars(
        select(ListEntry)
        .where(ListEntry.subject_id == subject_id, ListEntry.status == "listed")
        .order_by(ListEntry.decided_on.desc())
    ).all()
    out = []
    infos = [target_of_record(catalog, r, today) for r in records] + [
        target_of_entry(e, today) for e in entries
    ]
    for info in infos:
        if not info.target.in_force:
            continue
        out.append(
            (
                info,
                evaluate(session, repair_policy, info, today=today, evidence_count=1, commitment_signed=True),
            )
        )
    return out


# -- notices (两书同达) -------------------------------------------------------------------------------------


def notice_view(repair_policy: rules.Policy, info: TargetInfo) -> dict[str, Any]:
    """The repair notice's content, from the record as it stands: what, how long public, from when, how."""
    record = info.record
    assert record is not None, "repair notices are about records"
    earliest = rules.earliest_application(info.target, repair_policy)
    return {
        "item": info.label,
        "doc_no": record.doc_no,
        "decision_date": record.decision_date,
        "department_code": record.provider_code,
        "severity": record.severity,
        "public_from": record.public_from,
        "public_until": record.public_until,
        "earliest": earliest,
        "status": record.status,
        "deadlines": {
            "accept": repair_policy.accept_workdays,
            "decide": repair_policy.decide_workdays,
        },
        "source": repair_policy.source,
    }


# -- applications --------------------------------------------------------------------------------------------


def _free_text(text: str) -> str:
    """Free text as kept: trimmed, with any resident ID typed into it masked (IDs are never stored in clear)."""
    return mask_embedded_ids(text.strip())[0]


def _event(
    session: Session,
    application: RepairApplication,
    event: str,
    before: str | None,
    after: str,
    today: dt.date,
    principal: Principal,
    note: str | None,
) -> None:
    session.add(
        RepairEvent(
            application_id=application.id,
            event=event,
            from_state=before,
            to_state=after,
            on=today,
            actor=principal.name,
            note=note,
        )
    )
    application.updated_at = dt.datetime.now(dt.UTC)
    audit.record(
        session,
        principal,
        f"repair.{event}",
        subject_id=application.subject_id,
        target=f"repair:{application.id}",
        details={"from": before, "to": after},
    )
    session.flush()


def apply(
    session: Session,
    principal: Principal,
    *,
    catalog: Catalog,
    repair_policy: rules.Policy,
    calendar: WorkdayCalendar,
    signer: Any,
    data_dir: Path,
    target_kind: str,
    target_id: int,
    statement: str,
    contact_name: str,
    contact_phone: str,
    signer_name: str,
    evidence: Sequence[Upload],
    today: dt.date,
) -> RepairApplication:
    """Submit a repair application: online by the subject, or on paper recorded by a department clerk.

    The commitment is signed from the standard template as part of the application (and published with
    it); the evidence is stored; eligibility is checked by the rules and refused with every unmet
    condition explained.
    """
    info = load_target(session, catalog, target_kind, target_id, today)
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
    due = rules.due_after("submit", today, repair_policy, calendar)
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
        statement=_free_text(statement),
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
            data_dir,
            principal,
            owner=f"repair:{application.id}",
            filename=upload.filename,
            content=upload.content,
        )
    commitment = commitments.sign(
        session,
        principal,
        signer,
        template_code=COMMITMENT_TEMPLATE,
        subject=subject,
        target=info.label,
        signer_name=signer_name,
        today=today,
        ref=f"repair:{application.id}",
        channel="online" if online else "paper",
        department_code=info.department_code,
    )
    application.commitment_id = commitment.id
    _event(session, application, "submit", None, rules.SUBMITTED, today, principal, None)
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


def _set_repaired(
    session: Session, application: RepairApplication, principal: Principal, today: dt.date
) -> None:
    if application.record_id is not None:
        record = session.get(Record, application.record_id)
        assert record is not None
        record.status = "repaired"
        record.updated_at = dt.datetime.now(dt.UTC)
    elif application.list_entry_id is not None:
        entry = session.get(ListEntry, application.list_entry_id)
        assert entry is not None
        before = entry.status
        entry.status, entry.removed_on, entry.removal_reason = "removed", today, "repaired"
        entry.updated_at = dt.datetime.now(dt.UTC)
        session.add(
            ListEntryEvent(
                entry_id=entry.id,
                event="remove",
                from_state=before,
                to_state="removed",
                on=today,
                actor=principal.name,
                note=f"信用修复（修复申请 {application.id}）",
            )
        )
    session.flush()


def _undo_repair(
    session: Session, application: RepairApplication, principal: Principal, today: dt.date, note: str
) -> None:
    if application.record_id is not None:
        record = session.get(Record, application.record_id)
        assert record is not None
        if record.status == "repaired":
            record.status = "active"
            record.updated_at = dt.datetime.now(dt.UTC)
    elif application.list_entry_id is not None:
        entry = session.get(ListEntry, application.list_entry_id)
        assert entry is not None
        if entry.status == "removed" and entry.removal_reason == "repaired":
            entry.status, entry.removed_on, entry.removal_reason = "listed", None, None
            entry.updated_at = dt.datetime.now(dt.UTC)
            session.add(
                ListEntryEvent(
                    entry_id=entry.id,
                    event="reinstate",
                    from_state="removed",
                    to_state="listed",
                    on=today,
                    actor=principal.name,
                    note=f"错修纠正（修复申请 {application.id}）：{note}",
                )
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


def advance(
    session: Session,
    principal: Principal,
    application: RepairApplication,
    event: str,
    *,
    catalog: Catalog,
    repair_policy: rules.Policy,
    calendar: WorkdayCalendar,
    today: dt.date,
    note: str | None = None,
    decision_no: str | None = None,
    data_dir: Path | None = None,
    evidence: Sequence[Upload] = (),
) -> RepairApplication:
    """One step of the workflow, by the department, the applicant or (re-check) the credit office."""
    own = principal.subject_id is not None and principal.subject_id == application.subject_id
    if event in rules.APPLICANT_EVENTS:
        clerk = (
            application.channel == "paper"
            and allows(principal, "repairs:handle")
            and may_act_for_department(principal, application.department_code)
        )
        if not (own or clerk):
            raise Forbidden("只有申请人可以补正材料或撤回申请", code="repair.not_applicant")
    elif event in rules.RECHECK_EVENTS:
        if not (principal.is_credit_office or principal.kind == "system"):
            raise Forbidden("只有信用办可以在复核中纠正错修、漏修", code="repair.recheck_only")
    elif not (
        allows(principal, "repairs:handle") and may_act_for_department(principal, application.department_code)
    ):
        raise Forbidden("只有认定部门可以办理该修复申请（谁认定谁修复）", code="repair.other_department")
    eligibility = None
    if event in ("approve", "complete"):
        eligibility = _current_eligibility(session, catalog, repair_policy, application, today)
        if event == "complete":  # the pending application is this one, refused earlier
            eligibility = rules.Eligibility(
                tuple(c for c in eligibility.conditions if c.code != "no_pending"), eligibility.earliest
            )
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
    if evidence:
        assert data_dir is not None
        for upload in evidence:
            files.store(
                session,
                data_dir,
                principal,
                owner=f"repair:{application.id}",
                filename=upload.filename,
                content=upload.content,
            )
    due = rules.due_after(event, today, repair_policy, calendar)
    if due is not None:
        application.due_on, application.due_provisional = due.due, due.provisional
    elif event not in rules.KEEPS_DEADLINE:
        application.due_on, application.due_provisional = None, False
    if event == "accept":
        application.accepted_on = today
    elif event == "request_material":
        application.material_note = _free_text(note or "")
    elif event in ("approve", "refuse", "reject", "complete"):
        application.decided_on = today
        application.decision_note = _free_text(note or "") or None
        if decision_no:
            application.decision_no = decision_no.strip()[:128]
    application.status = after
    if after == rules.REPAIRED:
        _set_repaired(session, application, principal, today)
    elif event == "revert":
        _undo_repair(session, application, principal, today, note or "")
    if event in rules.RECHECK_EVENTS:
        application.recheck_status, application.recheck_note = "corrected", (note or "").strip()
    note = _free_text(note) if note else note
    _event(session, application, event, before, after, today, principal, note)
    if event not in ("review", "supplement", "withdraw"):
        notices.send(
            session,
            kind="repair_update",
            ref=f"repair:{application.id}:{event}:{today.isoformat()}",
            title=f"信用修复申请{rules.STATE_LABELS[after]}",
            body=f"您对“{application.target_label}”的修复申请：{rules.EVENT_LABELS[event]}。"
            + (f"说明：{note.strip()}" if note and note.strip() else ""),
            link=f"/account/repairs/{application.id}",
            subject_id=application.subject_id,
        )
    return application


def events_of(session: Session, application_id: int) -> Sequence[RepairEvent]:
    return session.scalars(
        select(RepairEvent).where(RepairEvent.application_id == application_id).order_by(RepairEvent.id)
    ).all()


def commitment_of(session: Session, application: RepairApplication) -> Commitment | None:
    return session.get(Commitment, application.commitment_id) if application.commitment_id else None


# -- queues, lists, statistics ----------------------------------------------------------------------------------


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


# -- jobs: overdue alerts and the re-check sample ----------------------------------------------------------------


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
    _event(
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
