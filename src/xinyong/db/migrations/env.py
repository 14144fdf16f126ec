"""Alembic environment: runs on the connection handed in by xinyong.db.migrate, or on the configured URL.

The models' metadata (`xinyong.schema.metadata`, needed only to autogenerate a revision) is handed in as
`config.attributes["metadata"]`: `xinyong.db` knows no domain."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from xinyong.db.engine import make_engine

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=config.attributes.get("metadata"),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
