"""credit data spine

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.db.base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Trigram index for name search (pg_trgm ships with PostgreSQL's contrib).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "departments",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["departments.code"], name=op.f("fk_departments_parent_code_departments")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_departments")),
        sa.UniqueConstraint("uscc", name=op.f("uq_departments_uscc")),
    )
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_departments_parent_code"), ["parent_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_departments_region_code"), ["region_code"], unique=False)

    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("business_reg_no", sa.String(length=15), nullable=True),
        sa.Column("org_code", sa.String(length=9), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_norm", sa.String(length=200), nullable=False),
        sa.Column("core_name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("legal_rep", sa.String(length=50), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=True),
        sa.Column("operating_status", sa.String(length=10), nullable=True),
        sa.Column("id_hash", sa.String(length=64), nullable=True),
        sa.Column("id_cipher", sa.Text(), nullable=True),
        sa.Column("id_masked", sa.String(length=18), nullable=True),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_subjects_id_hash")),
        sa.UniqueConstraint("uscc", name=op.f("uq_subjects_uscc")),
    )
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subjects_business_reg_no"), ["business_reg_no"], unique=False)
        batch_op.create_index(
            "ix_subjects_core_name_trgm",
            ["core_name"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"core_name": "gin_trgm_ops"},
        )
        batch_op.create_index(batch_op.f("ix_subjects_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_subjects_name_norm_region", ["name_norm", "region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_subjects_org_code"), ["org_code"], unique=False)

    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("item_code", sa.String(length=16), nullable=False),
        sa.Column("provider_code", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("catalog_version", sa.String(length=16), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_code"], ["departments.code"], name=op.f("fk_batches_provider_code_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batches_provider_code"), ["provider_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_batches_started_at"), ["started_at"], unique=False)

    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("natural_key", sa.String(length=64), nullable=False),
        sa.Column("item_code", sa.String(length=16), nullable=False),
        sa.Column("provider_code", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=24), nullable=False),
        sa.Column("doc_no", sa.String(length=128), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("severity", sa.String(length=8), nullable=True),
        sa.Column("public_from", sa.Date(), nullable=True),
        sa.Column("public_until", sa.Date(), nullable=True),
        sa.Column("min_public_until", sa.Date(), nullable=True),
        sa.Column("disclosure_rule", sa.String(length=32), nullable=True),
        sa.Column(
            "fields",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "sensitive",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("catalog_version", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_records_batch_id_batches")),
        sa.ForeignKeyConstraint(
            ["provider_code"], ["departments.code"], name=op.f("fk_records_provider_code_departments")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_records_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.UniqueConstraint("natural_key", name=op.f("uq_records_natural_key")),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index("ix_records_item_decision", ["item_code", "decision_date"], unique=False)
        batch_op.create_index(
            "ix_records_provider_decision", ["provider_code", "decision_date"], unique=False
        )
        batch_op.create_index("ix_records_subject_item", ["subject_id", "item_code"], unique=False)

    op.create_table(
        "rejected_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column(
            "errors",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "raw",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "raw_sensitive",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_rejected_rows_batch_id_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejected_rows")),
    )
    with op.batch_alter_table("rejected_rows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rejected_rows_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "unresolved_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("item_code", sa.String(length=16), nullable=False),
        sa.Column("provider_code", sa.String(length=32), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column(
            "fields",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "sensitive",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("reason_code", sa.String(length=48), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "candidates",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_subject_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_unresolved_rows_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["provider_code"], ["departments.code"], name=op.f("fk_unresolved_rows_provider_code_departments")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_subject_id"],
            ["subjects.id"],
            name=op.f("fk_unresolved_rows_resolved_subject_id_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unresolved_rows")),
    )
    with op.batch_alter_table("unresolved_rows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unresolved_rows_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_unresolved_rows_provider_code"), ["provider_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_unresolved_rows_status"), ["status"], unique=False)

    op.create_table(
        "record_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "fields",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "sensitive",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("superseded_by_batch", sa.String(length=32), nullable=False),
        sa.Column("superseded_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_record_versions_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_record_versions_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_batch"],
            ["batches.id"],
            name=op.f("fk_record_versions_superseded_by_batch_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_versions")),
    )
    with op.batch_alter_table("record_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_versions_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("record_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_versions_record_id"))

    op.drop_table("record_versions")
    with op.batch_alter_table("unresolved_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unresolved_rows_status"))
        batch_op.drop_index(batch_op.f("ix_unresolved_rows_provider_code"))
        batch_op.drop_index(batch_op.f("ix_unresolved_rows_batch_id"))

    op.drop_table("unresolved_rows")
    with op.batch_alter_table("rejected_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rejected_rows_batch_id"))

    op.drop_table("rejected_rows")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_subject_item")
        batch_op.drop_index("ix_records_provider_decision")
        batch_op.drop_index("ix_records_item_decision")

    op.drop_table("records")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batches_started_at"))
        batch_op.drop_index(batch_op.f("ix_batches_provider_code"))

    op.drop_table("batches")
    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subjects_org_code"))
        batch_op.drop_index("ix_subjects_name_norm_region")
        batch_op.drop_index(batch_op.f("ix_subjects_kind"))
        batch_op.drop_index(
            "ix_subjects_core_name_trgm", postgresql_using="gin", postgresql_ops={"core_name": "gin_trgm_ops"}
        )
        batch_op.drop_index(batch_op.f("ix_subjects_business_reg_no"))

    op.drop_table("subjects")
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_departments_region_code"))
        batch_op.drop_index(batch_op.f("ix_departments_parent_code"))

    op.drop_table("departments")
