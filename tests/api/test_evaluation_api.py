"""GET /api/v1/subjects/{uscc}/evaluation: the contract's fields, points adding up to the score, who may read
it (the subject, government users with a purpose (audited), the public only for published models, never a
natural person's), the dated changes ahead, and hostile input."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest
import yaml
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
FIELDS = [
    "model",
    "model_version",
    "as_of",
    "score",
    "grade",
    "indicators",
    "vetoes",
    "next_changes",
    "objection_pending",
]


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


class TestPages:
    def test_the_explanation_page_shows_each_item_and_the_total(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        (record,) = evaluated(
            platform, session, ctx, penalty(CF_JDRQ="2026-06-15", severity="严重", CF_NR_FK="20")
        )
        login(client, session, role="provider", department_code="SCMR")
        code = uscc_of(session, record)
        assert client.get(f"/subjects/{code}/evaluation").status_code == 404  # no purpose stated
        page = client.get(f"/subjects/{code}/evaluation", params={"purpose": "招标投标资格审查"})
        assert page.status_code == 200
        assert "近三年严重失信行政处罚" in page.text and "-25.00" in page.text and "C 中" in page.text
        assert "对评价结果提出异议" not in page.text  # a department reads; only the subject objects

    def test_a_company_sees_its_own_grade_on_its_account(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        (record,) = evaluated(platform, session, ctx, penalty())
        login(client, session, role="subject", department_code=None, subject_id=record.subject_id)
        assert 'href="/account/evaluation"' in client.get("/account").text
        page = client.get("/account/evaluation")
        assert page.status_code == 200
        assert "公共信用综合评价" in page.text and "逐项说明" in page.text
        assert "个人守信激励评价授权" not in page.text  # consent is for natural persons only
        assert f'href="/objections/new?record={record.id}"' in page.text  # an objection to the grade's input
        assert client.get(f"/objections/new?record={record.id}").status_code == 200
        explanation = client.get(f"/subjects/{uscc_of(session, record)}/evaluation")
        assert explanation.status_code == 200
        objecting = 'href="/account/evaluation/objection?model=public_comprehensive">对评价结果提出异议'
        assert objecting in explanation.text
        assert 'href="/account/evaluation#evaluation-inputs"' in explanation.text  # or to a record behind it
        assert 'id="evaluation-inputs"' in page.text

    def test_a_person_gives_and_withdraws_consent_through_the_account(
        self, client: TestClient, session: Session, platform: Platform
    ) -> None:
        from xinyong.kit.names import normalize_name
        from xinyong.subjects.models import Subject

        person = Subject(
            kind="natural_person", name="王五", name_norm=normalize_name("王五"), core_name="王五"
        )
        session.add(person)
        session.commit()
        token = login(client, session, role="subject", department_code=None, subject_id=person.id)
        assert "授权计算个人守信激励评价" in client.get("/account/evaluation").text
        given = client.post(
            "/account/evaluation/consent",
            data={"action": "give", "csrf_token": token},
            follow_redirects=False,
        )
        assert given.status_code == 303
        assert service.has_consent(session, "personal_incentive", person.id)
        models = service.load_models(session, platform.catalog.item_codes, None)
        service.run(session, models["personal_incentive"], as_of=TODAY)
        session.commit()
        page = client.get("/account/evaluation").text
        assert "个人守信激励评价" in page and "撤回授权" in page
        withdrawn = client.post(
            "/account/evaluation/consent",
            data={"action": "withdraw", "csrf_token": token},
            follow_redirects=False,
        )
        assert withdrawn.status_code == 303
        assert service.current_grade(session, "personal_incentive", person.id) is None
        forged = client.post("/account/evaluation/consent", data={"action": "give", "csrf_token": "x"})
        assert forged.status_code == 403

    def test_the_console_shows_statistics_and_runs_to_staff_only(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        evaluated(platform, session, ctx, penalty(severity="严重"), penalty())
        assert client.get("/console/evaluation").status_code in (401, 303)
        login(client, session, role="provider", department_code="SCMR")
        page = client.get("/console/evaluation")
        assert page.status_code == 200
        assert 'data-chart="grades-by-region"' in page.text and "全量" in page.text

    def test_public_statistics_exist_only_for_published_models(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        assert client.get("/statistics/evaluation").status_code == 404
        publish(platform)
        evaluated(platform, session, ctx, penalty())
        page = client.get("/statistics/evaluation")
        assert page.status_code == 200 and "最近的评价批次" not in page.text


class TestEditor:
    def test_the_credit_office_drafts_dry_runs_and_publishes_a_new_version(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        evaluated(platform, session, ctx, penalty(severity="严重"), penalty())
        token = login(client, session, role="credit_office", department_code="SCFGW")
        page = client.get("/console/evaluation/models", params={"model": "public_comprehensive"})
        assert page.status_code == 200 and "code: public_comprehensive" in page.text
        shipped = (
            resources.files("xinyong.evaluation") / "data" / "models" / "public_comprehensive.yaml"
        ).read_text("utf-8")
        current = yaml.safe_load(shipped)["version"]
        stricter = shipped.replace(f'version: "{current}"', 'version: "2026.8"').replace(
            "{grade: A, label: 优, min_score: 90}", "{grade: A, label: 优, min_score: 95}"
        )
        saved = client.post(
            "/console/evaluation/models", data={"text": stricter, "csrf_token": token}, follow_redirects=False
        )
        assert saved.status_code == 303
        draft_url = saved.headers["location"]
        dry = client.get(draft_url, params={"dry": 1})
        assert dry.status_code == 200 and "试运行评价" in dry.text
        assert (
            service.load_models(session, platform.catalog.item_codes, None)["public_comprehensive"].version
            == current
        )
        published = client.post(f"{draft_url}/publish", data={"csrf_token": token}, follow_redirects=False)
        assert published.status_code == 303
        model = service.load_models(session, platform.catalog.item_codes, None)["public_comprehensive"]
        assert (model.version, model.grades[0].min_score) == ("2026.8", 95)
        again = client.post("/console/evaluation/models", data={"text": stricter, "csrf_token": token})
        assert again.status_code == 409 and "已存在" in again.text

    def test_a_draft_reading_information_outside_the_catalog_cannot_be_saved(
        self, client: TestClient, session: Session
    ) -> None:
        token = login(client, session, role="credit_office", department_code="SCFGW")
        shipped = (
            resources.files("xinyong.evaluation") / "data" / "models" / "public_comprehensive.yaml"
        ).read_text("utf-8")
        current = yaml.safe_load(shipped)["version"]
        gossip = shipped.replace(f'version: "{current}"', 'version: "2026.9"').replace(
            "items: [SXBZX]", "items: [GOSSIP]"
        )
        response = client.post("/console/evaluation/models", data={"text": gossip, "csrf_token": token})
        assert response.status_code == 422
        assert "catalog item GOSSIP does not exist" in response.text
        broken = client.post("/console/evaluation/models", data={"text": "code: [", "csrf_token": token})
        assert broken.status_code == 422 and "not valid YAML" in broken.text

    def test_only_the_credit_office_edits_models(self, client: TestClient, session: Session) -> None:
        login(client, session, role="provider", department_code="SCMR")
        assert client.get("/console/evaluation/models").status_code == 403
