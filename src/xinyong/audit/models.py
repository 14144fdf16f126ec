"""Audit entries and the chain heads (which make deleting the newest entries detectable).

The trail is a fixed number of parallel hash chains (``audit.rules.CHAINS``): a transaction appends to one
chain, taking a head no other transaction holds, so concurrent requests (checks, logins, reads) do not queue
behind a single lock. Each entry has its chain and its position (``seq``) in it; ``id`` is the global order.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_subject_at", "subject_id", "at"),
        Index("ix_audit_entries_chain_seq", "chain", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Chain and position; NULL only in a row written behind the application's back (verify names it).
    chain: Mapped[int | None] = mapped_column(Integer)
    seq: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    action: Mapped[str] = mapped_column(String(48), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # ok, denied, failed
    actor_kind: Mapped[str] = mapped_column(String(16))  # user, token, anonymous, system
    actor: Mapped[str] = mapped_column(String(64), index=True)
    department_code: Mapped[str | None] = mapped_column(String(32), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    target: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row per chain: the position and hash of its newest entry. Appends lock it: one order per chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the chain number
    last_id: Mapped[int] = mapped_column(Integer, default=0)  # the newest entry's position (seq) in the chain
    last_hash: Mapped[str] = mapped_column(String(64))
