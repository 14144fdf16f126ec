"""Tiered supervision (分级分类监管): tier versions, a department's scope and inspectors (its pools), inspection
plans (抽查计划) with their frozen scope, and draws (抽取) with the subjects drawn and their inspectors.

Nothing here is ever overwritten where it was published: a tier change is a new version; a plan freezes the
tiers in force and its scope (each subject with its grade and tier) when it is created; a draw is made once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime, utcnow


class SupervisionTierVersion(Base):
    """One saved version of a department's (or a department and industry's) grade → tier mapping. Versions are
    numbered per (department, industry) and never changed; the newest is in force. `industry` is "" for every
    industry of the department."""

    __tablename__ = "supervision_tier_versions"
    __table_args__ = (
        UniqueConstraint(
            "department_code", "industry", "version", name="uq_supervision_tier_versions_key_version"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    industry: Mapped[str] = mapped_column(String(32), default="")
    version: Mapped[int] = mapped_column(Integer)
    # {"tiers": [{"code", "name", "grades": [..], "ratio_pct", "per_period", "period"}], "default_tier": code}
    tiers: Mapped[dict[str, Any]] = mapped_column(JSONType)
    source: Mapped[str] = mapped_column(Text)  # the legal basis or source; required
    saved_by: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SupervisionScope(Base):
    """A department's pool of inspected subjects (检查对象名录库), as a rule: regions, industries and licence
    items (catalog item codes of the records that put a subject in scope). Empty regions mean the department's
    own region."""

    __tablename__ = "supervision_scopes"

    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), primary_key=True)
    region_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    industries: Mapped[list[str]] = mapped_column(JSONType, default=list)
    licence_items: Mapped[list[str]] = mapped_column(JSONType, default=list)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Inspector(Base):
    """A law-enforcement inspector (执法检查人员) in a department's pool. `conflicts` are the USCCs of subjects
    the inspector must avoid (回避): relatives, a former employer."""

    __tablename__ = "supervision_inspectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    licence_no: Mapped[str] = mapped_column(String(32), unique=True)  # 执法证号
    region_code: Mapped[str | None] = mapped_column(String(6))
    qualifications: Mapped[list[str]] = mapped_column(JSONType, default=list)
    conflicts: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class InspectionPlan(Base):
    """An inspection plan (抽查计划). At creation it freezes the tiers in force and its scope (each subject with
    grade and tier, `InspectionPlanSubject`), publishes their digest and a commitment (SHA-256) to a random
    nonce; the draw reveals the nonce, and the seed is SHA-256 of the published inputs and the nonce."""

    __tablename__ = "inspection_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    period_from: Mapped[dt.date] = mapped_column(Date)
    period_to: Mapped[dt.date] = mapped_column(Date)
    region_code: Mapped[str | None] = mapped_column(String(6))  # inspectors only from this region when set
    matters: Mapped[list[str]] = mapped_column(JSONType, default=list)  # 检查事项
    scope: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the scope rule as applied
    tiers: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the tier version in force, frozen
    tier_version_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_tier_versions.id"))
    scope_count: Mapped[int] = mapped_column(Integer, default=0)
    scope_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the frozen scope list
    inputs_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical published inputs
    commitment: Mapped[str] = mapped_column(String(64))  # SHA-256 of the nonce, published at creation
    nonce: Mapped[str] = mapped_column(String(64))  # kept unpublished until the draw reveals it
    status: Mapped[str] = mapped_column(String(16), default="published")  # published, drawn
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InspectionPlanSubject(Base):
    """A subject of a plan's frozen scope, with its grade and tier as of the plan."""

    __tablename__ = "inspection_plan_subjects"
    __table_args__ = (Index("ix_inspection_plan_subjects_plan_tier", "plan_id", "tier"),)

    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18))
    grade: Mapped[str | None] = mapped_column(String(4))
    tier: Mapped[str] = mapped_column(String(16))


class InspectionDraw(Base):
    """The one draw (抽取) of a plan: the revealed nonce, the seed, counts per tier and the digest of the
    result list."""

    __tablename__ = "inspection_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id"), unique=True)
    seed: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    targets: Mapped[dict[str, int]] = mapped_column(JSONType)  # per tier: how many the ratio asks
    counts_by_tier: Mapped[dict[str, int]] = mapped_column(JSONType)
    result_digest: Mapped[str] = mapped_column(String(64))
    # The inspector pool as drawn from (id, licence number, region, conflicts): not published (conflicts name
    # relatives and former employers), kept so that `draw --verify` recomputes the assignment too.
    inspectors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    drawn_by: Mapped[str] = mapped_column(String(64))
    drawn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InspectionDrawSubject(Base):
    """A drawn subject, its position in the draw and the inspectors assigned to it (ids, at least two)."""

    __tablename__ = "inspection_draw_subjects"
    __table_args__ = (
        UniqueConstraint("draw_id", "subject_id", name="uq_inspection_draw_subjects_draw_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("inspection_draws.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    uscc: Mapped[str] = mapped_column(String(18))
    tier: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    inspector_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
