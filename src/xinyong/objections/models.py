"""Objections (异议) to records or to evaluation results (grades), and their steps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime, utcnow


class Objection(Base):
    __tablename__ = "objections"
    __table_args__ = (
        Index("ix_objections_department_status", "department_code", "status"),
        # Exactly one target: a record, or an evaluation result (a grade).
        CheckConstraint(
            "(record_id IS NOT NULL AND evaluation_result_id IS NULL)"
            " OR (record_id IS NULL AND evaluation_result_id IS NOT NULL)",
            name="one_target",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), index=True)
    # A grade objection: the evaluation result, its model, the disputed indicator (None: the model as a whole)
    # and the other departments whose records are behind the indicator's value.
    evaluation_result_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_results.id"), index=True)
    model_code: Mapped[str | None] = mapped_column(String(48))
    indicator_code: Mapped[str | None] = mapped_column(String(48))
    other_departments: Mapped[list[str] | None] = mapped_column(JSONType)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))  # the provider answers
    filer_kind: Mapped[str] = mapped_column(String(16))  # subject, public, clerk
    filer_name: Mapped[str] = mapped_column(String(100))
    filer_contact: Mapped[str | None] = mapped_column(String(100))
    filed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reasons: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    filed_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(default=False)
    escalated_on: Mapped[dt.date | None] = mapped_column(Date)
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    record_version: Mapped[int | None] = mapped_column(Integer)  # the version objected to (a record's)
    new_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
