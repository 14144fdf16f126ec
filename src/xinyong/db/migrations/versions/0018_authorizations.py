"""authorisations (授权): a subject lets a named organisation read its file for a purpose, until a date

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

- `authorizations`: one authorisation: the subject that gives it and the organisation (a subject, by its
  USCC) that receives it, its scopes (file:read, reports:issue), purpose kind and purpose, its last day, who
  granted it and when, and who revoked it and when (its state is computed from these and the day).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.db.base

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "authorizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("scopes", _JSON, nullable=False),
        sa.Column("purpose_kind", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=False),
        sa.Column("granted_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", xinyong.db.base.UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_authorizations_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["subjects.id"], name=op.f("fk_authorizations_organization_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["users.id"], name=op.f("fk_authorizations_granted_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["users.id"], name=op.f("fk_authorizations_revoked_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorizations")),
    )
    op.create_index(op.f("ix_authorizations_subject_id"), "authorizations", ["subject_id"], unique=False)
    op.create_index(
        "ix_authorizations_organization_subject",
        "authorizations",
        ["organization_id", "subject_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_authorizations_organization_subject", table_name="authorizations")
    op.drop_index(op.f("ix_authorizations_subject_id"), table_name="authorizations")
    op.drop_table("authorizations")
