"""The mailbox: sending, listing and reading notices. Sending is idempotent: one notice per (kind, ref).

No domain logic lives here: the domains (or their reactions to domain events) decide what to send.
"""

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
