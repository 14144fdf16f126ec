"""Credit subjects (信用主体): one row per legal person, individual business, natural person or government body."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, UTCDateTime, utcnow


class SubjectKind(enum.StrEnum):
    LEGAL_PERSON = "legal_person"
    INDIVIDUAL_BUSINESS = "individual_business"
    NATURAL_PERSON = "natural_person"
    GOV_BODY = "gov_body"


class Subject(Base):
    __tablename__ = "subjects"
    __table_args__ = (
        Index("ix_subjects_name_norm_region", "name_norm", "region_code"),
        Index(
            "ix_subjects_core_name_trgm",
            "core_name",
            postgresql_using="gin",
            postgresql_ops={"core_name": "gin_trgm_ops"},
        ),
        # PostgreSQL also has `ix_subjects_core_bigrams`, a GIN index over `xinyong_bigrams(core_name)` for
        # two-character searches: an expression over a function of its own, so it lives in migration 0008 only.
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    business_reg_no: Mapped[str | None] = mapped_column(String(15), index=True)
    org_code: Mapped[str | None] = mapped_column(String(9), index=True)
    # The name exactly as first submitted, its matching form, and the matching form without legal suffix.
    name: Mapped[str] = mapped_column(String(200))
    name_norm: Mapped[str] = mapped_column(String(200))
    core_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(6))
    # GB/T 4754 industry (行业): 门类 letter, optionally with the 大类/中类/小类 digits (E, C14, C1411); from DJ.
    industry_code: Mapped[str | None] = mapped_column(String(8), index=True)
    legal_rep: Mapped[str | None] = mapped_column(String(50))
    registered_on: Mapped[dt.date | None] = mapped_column(Date)
    operating_status: Mapped[str | None] = mapped_column(String(10))
    # A natural person's ID: keyed hash for look-up, encrypted value for entitled display, masked otherwise.
    id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_cipher: Mapped[str | None] = mapped_column(Text)
    id_masked: Mapped[str | None] = mapped_column(String(18))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
