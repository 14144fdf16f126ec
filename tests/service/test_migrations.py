"""Migrations build the schema the models describe, whatever a database's history (SQLite and PostgreSQL).

Alembic's autogenerate comparison of a migrated database with the models must report nothing: a fresh database,
and one migrated to 0008 with 0005 as it stood before its later edits (the case migration 0012 repairs).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, make_url, text

from tests.conftest import PG_URL
from xinyong.db import migrate
from xinyong.db.engine import make_engine
from xinyong.schema import metadata

OLD_0005 = Path(__file__).parent / "data" / "0005_before_its_edits.py.txt"

# Objects only the migrations create, left out of the comparison with the models (name: why).
MIGRATION_ONLY_INDEXES = {
    # 0008, PostgreSQL only: a GIN index over xinyong_bigrams(core_name), a function 0008 creates. The models
    # describe both stores and SQLite has neither the function nor such an index.
    "ix_subjects_core_bigrams",
}

# What the edits of 0005 after 0006 existed added, and 0012 brings to older databases.
LOST_INDEXES = {
    "commitments": {"ix_commitments_department_code"},
    "notices": {"ix_notices_record_id"},
    "repair_applications": {
        "uq_repair_applications_open_record_id",
        "uq_repair_applications_open_list_entry_id",
    },
}


def _include(_obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)


def schema_differences(engine: Engine) -> list[Any]:
    """What `alembic revision --autogenerate` would write to bring the database to the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": True, "include_object": _include},
        )
        return list(compare_metadata(context, metadata))


def schema_snapshot(engine: Engine) -> dict[str, Any]:
    """Tables, columns, keys and indexes (with partial-index conditions) as the database reports them."""
    inspector = sa.inspect(engine)
    snapshot: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        snapshot[table] = {
            "columns": {
                column["name"]: (str(column["type"]), column["nullable"])
                for column in inspector.get_columns(table)
            },
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(
                (uq["name"] or "", tuple(uq["column_names"]))
                for uq in inspector.get_unique_constraints(table)
            ),
            "indexes": sorted(
                (
                    index["name"] or "",
                    tuple(str(name) for name in index["column_names"]),
                    bool(index["unique"]),
                    sorted((key, str(value)) for key, value in index.get("dialect_options", {}).items()),
                )
                for index in inspector.get_indexes(table)
            ),
        }
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            snapshot["pg_indexes"] = sorted(
                connection.execute(
                    text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
                ).all()
            )
    return snapshot


@contextmanager
def blank_database(store: str, tmp_path: Path, name: str) -> Iterator[Engine]:
    """An empty database of the given store, dropped afterwards (PostgreSQL: a database beside the test one)."""
    if store == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    assert PG_URL
    url = make_url(PG_URL)
    database = f"{url.database}_{name}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    engine = make_engine(url.set(database=database).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def migrate_to_0008_before_0005_was_edited(engine: Engine, tmp_path: Path) -> None:
    """Migrate to 0008 with 0005 as it stood when 0006 was written: a database of that time."""
    scripts = tmp_path / "old_migrations"
    source = resources.files("xinyong.db") / "migrations"
    shutil.copytree(str(source), scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0005_repair_objections_commitments.py").write_text(
        OLD_0005.read_text(encoding="utf-8"), encoding="utf-8"
    )
    config = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    config.set_main_option("script_location", str(scripts))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")


def _index_names(engine: Engine, table: str) -> set[str]:
    return {index["name"] or "" for index in sa.inspect(engine).get_indexes(table)}


def _placeholder(column: sa.Column[Any]) -> Any:
    if isinstance(column.type, sa.JSON):
        return {}
    python_type = column.type.python_type
    if python_type is dt.datetime:
        return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    if python_type is dt.date:
        return dt.date(2026, 1, 1)
    return python_type()  # "", 0, False


