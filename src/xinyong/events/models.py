"""The outbox of domain events, each consumer's cursor, and the one history of every case workflow."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime, utcnow


class DomainEvent(Base):
    """A change others react to (a record published, repaired or reverted, a list entry decided or removed…),
    written by the domain that made it in the same transaction. Rows are never updated."""

    __tablename__ = "domain_events"
    __table_args__ = (Index("ix_domain_events_aggregate", "aggregate", "aggregate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)  # the order consumers read in
    kind: Mapped[str] = mapped_column(String(48), index=True)  # e.g. record.published, list_entry.removed
    aggregate: Mapped[str] = mapped_column(String(24))  # what changed: record, list_entry, commitment
    aggregate_id: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[int | None] = mapped_column(Integer)  # whom it is about, when it is about a subject
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class EventCursor(Base):
    """How far one consumer has read the outbox: every event up to `last_event_id` was handled."""

    __tablename__ = "event_cursors"

    consumer: Mapped[str] = mapped_column(String(48), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkflowEvent(Base):
    """One step of a case's workflow (a list entry's due process, a repair application, an objection), kept for
    the record: who did what, when, from which state to which, and why. One table for every workflow."""

    __tablename__ = "workflow_events"
    __table_args__ = (Index("ix_workflow_events_workflow_case", "workflow", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow: Mapped[str] = mapped_column(String(16))  # list_entry, repair, objection
    case_id: Mapped[int] = mapped_column(Integer)  # the entry's, application's or objection's id
    event: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    on: Mapped[dt.date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
