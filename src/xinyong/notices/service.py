"""Sending and reading notices. Sending is idempotent: one notice per (kind, ref)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.kit.errors import NotFound
from xinyong.notices.models import Notice


def send(
    session: Session,
    *,
    kind: str,
    ref: str,
    title: str,
    body: str | None = None,
    link: str | None = None,
    subject_id: int | None = None,
    department_code: str | None = None,
    record_id: int | None = None,
) -> Notice:
    """Send a notice once: a second send with the same kind and ref returns the first."""
    existing = session.scalars(select(Notice).where(Notice.kind == kind, Notice.ref == ref)).first()
    if existing is not None:
        return existing
    notice = Notice(
        kind=kind,
        ref=ref,
        title=title,
        body=body,
        link=link,
        subject_id=subject_id,
        department_code=department_code,
        record_id=record_id,
    )
    session.add(notice)
    session.flush()
    return notice


def exists(session: Session, kind: str, ref: str) -> bool:
    return (
        session.scalar(select(Notice.id).where(Notice.kind == kind, Notice.ref == ref).limit(1)) is not None
    )


def _mine(principal: Principal) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if principal.subject_id is not None:
        conditions.append(Notice.subject_id == principal.subject_id)
    if principal.department_code and principal.is_government:
        conditions.append(Notice.department_code == principal.department_code)
    return conditions


def inbox(session: Session, principal: Principal, *, limit: int = 100) -> Sequence[Notice]:
    conditions = _mine(principal)
    if not conditions:
        return []
    return session.scalars(
        select(Notice)
        .where(or_(*conditions))
        .order_by(Notice.created_at.desc(), Notice.id.desc())
        .limit(limit)
    ).all()


def unread_count(session: Session, principal: Principal) -> int:
    conditions = _mine(principal)
    if not conditions:
        return 0
    return int(
        session.scalar(select(func.count(Notice.id)).where(or_(*conditions), Notice.read_at.is_(None))) or 0
    )


def get(session: Session, principal: Principal, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    mine = notice is not None and (
        (principal.subject_id is not None and notice.subject_id == principal.subject_id)
        or (principal.is_government and notice.department_code == principal.department_code)
    )
    if notice is None or not mine:
        raise NotFound("未找到该通知", code="notice.not_found")
    return notice


def mark_read(session: Session, notice: Notice) -> None:
    if notice.read_at is None:
        notice.read_at = dt.datetime.now(dt.UTC)
        session.flush()


REPAIR_NOTICE = "repair_notice"
REPAIR_NOTICE_TITLE = "信用修复告知书"


def issue_repair_notices(session: Session, natural_keys: Sequence[str]) -> int:
    """两书同达: a repair notice for each of these records (by natural key) that has none yet.

    Ingestion passes the keys of the records it just stored that will be public and may be repaired; the
    statement looks them up through the unique key, so its cost follows the chunk, not the table. Idempotent:
    a re-run sends nothing twice. The notice's text is rendered from the record when read, so it always
    states the current window.
    """
    from sqlalchemy import String, and_, cast, exists, insert, literal

    from xinyong.db.bulk import member_of
    from xinyong.records.models import Record

    issued = 0
    now = dt.datetime.now(dt.UTC)
    for condition in member_of(session, Record.natural_key, natural_keys):
        query = select(
            literal(REPAIR_NOTICE),
            literal("record:") + cast(Record.id, String),
            Record.subject_id,
            Record.id,
            literal(REPAIR_NOTICE_TITLE),
            literal(now, Notice.__table__.c.created_at.type),
        ).where(
            condition,
            ~exists().where(and_(Notice.kind == REPAIR_NOTICE, Notice.record_id == Record.id)),
        )
        result = session.execute(
            insert(Notice).from_select(
                ["kind", "ref", "subject_id", "record_id", "title", "created_at"], query
            ),
            execution_options={"preserve_rowcount": True},  # psycopg reports -1 for INSERT … SELECT otherwise
        )
        issued += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return issued
