"""credit reports: the issued standard and special reports (信用报告, 专项信用报告), frozen and signed

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

- `credit_reports`: one issued report: number, kind, subject, as-of day, period and fields of a special report,
  who issued it and why, the verification code printed on it, the canonical content with its Ed25519
  signature, and the SHA-256 of the signed PDF stored under the data directory.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.db.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "credit_reports",
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("period_to", sa.Date(), nullable=True),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("verification_code", sa.String(length=16), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_credit_reports_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_credit_reports")),
        sa.UniqueConstraint("sha256", name=op.f("uq_credit_reports_sha256")),
    )
    op.create_index(op.f("ix_credit_reports_subject_id"), "credit_reports", ["subject_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_credit_reports_subject_id"), table_name="credit_reports")
    op.drop_table("credit_reports")
