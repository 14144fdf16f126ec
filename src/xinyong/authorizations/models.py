"""Authorisations (授权): a subject lets a named organisation read its file or obtain its reports."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime, utcnow


class Authorization(Base):
    """One authorisation: which subject lets which organisation do what (scopes), why, until which day.

    Its state is computed, never stored: revoked once `revoked_at` is set, expired after `valid_until`
    (inclusive), active otherwise; an expired one grants nothing whether or not any job ran."""

    __tablename__ = "authorizations"
    __table_args__ = (Index("ix_authorizations_organization_subject", "organization_id", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)  # who authorises
    organization_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))  # the organisation, by its USCC
    scopes: Mapped[list[str]] = mapped_column(JSONType)  # file:read, reports:issue
    purpose_kind: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(200))
    valid_until: Mapped[dt.date] = mapped_column(Date)
    granted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
