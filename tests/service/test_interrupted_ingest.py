"""An ingest killed part-way is visible and resumable.

A file ingest commits chunk by chunk. Killed between two chunks, its batch used to stay "running" forever, a
re-run of the file stored the rejected rows of the part already done a second time (in a new batch), and the
chunks committed before the kill had no audit entry (the CLI audited the ingest only at its end). Now the
batch's heartbeat stops and it is marked interrupted (at start-up, by the daily job, by the next ingest), the
same file resumes it after the rows it stored, and every committed chunk carries its audit entry.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import TODAY
from tests.helpers import ingest_rows, penalty
from xinyong.accounts.policy import SYSTEM
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.cli import app
from xinyong.clikit import open_platform
from xinyong.jobs import run_daily
from xinyong.kit.tabular import Row, read_path
from xinyong.platform import Platform
from xinyong.records import batches
from xinyong.records.models import Batch, Record, RejectedRow
from xinyong.records.service import IngestContext

DIGEST = "ab" * 32


class Killed(BaseException):
    """The process dying between two chunks (nothing after it runs in this process)."""


def file_rows() -> list[dict[str, Any]]:
    """Ten rows, every third one invalid (a bad USCC): rejected rows in every chunk of four."""
    return [penalty(CF_XDR_SHXYM="BAD") if n % 3 == 0 else penalty() for n in range(10)]


def killed_after(chunks: int, session: Session) -> Any:
    calls = {"n": 0}

    def on_chunk(_batch: Batch) -> None:
        session.commit()
        calls["n"] += 1
        if calls["n"] == chunks:
            raise Killed

    return on_chunk


def chunk_entries(session: Session, batch_id: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "records.ingest_chunk", AuditEntry.target == batch_id)
            .order_by(AuditEntry.id)
        )
    )


def only_batch(session: Session) -> Batch:
    return session.scalars(select(Batch).execution_options(populate_existing=True)).one()


class TestMarkedInterrupted:
    def test_a_killed_batch_is_marked_interrupted_once_its_heartbeat_stops(
        self, session: Session, ctx: IngestContext
    ) -> None:
        with pytest.raises(Killed):
            ingest_rows(session, ctx, file_rows(), chunk_size=4, on_chunk=killed_after(1, session))
        session.rollback()
        batch = only_batch(session)
        assert batch.status == "running" and batch.heartbeat_at is not None
        now = dt.datetime.now(dt.UTC)
        assert batches.mark_interrupted(session, now) == 0  # it may still be running somewhere
        assert (
            batches.mark_interrupted(session, now + batches.INTERRUPTED_AFTER + dt.timedelta(seconds=1)) == 1
        )
        session.commit()
        batch = only_batch(session)
        assert batch.status == "interrupted" and "中断" in (batch.error or "")
        assert batches.receipt(session, batch).status == "interrupted"

    def test_the_daily_job_marks_it(self, session: Session, platform: Platform, ctx: IngestContext) -> None:
        with pytest.raises(Killed):
            ingest_rows(session, ctx, file_rows(), chunk_size=4, on_chunk=killed_after(1, session))
        session.rollback()
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        session.execute(update(Batch).values(heartbeat_at=long_ago))
        session.commit()
        results = run_daily(platform, TODAY)
        assert results["records: {} interrupted ingests marked"] == 1
        assert only_batch(session).status == "interrupted"

    def test_a_finished_batch_is_never_marked(self, session: Session, ctx: IngestContext) -> None:
        ingest_rows(session, ctx, file_rows(), chunk_size=4)
        session.commit()
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        assert batches.mark_interrupted(session, later) == 0
        assert only_batch(session).status == "done"


class TestResumed:
    def test_the_same_file_resumes_the_batch_without_duplicating_rejected_rows(
        self, session: Session, ctx: IngestContext
    ) -> None:
        rows = file_rows()
        with pytest.raises(Killed):
            ingest_rows(
                session, ctx, rows, chunk_size=4, on_chunk=killed_after(1, session), file_digest=DIGEST
            )
        session.rollback()
        batches.mark_interrupted(session, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
        session.commit()
        receipt = ingest_rows(
            session, ctx, rows, chunk_size=4, on_chunk=lambda _b: session.commit(), file_digest=DIGEST
        )
        session.commit()
        bad = sum(1 for r in rows if r["CF_XDR_SHXYM"] == "BAD")
        batch = only_batch(session)
        assert receipt.batch_id == batch.id and batch.status == "done"
        assert (batch.rows_read, batch.accepted, batch.rejected) == (10, 10 - bad, bad)
        assert session.scalar(select(func.count(RejectedRow.id))) == bad
        numbers = sorted(session.scalars(select(RejectedRow.row_number)))
        assert numbers == sorted(n for n, r in enumerate(rows, start=2) if r["CF_XDR_SHXYM"] == "BAD")
        assert session.scalar(select(func.count(Record.id))) == 10 - bad

    def test_another_file_or_a_finished_batch_starts_a_new_batch(
        self, session: Session, ctx: IngestContext
    ) -> None:
        rows = file_rows()
        ingest_rows(session, ctx, rows, chunk_size=4, file_digest=DIGEST)
        ingest_rows(session, ctx, rows, chunk_size=4, file_digest=DIGEST)  # done: a full re-run
        ingest_rows(session, ctx, rows, chunk_size=4, file_digest="cd" * 32)
        session.commit()
        assert session.scalar(select(func.count(Batch.id))) == 3

    def test_a_batch_still_marked_running_is_resumed_only_when_taken_over(
        self, session: Session, ctx: IngestContext
    ) -> None:
        rows = file_rows()
        with pytest.raises(Killed):
            ingest_rows(
                session, ctx, rows, chunk_size=4, on_chunk=killed_after(1, session), file_digest=DIGEST
            )
        session.rollback()
        taken = ingest_rows(session, ctx, rows, chunk_size=4, file_digest=DIGEST, take_over=True)
        session.commit()
        assert session.scalar(select(func.count(Batch.id))) == 1 and taken.status == "done"


class TestAudited:
    def test_every_committed_chunk_has_its_audit_entry(self, session: Session, ctx: IngestContext) -> None:
        rows = file_rows()
        with pytest.raises(Killed):
            ingest_rows(
                session,
                ctx,
                rows,
                chunk_size=4,
                on_chunk=killed_after(2, session),
                file_digest=DIGEST,
                audit_as=SYSTEM,
            )
        session.rollback()
        batch = only_batch(session)
        entries = chunk_entries(session, batch.id)
        assert [e.details["rows"] for e in entries if e.details] == [[1, 4], [5, 8]]
        assert sum(e.details["rejected"] for e in entries if e.details) == batch.rejected
        batches.mark_interrupted(session, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
        ingest_rows(
            session,
            ctx,
            rows,
            chunk_size=4,
            on_chunk=lambda _b: session.commit(),
            file_digest=DIGEST,
            audit_as=SYSTEM,
        )
        session.commit()
        entries = chunk_entries(session, batch.id)
        assert [e.details["rows"] for e in entries if e.details] == [[1, 4], [5, 8], [9, 10]]
        assert sum(e.details["accepted"] for e in entries if e.details) == only_batch(session).accepted
        assert audit.verify(session) is None


runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XINYONG_SECRET_KEY", "cli-test-secret")
    monkeypatch.setenv("XINYONG_INGEST_CHUNK_SIZE", "100")
    monkeypatch.delenv("XINYONG_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(
        app, ["departments", "add", "--code", "SCMR", "--name", "市场监管局", "--region", "510000"]
    )
    assert result.exit_code == 0, result.output
    return tmp_path


class TestCommand:
    def test_a_failed_run_says_interrupted_and_a_rerun_resumes_it(
        self, env: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        rows = [penalty(CF_XDR_SHXYM="BAD") if n % 7 == 0 else penalty() for n in range(250)]
        path = env / "cf.csv"
        headers = list(rows[0])
        path.write_text("\n".join([",".join(headers)] + [",".join(r[h] for h in headers) for r in rows]))
        real = read_path

        def cut(p: Path) -> Iterator[Row]:
            for row in real(p):
                if row.number > 201:
                    raise ConnectionResetError("connection to the file server lost")
                yield row

        monkeypatch.setattr("xinyong.records.cli.read_path", cut)
        failed = runner.invoke(app, ["ingest", str(path), "--item", "CF", "--provider", "SCMR"])
        assert failed.exit_code != 0
        monkeypatch.setattr("xinyong.records.cli.read_path", real)
        platform = open_platform()
        try:
            with platform.sessions() as session:
                batch = only_batch(session)
                assert (batch.status, batch.rows_read) == ("interrupted", 200)
                assert "connection" in (batch.error or "")
            done = runner.invoke(app, ["ingest", str(path), "--item", "CF", "--provider", "SCMR", "--json"])
            assert done.exit_code == 0, done.output
            receipt = json.loads(done.stdout)
            bad = sum(1 for r in rows if r["CF_XDR_SHXYM"] == "BAD")
            assert receipt["batch_id"] == batch.id and receipt["status"] == "done"
            with platform.sessions() as session:
                assert session.scalar(select(func.count(RejectedRow.id))) == bad == receipt["rejected"]
                ranges = [e.details["rows"] for e in chunk_entries(session, batch.id) if e.details]
                assert ranges == [[1, 100], [101, 200], [201, 250]]
                assert session.execute(text("SELECT count(*) FROM batches")).scalar() == 1
        finally:
            platform.sessions.kw["bind"].dispose()
