"""lists measures checks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.db.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "measure_list_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column(
            "document",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_list_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_measure_list_versions_version")),
    )
    with op.batch_alter_table("measure_list_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_measure_list_versions_status"), ["status"], unique=False)

    op.create_table(
        "checks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("checked_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("scenario", sa.String(length=48), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("measure_version", sa.String(length=32), nullable=False),
        sa.Column("hit_count", sa.Integer(), nullable=False),
        sa.Column(
            "result",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_code"], ["departments.code"], name=op.f("fk_checks_department_code_departments")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_checks_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checks")),
    )
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checks_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checks_checked_at"), ["checked_at"], unique=False)
        batch_op.create_index("ix_checks_department_at", ["department_code", "checked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_checks_scenario"), ["scenario"], unique=False)
        batch_op.create_index(batch_op.f("ix_checks_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("list_type", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("decision_no", sa.String(length=128), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=True),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("statement_deadline", sa.Date(), nullable=True),
        sa.Column("deadline_provisional", sa.Boolean(), nullable=False),
        sa.Column("statement_received_on", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("public_from", sa.Date(), nullable=True),
        sa.Column("public_until", sa.Date(), nullable=True),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("removal_reason", sa.String(length=32), nullable=True),
        sa.Column("escalation_rule", sa.String(length=48), nullable=True),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_list_entries_department_code_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_list_entries_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entries")),
    )
    with op.batch_alter_table("list_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_list_entries_department_code"), ["department_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_list_entries_list_type"), ["list_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_list_entries_status"), ["status"], unique=False)
        batch_op.create_index("ix_list_entries_subject_type", ["subject_id", "list_type"], unique=False)

    op.create_table(
        "list_entry_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["list_entries.id"], name=op.f("fk_list_entry_events_entry_id_list_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entry_events")),
    )
    with op.batch_alter_table("list_entry_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_list_entry_events_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "measure_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.String(length=32), nullable=False),
        sa.Column("measure_code", sa.String(length=48), nullable=False),
        sa.Column("measure_kind", sa.String(length=16), nullable=False),
        sa.Column("scenario", sa.String(length=48), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"], ["checks.id"], name=op.f("fk_measure_feedback_check_id_checks")
        ),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_measure_feedback_department_code_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_feedback")),
    )
    with op.batch_alter_table("measure_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_measure_feedback_check_id"), ["check_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_measure_feedback_department_code"), ["department_code"], unique=False
        )
        batch_op.create_index(
            "ix_measure_feedback_measure_month", ["measure_code", "reported_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("measure_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_measure_feedback_measure_month")
        batch_op.drop_index(batch_op.f("ix_measure_feedback_department_code"))
        batch_op.drop_index(batch_op.f("ix_measure_feedback_check_id"))

    op.drop_table("measure_feedback")
    with op.batch_alter_table("list_entry_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_list_entry_events_entry_id"))

    op.drop_table("list_entry_events")
    with op.batch_alter_table("list_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_list_entries_subject_type")
        batch_op.drop_index(batch_op.f("ix_list_entries_status"))
        batch_op.drop_index(batch_op.f("ix_list_entries_list_type"))
        batch_op.drop_index(batch_op.f("ix_list_entries_department_code"))

    op.drop_table("list_entries")
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checks_subject_id"))
        batch_op.drop_index(batch_op.f("ix_checks_scenario"))
        batch_op.drop_index("ix_checks_department_at")
        batch_op.drop_index(batch_op.f("ix_checks_checked_at"))
        batch_op.drop_index(batch_op.f("ix_checks_batch_id"))

    op.drop_table("checks")
    with op.batch_alter_table("measure_list_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measure_list_versions_status"))

    op.drop_table("measure_list_versions")
