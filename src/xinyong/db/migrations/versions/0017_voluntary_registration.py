"""voluntary registration (自愿注册): self-declared information and its confirmation

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

- `registrations`: one entry a subject declared about itself (a kind of `registration/data/kinds.yaml`: honours,
  qualifications, social responsibility, contacts, financial summaries) as it stands now: its current version,
  state (declared, confirmed, rejected, withdrawn, false), fields, the subject's choice to publish, the competent
  department, the truthfulness commitment of its current version, and who decided, when and why.
- `registration_steps`: the entry's history, one row per step (declare, amend, withdraw, confirm, reject,
  find_false) with the content of the version it produced or acted on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.db.base

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("publish", sa.Boolean(), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("commitment_id", sa.Integer(), nullable=True),
        sa.Column("declared_on", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_department", sa.String(length=200), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"], ["commitments.id"], name=op.f("fk_registrations_commitment_id_commitments")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_registrations_created_by_users")),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_registrations_department_code_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_registrations_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
    )
    op.create_index(
        "ix_registrations_department_status", "registrations", ["department_code", "status"], unique=False
    )
    op.create_index(op.f("ix_registrations_status"), "registrations", ["status"], unique=False)
    op.create_index(op.f("ix_registrations_subject_id"), "registrations", ["subject_id"], unique=False)
    op.create_table(
        "registration_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("publish", sa.Boolean(), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("commitment_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments.id"],
            name=op.f("fk_registration_steps_commitment_id_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_registration_steps_registration_id_registrations"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_registration_steps_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_steps")),
    )
    op.create_index(
        op.f("ix_registration_steps_registration_id"), "registration_steps", ["registration_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_registration_steps_registration_id"), table_name="registration_steps")
    op.drop_table("registration_steps")
    op.drop_index(op.f("ix_registrations_subject_id"), table_name="registrations")
    op.drop_index(op.f("ix_registrations_status"), table_name="registrations")
    op.drop_index("ix_registrations_department_status", table_name="registrations")
    op.drop_table("registrations")
