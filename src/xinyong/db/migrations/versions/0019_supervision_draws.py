"""tiered supervision (分级分类监管): tiers, pools, inspectors, inspection plans and draws

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

- `supervision_tier_versions`: each saved version of a department's (and optionally an industry's) grade → tier
  mapping with inspection ratios and frequencies, its source (legal basis), author and date; never overwritten.
- `supervision_scopes`: a department's pool of inspected subjects as a rule (regions, industries, licence items).
- `supervision_inspectors`: the pool of inspectors (执法检查人员名录库): name, 执法证号, department, region,
  qualifications and declared conflicts (回避: USCCs of subjects to avoid).
- `inspection_plans`: an inspection plan (抽查计划): period, region, matters, the tiers in force frozen, the
  digest of its frozen scope and published inputs, and the commitment to the nonce revealed at the draw.
- `inspection_plan_subjects`: the plan's frozen scope, each subject with its grade and tier as of the plan.
- `inspection_draws`: the one draw of a plan: revealed nonce, seed, targets and counts per tier, result digest, and the
  inspector pool it drew from (not published).
- `inspection_draw_subjects`: each drawn subject, its position and assigned inspectors.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.db.base

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "supervision_inspectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("licence_no", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("qualifications", _JSON, nullable=False),
        sa.Column("conflicts", _JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_supervision_inspectors_department_code_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_inspectors")),
        sa.UniqueConstraint("licence_no", name=op.f("uq_supervision_inspectors_licence_no")),
    )
    op.create_index(
        op.f("ix_supervision_inspectors_department_code"),
        "supervision_inspectors",
        ["department_code"],
        unique=False,
    )
    op.create_table(
        "supervision_scopes",
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("region_codes", _JSON, nullable=False),
        sa.Column("industries", _JSON, nullable=False),
        sa.Column("licence_items", _JSON, nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_supervision_scopes_department_code_departments"),
        ),
        sa.PrimaryKeyConstraint("department_code", name=op.f("pk_supervision_scopes")),
    )
    op.create_table(
        "supervision_tier_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("industry", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tiers", _JSON, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("saved_by", sa.String(length=64), nullable=False),
        sa.Column("saved_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_supervision_tier_versions_department_code_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_tier_versions")),
        sa.UniqueConstraint(
            "department_code", "industry", "version", name="uq_supervision_tier_versions_key_version"
        ),
    )
    op.create_index(
        op.f("ix_supervision_tier_versions_department_code"),
        "supervision_tier_versions",
        ["department_code"],
        unique=False,
    )
    op.create_table(
        "inspection_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("matters", _JSON, nullable=False),
        sa.Column("scope", _JSON, nullable=False),
        sa.Column("tiers", _JSON, nullable=False),
        sa.Column("tier_version_id", sa.Integer(), nullable=True),
        sa.Column("scope_count", sa.Integer(), nullable=False),
        sa.Column("scope_digest", sa.String(length=64), nullable=False),
        sa.Column("inputs_digest", sa.String(length=64), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_inspection_plans_department_code_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["tier_version_id"],
            ["supervision_tier_versions.id"],
            name=op.f("fk_inspection_plans_tier_version_id_supervision_tier_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_plans")),
    )
    op.create_index(
        op.f("ix_inspection_plans_department_code"), "inspection_plans", ["department_code"], unique=False
    )
    op.create_table(
        "inspection_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("targets", _JSON, nullable=False),
        sa.Column("counts_by_tier", _JSON, nullable=False),
        sa.Column("result_digest", sa.String(length=64), nullable=False),
        sa.Column("inspectors", _JSON, nullable=False),
        sa.Column("drawn_by", sa.String(length=64), nullable=False),
        sa.Column("drawn_at", xinyong.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["inspection_plans.id"], name=op.f("fk_inspection_draws_plan_id_inspection_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_draws")),
        sa.UniqueConstraint("plan_id", name=op.f("uq_inspection_draws_plan_id")),
    )
    op.create_table(
        "inspection_plan_subjects",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("grade", sa.String(length=4), nullable=True),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["inspection_plans.id"],
            name=op.f("fk_inspection_plan_subjects_plan_id_inspection_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_inspection_plan_subjects_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("plan_id", "subject_id", name=op.f("pk_inspection_plan_subjects")),
    )
    op.create_index(
        "ix_inspection_plan_subjects_plan_tier", "inspection_plan_subjects", ["plan_id", "tier"], unique=False
    )
    op.create_table(
        "inspection_draw_subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("inspector_ids", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["inspection_draws.id"],
            name=op.f("fk_inspection_draw_subjects_draw_id_inspection_draws"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["inspection_plans.id"],
            name=op.f("fk_inspection_draw_subjects_plan_id_inspection_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_inspection_draw_subjects_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_draw_subjects")),
        sa.UniqueConstraint("draw_id", "subject_id", name="uq_inspection_draw_subjects_draw_subject"),
    )
    op.create_index(
        op.f("ix_inspection_draw_subjects_draw_id"), "inspection_draw_subjects", ["draw_id"], unique=False
    )
    op.create_index(
        op.f("ix_inspection_draw_subjects_plan_id"), "inspection_draw_subjects", ["plan_id"], unique=False
    )
    op.create_index(
        op.f("ix_inspection_draw_subjects_subject_id"),
        "inspection_draw_subjects",
        ["subject_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_inspection_draw_subjects_subject_id"), table_name="inspection_draw_subjects")
    op.drop_index(op.f("ix_inspection_draw_subjects_plan_id"), table_name="inspection_draw_subjects")
    op.drop_index(op.f("ix_inspection_draw_subjects_draw_id"), table_name="inspection_draw_subjects")
    op.drop_table("inspection_draw_subjects")
    op.drop_index("ix_inspection_plan_subjects_plan_tier", table_name="inspection_plan_subjects")
    op.drop_table("inspection_plan_subjects")
    op.drop_table("inspection_draws")
    op.drop_index(op.f("ix_inspection_plans_department_code"), table_name="inspection_plans")
    op.drop_table("inspection_plans")
    op.drop_index(
        op.f("ix_supervision_tier_versions_department_code"), table_name="supervision_tier_versions"
    )
    op.drop_table("supervision_tier_versions")
    op.drop_table("supervision_scopes")
    op.drop_index(op.f("ix_supervision_inspectors_department_code"), table_name="supervision_inspectors")
    op.drop_table("supervision_inspectors")
