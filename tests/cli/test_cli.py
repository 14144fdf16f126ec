"""The `xinyong` command: db upgrade, departments, ingest with --json, review queue. Real SQLite files."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.helpers import penalty
from xinyong.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XINYONG_SECRET_KEY", "cli-test-secret")
    monkeypatch.delenv("XINYONG_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["departments", "add", "--code", "SCMR", "--name", "四川省市场监督管理局", "--region", "510000"]
    )
    assert result.exit_code == 0, result.output
    return tmp_path


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8-sig") -> Path:
    headers = list(rows[0])
    lines = [",".join(headers)] + [",".join(r.get(h, "") for h in headers) for r in rows]
    path.write_bytes("\n".join(lines).encode(encoding))
    return path


class TestDepartments:
    def test_list_json_shows_added_departments(self, env: Path) -> None:
        result = runner.invoke(app, ["departments", "list", "--json"])
        assert result.exit_code == 0
        assert json.loads(result.output) == [
            {
                "code": "SCMR",
                "name": "四川省市场监督管理局",
                "uscc": None,
                "region_code": "510000",
                "parent_code": None,
            }
        ]

    def test_duplicate_and_bad_uscc_exit_non_zero_with_a_code(self, env: Path) -> None:
        dup = runner.invoke(app, ["departments", "add", "--code", "SCMR", "--name", "x"])
        assert dup.exit_code == 1 and "department.exists" in dup.output
        bad = runner.invoke(app, ["departments", "add", "--code", "X", "--name", "x", "--uscc", "123"])
        assert bad.exit_code == 1 and "uscc.length" in bad.output


class TestIngest:
    def test_json_receipt_and_idempotent_rerun(self, env: Path) -> None:
        path = write_csv(env / "cf.csv", [penalty(), penalty(), penalty(CF_XDR_SHXYM="BAD")], encoding="gbk")
        first = runner.invoke(app, ["ingest", str(path), "--item", "CF", "--provider", "SCMR", "--json"])
        assert first.exit_code == 0, first.output
        receipt = json.loads(first.stdout)
        assert (receipt["accepted"], receipt["rejected"]) == (2, 1)
        assert receipt["rejected_rows"][0]["row"] == 4
        second = json.loads(
            runner.invoke(app, ["ingest", str(path), "--item", "CF", "--provider", "SCMR", "--json"]).stdout
        )
        assert (second["accepted"], second["unchanged"], second["rejected"]) == (0, 2, 1)

    def test_xlsx_with_excel_serial_dates(self, env: Path) -> None:
        row = penalty()
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(list(row))
        sheet.append([46188 if k == "CF_JDRQ" else v for k, v in row.items()])  # 46188 = 2026-06-15
        path = env / "cf.xlsx"
        book.save(path)
        result = runner.invoke(app, ["ingest", str(path), "--item", "CF", "--provider", "SCMR", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["accepted"] == 1

    def test_malformed_file_fails_cleanly(self, env: Path) -> None:
        path = env / "broken.csv"
        path.write_bytes(b"\x00\x01\x02garbage\xff\xfe")
        result = runner.invoke(app, ["ingest", str(path), "--item", "CF", "--provider", "SCMR"])
        assert result.exit_code == 1
        assert "file." in result.output

    def test_unresolved_rows_are_listed_and_resolved(self, env: Path) -> None:
        known = penalty()
        path = write_csv(env / "a.csv", [known])
        runner.invoke(app, ["ingest", str(path), "--item", "CF", "--provider", "SCMR"])
        orphan = penalty(CF_XDR_MC="只有名称的公司", CF_XDR_SHXYM="", region_code="510104")
        path = write_csv(env / "b.csv", [orphan])
        receipt = json.loads(
            runner.invoke(app, ["ingest", str(path), "--item", "CF", "--provider", "SCMR", "--json"]).stdout
        )
        assert receipt["queued"] == 1
        listing = json.loads(runner.invoke(app, ["review", "list", "--json"]).output)
        assert listing[0]["reason_code"] == "subject.not_found"
        done = runner.invoke(
            app, ["review", "resolve", str(listing[0]["id"]), "--subject", known["CF_XDR_SHXYM"]]
        )
        assert done.exit_code == 0 and "accepted 1" in done.output
        assert json.loads(runner.invoke(app, ["review", "list", "--json"]).output) == []
