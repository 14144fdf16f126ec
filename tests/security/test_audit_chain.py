"""The audit trail is a hash chain: any change made behind the application's back is found, by entry.

Entries are written through `audit.service.record`, then the database is tampered with in raw SQL, the way
someone with database access (not application access) would; `verify` must name the entry concerned.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from xinyong.accounts.policy import Principal
from xinyong.audit import service
from xinyong.audit.models import AuditEntry
from xinyong.cli import app
from xinyong.clikit import open_platform
from xinyong.db.engine import make_engine
from xinyong.platform import Platform

OFFICIAL = Principal(kind="user", name="officer-1", role="provider", department_code="SCMR", user_id=1)


def write_entries(session: Session, count: int = 5) -> list[int]:
    ids = []
    for n in range(count):
        entry_id = service.record(
            session,
            OFFICIAL,
            "subject.view" if n % 2 else "records.ingest",
            target=f"batch-{n}",
            purpose="行政许可审查" if n % 2 else None,
            ip="10.0.0.7",
            details={"records": n, "备注": "查询", "nested": {"ok": True}},
        )
        ids.append(entry_id)
    session.commit()
    return ids


def position(session: Session, entry_id: int) -> tuple[int, int]:
    row = session.execute(text("SELECT chain, seq FROM audit_entries WHERE id = :id"), {"id": entry_id}).one()
    return int(row[0]), int(row[1])


def execute(session: Session, sql: str, **params: object) -> None:
    session.execute(text(sql), params)
    session.commit()


class TestIntactChain:
    def test_entries_written_by_the_app_verify(self, session: Session) -> None:
        write_entries(session)
        assert service.verify(session) is None

    def test_an_empty_trail_verifies(self, session: Session) -> None:
        assert service.verify(session) is None


class TestTamperingIsDetected:
    def test_changed_details_name_the_changed_entry(self, session: Session) -> None:
        ids = write_entries(session)
        statement = text("UPDATE audit_entries SET details = :details WHERE id = :id").bindparams(
            bindparam("details", type_=AuditEntry.__table__.c.details.type)
        )
        session.execute(
            statement, {"details": {"records": 0, "备注": "查询", "nested": {"ok": True}}, "id": ids[2]}
        )
        session.commit()
        broken = service.verify(session)
        assert broken is not None and broken.entry_id == ids[2]
        assert "修改" in broken.reason

    def test_changed_purpose_names_the_changed_entry(self, session: Session) -> None:
        ids = write_entries(session)
        execute(
            session,
            "UPDATE audit_entries SET purpose = :purpose WHERE id = :id",
            purpose="例行检查",
            id=ids[1],
        )
        broken = service.verify(session)
        assert broken is not None and broken.entry_id == ids[1]

    def test_changed_actor_of_the_newest_entry_is_detected(self, session: Session) -> None:
        ids = write_entries(session)
        execute(session, "UPDATE audit_entries SET actor = 'someone-else' WHERE id = :id", id=ids[-1])
        broken = service.verify(session)
        assert broken is not None and broken.entry_id == ids[-1]

    def test_deleting_a_middle_entry_names_its_place(self, session: Session) -> None:
        ids = write_entries(session)
        chain, seq = position(session, ids[2])
        execute(session, "DELETE FROM audit_entries WHERE id = :id", id=ids[2])
        broken = service.verify(session)
        assert broken is not None and "删除" in broken.reason
        assert (broken.entry_id, broken.chain, broken.position) == (None, chain, seq)
        assert f"#{ids[1]}" in broken.reason and f"#{ids[3]}" in broken.reason  # between its neighbours

    def test_deleting_the_newest_entry_names_its_place(self, session: Session) -> None:
        ids = write_entries(session)
        chain, seq = position(session, ids[-1])
        execute(session, "DELETE FROM audit_entries WHERE id = :id", id=ids[-1])
        broken = service.verify(session)
        assert broken is not None and "删除" in broken.reason
        assert (broken.entry_id, broken.chain, broken.position) == (None, chain, seq)
        assert f"#{ids[-2]}" in broken.reason

    def test_one_transaction_appends_to_one_chain_in_order(self, session: Session) -> None:
        ids = write_entries(session)
        places = [position(session, i) for i in ids]
        assert len({chain for chain, _ in places}) == 1
        assert [seq for _, seq in places] == list(range(places[0][1], places[0][1] + len(ids)))

    def test_entries_of_concurrent_sessions_spread_over_chains_and_verify(
        self, platform: Platform, session: Session
    ) -> None:
        for _ in range(12):
            with platform.sessions() as other:
                service.record(other, OFFICIAL, "auth.login")
                other.commit()
        chains = set(session.scalars(text("SELECT DISTINCT chain FROM audit_entries")))
        assert len(chains) > 1
        assert service.verify(session) is None

    def test_deleting_every_entry_is_detected(self, session: Session) -> None:
        write_entries(session)
        execute(session, "DELETE FROM audit_entries")
        assert service.verify(session) is not None

    @pytest.mark.parametrize("linked", [True, False], ids=["linked-to-the-real-head", "made-up-link"])
    def test_forged_entry_is_named(self, session: Session, linked: bool) -> None:
        ids = write_entries(session)
        last_hash = session.scalar(text("SELECT hash FROM audit_entries WHERE id = :id"), {"id": ids[-1]})
        forged = ids[-1] + 1
        execute(
            session,
            "INSERT INTO audit_entries (id, at, action, outcome, actor_kind, actor, department_code, target,"
            " purpose, ip, prev_hash, hash)"
            " VALUES (:id, :at, 'subject.view', 'ok', 'user', 'officer-1', 'SCMR', NULL, '补录', NULL,"
            " :prev, :hash)",
            id=forged,
            at="2026-11-28 09:00:00",
            prev=last_hash if linked else "f" * 64,
            hash="a" * 64,
        )
        broken = service.verify(session)
        assert broken is not None and broken.entry_id == forged


runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XINYONG_SECRET_KEY", "cli-test-secret")
    monkeypatch.delenv("XINYONG_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return tmp_path


@pytest.fixture
def file_entries(data_dir: Path) -> list[int]:
    platform = open_platform()  # the command's own settings: its audit key
    try:
        with platform.sessions() as session:
            return write_entries(session, 4)
    finally:
        platform.sessions.kw["bind"].dispose()


def tamper(data_dir: Path, sql: str, **params: object) -> None:
    engine = make_engine(f"sqlite:///{data_dir / 'xinyong.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(text(sql), params)
    finally:
        engine.dispose()


class TestVerifyCommand:
    def test_intact_chain_exits_0(self, data_dir: Path, file_entries: list[int]) -> None:
        result = runner.invoke(app, ["audit", "verify"])
        assert result.exit_code == 0, result.output
        assert "intact" in result.output

    def test_changed_entry_exits_1_naming_it(self, data_dir: Path, file_entries: list[int]) -> None:
        tamper(data_dir, "UPDATE audit_entries SET purpose = '伪造事由' WHERE id = :id", id=file_entries[1])
        result = runner.invoke(app, ["audit", "verify"])
        assert result.exit_code == 1
        assert f"entry {file_entries[1]}:" in result.output

    def test_forged_entry_exits_1_naming_it(self, data_dir: Path, file_entries: list[int]) -> None:
        forged = file_entries[-1] + 1
        tamper(
            data_dir,
            "INSERT INTO audit_entries (id, at, action, outcome, actor_kind, actor, prev_hash, hash)"
            " VALUES (:id, '2026-11-28 09:00:00', 'auth.login', 'ok', 'user', 'x', :h, :h)",
            id=forged,
            h="0" * 64,
        )
        result = runner.invoke(app, ["audit", "verify"])
        assert result.exit_code == 1
        assert f"entry {forged}:" in result.output
