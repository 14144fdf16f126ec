"""`xinyong export parquet` on a real SQLite file: the manifest, exactly the input columns and the record fields
the models read (no names, no identifiers), the audit entry; and `xinyong evaluate run --engine spark` over the
snapshot grading like the store."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.helpers import penalty
from xinyong.audit.models import AuditEntry
from xinyong.cli import app
from xinyong.clikit import open_platform
from xinyong.db.session import transaction
from xinyong.evaluation.compiler import INPUT_COLUMNS
from xinyong.kit.tabular import Row
from xinyong.records import service as records

pq = pytest.importorskip("pyarrow.parquet")

runner = CliRunner()
DAY = dt.date(2026, 11, 28)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XINYONG_SECRET_KEY", "cli-test-secret")
    monkeypatch.delenv("XINYONG_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(
        app, ["departments", "add", "--code", "SCMR", "--name", "四川省市场监督管理局", "--region", "510000"]
    )
    assert result.exit_code == 0, result.output
    rows = [
        penalty(severity="严重", CF_NR_FK="50", CF_FRDB="王五"),
        penalty(severity="一般", CF_FRDB="王五"),
        penalty(severity="轻微", CF_JDRQ="2020-01-01", CF_FRDB="王五"),
    ]
    platform = open_platform()
    with transaction(platform.sessions) as session:
        records.ingest(
            session,
            platform.ingest_context(DAY),
            item_code="CF",
            provider_code="SCMR",
            rows=[Row(n, r) for n, r in enumerate(rows, start=2)],
            source="test",
        )
    return tmp_path


def _values(path: Path) -> list[object]:
    return [v for row in pq.read_table(path).to_pylist() for v in row.values()]


def test_the_snapshot_holds_what_the_models_read_and_nothing_else(env: Path) -> None:
    out = env / "snap"
    result = runner.invoke(app, ["export", "parquet", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert json.loads((out / "manifest.json").read_text("utf-8")) == manifest
    assert manifest["tables"]["subjects"]["rows"] == 3
    assert manifest["tables"]["records"]["rows"] == 3
    assert manifest["schema_revision"]
    for name, columns in INPUT_COLUMNS.items():
        assert pq.read_table(out / f"{name}.parquet").column_names == columns
    fields = [json.loads(f) for f in pq.read_table(out / "records.parquet").column("fields").to_pylist()]
    assert {k for f in fields for k in f} <= set(manifest["field_keys"])
    assert 50 in [float(f["fine_wan"]) for f in fields if f.get("fine_wan") is not None]
    everything = " ".join(str(v) for p in out.glob("*.parquet") for v in _values(p))
    for secret in ("王五", "成都测试科技有限公司", "张三"):
        assert secret not in everything
    platform = open_platform()
    with transaction(platform.sessions, write=False) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "evaluation.export_parquet")
        ).one()
        assert entry.details is not None and entry.details["rows"]["records"] == 3


def test_a_missing_directory_is_refused_cleanly(env: Path) -> None:
    result = runner.invoke(
        app, ["evaluate", "run", "--model", "public_comprehensive", "--engine", "spark", "--snapshot",
              str(env / "nowhere"), "--as-of", DAY.isoformat(), "--json"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "export.no_manifest" in result.output


@pytest.mark.spark
def test_evaluate_run_on_spark_grades_like_the_store(env: Path) -> None:
    pytest.importorskip("pyspark")
    from xinyong.evaluation import spark

    if not spark.java_available():
        pytest.skip("no Java runtime: install default-jre-headless to run the Spark engine")
    out = env / "snap"
    assert runner.invoke(app, ["export", "parquet", "--out", str(out)]).exit_code == 0
    base = ["evaluate", "run", "--model", "public_comprehensive", "--as-of", DAY.isoformat(), "--json"]
    on_store = runner.invoke(app, base)
    assert on_store.exit_code == 0, on_store.output
    on_spark = runner.invoke(app, [*base, "--engine", "spark", "--snapshot", str(out)])
    assert on_spark.exit_code == 0, on_spark.output
    store_receipt, spark_receipt = json.loads(on_store.stdout), json.loads(on_spark.stdout)
    assert spark_receipt["engine"] == "spark"
    assert spark_receipt["subjects"] == store_receipt["subjects"] == 3
    assert spark_receipt["grade_counts"] == store_receipt["grade_counts"]
