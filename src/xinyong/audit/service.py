"""Appending to and verifying the audit trail. Appends run in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.audit import rules
from xinyong.audit.models import AuditEntry, AuditHead

__all__ = ["AuditEntry", "record", "verify", "views_of_subject"]


def _locked_head(session: Session) -> AuditHead:
    """The head of the chain this transaction appends to, locked until it commits.

    The first append of a transaction takes any chain head no other transaction holds (SKIP LOCKED), so
    concurrent requests do not wait for each other until every chain is busy; later appends of the same
    transaction stay on its chain. SQLite serialises writers anyway (FOR UPDATE is not emitted there).
    """
    session.connection()  # begins the transaction if it has not begun, so it can be told apart
    transaction = session.get_transaction()
    held = session.info.get("audit_head")
    query = select(AuditHead).execution_options(populate_existing=True)
    if held is not None and held[0] is transaction:
        return session.scalars(query.where(AuditHead.id == held[1]).with_for_update()).one()
    head = session.scalars(query.order_by(func.random()).limit(1).with_for_update(skip_locked=True)).first()
    if head is None:  # every chain busy (or none yet): wait for one
        chain = secrets.randbelow(rules.CHAINS) + 1
        head = session.scalars(query.where(AuditHead.id == chain).with_for_update()).one_or_none()
        if head is None:
            head = AuditHead(id=chain, last_id=0, last_hash=rules.GENESIS)
            session.add(head)
            session.flush()
    session.info["audit_head"] = (transaction, head.id)
    return head


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
    """Append one entry to the chain this transaction holds. Never pass personal IDs in clear in `details`."""
    head = _locked_head(session)
    content: dict[str, Any] = {
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
    seq = head.last_id + 1
    digest = rules.entry_hash(head.last_hash, {**content, "seq": seq})
    entry = AuditEntry(**content, chain=head.id, seq=seq, prev_hash=head.last_hash, hash=digest)
    session.add(entry)
    head.last_id, head.last_hash = seq, digest
    session.flush()
    return entry


def _rows(session: Session, chain: int) -> Iterator[dict[str, Any]]:
    columns = [getattr(AuditEntry, f) for f in (*rules.HASHED_FIELDS, "seq", "prev_hash", "hash")]
    result = session.execute(
        select(*columns)
        .where(AuditEntry.chain == chain)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=5000)
    )
    for row in result:
        yield dict(row._mapping)


def verify(session: Session) -> rules.Break | None:
    """Check every chain; the first break names the entry changed or inserted, or where one was removed."""
    stray = session.scalar(
        select(AuditEntry.id)
        .where(or_(AuditEntry.chain.is_(None), AuditEntry.seq.is_(None)))
        .order_by(AuditEntry.id)
        .limit(1)
    )
    if stray is not None:
        return rules.Break(stray, "该记录不属于任何链（在应用之外插入）")
    heads = {h.id: h for h in session.scalars(select(AuditHead))}
    chains = set(heads) | set(session.scalars(select(AuditEntry.chain).distinct()).all())
    for chain in sorted(c for c in chains if c is not None):
        head = heads.get(chain)
        broken = rules.verify_chain(
            chain,
            _rows(session, chain),
            head.last_id if head else 0,
            head.last_hash if head else rules.GENESIS,
        )
        if broken is not None:
            return broken
    return None


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
