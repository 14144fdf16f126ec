"""Repair targets (a record or a list entry) and their eligibility as the workflow sees them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.catalog.schemas import Catalog
from xinyong.kit.errors import NotFound, ValidationFailed
from xinyong.lists import rules as list_rules
from xinyong.lists.models import ListEntry
from xinyong.records.models import Record, RecordStatus
from xinyong.repair import rules
from xinyong.repair.models import RepairApplication


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
    if record.status != RecordStatus.ACTIVE or record.public_from is None or today < record.public_from:
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
        .where(
            Record.subject_id == subject_id, Record.item_code.in_(items), Record.status == RecordStatus.ACTIVE
        )
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
