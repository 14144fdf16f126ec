"""tiered supervision: inspection results, interviews (约谈) and credit training (信用培训) tasks

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

- `training_sessions`: a credit-training session (信用培训): title, day, place, organiser (the credit office or
  an association it authorised, with the authorisation), capacity, who entered it.
- `supervision_tasks`: an interview or training task of one subject for its supervising department, generated
  once per grade change (`grade_change_id`), with its deadline in working days (provisional or not) and its
  follow-up: interview day and notes, rectification deadline, outcome, the training session attended.
- `inspection_results`: the result of one drawn subject's inspection under a plan (一公开), with the `JC`
  record it became through ingestion, and where it came from (console or ingestion).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import xinyong.db.base

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("organiser", sa.String(length=200), nullable=False),
        sa.Column("organiser_kind", sa.String(length=16), nullable=False),
        sa.Column("authorisation", sa.String(length=200), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_sessions")),
    )
    op.create_index(op.f("ix_training_sessions_held_on"), "training_sessions", ["held_on"], unique=False)
    op.create_table(
        "supervision_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("model_code", sa.String(length=48), nullable=False),
        sa.Column("grade", sa.String(length=4), nullable=False),
        sa.Column("grade_change_id", sa.Integer(), nullable=False),
        sa.Column("grade_as_of", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("due_provisional", sa.Boolean(), nullable=False),
        sa.Column("rectification", sa.Text(), nullable=True),
        sa.Column("interviewed_on", sa.Date(), nullable=True),
        sa.Column("interview_notes", sa.Text(), nullable=True),
        sa.Column("rectify_by", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("outcome_notes", sa.Text(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("handled_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_supervision_tasks_department_code_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["grade_change_id"],
            ["evaluation_grade_changes.id"],
            name=op.f("fk_supervision_tasks_grade_change_id_evaluation_grade_changes"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_sessions.id"],
            name=op.f("fk_supervision_tasks_session_id_training_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_supervision_tasks_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_tasks")),
        sa.UniqueConstraint("kind", "grade_change_id", name="uq_supervision_tasks_kind_grade_change"),
    )
    op.create_index(
        "ix_supervision_tasks_department_state",
        "supervision_tasks",
        ["department_code", "state"],
        unique=False,
    )
    op.create_index(
        op.f("ix_supervision_tasks_session_id"), "supervision_tasks", ["session_id"], unique=False
    )
    op.create_index(
        op.f("ix_supervision_tasks_subject_id"), "supervision_tasks", ["subject_id"], unique=False
    )
    op.create_table(
        "inspection_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("draw_subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("doc_no", sa.String(length=128), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("inspection_items", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("entered_by", sa.String(length=100), nullable=False),
        sa.Column("entered_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_inspection_results_department_code_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["draw_subject_id"],
            ["inspection_draw_subjects.id"],
            name=op.f("fk_inspection_results_draw_subject_id_inspection_draw_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["inspection_plans.id"], name=op.f("fk_inspection_results_plan_id_inspection_plans")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_inspection_results_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_inspection_results_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_results")),
        sa.UniqueConstraint("draw_subject_id", name="uq_inspection_results_draw_subject"),
    )
    op.create_index(op.f("ix_inspection_results_plan_id"), "inspection_results", ["plan_id"], unique=False)
    op.create_index(
        op.f("ix_inspection_results_record_id"), "inspection_results", ["record_id"], unique=False
    )
    op.create_index(
        op.f("ix_inspection_results_subject_id"), "inspection_results", ["subject_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_inspection_results_subject_id"), table_name="inspection_results")
    op.drop_index(op.f("ix_inspection_results_record_id"), table_name="inspection_results")
    op.drop_index(op.f("ix_inspection_results_plan_id"), table_name="inspection_results")
    op.drop_table("inspection_results")
    op.drop_index(op.f("ix_supervision_tasks_subject_id"), table_name="supervision_tasks")
    op.drop_index(op.f("ix_supervision_tasks_session_id"), table_name="supervision_tasks")
    op.drop_index("ix_supervision_tasks_department_state", table_name="supervision_tasks")
    op.drop_table("supervision_tasks")
    op.drop_index(op.f("ix_training_sessions_held_on"), table_name="training_sessions")
    op.drop_table("training_sessions")
