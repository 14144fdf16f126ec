"""Engines for the embedded SQLite store (WAL, foreign keys) and the PostgreSQL server store (psycopg 3)."""

from __future__ import annotations

import time
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from xinyong.db.base import json_dumps


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and real transactions (BEGIN on first statement)."""
    kwargs.setdefault("json_serializer", json_dumps)
    # JSON read back (check results, audit details, record fields) is parsed by orjson too: several times
    # faster than the standard library, same values for what `json_dumps` writes.
    kwargs.setdefault("json_deserializer", orjson.loads)
    # A statement's parameters may carry personal data (a resident ID being encrypted, hashed or looked up):
    # errors and logs show the statement without them.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin (savepoints then work).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql(
                "BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITER_OPTION) else "BEGIN"
            )

        return engine
    # Enough pooled connections for the server's thread pool, so requests do not open and close overflow ones.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    # Last in, first out: a burst opens connections, steady work then reuses the few most recently used, whose
    # prepared statements and cached plans are warm (psycopg prepares a statement on its fifth run on a
    # connection, PostgreSQL settles on a generic plan after five more). First in, first out rotated the check
    # batches over every pooled connection, so most of them were planned afresh.
    kwargs.setdefault("pool_use_lifo", True)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_when_idle(engine, PING_AFTER_IDLE_S)
    return engine


WRITER_OPTION = "xinyong_writer"  # execution option: the transaction begins as a writer (SQLite)


def writer_session(sessions: sessionmaker[Session]) -> Session:
    """A session all of whose transactions begin as writers, for a unit of work that may read and then write
    (a request that may change data, a command that writes, a batch of checks). Made without I/O, so it can
    be made on an event loop.

    SQLite: its connections carry the writer option, so each transaction begins with `BEGIN IMMEDIATE`, takes
    the one write lock first and waits its turn for it (up to the busy timeout); with a plain BEGIN, a
    transaction fails at its first write if another writer committed since its first read
    (SQLITE_BUSY_SNAPSHOT, which does not wait). Otherwise (PostgreSQL; a test's sessions sharing one
    connection) a plain session.
    """
    bind = sessions.kw.get("bind")
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        return sessions(bind=bind.execution_options(**{WRITER_OPTION: True}))
    return sessions()


PING_AFTER_IDLE_S = 10.0


def ping_when_idle(engine: Engine, idle_s: float) -> None:
    """Pessimistic disconnect handling for connections that sat in the pool `idle_s` seconds or more.

    `pool_pre_ping` pings on every checkout: one more round trip on every request. A connection that was in
    use moments ago is trusted instead, and one that has been idle (where a server restart, a failover or a
    firewall's idle timeout would show) is pinged first and replaced if the ping fails (SQLAlchemy's
    documented `checkout` hook: raising DisconnectionError makes the pool retry with a fresh connection). A
    server that went away within the last `idle_s` seconds fails that one statement; SQLAlchemy then
    invalidates the pool, and the next requests reconnect.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("pooled connection failed its ping") from exc


def make_sessionmaker(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """Sessions on `engine`; `info` starts every session's `Session.info` (the platform puts the audit key
    there, so it reaches the audit trail without ever being stored)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False, info=info)


def is_postgres(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"
