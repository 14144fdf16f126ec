"""List entries (严重失信主体名单, 守信激励对象名单, 市场禁入) and their due-process history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, UTCDateTime, utcnow


class ListEntry(Base):
    __tablename__ = "list_entries"
    __table_args__ = (Index("ix_list_entries_subject_type", "subject_id", "list_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    list_type: Mapped[str] = mapped_column(String(24), index=True)
    status: Mapped[str] = mapped_column(
        String(16), index=True
    )  # proposed, notified, listed, dropped, removed
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)  # 认定单位
    decision_no: Mapped[str | None] = mapped_column(String(128))  # 认定文号
    legal_basis: Mapped[str] = mapped_column(Text)  # 认定依据
    facts: Mapped[str] = mapped_column(Text)  # 主要失信（守信）事实
    scope: Mapped[str | None] = mapped_column(String(200))  # market ban: industry or activity
    permanent: Mapped[bool] = mapped_column(default=False)
    proposed_on: Mapped[dt.date] = mapped_column(Date)
    notified_on: Mapped[dt.date | None] = mapped_column(Date)
    statement_deadline: Mapped[dt.date | None] = mapped_column(Date)  # 陈述申辩期限
    deadline_provisional: Mapped[bool] = mapped_column(default=False)
    statement_received_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    public_from: Mapped[dt.date | None] = mapped_column(Date)
    public_until: Mapped[dt.date | None] = mapped_column(Date)  # None while listed: until removed
    removed_on: Mapped[dt.date | None] = mapped_column(Date)
    removal_reason: Mapped[str | None] = mapped_column(String(32))
    escalation_rule: Mapped[str | None] = mapped_column(String(48))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
