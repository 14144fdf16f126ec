"""Repair applications (信用修复申请) and their steps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime, utcnow

OPEN_STATES_SQL = "status IN ('submitted', 'accepted', 'under_review', 'material_requested')"


class RepairApplication(Base):
    __tablename__ = "repair_applications"
    __table_args__ = (
        Index("ix_repair_applications_department_status", "department_code", "status"),
        # At most one open application per record and per list entry, even under concurrent submissions.
        *(
            Index(
                f"uq_repair_applications_open_{column}",
                column,
                unique=True,
                postgresql_where=text(OPEN_STATES_SQL),
                sqlite_where=text(OPEN_STATES_SQL),
            )
            for column in ("record_id", "list_entry_id")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))  # record, list_entry
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), index=True)
    list_entry_id: Mapped[int | None] = mapped_column(ForeignKey("list_entries.id"), index=True)
    target_label: Mapped[str] = mapped_column(String(300))  # e.g. 行政处罚 川市监罚〔2026〕12号
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))  # 谁认定谁修复
    channel: Mapped[str] = mapped_column(String(16))  # online, paper
    status: Mapped[str] = mapped_column(String(24), index=True)
    statement: Mapped[str] = mapped_column(Text)  # how the subject corrected its behaviour
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(32))
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"))
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the explained check at submission
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date | None] = mapped_column(Date)  # the next step's deadline (department or applicant)
    due_provisional: Mapped[bool] = mapped_column(default=False)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decision_no: Mapped[str | None] = mapped_column(String(128))
    decision_note: Mapped[str | None] = mapped_column(Text)
    material_note: Mapped[str | None] = mapped_column(Text)
    recheck_status: Mapped[str | None] = mapped_column(
        String(16), index=True
    )  # sampled, confirmed, corrected
    recheck_period: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM of the draw
    recheck_due: Mapped[dt.date | None] = mapped_column(Date)
    recheck_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
