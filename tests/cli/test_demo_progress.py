"""`xinyong demo seed` explains itself: a progress bar per stage on a terminal, a log line per stage elsewhere;
the bar's totals are the rows actually generated, and the statistics pages' aggregates are computed."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select
from typer.testing import CliRunner

from xinyong.accounts.models import User
from xinyong.cli import app
from xinyong.clikit import open_platform
from xinyong.demo import cli as demo_cli
from xinyong.demo import generator
from xinyong.monitoring import service as monitoring
from xinyong.monitoring.models import StatisticsAggregate

runner = CliRunner()
SCALE = "0.01"
DAY = dt.date(2026, 11, 28)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XINYONG_SECRET_KEY", "cli-test-secret")
    monkeypatch.delenv("XINYONG_DATABASE_URL", raising=False)
    monkeypatch.setattr(demo_cli, "today", lambda: DAY)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return tmp_path


def rows_read(output: str) -> int:
    """Rows the ingest read, from the summary line (accepted + updated + unchanged + rejected + queued)."""
    summary = re.search(
        r"accepted (\d+), updated (\d+), unchanged (\d+), rejected (\d+), queued for review (\d+)", output
    )
    assert summary, output
    return sum(int(n) for n in summary.groups())


def aggregates_stored() -> list[str]:
    platform = open_platform()
    with platform.sessions() as session:
        return sorted(
            session.scalars(select(StatisticsAggregate.name).where(StatisticsAggregate.data.is_not(None)))
        )


class TestPlannedTotals:
    def test_each_part_announces_exactly_its_rows_and_generation_is_unchanged(self) -> None:
        announced: list[tuple[str, int]] = []
        made: dict[str, int] = {}
        digest = hashlib.sha256()
        for batch in generator.batches(
            0.01, today=DAY, on_plan=lambda part, rows: announced.append((part, rows))
        ):
            part = generator.REGISTRATIONS if batch.item_code == "DJ" else generator.RECORDS
            made[part] = made.get(part, 0) + len(batch.rows)
            digest.update(repr(batch.rows).encode())
        assert announced == [
            (generator.REGISTRATIONS, made[generator.REGISTRATIONS]),
            (generator.RECORDS, made[generator.RECORDS]),
        ]
        # Announcing the totals draws nothing from the generator's random numbers: the same rows as without.
        plain = hashlib.sha256()
        for batch in generator.batches(0.01, today=DAY):
            plain.update(repr(batch.rows).encode())
        assert plain.hexdigest() == digest.hexdigest()


class TestSeedProgress:
    def test_in_a_log_one_line_per_stage_says_what_it_did(
        self, env: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO, logger="xinyong.demo"):
            result = runner.invoke(app, ["demo", "seed", "--scale", SCALE])
        assert result.exit_code == 0, result.output
        lines = [r.getMessage() for r in caplog.records if r.name == "xinyong.demo"]
        assert [line.split(" ")[2] for line in lines] == list(demo_cli.STAGES)
        rows = [re.search(r": ([\d,]+) rows in \d+ s$", line) for line in lines[:2]]
        assert all(rows), lines
        assert sum(int(m[1].replace(",", "")) for m in rows if m) == rows_read(result.output)
        assert re.search(r"supervision \(名单、核查与反馈\): \d+ list entries, \d+ checks in \d+ s", lines[4])
        assert lines[-1].startswith(
            f"demo seed: statistics (统计汇总): {len(monitoring.NAMES)} aggregates in "
        )
        assert "━" not in result.output  # no bar drawn into a log
        assert aggregates_stored() == sorted(monitoring.NAMES)  # /statistics shows the demo at once
        printed = re.search(r"demo accounts \(password .*\): (.+)$", result.output, re.MULTILINE)
        assert printed, result.output
        with open_platform().sessions() as session:
            made = session.scalars(select(User.username).where(User.is_demo.is_(True))).all()
        assert {"agency", "bank", "enterprise"} <= set(made)
        assert sorted(printed[1].split(", ")) == sorted(made)  # every demo account, the bank's too

    def test_on_a_terminal_a_bar_per_stage_reaches_its_total(
        self, env: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        screen = io.StringIO()
        console = Console(file=screen, force_terminal=True, color_system=None, width=120)
        monkeypatch.setattr(demo_cli, "err_console", console)
        with caplog.at_level(logging.INFO, logger="xinyong.demo"):
            result = runner.invoke(app, ["demo", "seed", "--scale", SCALE])
        assert result.exit_code == 0, result.output
        drawn = screen.getvalue()
        assert "━" in drawn
        for name in demo_cli.STAGES.values():
            assert name in drawn
        ingested = 0
        for stage in ("registrations", "records"):
            done, total = re.findall(rf"{demo_cli.STAGES[stage]}\s+━+\s+([\d,]+)/([\d,]+)", drawn)[-1]
            assert done == total  # the bar ends full
            ingested += int(total.replace(",", ""))
        assert ingested == rows_read(result.output)
        assert not [r for r in caplog.records if r.name == "xinyong.demo"]  # the bars, not log lines
