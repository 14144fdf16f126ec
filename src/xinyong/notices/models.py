"""Notices (通知): to a subject's account or to a department's queue; one per (kind, ref)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, UTCDateTime, utcnow


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("kind", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # repair_notice, repair_decision, objection_answer, ...
    ref: Mapped[str] = mapped_column(String(64))  # what it is about, e.g. record:12, repair:3:approve
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"), index=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)  # None for repair notices: rendered from the record
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
