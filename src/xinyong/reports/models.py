"""An issued credit report: its frozen, signed content and the digest of its signed PDF."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime, utcnow


class Report(Base):
    """One issued report (信用报告 or 专项信用报告). Its content never changes: a later change in the file
    is a new report. The PDF is stored content-addressed under the data directory (`reports/`)."""

    __tablename__ = "credit_reports"

    number: Mapped[str] = mapped_column(String(24), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # standard, special
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    period_from: Mapped[dt.date | None] = mapped_column(Date)
    period_to: Mapped[dt.date | None] = mapped_column(Date)
    fields: Mapped[list[str]] = mapped_column(JSONType)  # special report: the fields of activity (领域)
    issued_by: Mapped[str] = mapped_column(String(200))
    department_code: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str | None] = mapped_column(String(200))
    verification_code: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the canonical content, as signed
    signature: Mapped[str] = mapped_column(Text)  # Ed25519 over the canonical payload (base64)
    key_id: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # of the signed PDF
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