def insert_open_applications(engine: Engine, record_ids: list[int]) -> None:
    """Repair applications, open, for the given records (foreign keys not checked: no subjects or records)."""
    unchecked = sa.create_engine(engine.url) if engine.dialect.name == "sqlite" else engine
    try:
        with unchecked.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            table = sa.Table("repair_applications", sa.MetaData(), autoload_with=connection)
            filled = {
                column.name: _placeholder(column)
                for column in table.columns
                if not column.nullable and not column.primary_key
            }
            connection.execute(
                table.insert(),
                [{**filled, "status": "submitted", "record_id": record_id} for record_id in record_ids],
            )
    finally:
        if unchecked is not engine:
            unchecked.dispose()


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    assert schema_differences(engine) == []


def test_a_database_migrated_before_0005_was_edited_ends_like_a_fresh_one(
    engine: Engine, tmp_path: Path
) -> None:
    with blank_database(engine.dialect.name, tmp_path, "before_edits") as old:
        migrate_to_0008_before_0005_was_edited(old, tmp_path)
        # The simulation is real: that database lacks what the edits added ...
        assert "department_code" not in {
            column["name"] for column in sa.inspect(old).get_columns("commitments")
        }
        for table, names in LOST_INDEXES.items():
            assert not names & _index_names(old, table)
        assert schema_differences(old) != []

        migrate.upgrade(old)

        # ... and, at head, has the schema of a fresh database, the one the models describe.
        assert schema_differences(old) == []
        assert schema_snapshot(old) == schema_snapshot(engine)
        for table, names in LOST_INDEXES.items():
            assert names <= _index_names(old, table)
        # The unique partial index holds: a second open application for a record is refused.
        insert_open_applications(old, [1])
        with pytest.raises(sa.exc.IntegrityError):
            insert_open_applications(old, [1])


def test_a_database_that_got_only_the_first_edit_of_0005_ends_like_a_fresh_one(
    engine: Engine, tmp_path: Path
) -> None:
    """At 0006 after the commitment column was added to 0005 but before the indexes were: 0012 adds only those."""
    with blank_database(engine.dialect.name, tmp_path, "first_edit") as old:
        migrate.upgrade(old, "0008")
        with old.begin() as connection:
            for names in (LOST_INDEXES["notices"], LOST_INDEXES["repair_applications"]):
                for name in names:
                    connection.execute(text(f"DROP INDEX {name}"))
        dropped = LOST_INDEXES["notices"] | LOST_INDEXES["repair_applications"]
        assert dropped <= {diff[1].name for diff in schema_differences(old) if diff[0] == "add_index"}

        migrate.upgrade(old)

        assert schema_differences(old) == []
        assert schema_snapshot(old) == schema_snapshot(engine)


def test_0012_names_duplicate_open_applications_instead_of_choosing_one(
    engine: Engine, tmp_path: Path
) -> None:
    with blank_database(engine.dialect.name, tmp_path, "duplicates") as old:
        migrate_to_0008_before_0005_was_edited(old, tmp_path)
        insert_open_applications(old, [41, 41, 42])

        with pytest.raises(RuntimeError, match=r"record_id=41 \(2 open\)") as raised:
            migrate.upgrade(old)
        assert "record_id=42" not in str(raised.value)
        # Nothing of 0009-0012 stayed half done: the database is still at 0008 and may be upgraded once the
        # department has closed one of them.
        with old.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0008"
        with old.begin() as connection:
            connection.execute(
                text(
                    "UPDATE repair_applications SET status = 'rejected' WHERE id = (SELECT MIN(id) FROM repair_applications)"
                )
            )
        migrate.upgrade(old)
        assert schema_differences(old) == []


def test_0012_downgrade_keeps_what_0005_owns(engine: Engine, tmp_path: Path) -> None:
    with blank_database(engine.dialect.name, tmp_path, "downgrade") as fresh:
        migrate.upgrade(fresh)
        with fresh.begin() as connection:
            migrate.downgrade(connection, "0011")
        for table, names in LOST_INDEXES.items():
            assert names <= _index_names(fresh, table)
        migrate.upgrade(fresh)
        assert schema_differences(fresh) == []
