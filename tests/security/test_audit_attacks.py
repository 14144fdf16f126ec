"""Crafted edits by someone who can write to the database but holds neither the audit key nor the signing key.

Each attack used to leave a trail that `xinyong audit verify` passed: an entry edited and its hash (and every
later one) recomputed; the newest entries deleted and the head moved back; a whole chain deleted with its head
row; entries renumbered after a deletion. The chain is now keyed (HMAC) and anchored by signed checkpoints
outside the database, and verify names each attack.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import TODAY
from xinyong.accounts.policy import Principal
from xinyong.audit import anchor, rules, service
from xinyong.audit.models import AuditEntry
from xinyong.cli import app
from xinyong.clikit import open_platform
from xinyong.jobs import run_daily
from xinyong.platform import Platform

OFFICIAL = Principal(kind="user", name="officer-2", role="provider", department_code="SCRS", user_id=2)


def write_chain(session: Session, count: int = 6) -> tuple[int, list[int]]:
    """`count` entries in one transaction (so on one chain); returns the chain and the entries' ids."""
    ids = [
        service.record(
            session, OFFICIAL, "subject.view", target=f"s-{n}", purpose="行政许可审查", details={"n": n}
        )
        for n in range(count)
    ]
    session.commit()
    chain = session.scalar(text("SELECT chain FROM audit_entries WHERE id = :id"), {"id": ids[0]})
    return int(chain), ids


def rows(session: Session, chain: int) -> list[dict[str, object]]:
    columns = [getattr(AuditEntry, f) for f in (*rules.HASHED_FIELDS, "seq", "prev_hash", "hash")]
    result = session.execute(select(*columns).where(AuditEntry.chain == chain).order_by(AuditEntry.seq))
    return [dict(r._mapping) for r in result]


def unkeyed_rehash(session: Session, chain: int, from_seq: int = 1) -> None:
    """What the attacker can compute without the key: SHA-256 over the entries from `from_seq` on (the
    canonical form is no secret), linked to the hash before them, and the head moved to the last."""
    prev = rules.GENESIS
    for row in rows(session, chain):
        if int(row["seq"]) >= from_seq:  # type: ignore[call-overload]
            digest = hashlib.sha256((prev + rules.canonical(row)).encode()).hexdigest()
            session.execute(
                text("UPDATE audit_entries SET prev_hash = :p, hash = :h WHERE id = :id"),
                {"p": prev, "h": digest, "id": row["id"]},
            )
            row["hash"] = digest
        prev = str(row["hash"])
    session.execute(text("UPDATE audit_head SET last_hash = :h WHERE id = :c"), {"h": prev, "c": chain})
    session.commit()


def renumber_after(session: Session, chain: int, deleted_seq: int) -> None:
    """Delete the entry at `deleted_seq` and close the gap (in two steps: positions are unique)."""
    session.execute(
        text("DELETE FROM audit_entries WHERE chain = :c AND seq = :s"), {"c": chain, "s": deleted_seq}
    )
    session.execute(
        text("UPDATE audit_entries SET seq = -seq WHERE chain = :c AND seq > :s"),
        {"c": chain, "s": deleted_seq},
    )
    session.execute(
        text("UPDATE audit_entries SET seq = -seq - 1 WHERE chain = :c AND seq < 0"), {"c": chain}
    )
    session.execute(text("UPDATE audit_head SET last_id = last_id - 1 WHERE id = :c"), {"c": chain})
    session.commit()


def anchored(session: Session, platform: Platform) -> None:
    anchor.write_checkpoint(session, platform.signer, platform.settings.data_dir)


def found(session: Session, platform: Platform) -> dict[str | None, list[rules.Break]]:
    loaded = anchor.load_file(platform.settings.data_dir, [platform.signer.public_key_b64])
    by_attack: dict[str | None, list[rules.Break]] = {}
    for broken in anchor.verify(session, loaded):
        by_attack.setdefault(broken.attack, []).append(broken)
    return by_attack


class TestUntouchedTrail:
    def test_an_anchored_trail_verifies(self, session: Session, platform: Platform) -> None:
        write_chain(session)
        anchored(session, platform)
        write_chain(session)  # entries after the checkpoint are fine too
        assert found(session, platform) == {}

    def test_a_checkpoint_line_not_signed_by_the_platform_is_named(
        self, session: Session, platform: Platform
    ) -> None:
        write_chain(session)
        anchored(session, platform)
        path = anchor.checkpoint_path(platform.settings.data_dir)
        line = json.loads(path.read_text().splitlines()[0])
        line["heads"] = {chain: {**h, "seq": 1} for chain, h in line["heads"].items()}
        path.write_text(path.read_text() + json.dumps(line) + "\n")
        assert [b.reason for b in found(session, platform)["checkpoint_forged"]] == [
            "检查点文件第2行的签名无效"
        ]


class TestDailyJob:
    def test_the_daily_job_anchors_every_chain_head(self, session: Session, platform: Platform) -> None:
        chain, ids = write_chain(session)
        results = run_daily(platform, TODAY)
        assert results["audit: checkpoint of {} chain heads written"] >= 1
        loaded = anchor.load_file(platform.settings.data_dir, [platform.signer.public_key_b64])
        assert loaded is not None and loaded.forged == []
        newest = session.scalar(text("SELECT hash FROM audit_entries WHERE id = :id"), {"id": ids[-1]})
        assert loaded.checkpoints[-1].heads[chain] == rules.HeadMark(len(ids), newest, ids[-1])


