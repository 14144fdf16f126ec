"""Supervision tasks steered by grades (约谈, 信用培训), training sessions, and inspection results (检查结果).

Tables: `supervision_tasks` (an interview or training task of one subject for its supervising department,
generated from one grade change, with its deadline and follow-up), `training_sessions` (信用培训 sessions the
credit office or an authorised association offers) and `inspection_results` (the result of one drawn subject's
inspection under a plan, linked to the `JC` record it became).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, UTCDateTime, utcnow


class TaskKind:
    INTERVIEW = "interview"  # 约谈
    TRAINING = "training"  # 信用培训


class TaskState:
    OPEN = "open"  # 待约谈 / 待培训
    INTERVIEWED = "interviewed"  # 已约谈，整改中
    RECTIFIED = "rectified"  # 已整改
    NOT_RECTIFIED = "not_rectified"  # 未整改
    ATTENDED = "attended"  # 已参加培训


class SupervisionTask(Base):
    """One interview or training task, generated once per grade change that put the subject in the grades the
    policy names (`grade_change_id`), so the daily job may re-run; the department is the subject's supervising
    department when it was generated."""

    __tablename__ = "supervision_tasks"
    __table_args__ = (
        UniqueConstraint("kind", "grade_change_id", name="uq_supervision_tasks_kind_grade_change"),
        Index("ix_supervision_tasks_department_state", "department_code", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # a TaskKind
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    model_code: Mapped[str] = mapped_column(String(48))
    grade: Mapped[str] = mapped_column(String(4))
    grade_change_id: Mapped[int] = mapped_column(ForeignKey("evaluation_grade_changes.id"))
    grade_as_of: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default=TaskState.OPEN)  # a TaskState
    created_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)  # interview, or training attended, by this day
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    rectification: Mapped[str | None] = mapped_column(Text)  # what the interview requires (interviews)
    interviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    interview_notes: Mapped[str | None] = mapped_column(Text)
    rectify_by: Mapped[dt.date | None] = mapped_column(Date)  # rectification due, counted from the interview
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome_notes: Mapped[str | None] = mapped_column(Text)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("training_sessions.id"), index=True)
    handled_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TrainingSession(Base):
    """A credit-training session (信用培训) offered by the credit office or an association it authorised."""

    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[dt.date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(200))
    organiser: Mapped[str] = mapped_column(String(200))
    organiser_kind: Mapped[str] = mapped_column(String(16))  # credit_office, association
    authorisation: Mapped[str | None] = mapped_column(String(200))  # an association's authorisation (文号)
    capacity: Mapped[int] = mapped_column(Integer, default=100)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InspectionResult(Base):
    """The result of one drawn subject's inspection under a plan (一公开), and the `JC` record it became
    (through ingestion, so it is in the subject's credit file and counts in the next evaluation). `source` is
    `console` (entered by the inspecting department) or `ingestion` (a `JC` row naming the plan)."""

    __tablename__ = "inspection_results"
    __table_args__ = (UniqueConstraint("draw_subject_id", name="uq_inspection_results_draw_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id"), index=True)
    draw_subject_id: Mapped[int] = mapped_column(ForeignKey("inspection_draw_subjects.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    doc_no: Mapped[str] = mapped_column(String(128))
    result: Mapped[str] = mapped_column(String(32))  # a value of the JC item's `result` enum
    inspected_on: Mapped[dt.date] = mapped_column(Date)
    inspection_items: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # console, ingestion
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
