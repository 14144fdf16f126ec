"""GET /api/v1/subjects/{uscc}/evaluation: the contract's fields, points adding up to the score, who may read
it (the subject, government users with a purpose (audited), the public only for published models, never a
natural person's), the dated changes ahead, and hostile input."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.helpers import ingest_rows, login, penalty
from xinyong.audit.models import AuditEntry
from xinyong.evaluation import service
from xinyong.lists.models import ListEntry
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.records.service import IngestContext

TODAY = dt.date(2026, 11, 28)
FIELDS = ["model", "model_version", "as_of", "score", "grade", "indicators", "vetoes", "next_changes"]


def evaluated(
    platform: Platform, session: Session, ctx: IngestContext, *rows: dict[str, str]
) -> list[Record]:
    receipt = ingest_rows(session, ctx, list(rows))
    assert receipt.accepted == len(rows)
    models = service.load_models(session, platform.catalog.item_codes, platform.settings.data_dir)
    service.run(session, models["public_comprehensive"], as_of=TODAY)
    session.commit()
    return [session.scalars(select(Record).where(Record.doc_no == r["CF_WSH"])).one() for r in rows]


def uscc_of(session: Session, record: Record) -> str:
    from xinyong.subjects.models import Subject

    code = session.get(Subject, record.subject_id).uscc  # type: ignore[union-attr]
    assert code
    return code


def audits(session: Session, action: str) -> int:
    return int(
        session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0
    )


def publish(platform: Platform) -> None:
    """The credit office publishes the comprehensive grades (a model file in the data dir)."""
    text = (
        resources.files("xinyong.evaluation") / "data" / "models" / "public_comprehensive.yaml"
    ).read_text("utf-8")
    folder = platform.settings.data_dir / "evaluation" / "models"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "public_comprehensive.yaml").write_text(
        text.replace("publish_grades: false", "publish_grades: true"), "utf-8"
    )


class TestContract:
    def test_the_subject_reads_its_grade_and_the_points_add_up(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        (record,) = evaluated(
            platform, session, ctx, penalty(CF_JDRQ="2026-06-15", severity="严重", CF_NR_FK="20")
        )
        login(client, session, role="subject", department_code=None, subject_id=record.subject_id)
        response = client.get(f"/api/v1/subjects/{uscc_of(session, record)}/evaluation")
        assert response.status_code == 200, response.text
        body = response.json()
        assert list(body) == FIELDS
        assert (body["model"], body["as_of"]) == ("public_comprehensive", "2026-11-28")
        assert sum(i["points"] for i in body["indicators"]) == pytest.approx(body["score"])
        lines = {i["code"]: i for i in body["indicators"]}
        assert set(lines["serious_penalties_3y"]) == {"code", "name", "value", "points", "source"}
        assert (lines["serious_penalties_3y"]["value"], lines["serious_penalties_3y"]["points"]) == (1, -25)
        assert lines["penalty_fines_3y"]["value"] == 20
        assert lines["serious_penalties_3y"]["source"].startswith("CF")
        assert body["grade"] == "C"  # 90 - 25 - 5
        assert audits(session, "evaluation.view_own") == 1

    def test_next_changes_name_the_day_a_record_stops_counting_and_the_grade_after(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        (record,) = evaluated(
            platform, session, ctx, penalty(CF_JDRQ="2023-12-10", severity="严重", CF_NR_FK="1")
        )
        login(client, session, role="subject", department_code=None, subject_id=record.subject_id)
        body = client.get(f"/api/v1/subjects/{uscc_of(session, record)}/evaluation").json()
        assert body["grade"] == "C"
        changes = body["next_changes"]
        assert changes, body
        first = changes[0]
        assert dt.date.fromisoformat(first["on"]) > TODAY
        assert first["grade_after"] < body["grade"]  # A/B are better than C
        assert record.doc_no in first["what"]

    def test_a_veto_is_listed_and_the_list_period_end_is_a_next_change(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        (record,) = evaluated(platform, session, ctx, penalty(CF_JDRQ="2026-06-15", severity="一般"))
        session.add(
            ListEntry(
                subject_id=record.subject_id,
                list_type="serious_dishonesty",
                status="listed",
                department_code="SCMR",
                legal_basis="《严重失信主体名单管理办法》",
                facts="拒不履行",
                proposed_on=dt.date(2026, 9, 1),
                decided_on=dt.date(2026, 10, 1),
                public_from=dt.date(2026, 10, 1),
                public_until=dt.date(2027, 10, 1),
            )
        )
        session.flush()
        models = service.load_models(session, platform.catalog.item_codes, None)
        service.run(
            session, models["public_comprehensive"], as_of=TODAY
        )  # the entry was written without its event
        session.commit()
        login(client, session, role="subject", department_code=None, subject_id=record.subject_id)
        body = client.get(f"/api/v1/subjects/{uscc_of(session, record)}/evaluation").json()
        assert body["grade"] == "D"
        assert body["vetoes"] == [
            {"code": "serious_dishonesty_list", "name": "列入严重失信主体名单", "grade": "D"}
        ]
        leaving = [c for c in body["next_changes"] if c["on"] == "2027-10-02"]
        assert leaving and "严重失信主体名单" in leaving[0]["what"] and leaving[0]["grade_after"] != "D"


class TestWhoMayRead:
    def test_the_public_gets_nothing_of_an_unpublished_model(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        (record,) = evaluated(platform, session, ctx, penalty())
        response = client.get(f"/api/v1/subjects/{uscc_of(session, record)}/evaluation")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "evaluation.not_available"

    def test_government_users_read_with_a_purpose_and_are_audited(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        (record,) = evaluated(platform, session, ctx, penalty())
        login(client, session, role="provider", department_code="SCMR")
        url = f"/api/v1/subjects/{uscc_of(session, record)}/evaluation"
        assert client.get(url).status_code == 404
        response = client.get(url, params={"purpose": "行政许可审批前核查"})
        assert response.status_code == 200
        assert audits(session, "evaluation.view") == 1

    def test_another_company_sees_only_what_the_public_sees(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        mine, other = evaluated(platform, session, ctx, penalty(), penalty())
        login(client, session, role="subject", department_code=None, subject_id=other.subject_id)
        assert client.get(f"/api/v1/subjects/{uscc_of(session, mine)}/evaluation").status_code == 404

    def test_published_grades_are_public_and_unaudited(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        publish(platform)
        (record,) = evaluated(platform, session, ctx, penalty())
        response = client.get(f"/api/v1/subjects/{uscc_of(session, record)}/evaluation")
        assert response.status_code == 200
        assert audits(session, "evaluation.view") == 0


class TestHostileInput:
    @pytest.mark.parametrize("model", ["x' OR 1=1", "PUBLIC", "a" * 49])
    def test_a_malformed_model_code_is_refused(self, client: TestClient, model: str) -> None:
        response = client.get("/api/v1/subjects/91510104MA0000000X/evaluation", params={"model": model})
        assert response.status_code == 422

    def test_an_unknown_subject_or_model_is_not_found(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        (record,) = evaluated(platform, session, ctx, penalty())
        assert client.get("/api/v1/subjects/" + "9" * 300 + "/evaluation").status_code == 404
        login(client, session, role="subject", department_code=None, subject_id=record.subject_id)
        response = client.get(
            f"/api/v1/subjects/{uscc_of(session, record)}/evaluation", params={"model": "no_model"}
        )
        assert response.status_code == 404

    def test_models_are_listed(self, client: TestClient) -> None:
        response = client.get("/api/v1/evaluation/models")
        assert response.status_code == 200
        assert "public_comprehensive" in {m["code"] for m in response.json()}