class TestCraftedAttacks:
    def test_a_an_entry_edited_and_rehashed_is_named(self, session: Session, platform: Platform) -> None:
        chain, ids = write_chain(session)
        anchored(session, platform)
        session.execute(
            text("UPDATE audit_entries SET purpose = '事后补写的事由' WHERE id = :id"), {"id": ids[2]}
        )
        unkeyed_rehash(session, chain, from_seq=3)
        named = found(session, platform)
        first = named["rehashed"][0]
        assert (first.entry_id, first.chain, first.position) == (ids[2], chain, 3)
        assert "重新计算" in named["rehashed"][0].describe()

    def test_b_newest_entries_deleted_and_head_moved_back_is_named(
        self, session: Session, platform: Platform
    ) -> None:
        chain, ids = write_chain(session)
        anchored(session, platform)
        kept = session.execute(
            text("SELECT seq, hash FROM audit_entries WHERE id = :id"), {"id": ids[3]}
        ).one()
        session.execute(text("DELETE FROM audit_entries WHERE id IN (:a, :b)"), {"a": ids[4], "b": ids[5]})
        session.execute(
            text("UPDATE audit_head SET last_id = :s, last_hash = :h WHERE id = :c"),
            {"s": kept[0], "h": kept[1], "c": chain},
        )
        session.commit()
        assert service.verify(session) is None  # consistent in itself: only the checkpoint tells
        named = found(session, platform)
        assert list(named) == ["truncated"]
        assert (named["truncated"][0].chain, named["truncated"][0].position) == (chain, 5)
        assert "链头被回拨" in named["truncated"][0].describe()

    def test_c_a_whole_chain_deleted_with_its_head_is_named(
        self, session: Session, platform: Platform
    ) -> None:
        chain, ids = write_chain(session)
        anchored(session, platform)
        session.execute(text("DELETE FROM audit_entries WHERE chain = :c"), {"c": chain})
        session.execute(text("DELETE FROM audit_head WHERE id = :c"), {"c": chain})
        session.commit()
        assert service.verify(session) is None  # no trace left inside the database
        named = found(session, platform)
        assert list(named) == ["chain_deleted"]
        assert (named["chain_deleted"][0].chain, named["chain_deleted"][0].entry_id) == (chain, ids[-1])

    def test_d_renumbering_after_a_deletion_is_named(self, session: Session, platform: Platform) -> None:
        chain, ids = write_chain(session)
        anchored(session, platform)
        renumber_after(session, chain, 2)
        named = found(session, platform)
        # The chain itself: the entry now at position 2 verifies only at position 3 with its own link.
        inside, against_checkpoint = named["renumbered"]
        assert (inside.entry_id, inside.position) == (ids[2], 2) and "原在第3条" in inside.reason
        # The checkpoint: its head entry now stands one position lower.
        assert (against_checkpoint.entry_id, against_checkpoint.position) == (ids[-1], 5)

    def test_d_renumbering_and_rehashing_is_still_named(self, session: Session, platform: Platform) -> None:
        chain, ids = write_chain(session)
        anchored(session, platform)
        renumber_after(session, chain, 2)
        unkeyed_rehash(session, chain, from_seq=2)
        named = found(session, platform)
        assert named["rehashed"][0].position == 2  # the first re-hashed entry fails the key
        assert [(b.entry_id, b.position) for b in named["renumbered"]] == [(ids[-1], 5)]


runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XINYONG_SECRET_KEY", "cli-attack-secret")
    monkeypatch.delenv("XINYONG_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return tmp_path


class TestCommands:
    def test_verify_names_the_attack_after_anchor(self, data_dir: Path) -> None:
        platform = open_platform()
        try:
            with platform.sessions() as session:
                chain, _ = write_chain(session)
            assert runner.invoke(app, ["audit", "anchor"]).exit_code == 0
            assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
            with platform.sessions() as session:
                session.execute(text("DELETE FROM audit_entries WHERE chain = :c"), {"c": chain})
                session.execute(text("DELETE FROM audit_head WHERE id = :c"), {"c": chain})
                session.commit()
        finally:
            platform.sessions.kw["bind"].dispose()
        result = runner.invoke(app, ["audit", "verify"])
        assert result.exit_code == 1
        assert "[chain_deleted]" in result.output and "整条链连同链头被删除" in result.output

    def test_rekey_turns_an_unkeyed_trail_keyed_and_refuses_a_tampered_one(self, data_dir: Path) -> None:
        platform = open_platform()
        try:
            with platform.sessions() as session:
                chain, ids = write_chain(session)
                unkeyed_rehash(session, chain)  # a trail as written before the chain was keyed
                assert service.verify(session) is not None
            result = runner.invoke(app, ["audit", "rekey"])
            assert result.exit_code == 0, result.output
            assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
            with platform.sessions() as session:
                session.execute(text("UPDATE audit_entries SET purpose = 'x' WHERE id = :id"), {"id": ids[1]})
                session.commit()
        finally:
            platform.sessions.kw["bind"].dispose()
        result = runner.invoke(app, ["audit", "rekey", "--from-key", "wrong"])
        assert result.exit_code == 1 and "not re-keyed" in result.output
