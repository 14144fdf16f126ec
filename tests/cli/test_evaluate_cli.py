"""`xinyong evaluate` on a real SQLite file: the run receipt's JSON fields exactly, incremental runs, the
results CSV (uscc, score, grade, each indicator's points), the model list, and clean refusals."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import penalty
from xinyong.cli import app
from xinyong.clikit import open_platform
from xinyong.db.session import transaction
from xinyong.evaluation import service
from xinyong.kit.tabular import Row
from xinyong.records import service as records

runner = CliRunner()
DAY = dt.date(2026, 11, 28)
RECEIPT_FIELDS = [
    "run_id",
    "model",
    "model_version",
    "engine",
    "as_of",
    "subjects",
    "grade_counts",
    "duration_s",
]


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
    return tmp_path


def ingest(*rows: dict[str, str]) -> list[str]:
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
    return [r["CF_XDR_SHXYM"] for r in rows]


def run_json(*extra: str) -> dict[str, object]:
    result = runner.invoke(
        app,
        ["evaluate", "run", "--model", "public_comprehensive", "--as-of", DAY.isoformat(), "--json", *extra],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


class TestRun:
    def test_the_json_receipt_has_exactly_the_contract_fields(self, env: Path) -> None:
        ingest(penalty(severity="严重"), penalty(severity="一般"), penalty(severity="轻微"))
        receipt = run_json()
        assert list(receipt) == RECEIPT_FIELDS
        assert receipt["model"] == "public_comprehensive"
        assert receipt["engine"] == "sqlite"
        assert receipt["as_of"] == "2026-11-28"
        assert receipt["subjects"] == 3
        counts = receipt["grade_counts"]
        assert isinstance(counts, dict) and list(counts) == ["A", "B", "C", "D"]
        assert sum(counts.values()) == 3
        assert isinstance(receipt["duration_s"], float) and receipt["duration_s"] >= 0

    def test_an_incremental_run_after_no_change_evaluates_nobody(self, env: Path) -> None:
        ingest(penalty())
        first = run_json()
        again = run_json("--incremental")
        assert again["run_id"] != first["run_id"]
        assert again["subjects"] == 0
        ingest(penalty())
        assert run_json("--incremental")["subjects"] == 1

    def test_refusals_are_clean(self, env: Path) -> None:
        unknown = runner.invoke(app, ["evaluate", "run", "--model", "no_such_model", "--json"])
        assert unknown.exit_code == 1 and "evaluation.model_not_found" in unknown.output
        bad_day = runner.invoke(
            app, ["evaluate", "run", "--model", "public_comprehensive", "--as-of", "28/11/2026"]
        )
        assert bad_day.exit_code == 2 and "YYYY-MM-DD" in bad_day.output
        wrong = runner.invoke(
            app, ["evaluate", "run", "--model", "public_comprehensive", "--engine", "postgresql"]
        )
        assert wrong.exit_code == 1 and "evaluation.engine_mismatch" in wrong.output


class TestResults:
    def test_the_csv_has_one_row_per_subject_with_indicator_points(self, env: Path, tmp_path: Path) -> None:
        codes = ingest(penalty(severity="严重", CF_NR_FK="200"), penalty(severity="轻微"))
        receipt = run_json()
        out = tmp_path / "results.csv"
        result = runner.invoke(app, ["evaluate", "results", str(receipt["run_id"]), "--out", str(out)])
        assert result.exit_code == 0, result.output
        with out.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        platform = open_platform()
        with transaction(platform.sessions, write=False) as session:
            model = service.load_models(session, platform.catalog.item_codes, None)["public_comprehensive"]
        assert list(rows[0]) == ["uscc", "score", "grade", *[i.code for i in model.indicators]]
        assert sorted(r["uscc"] for r in rows) == sorted(codes)
        serious = next(r for r in rows if r["uscc"] == codes[0])
        assert float(serious["serious_penalties_3y"]) == -25
        assert float(serious["penalty_fines_3y"]) == -10
        base = model.base_score
        total = base + sum(float(serious[i.code]) for i in model.indicators)
        assert float(serious["score"]) == pytest.approx(max(0, min(100, total)))

    def test_an_unknown_run_is_refused(self, env: Path, tmp_path: Path) -> None:
        result = runner.invoke(app, ["evaluate", "results", "999", "--out", str(tmp_path / "x.csv")])
        assert result.exit_code == 1 and "evaluation.run_not_found" in result.output


class TestModels:
    def test_models_are_listed_with_versions(self, env: Path) -> None:
        result = runner.invoke(app, ["evaluate", "models", "--json"])
        assert result.exit_code == 0, result.output
        listed = {m["code"]: m for m in json.loads(result.stdout)}
        assert {"public_comprehensive", "construction", "food_production", "personal_incentive"} <= set(
            listed
        )
        assert listed["personal_incentive"]["use"] == "incentive"
        assert all(m["version"] for m in listed.values())

    def test_a_model_in_the_data_dir_overrides_and_a_broken_one_is_named(self, env: Path) -> None:
        folder = env / "evaluation" / "models"
        folder.mkdir(parents=True)
        (folder / "public_comprehensive.yaml").write_text(
            "code: public_comprehensive\nversion: 9\n", encoding="utf-8"
        )
        result = runner.invoke(app, ["evaluate", "models", "--json"])
        assert result.exit_code != 0
        assert "public_comprehensive.yaml" in result.output and "indicators" in result.output


class TestDemo:
    def test_the_demo_grades_every_company_and_the_enterprise_account_reads_its_own(
        self, env: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from sqlalchemy import select

        from xinyong.accounts.models import User
        from xinyong.accounts.policy import Principal
        from xinyong.demo import cli as demo_cli
        from xinyong.evaluation import explain
        from xinyong.evaluation.models import EvaluationGrade
        from xinyong.subjects.models import Subject

        monkeypatch.setattr(demo_cli, "today", lambda: DAY)
        result = runner.invoke(app, ["demo", "seed", "--scale", "0.01"])
        assert result.exit_code == 0, result.output
        platform = open_platform()
        with transaction(platform.sessions, write=False) as session:
            companies = set(
                session.scalars(
                    select(Subject.id).where(Subject.kind.in_(["legal_person", "individual_business"]))
                )
            )
            graded = set(
                session.scalars(
                    select(EvaluationGrade.subject_id).where(
                        EvaluationGrade.model_code == "public_comprehensive"
                    )
                )
            )
            assert companies and companies == graded
            user = session.scalars(
                select(User).where(User.role == "subject", User.subject_id.is_not(None))
            ).first()
            assert user is not None and user.subject_id is not None
            subject = session.get(Subject, user.subject_id)
            assert subject is not None
            models = service.load_models(session, platform.catalog.item_codes, None)
            me = Principal(kind="user", name=user.username, role="subject", subject_id=subject.id)
            read = explain.explain(session, platform.catalog, models, me, subject)
            assert read.indicators and sum(i.points for i in read.indicators) == pytest.approx(read.score)
            stored = service.current_grade(session, "public_comprehensive", subject.id)
            assert stored is not None and (read.grade, read.score) == (stored.grade, stored.score)
            assert [
                i for i in read.indicators if i.code != "base" and i.points < 0
            ]  # the showcase has penalties
