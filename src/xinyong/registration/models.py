"""Voluntary registration (自愿注册): an entry a subject declared about itself and its versions and steps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime, utcnow


class Registration(Base):
    """One entry of registered information as it stands now (its current version)."""

    __tablename__ = "registrations"
    __table_args__ = (Index("ix_registrations_department_status", "department_code", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # a kind of data/kinds.yaml
    version: Mapped[int] = mapped_column(Integer, default=1)
    # declared (自主申报), confirmed (已核实), rejected, withdrawn, false (虚假申报, withdrawn as false)
    status: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(200))
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Whether the subject chose to publish it (kinds whose publicity is the subject's choice, e.g. contacts).
    publish: Mapped[bool] = mapped_column(default=False)
    # The competent department that confirms it; None: the credit office.
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"))  # of the current version
    declared_on: Mapped[dt.date] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(100))  # who confirmed, rejected or found it false
    decided_department: Mapped[str | None] = mapped_column(String(200))  # the deciding department's name
    decision_note: Mapped[str | None] = mapped_column(Text)  # the reason of a rejection or the facts found
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RegistrationStep(Base):
    """The history of an entry: each step with the version it produced or acted on, and a snapshot of that
    version's content (so an amended entry keeps what it said before)."""

    __tablename__ = "registration_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(16))  # declare, amend, confirm, reject, withdraw, find_false
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType)
    publish: Mapped[bool] = mapped_column(default=False)
    department_code: Mapped[str | None] = mapped_column(String(32))
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"))
    actor: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
