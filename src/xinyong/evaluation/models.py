"""Evaluation runs, per-subject results, current grades and their history, model versions and consents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime, utcnow


class EvaluationModelVersion(Base):
    """A model's text as the credit office saved it: a draft, then published (the version runs use)."""

    __tablename__ = "evaluation_model_versions"
    __table_args__ = (
        UniqueConstraint("model_code", "version", name="uq_evaluation_model_versions_code_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_code: Mapped[str] = mapped_column(String(48), index=True)
    version: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft, published, retired
    text: Mapped[str] = mapped_column(Text)  # the YAML document
    publish_grades: Mapped[bool] = mapped_column(Boolean, default=False)
    saved_by: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class EvaluationRun(Base):
    """One run of a model: its version, data cut-off (as-of) and engine, and its receipt counts."""

    __tablename__ = "evaluation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_code: Mapped[str] = mapped_column(String(48), index=True)
    model_version: Mapped[str] = mapped_column(String(16))
    engine: Mapped[str] = mapped_column(String(16))  # sqlite, postgresql, spark
    as_of: Mapped[dt.date] = mapped_column(Date)
    incremental: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, done, failed
    subjects: Mapped[int] = mapped_column(Integer, default=0)
    grade_counts: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    # The last domain event seen when the run read its inputs: the next incremental run starts after it.
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    # The last subject and consent then: the next incremental run looks for subjects without a grade only among
    # those after them (new subjects, new consents), not over every subject.
    last_subject_id: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_consent_id: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)


class EvaluationResult(Base):
    """One subject's result from one run: score, grade, each indicator's value and points, the vetoes.

    Written only when it differs: a run stores a result for a subject who has none under the model, or whose
    inputs changed (`inputs`). A run's results are therefore, per subject, the latest result written at or
    before it (`repository.run_results`); the current grade names the run that wrote the current result."""

    __tablename__ = "evaluation_results"
    __table_args__ = (Index("ix_evaluation_results_run_subject", "run_id", "subject_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(4))
    # {"base": b, "adjustment": a, "external": bool, "items": {code: [value, points]}}. Plain JSON on every
    # store (not JSONB on PostgreSQL): documents written once by the database (`scoring`) and read whole;
    # `json` keeps the text as written, where converting 100,000 documents to JSONB cost more than the feature
    # query of the run.
    indicators: Mapped[dict[str, Any]] = mapped_column(JSON(none_as_null=True))
    vetoes: Mapped[list[str]] = mapped_column(JSON(none_as_null=True), default=list)
    # What the result is a function of: the model's digest and each indicator's value (`scoring.inputs_text`).
    inputs: Mapped[str | None] = mapped_column(Text)


class EvaluationGrade(Base):
    """A subject's current grade under a model: the result of the latest run that wrote one (`run_id`), which
    holds until a run finds other inputs."""

    __tablename__ = "evaluation_grades"
    __table_args__ = (
        UniqueConstraint("model_code", "subject_id", name="uq_evaluation_grades_model_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_code: Mapped[str] = mapped_column(String(48))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id"))
    score: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(4), index=True)
    as_of: Mapped[dt.date] = mapped_column(Date)  # the data cut-off of the run that wrote the result
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The current result's inputs: a run writes a new result only where its inputs differ.
    inputs: Mapped[str | None] = mapped_column(Text)


class EvaluationGradeChange(Base):
    """Grade history (评价结果变化): a subject's first grade under a model, and every change after it."""

    __tablename__ = "evaluation_grade_changes"
    __table_args__ = (Index("ix_evaluation_grade_changes_model_subject", "model_code", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_code: Mapped[str] = mapped_column(String(48))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id"))
    as_of: Mapped[dt.date] = mapped_column(Date)
    grade_from: Mapped[str | None] = mapped_column(String(4))
    grade_to: Mapped[str] = mapped_column(String(4))
    score: Mapped[float] = mapped_column(Float)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class EvaluationConsent(Base):
    """A natural person's consent to an opt-in model (个人守信激励), given through their account."""

    __tablename__ = "evaluation_consents"
    __table_args__ = (
        UniqueConstraint("model_code", "subject_id", name="uq_evaluation_consents_model_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_code: Mapped[str] = mapped_column(String(48))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
