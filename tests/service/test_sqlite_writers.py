"""Concurrent writers on the embedded SQLite store wait their turn instead of failing.

A transaction that reads and then writes fails at its first write if another connection committed since its
first read (SQLITE_BUSY_SNAPSHOT, "database is locked", which no busy timeout waits out). Requests that may
write and CLI commands that write therefore begin as writers (`db.engine.writer_session`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import TODAY
from tests.helpers import bearer, licence, penalty
from xinyong.app import create_app
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.db.engine import WRITER_OPTION, make_engine, writer_session
from xinyong.db.session import transaction
from xinyong.platform import Platform
from xinyong.records.models import Batch, Record
from xinyong.web.deps import get_today


def test_concurrent_submissions_and_audited_reads_all_succeed(file_platform: Platform) -> None:
    app = create_app(platform=file_platform)
    app.dependency_overrides[get_today] = lambda: TODAY
    with TestClient(app) as client:
        with file_platform.sessions() as session:
            headers = bearer(session)
        first = client.post(
            "/api/v1/records", headers=headers, json={"item": "CF", "records": [penalty(CF_XDR_SHXYM="BAD")]}
        )
        assert first.status_code == 200 and first.json()["rejected"] == 1
        batch_id = first.json()["batch_id"]

        def submit(n: int) -> int:
            item, rows = (
                ("XK", [licence() for _ in range(25)]) if n % 2 else ("CF", [penalty() for _ in range(25)])
            )
            status: int = client.post(
                "/api/v1/records", headers=headers, json={"item": item, "records": rows}
            ).status_code
            return status

        def export(_: int) -> int:  # a GET that reads a batch's rejected rows, then audits the export
            status: int = client.get(f"/api/v1/batches/{batch_id}/rejected.csv", headers=headers).status_code
            return status

        with ThreadPoolExecutor(8) as pool:
            writes = [pool.submit(submit, n) for n in range(24)]
            reads = [pool.submit(export, n) for n in range(12)]
            statuses = [w.result() for w in writes] + [r.result() for r in reads]
    assert statuses == [200] * 36
    with file_platform.sessions() as session:
        assert session.scalar(select(func.count(Batch.id))) == 1 + 24
        assert session.scalar(select(func.count(Record.id))) == 24 * 25
        exports = session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "batch.export_rejected")
        )
        assert exports == 12
        assert audit.verify(session) is None


def test_a_writer_session_on_sqlite_begins_immediate(file_platform: Platform) -> None:
    sessions = file_platform.sessions
    with writer_session(sessions) as session:
        assert session.connection().get_execution_options().get(WRITER_OPTION) is True
    with sessions() as session:
        assert not session.connection().get_execution_options().get(WRITER_OPTION)


def test_a_writer_session_on_a_shared_connection_is_a_plain_one(session: Session) -> None:
    """A test's sessions share one connection (and PostgreSQL needs no writer option): left as they are."""
    bind = session.connection()
    shared = sessionmaker(bind=bind, join_transaction_mode="create_savepoint")
    with writer_session(shared) as plain:
        assert not plain.connection().get_execution_options().get(WRITER_OPTION)


def test_a_command_that_writes_waits_for_a_running_write(tmp_path: Path) -> None:
    """`transaction()` of a CLI command holds the write lock from its first read: another connection's write
    waits for it (with a plain BEGIN that write would commit in between, and the command's own write would
    then fail with "database is locked")."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    sessions = sessionmaker(bind=engine)
    with ThreadPoolExecutor(1) as pool, transaction(sessions) as command:
        command.execute(text("SELECT count(*) FROM t")).scalar()
        other = pool.submit(_insert, engine)
        with pytest.raises(TimeoutError):  # it waits for the command's write lock
            other.result(timeout=0.5)
        command.execute(text("INSERT INTO t VALUES (1)"))
    other.result(timeout=30)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2
    engine.dispose()


def _insert(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
