"""schema matches the models: what later edits of 0005 added, brought to databases migrated before them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Migration 0005 was edited three times after 0006 existed. A database created since then got every change from
0005 itself; one that was already at 0006 (or 0007, 0008) when an edit landed never did, since Alembic does not
run a revision twice. What those edits added:

- `commitments.department_code` (the following-up department, 跟踪部门), its foreign key to `departments` and
  its index `ix_commitments_department_code`;
- `ix_notices_record_id` (repair notices found by record);
- `uq_repair_applications_open_record_id` and `uq_repair_applications_open_list_entry_id`, partial unique
  indexes: at most one open repair application per record and per list entry.

This revision looks at the schema and adds only what is missing, so a fresh database and an old one end with the
same schema, the one the models describe (`tests/service/test_migrations.py` compares both with the models on
SQLite and PostgreSQL). Should an old database hold two open applications for one target (possible before the
unique indexes, under concurrent submissions), the upgrade stops and names them: which one stays open is the
department's decision, not a migration's.

Downgrade changes nothing: on a fresh database these objects belong to 0005 and leave with it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Frozen copy of the open states as 0005 wrote them (a migration never imports the models).
OPEN_STATES = "status IN ('submitted', 'accepted', 'under_review', 'material_requested')"


def _add_commitment_department(inspector: sa.Inspector) -> None:
    if "department_code" in {column["name"] for column in inspector.get_columns("commitments")}:
        return
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its foreign key in place (NULL default); a batch rebuild would drop the
        # table, which rows of repair_applications refer to.
        op.execute(
            "ALTER TABLE commitments ADD COLUMN department_code VARCHAR(32) "
            "CONSTRAINT fk_commitments_department_code_departments REFERENCES departments (code)"
        )
        return
    op.add_column("commitments", sa.Column("department_code", sa.String(length=32), nullable=True))
    op.create_foreign_key(
        op.f("fk_commitments_department_code_departments"),
        "commitments",
        "departments",
        ["department_code"],
        ["code"],
    )


def _check_no_duplicate_open_applications(column: str) -> None:
    rows = (
        op.get_bind()
        .execute(
            sa.text(
                f"SELECT {column}, COUNT(*) FROM repair_applications "  # noqa: S608 - fixed column names
                f"WHERE {column} IS NOT NULL AND {OPEN_STATES} GROUP BY {column} HAVING COUNT(*) > 1"
            )
        )
        .all()
    )
    if rows:
        targets = ", ".join(f"{column}={row[0]} ({row[1]} open)" for row in rows)
        raise RuntimeError(
            "repair_applications: more than one open application for one target; close all but one "
            f"before upgrading: {targets}"
        )


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    _add_commitment_department(inspector)

    existing = {
        table: {index["name"] for index in inspector.get_indexes(table)}
        for table in ("commitments", "notices", "repair_applications")
    }

    if "ix_commitments_department_code" not in existing["commitments"]:
        op.create_index("ix_commitments_department_code", "commitments", ["department_code"], unique=False)
    if "ix_notices_record_id" not in existing["notices"]:
        op.create_index("ix_notices_record_id", "notices", ["record_id"], unique=False)
    for column in ("record_id", "list_entry_id"):
        name = f"uq_repair_applications_open_{column}"
        if name in existing["repair_applications"]:
            continue
        _check_no_duplicate_open_applications(column)
        op.create_index(
            name,
            "repair_applications",
            [column],
            unique=True,
            postgresql_where=sa.text(OPEN_STATES),
            sqlite_where=sa.text(OPEN_STATES),
        )


def downgrade() -> None:
    """Nothing to undo: on a fresh database these objects belong to 0005 and are dropped with it."""
