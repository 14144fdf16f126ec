"""`xinyong reports generate` and `xinyong reports verify` on a real SQLite file: the PDF written, its JSON
receipt, offline verification (exit 0) and a one-byte change refused (exit 1), by the platform's keys or by
the published public key and certificate alone."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import penalty, uscc
from xinyong.cli import app
from xinyong.clikit import open_platform
from xinyong.db.session import transaction
from xinyong.kit.tabular import Row
from xinyong.records import service as records
from xinyong.reports import pades

runner = CliRunner()
DAY = dt.date(2026, 11, 28)


@pytest.fixture
def company(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XINYONG_SECRET_KEY", "cli-test-secret")
    monkeypatch.delenv("XINYONG_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(
        app, ["departments", "add", "--code", "SCMR", "--name", "四川省市场监督管理局", "--region", "510000"]
    )
    assert result.exit_code == 0, result.output
    code = uscc()
    platform = open_platform()
    with transaction(platform.sessions) as session:
        records.ingest(
            session,
            platform.ingest_context(DAY),
            item_code="CF",
            provider_code="SCMR",
            rows=[Row(2, penalty(CF_XDR_SHXYM=code, CF_XDR_MC="成都命令行测试有限公司"))],
            source="test",
        )
    return code


def test_generate_then_verify_and_a_changed_byte_fails(company: str, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    result = runner.invoke(
        app, ["reports", "generate", "--uscc", company, "--kind", "standard", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    receipt = json.loads(result.stdout)
    assert receipt["report_number"].startswith("XY") and receipt["bytes"] == len(out.read_bytes())

    verified = runner.invoke(app, ["reports", "verify", str(out), "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["report_number"] == receipt["report_number"]

    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x01
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(bytes(data))
    assert runner.invoke(app, ["reports", "verify", str(changed)]).exit_code == 1


def test_verify_with_the_published_key_and_certificate_only(company: str, tmp_path: Path) -> None:
    out = tmp_path / "special.pdf"
    args = ["reports", "generate", "--uscc", company, "--kind", "special", "--fields", "market,tax"]
    result = runner.invoke(app, [*args, "--from", "2026-01-01", "--to", "2026-11-01", "--out", str(out)])
    assert result.exit_code == 0, result.output
    platform = open_platform()
    cert = tmp_path / "cert.pem"
    cert.write_bytes((tmp_path / "keys" / pades.CERT_NAME).read_bytes())
    key = platform.signer.public_key_b64
    ok = runner.invoke(app, ["reports", "verify", str(out), "--public-key", key, "--cert", str(cert)])
    assert ok.exit_code == 0, ok.output
    other = "A" * 43 + "="
    assert (
        runner.invoke(
            app, ["reports", "verify", str(out), "--public-key", other, "--cert", str(cert)]
        ).exit_code
        == 1
    )


def test_generate_refuses_an_unknown_field_and_a_half_period(company: str, tmp_path: Path) -> None:
    out = str(tmp_path / "x.pdf")
    bad = runner.invoke(
        app, ["reports", "generate", "--uscc", company, "--kind", "special", "--fields", "moon", "--out", out]
    )
    assert bad.exit_code == 1 and "reports.unknown_field" in bad.output
    half = runner.invoke(
        app,
        [
            "reports",
            "generate",
            "--uscc",
            company,
            "--kind",
            "special",
            "--fields",
            "tax",
            "--from",
            "2026-01-01",
            "--out",
            out,
        ],
    )
    assert half.exit_code == 1 and not Path(out).exists()


def test_batch_turns_a_file_of_codes_into_a_zip_of_reports_with_a_receipt(
    company: str, tmp_path: Path
) -> None:
    codes = tmp_path / "codes.csv"
    codes.write_text(f"统一社会信用代码\n{company}\n{uscc()}\n", encoding="utf-8")
    out = tmp_path / "reports.zip"
    result = runner.invoke(
        app, ["reports", "batch", str(codes), "--out", str(out), "--purpose", "批量审查", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "rows": 2,
        "issued": 1,
        "failed": 1,
        "out": str(out),
    }
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        receipt = json.loads(archive.read("receipt.json"))
        (pdf_name,) = [n for n in names if n.endswith(".pdf")]
        assert pdf_name.startswith(company) and archive.read(pdf_name).startswith(b"%PDF")
    assert receipt[0]["report_number"] in pdf_name and receipt[1]["error"]["code"]
