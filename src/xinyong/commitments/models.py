"""Credit commitments (信用承诺书) signed online from a template, published, and followed up."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, UTCDateTime, utcnow


class Commitment(Base):
    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_code: Mapped[str] = mapped_column(String(32), index=True)
    template_version: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    subject_name: Mapped[str] = mapped_column(String(200))
    signer_name: Mapped[str] = mapped_column(String(100))  # typed by the signer (法定代表人或本人)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(16))  # online, paper (recorded by a clerk)
    ref: Mapped[str | None] = mapped_column(String(64), index=True)  # what it is for, e.g. repair:12
    # The department that follows the commitment up (for a repair: the deciding department).
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)  # the full text as signed, frozen
    text_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))  # the platform's Ed25519 attestation of the signing
    public: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(
        String(16), default="signed", index=True
    )  # signed, fulfilled, breached
    signed_on: Mapped[dt.date] = mapped_column(Date)
    fulfilment_on: Mapped[dt.date | None] = mapped_column(Date)
    fulfilment_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
