"""Credit commitments (信用承诺书) signed online from a template, published, and followed up."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, UTCDateTime, utcnow


class Commitment(Base):
    """A signed commitment and its verification task (核查): the accepting department checks it by
    ``verification_due`` and records the outcome (``decided_on``, facts in ``fulfilment_note``)."""

    __tablename__ = "commitments"
    # A department's system registers a counter signing once: the same document again is the same commitment.
    __table_args__ = (
        Index("ix_commitments_department_document", "department_code", "document_sha256", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_code: Mapped[str] = mapped_column(String(32), index=True)
    template_version: Mapped[str] = mapped_column(String(16))
    # approval (审批替代型), voluntary (主动型), industry (行业自律型), repair (信用修复型)
    kind: Mapped[str] = mapped_column(String(16), index=True, server_default=text("'repair'"))
    # The matter it is given for (for approval: a matter of the department's approval catalogue).
    matter: Mapped[str | None] = mapped_column(String(200), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    subject_name: Mapped[str] = mapped_column(String(200))
    signer_name: Mapped[str] = mapped_column(String(100))  # typed by the signer (法定代表人或本人)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(16))  # online, paper (recorded by a clerk), counter (API)
    # The SHA-256 of the document signed at a department's counter (registered through the API).
    document_sha256: Mapped[str | None] = mapped_column(String(64))
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
    )  # signed, verifying, fulfilled, breached
    signed_on: Mapped[dt.date] = mapped_column(Date)
    verify_by: Mapped[dt.date | None] = mapped_column(Date)  # a date the accepting department set
    # The verification task: opened on a day, due on a day (working days from the template, or verify_by).
    verification_opened_on: Mapped[dt.date | None] = mapped_column(Date)
    verification_due: Mapped[dt.date | None] = mapped_column(Date, index=True)
    fulfilment_on: Mapped[dt.date | None] = mapped_column(Date)  # the outcome's day (decided_on)
    fulfilment_note: Mapped[str | None] = mapped_column(Text)  # the facts found
    decided_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
