"""`xinyong jobs run` on a real SQLite file: one line per part with its count, idempotent re-runs, a failing
part reported without stopping the others; and when the scheduler next runs the jobs."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.helpers import apply_for_repair, penalty
from xinyong import jobs
from xinyong.accounts.policy import Principal
from xinyong.cli import app
from xinyong.clikit import open_platform
from xinyong.db.session import transaction
from xinyong.kit.dates import CHINA
from xinyong.kit.tabular import Row
from xinyong.objections import service as objections
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.repair import service as repair

runner = CliRunner()
DAY = dt.date(2026, 11, 28)
PARTS = {
    "escalation": "subjects proposed",
    "disclosure": "publicity windows ended",
    "repair alerts": "overdue applications",
    "repair re-check": "drawn for re-check",
    "objections": "overdue objections",
}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XINYONG_SECRET_KEY", "cli-test-secret")
    monkeypatch.delenv("XINYONG_DATABASE_URL", raising=False)
    monkeypatch.setattr(jobs, "today", lambda: DAY)  # time is an input
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    for code, name in (("SCMR", "四川省市场监督管理局"), ("SCFGW", "四川省发展和改革委员会")):
        result = runner.invoke(
            app, ["departments", "add", "--code", code, "--name", name, "--region", "510000"]
        )
        assert result.exit_code == 0, result.output
    return tmp_path


def counts(output: str) -> dict[str, int | None]:
    """Each part's count (None when it failed), found by what its line says, whatever the wording's order."""
    found: dict[str, int | None] = {}
    for line in output.splitlines():
        for part, words in PARTS.items():
            if words in line:
                assert part not in found, f"two lines for {part}: {output}"
                number = re.search(r"\b(\d+)\b", line)
                found[part] = None if "FAILED" in line else int(number[1]) if number else -1
    return found


def overdue_application_and_objection() -> None:
    """A penalty (2026-06-15, 一般) with a repair application of 2026-10-12 (due 2026-10-15) never accepted,
    and an objection of the same day (due 2026-10-21) never answered."""
    platform = open_platform()
    with transaction(platform.sessions) as session:
        row = penalty(CF_JDRQ="2026-06-15")
        records.ingest(
            session,
            platform.ingest_context(DAY),
            item_code="CF",
            provider_code="SCMR",
            rows=[Row(2, row)],
            source="test",
        )
        record = session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()
        subject = Principal(kind="user", name="企业经办人", role="subject", subject_id=record.subject_id)
        apply_for_repair(platform, session, subject, record.id, dt.date(2026, 10, 12))
        objections.file(
            session,
            platform.context(subject, dt.date(2026, 10, 12)),
            answer_workdays=platform.repair_policy.objection_workdays,
            record_id=record.id,
            reasons="该记录的罚款金额与处罚决定书不一致，请核实更正。",
            filer_name=row["CF_XDR_MC"],
            filer_contact=None,
            evidence=[],
        )


class TestJobsRun:
    def test_every_part_reports_its_count_on_an_empty_platform(self, env: Path) -> None:
        result = runner.invoke(app, ["jobs", "run"])
        assert result.exit_code == 0, result.output
        assert counts(result.output) == dict.fromkeys(PARTS, 0)

    def test_overdue_work_is_reported_once(self, env: Path) -> None:
        overdue_application_and_objection()
        first = runner.invoke(app, ["jobs", "run"])
        assert first.exit_code == 0, first.output
        reported = counts(first.output)
        assert (reported["repair alerts"], reported["objections"]) == (1, 1)
        again = runner.invoke(app, ["jobs", "run"])
        assert again.exit_code == 0, again.output
        assert counts(again.output) == dict.fromkeys(PARTS, 0)

    def test_a_failing_part_is_reported_and_the_others_still_run(
        self, env: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        overdue_application_and_objection()

        def broken(*_args: object, **_kwargs: object) -> int:
            raise RuntimeError("notice store unavailable")

        monkeypatch.setattr(repair, "alert_overdue", broken)
        result = runner.invoke(app, ["jobs", "run"])
        assert result.exit_code == 1
        reported = counts(result.output)
        assert set(reported) == set(PARTS)
        assert reported["repair alerts"] is None and reported["objections"] == 1


class TestWhyRecordsLeftPublicity:
    def test_the_first_run_prints_and_logs_each_reason_under_its_count(
        self, env: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        platform = open_platform()
        with transaction(platform.sessions) as session:
            rows = [
                penalty(CF_JDRQ="2022-03-31"),
                penalty(CF_JDRQ="2022-05-10"),
                penalty(CF_JDRQ="2026-06-15"),
            ]
            records.ingest(
                session,
                platform.ingest_context(DAY),
                item_code="CF",
                provider_code="SCMR",
                rows=[Row(n, row) for n, row in enumerate(rows, start=2)],
                source="test",
            )
        with caplog.at_level("INFO", logger="xinyong.jobs"):
            first = runner.invoke(app, ["jobs", "run"])
        assert first.exit_code == 0, first.output
        assert counts(first.output)["disclosure"] == 2
        lines = first.output.splitlines()
        at = next(i for i, line in enumerate(lines) if "publicity windows ended" in line)
        assert lines[at + 1] == "  first run: every record that left publicity before 2026-11-28"
        assert (
            lines[at + 2].startswith("  CF ")
            and ": 2 — window ended: 发改办财金〔2019〕527号: 一般" in lines[at + 2]
        )
        assert "window ended: 发改办财金〔2019〕527号" in caplog.text
        again = runner.invoke(app, ["jobs", "run"])
        assert "first run" not in again.output and "window ended" not in again.output


class TestNextRun:
    @pytest.mark.parametrize(
        ("now", "expected"),
        [
            (dt.datetime(2026, 11, 28, 1, 30), dt.datetime(2026, 11, 28, 2, 0)),  # still ahead today
            (dt.datetime(2026, 11, 28, 1, 59, 59, 999_999), dt.datetime(2026, 11, 28, 2, 0)),
            (dt.datetime(2026, 11, 28, 2, 0), dt.datetime(2026, 11, 29, 2, 0)),  # just run: tomorrow
            (dt.datetime(2026, 11, 28, 2, 0, 0, 1), dt.datetime(2026, 11, 29, 2, 0)),
            (dt.datetime(2026, 11, 28, 23, 59), dt.datetime(2026, 11, 29, 2, 0)),
            (dt.datetime(2026, 12, 31, 12, 0), dt.datetime(2027, 1, 1, 2, 0)),  # over the year's end
            (dt.datetime(2028, 2, 28, 3, 0), dt.datetime(2028, 2, 29, 2, 0)),  # a leap day
        ],
    )
    def test_today_if_still_ahead_else_tomorrow_in_china_time(
        self, now: dt.datetime, expected: dt.datetime
    ) -> None:
        at = jobs.next_run(now.replace(tzinfo=CHINA), dt.time(2, 0))
        assert at == expected.replace(tzinfo=CHINA)
        assert at.tzinfo is CHINA

    def test_the_wait_is_never_negative_nor_longer_than_a_day(self) -> None:
        start = dt.datetime(2026, 11, 28, tzinfo=CHINA)
        for minutes in range(0, 24 * 60, 7):
            now = start + dt.timedelta(minutes=minutes, seconds=13)
            wait = jobs.next_run(now, dt.time(6, 30)) - now
            assert dt.timedelta(0) < wait <= dt.timedelta(days=1)
