"""public credit evaluation: model versions, runs, results per subject, current grades, grade history, consents

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

- `evaluation_model_versions`: a model's YAML as saved by the credit office (draft, published);
- `evaluation_runs`: one run of a model (version, as-of day, engine, receipt counts, last domain event read);
- `evaluation_results`: one subject's score, grade, indicator values and points and vetoes in one run;
- `evaluation_grades`: each subject's current grade per model; `evaluation_grade_changes`: its history;
- `evaluation_consents`: natural persons' consent to an opt-in model (个人守信激励).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.db.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation_model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_code", sa.String(length=48), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("publish_grades", sa.Boolean(), nullable=False),
        sa.Column("saved_by", sa.String(length=64), nullable=False),
        sa.Column("saved_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_model_versions")),
        sa.UniqueConstraint("model_code", "version", name="uq_evaluation_model_versions_code_version"),
    )
    op.create_index(
        op.f("ix_evaluation_model_versions_model_code"),
        "evaluation_model_versions",
        ["model_code"],
        unique=False,
    )
    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_code", sa.String(length=48), nullable=False),
        sa.Column("model_version", sa.String(length=16), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("incremental", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column(
            "grade_counts",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("started_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
    )
    op.create_index(op.f("ix_evaluation_runs_model_code"), "evaluation_runs", ["model_code"], unique=False)
    op.create_table(
        "evaluation_grade_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_code", sa.String(length=48), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("grade_from", sa.String(length=4), nullable=True),
        sa.Column("grade_to", sa.String(length=4), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["evaluation_runs.id"],
            name=op.f("fk_evaluation_grade_changes_run_id_evaluation_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_evaluation_grade_changes_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_grade_changes")),
    )
    op.create_index(op.f("ix_evaluation_grade_changes_at"), "evaluation_grade_changes", ["at"], unique=False)
    op.create_index(
        "ix_evaluation_grade_changes_model_subject",
        "evaluation_grade_changes",
        ["model_code", "subject_id"],
        unique=False,
    )
    op.create_table(
        "evaluation_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=4), nullable=False),
        sa.Column(
            "indicators",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "vetoes",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["evaluation_runs.id"], name=op.f("fk_evaluation_results_run_id_evaluation_runs")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_evaluation_results_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_results")),
    )
    op.create_index(
        "ix_evaluation_results_run_subject", "evaluation_results", ["run_id", "subject_id"], unique=True
    )
    op.create_index(
        op.f("ix_evaluation_results_subject_id"), "evaluation_results", ["subject_id"], unique=False
    )
    op.create_table(
        "evaluation_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_code", sa.String(length=48), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("given_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_evaluation_consents_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_evaluation_consents_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_consents")),
        sa.UniqueConstraint("model_code", "subject_id", name="uq_evaluation_consents_model_subject"),
    )
    op.create_index(
        op.f("ix_evaluation_consents_subject_id"), "evaluation_consents", ["subject_id"], unique=False
    )
    op.create_table(
        "evaluation_grades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_code", sa.String(length=48), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=4), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("updated_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["evaluation_runs.id"], name=op.f("fk_evaluation_grades_run_id_evaluation_runs")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_evaluation_grades_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_grades")),
        sa.UniqueConstraint("model_code", "subject_id", name="uq_evaluation_grades_model_subject"),
    )
    op.create_index(op.f("ix_evaluation_grades_grade"), "evaluation_grades", ["grade"], unique=False)
    op.create_index(
        op.f("ix_evaluation_grades_subject_id"), "evaluation_grades", ["subject_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_evaluation_grades_subject_id"), table_name="evaluation_grades")
    op.drop_index(op.f("ix_evaluation_grades_grade"), table_name="evaluation_grades")
    op.drop_table("evaluation_grades")
    op.drop_index(op.f("ix_evaluation_consents_subject_id"), table_name="evaluation_consents")
    op.drop_table("evaluation_consents")
    op.drop_index(op.f("ix_evaluation_results_subject_id"), table_name="evaluation_results")
    op.drop_index("ix_evaluation_results_run_subject", table_name="evaluation_results")
    op.drop_table("evaluation_results")
    op.drop_index("ix_evaluation_grade_changes_model_subject", table_name="evaluation_grade_changes")
    op.drop_index(op.f("ix_evaluation_grade_changes_at"), table_name="evaluation_grade_changes")
    op.drop_table("evaluation_grade_changes")
    op.drop_index(op.f("ix_evaluation_runs_model_code"), table_name="evaluation_runs")
    op.drop_table("evaluation_runs")
    op.drop_index(op.f("ix_evaluation_model_versions_model_code"), table_name="evaluation_model_versions")
    op.drop_table("evaluation_model_versions")
