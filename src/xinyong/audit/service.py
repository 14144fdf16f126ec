"""Appending to and verifying the audit trail. Appends run in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.audit import rules
from xinyong.audit.models import AuditEntry, AuditHead

__all__ = ["AuditEntry", "record", "verify", "views_of_subject"]

_HEAD_ID = 1


def record(
    session: Session,
    principal: Principal,
    action: str,
    *,
    outcome: str = "ok",
    subject_id: int | None = None,
    target: str | None = None,
    purpose: str | None = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry, chained to the previous one. Never pass personal IDs in clear in `details`."""
    head = session.scalars(select(AuditHead).where(AuditHead.id == _HEAD_ID).with_for_update()).one_or_none()
    if head is None:
        head = AuditHead(id=_HEAD_ID, last_id=0, last_hash=rules.GENESIS)
        session.add(head)
        session.flush()
    content: dict[str, Any] = {
        "id": head.last_id + 1,
        "at": dt.datetime.now(dt.UTC),
        "action": action,
        "outcome": outcome,
        "actor_kind": principal.kind,
        "actor": principal.name[:64],
        "department_code": principal.department_code,
        "subject_id": subject_id,
        "target": target[:200] if target else None,
        "purpose": purpose[:200] if purpose else None,
        "ip": ip,
        "details": details,
    }
    digest = rules.entry_hash(head.last_hash, content)
    entry = AuditEntry(**content, prev_hash=head.last_hash, hash=digest)
    session.add(entry)
    head.last_id, head.last_hash = entry.id, digest
    session.flush()
    return entry


def _rows(session: Session) -> Iterator[dict[str, Any]]:
    columns = [getattr(AuditEntry, f) for f in (*rules.HASHED_FIELDS, "prev_hash", "hash")]
    result = session.execute(select(*columns).order_by(AuditEntry.id).execution_options(yield_per=5000))
    for row in result:
        yield dict(row._mapping)


def verify(session: Session) -> rules.Break | None:
    """Check the whole chain; the first break names the entry that was changed, removed or inserted."""
    head = session.get(AuditHead, _HEAD_ID)
    return rules.verify(
        _rows(session), head.last_id if head else 0, head.last_hash if head else rules.GENESIS
    )


def views_of_subject(session: Session, subject_id: int, limit: int = 200) -> Sequence[AuditEntry]:
    """Who looked at a subject's non-public file (查询记录), newest first."""
    return session.scalars(
        select(AuditEntry)
        .where(AuditEntry.subject_id == subject_id, AuditEntry.action.in_(("subject.view", "check.run")))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ).all()


def search(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    department_code: str | None = None,
    subject_id: int | None = None,
    limit: int = 200,
) -> Sequence[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if department_code:
        query = query.where(AuditEntry.department_code == department_code)
    if subject_id:
        query = query.where(AuditEntry.subject_id == subject_id)
    return session.scalars(query).all()
