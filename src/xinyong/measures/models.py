"""Measure list versions, real-time checks (signed) and feedback on measures applied."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime, utcnow


class MeasureListVersion(Base):
    """A version of the measure list (措施清单): a draft being edited, the published one, or a retired one."""

    __tablename__ = "measure_list_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # draft, published, retired
    effective_from: Mapped[dt.date] = mapped_column(Date)
    document: Mapped[dict[str, Any]] = mapped_column(
        JSONType
    )  # the whole list, validated by measures.schemas
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Check(Base):
    """One real-time credit check (信用核查): who asked, about whom, for what, and the signed answer."""

    __tablename__ = "checks"
    __table_args__ = (Index("ix_checks_department_at", "department_code", "checked_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    actor: Mapped[str] = mapped_column(String(64))
    scenario: Mapped[str] = mapped_column(String(48), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("subjects.id"), index=True
    )  # None: unknown subject
    measure_version: Mapped[str] = mapped_column(String(32))
    hit_count: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the signed payload, exactly as signed
    signature: Mapped[str] = mapped_column(Text)  # base64 Ed25519 signature over the canonical payload
    batch_id: Mapped[str | None] = mapped_column(String(32), index=True)


class MeasureFeedback(Base):
    """What the department did with a hit (applied or not applicable, with reason); applied = a case."""

    __tablename__ = "measure_feedback"
    __table_args__ = (Index("ix_measure_feedback_measure_month", "measure_code", "reported_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[str] = mapped_column(ForeignKey("checks.id"), index=True)
    measure_code: Mapped[str] = mapped_column(String(48))
    measure_kind: Mapped[str] = mapped_column(String(16))
    scenario: Mapped[str] = mapped_column(String(48))
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # applied, not_applicable
    reason: Mapped[str | None] = mapped_column(Text)
    reported_on: Mapped[dt.date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
