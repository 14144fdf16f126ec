"""Repair notices (信用修复告知书, 两书同达): their content, and the reaction that issues them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import String, and_, cast, exists, insert, literal, select
from sqlalchemy.orm import Session

from xinyong.events import service as events
from xinyong.events.models import DomainEvent
from xinyong.events.service import Consumer, EventRange
from xinyong.notices.models import Notice
from xinyong.records.models import Record
from xinyong.repair import rules
from xinyong.repair.policy import notice_items
from xinyong.repair.targets import TargetInfo

REPAIR_NOTICE = "repair_notice"
REPAIR_NOTICE_TITLE = "信用修复告知书"
CONSUMER = "repair.notices"


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


def issue(session: Session, items: Iterable[str], span: EventRange) -> int:
    """两书同达: a repair notice for each record published in `span` (`record.published`) whose item may be
    repaired and that has none yet, in one INSERT … SELECT. Idempotent: a re-run sends nothing twice. The
    notice's text is rendered from the record when read, so it always states the current window."""
    codes = sorted(items)
    if not codes:
        return 0
    query = (
        select(
            literal(REPAIR_NOTICE),
            literal("record:") + cast(Record.id, String),
            Record.subject_id,
            Record.id,
            literal(REPAIR_NOTICE_TITLE),
            literal(dt.datetime.now(dt.UTC), Notice.__table__.c.created_at.type),
        )
        .join(DomainEvent, DomainEvent.aggregate_id == Record.id)
        .where(
            DomainEvent.kind == events.RECORD_PUBLISHED,
            DomainEvent.aggregate == "record",
            DomainEvent.id > span.after,
            DomainEvent.id <= span.upto,
            Record.item_code.in_(codes),
            ~exists().where(and_(Notice.kind == REPAIR_NOTICE, Notice.record_id == Record.id)),
        )
        .distinct()  # a record published twice in the span gets one notice
    )
    result = session.execute(
        insert(Notice).from_select(["kind", "ref", "subject_id", "record_id", "title", "created_at"], query),
        execution_options={"preserve_rowcount": True},  # psycopg reports -1 for INSERT … SELECT otherwise
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def consumer(repair_policy: Callable[[], rules.Policy]) -> Consumer:
    """The reaction that issues repair notices, with the items of the policy in force when it runs."""

    def handle(session: Session, span: EventRange) -> int:
        return issue(session, notice_items(repair_policy()), span)

    return Consumer(CONSUMER, frozenset({events.RECORD_PUBLISHED}), handle)
