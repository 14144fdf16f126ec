"""Credit records (信用信息记录), their earlier versions, ingest batches, rejected rows and the review queue."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime, utcnow


class RecordStatus(StrEnum):
    """The state of a record's current version; only `records.lifecycle` and ingestion set it."""

    ACTIVE = "active"  # in force: public (inside its window), shared and able to trigger measures
    REVOKED = "revoked"  # 撤销: withdrawn by its provider, or on an objection
    REPAIRED = "repaired"  # 信用修复: kept in the archive with the decision, no longer public or shared


class Batch(Base):
    """One submission (API call, upload or file), with its receipt counts."""

    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(16))
    provider_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # api, upload, cli, demo
    filename: Mapped[str | None] = mapped_column(String(255))
    # running, done, failed, interrupted (killed part-way: `records.batches.mark_interrupted`)
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    catalog_version: Mapped[str] = mapped_column(String(16))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Set with every stored chunk: a running batch whose heartbeat stopped was interrupted.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # SHA-256 of the file, when ingested from one: a re-run of the same file resumes an interrupted batch.
    file_digest: Mapped[str | None] = mapped_column(String(64), index=True)


class Record(Base):
    """The current version of one fact from one provider; earlier versions live in RecordVersion."""

    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_subject_item", "subject_id", "item_code"),
        Index("ix_records_item_decision", "item_code", "decision_date"),
        Index("ix_records_provider_decision", "provider_code", "decision_date"),
        Index("ix_records_raw_digest", "raw_digest"),
        Index("ix_records_item_doc_no", "item_code", "doc_no"),  # publicity search by decision number
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    natural_key: Mapped[str] = mapped_column(String(64), unique=True)
    item_code: Mapped[str] = mapped_column(String(16))
    provider_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    subject_kind: Mapped[str] = mapped_column(String(24))  # copied so public filters need no join
    doc_no: Mapped[str | None] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default=RecordStatus.ACTIVE)  # a RecordStatus
    subject_name: Mapped[str] = mapped_column(String(200))  # as submitted in this record
    region_code: Mapped[str | None] = mapped_column(String(6))
    decision_date: Mapped[dt.date | None] = mapped_column(Date)
    severity: Mapped[str | None] = mapped_column(String(8))
    public_from: Mapped[dt.date | None] = mapped_column(Date)
    public_until: Mapped[dt.date | None] = mapped_column(Date)  # None with public_from set: no end
    min_public_until: Mapped[dt.date | None] = mapped_column(Date)  # earliest end (repair threshold)
    disclosure_rule: Mapped[str | None] = mapped_column(String(32))
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType)
    sensitive: Mapped[dict[str, str] | None] = mapped_column(JSONType)  # field -> encrypted value
    content_hash: Mapped[str] = mapped_column(String(64))
    # Keyed digest of the submitted row this version was made from (`records.rules.raw_row`): a row sent
    # again unchanged is known before it is validated. None when the version came another way (a corrected
    # objection, the review queue) or before the column existed.
    raw_digest: Mapped[str | None] = mapped_column(String(32))
    catalog_version: Mapped[str] = mapped_column(String(16))
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RecordVersion(Base):
    """An earlier version of a record, kept when a changed row replaced it."""

    __tablename__ = "record_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType)
    sensitive: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"))
    superseded_by_batch: Mapped[str] = mapped_column(ForeignKey("batches.id"))
    superseded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RejectedRow(Base):
    """A row that failed validation, kept with its reasons so the provider can correct and resubmit it."""

    __tablename__ = "rejected_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    errors: Mapped[list[dict[str, str]]] = mapped_column(JSONType)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType)  # personal IDs masked
    raw_sensitive: Mapped[dict[str, str] | None] = mapped_column(JSONType)  # header -> encrypted value


class UnresolvedRow(Base):
    """A valid row whose subject could not be resolved safely: waits in the review queue, never guessed."""

    __tablename__ = "unresolved_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(16))
    provider_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    subject_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(6))
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType)
    sensitive: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    reason_code: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str] = mapped_column(String(500))
    candidates: Mapped[list[int]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open, resolved, dismissed
    resolved_subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
