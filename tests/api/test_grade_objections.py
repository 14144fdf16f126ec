"""A subject objects to its grade (对评价结果提出异议) on both stores: filing (own verified account only), routing to
the provider of the disputed input or the credit office, the answers (maintained; corrected by revoking the
record behind it, then re-graded), escalation, who may read it, the API's objection_pending, bad input, pages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import PASSWORD, csrf, department, ingest_rows, login, penalty, uscc
from xinyong.accounts import auth
from xinyong.accounts.policy import SYSTEM, Principal
from xinyong.audit.models import AuditEntry
from xinyong.evaluation import grade_objections, service
from xinyong.evaluation.models import EvaluationResult
from xinyong.files.service import Upload
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.notices.models import Notice
from xinyong.objections import rules
from xinyong.objections import service as objections
from xinyong.objections.models import Objection
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.records.service import IngestContext
from xinyong.subjects import service as subjects

SCMR = Principal(kind="user", name="市场监管审核员", role="reviewer", department_code="SCMR")
SCSW = Principal(kind="user", name="商务审核员", role="reviewer", department_code="SCSW")
REASONS = "近一年一般行政处罚次数有误，其中一份决定书已被复议撤销。"
PDF = Upload("复议决定书.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")


def graded(platform: Platform, session: Session, ctx: IngestContext) -> dict[str, Any]:
    """A company with two general penalties from SCMR and one from SCSW, graded; a second graded company."""
    code, other = uscc(), uscc()
    ingest_rows(session, ctx, [penalty(CF_XDR_SHXYM=code, CF_JDRQ="2026-06-15") for _ in range(2)])
    ingest_rows(
        session,
        ctx,
        [penalty(CF_XDR_SHXYM=code, CF_JDRQ="2026-07-01")],
        provider="SCSW",
        provider_name="四川省商务厅",
    )
    ingest_rows(session, ctx, [penalty(CF_XDR_SHXYM=other, CF_XDR_MC="成都另一公司")])
    department(session, platform.settings.credit_office_department, "四川省发展和改革委员会")
    models = service.load_models(session, platform.catalog.item_codes, platform.settings.data_dir)
    service.run(session, models["public_comprehensive"], as_of=TODAY)
    subject, stranger = subjects.get_by_uscc(session, code), subjects.get_by_uscc(session, other)
    users = {}
    for s in (subject, stranger):
        user = auth.create_user(
            session, username=f"ent-{s.uscc}", password=PASSWORD, role="subject", subject_id=s.id
        )
        users[s.id] = auth.principal_for_user(user)
    session.commit()

    def result(s: Any) -> EvaluationResult:
        grade = service.current_grade(session, "public_comprehensive", s.id)
        assert grade is not None
        return _result(session, s.id, grade.run_id)

    return {
        "models": models,
        "subject": subject,
        "stranger": stranger,
        "principal": users[subject.id],
        "stranger_principal": users[stranger.id],
        "result": result(subject),
        "stranger_result": result(stranger),
    }


def _result(session: Session, subject_id: int, run_id: int) -> EvaluationResult:
    return session.scalars(
        select(EvaluationResult).where(
            EvaluationResult.subject_id == subject_id, EvaluationResult.run_id == run_id
        )
    ).one()


def file(platform: Platform, session: Session, g: dict[str, Any], **kw: Any) -> Objection:
    args: dict[str, Any] = {
        "answer_workdays": platform.repair_policy.objection_workdays,
        "credit_office": platform.settings.credit_office_department,
        "result_id": g["result"].id,
        "indicator_code": "general_penalties_1y",
        "reasons": REASONS,
        "filer_name": g["subject"].name,
        "filer_contact": None,
        "evidence": [PDF],
        **kw,
    }
    principal = args.pop("principal", g["principal"])
    return grade_objections.file(session, platform.context(principal, TODAY), g["models"], **args)


class TestFiling:
    def test_an_indicator_goes_to_the_provider_of_most_records_and_marks_the_grade(
        self, client: TestClient, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        g = graded(platform, session, ctx)
        objection = file(platform, session, g)
        assert (objection.department_code, objection.other_departments) == ("SCMR", ["SCSW"])
        assert (objection.record_id, objection.evaluation_result_id) == (None, g["result"].id)
        assert objection.status == rules.OPEN and objection.due_on > TODAY
        notice = session.scalars(select(Notice).where(Notice.ref == f"objection:{objection.id}")).one()
        assert notice.department_code == "SCMR" and notice.body and REASONS not in notice.body
        assert objections.grade_pending(session, g["subject"].id, "public_comprehensive")
        assert not objections.grade_pending(session, g["stranger"].id, "public_comprehensive")
        session.commit()
        login(client, session, role="subject", department_code=None, subject_id=g["subject"].id)
        body = client.get(f"/api/v1/subjects/{g['subject'].uscc}/evaluation").json()
        assert body["objection_pending"] is True
        page = client.get(f"/subjects/{g['subject'].uscc}/evaluation")
        assert "异议处理中" in page.text
        with pytest.raises(Conflict):  # the same indicator again while open
            file(platform, session, g)

    def test_the_model_as_a_whole_and_a_recordless_indicator_go_to_the_credit_office(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        g = graded(platform, session, ctx)
        office = platform.settings.credit_office_department
        whole = file(platform, session, g, indicator_code=None)
        assert (whole.department_code, whole.indicator_code, whole.other_departments) == (office, None, None)
        missing = file(platform, session, g, indicator_code="court_dishonest")  # no record: a default value
        assert missing.department_code == office

    def test_bad_input_gets_clear_errors_and_files_nothing(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        g = graded(platform, session, ctx)
        with pytest.raises(ValidationFailed) as unknown:
            file(platform, session, g, indicator_code="no_such_indicator")
        assert unknown.value.code == "objection.unknown_indicator"
        with pytest.raises(NotFound) as foreign:  # a result of another subject
            file(platform, session, g, result_id=g["stranger_result"].id)
        assert foreign.value.code == "objection.result_not_found"
        with pytest.raises(NotFound):  # a department user has no grade of its own to object to
            file(platform, session, g, principal=SCMR)
        with pytest.raises(ValidationFailed) as short:
            file(platform, session, g, reasons="不对")
        assert short.value.code == "objection.reasons_required"
        assert session.scalars(select(Objection)).all() == []


class TestAnswers:
    def test_maintained_with_reasons_ends_the_pending_mark(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        g = graded(platform, session, ctx)
        objection = file(platform, session, g)
        with pytest.raises(Forbidden):  # another department
            objections.answer(
                session,
                platform.context(SCSW, TODAY),
                objection,
                "maintain",
                rule_sets=platform.rule_sets,
                reason="理由",
            )
        with pytest.raises(Conflict) as empty:
            objections.answer(
                session,
                platform.context(SCMR, TODAY),
                objection,
                "maintain",
                rule_sets=platform.rule_sets,
                reason=" ",
            )
        assert empty.value.code == "objection.reason_required"
        objections.answer(
            session,
            platform.context(SCMR, TODAY),
            objection,
            "maintain",
            rule_sets=platform.rule_sets,
            reason="经核查，两份处罚决定书均有效。",
        )
        assert objection.status == rules.MAINTAINED and objection.answered_on == TODAY
        assert not objections.grade_pending(session, g["subject"].id, "public_comprehensive")
        # The next run finds the same inputs: no new result, and the case says the result objected to holds.
        later = TODAY + dt.timedelta(days=1)
        service.run(session, g["models"]["public_comprehensive"], as_of=later, incremental=True)
        case = grade_objections.case(session, g["models"], objection)
        assert case["regraded"] is None and case["unchanged_as_of"] == later

    def test_corrected_by_revoking_the_record_behind_it_and_regraded(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        g = graded(platform, session, ctx)
        objection = file(platform, session, g)
        mine = session.scalars(
            select(Record).where(Record.subject_id == g["subject"].id, Record.provider_code == "SCMR")
        ).all()
        theirs = session.scalars(
            select(Record).where(Record.subject_id == g["subject"].id, Record.provider_code == "SCSW")
        ).one()

        def answer(**kw: Any) -> Objection:
            return objections.answer(
                session, platform.context(SCMR, TODAY), objection, rule_sets=platform.rule_sets, **kw
            )

        with pytest.raises(ValidationFailed) as missing:
            answer(event="revoke", reason="复议撤销")
        assert missing.value.code == "objection.record_required"
        with pytest.raises(ValidationFailed) as foreign:  # another department's record
            answer(event="revoke", reason="复议撤销", record_id=theirs.id)
        assert foreign.value.code == "objection.record_not_provided"
        case = grade_objections.case(session, g["models"], objection)
        assert case["value"] == 3 and {r.id for r in case["records"]} == {theirs.id, *(r.id for r in mine)}
        assert case["regraded"] is None
        answer(event="revoke", reason="该处罚决定已被行政复议撤销。", record_id=mine[0].id)
        assert objection.status == rules.REVOKED and mine[0].status == "revoked"
        assert objection.changes == [{"record_id": mine[0].id}]
        service.run(
            session, g["models"]["public_comprehensive"], as_of=TODAY + dt.timedelta(days=1), incremental=True
        )
        case = grade_objections.case(session, g["models"], objection)
        assert case["regraded"] is not None and case["regraded"].score > g["result"].score

    def test_an_overdue_grade_objection_is_escalated_to_the_credit_office(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        g = graded(platform, session, ctx)
        objection = file(platform, session, g)
        office = platform.settings.credit_office_department
        late = objection.due_on + dt.timedelta(days=1)
        assert objections.escalate_overdue(session, late, credit_office=office, principal=SYSTEM) == 1
        assert objection.escalated_on == late and objection.status == rules.OPEN
        notice = session.scalars(select(Notice).where(Notice.kind == "objection_escalated")).one()
        assert notice.department_code == office


class TestAccess:
    def test_neither_another_department_nor_another_subject_reads_it(
        self, client: TestClient, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        g = graded(platform, session, ctx)
        objection = file(platform, session, g)
        session.commit()
        for stranger in (SCSW, g["stranger_principal"]):
            with pytest.raises(NotFound):
                objections.get_objection(session, stranger, objection.id)
        login(client, session, role="reviewer", department_code="SCSW")
        assert client.get(f"/console/objections/{objection.id}").status_code == 404
        assert str(objection.id) not in re.findall(
            r"/console/objections/(\d+)", client.get("/console/objections").text
        )
        client.cookies.clear()
        login(client, session, role="subject", department_code=None, subject_id=g["stranger"].id)
        assert client.get(f"/account/objections/{objection.id}").status_code == 404
        assert client.get(f"/api/v1/subjects/{g['subject'].uscc}/evaluation").status_code == 404
        client.cookies.clear()
        user = auth.create_user(
            session,
            username="unverified-owner",
            password=PASSWORD,
            role="subject",
            subject_id=g["subject"].id,
        )
        user.verified_at = None  # the subject's own account, not yet verified
        session.commit()
        token = csrf(client)
        client.post(
            "/login", data={"username": "unverified-owner", "password": PASSWORD, "csrf_token": token}
        )
        assert client.get("/account/evaluation/objection").status_code == 403
        data = {
            "csrf_token": csrf(client),
            "result": str(g["result"].id),
            "reasons": REASONS,
            "filer_name": "某某",
        }
        assert client.post("/account/evaluation/objections", data=data).status_code == 403
        assert session.scalars(select(Objection)).all() == [objection]


class TestPages:
    def test_the_subject_files_and_the_department_answers_on_their_pages(
        self, client: TestClient, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        g = graded(platform, session, ctx)
        token = login(client, session, role="subject", department_code=None, subject_id=g["subject"].id)
        form = client.get("/account/evaluation/objection")
        assert (
            form.status_code == 200
            and 'value="general_penalties_1y"' in form.text
            and "整体评价" in form.text
        )
        data = {
            "csrf_token": token,
            "result": str(g["stranger_result"].id),
            "indicator": "",
            "reasons": REASONS,
            "filer_name": "成都测试科技有限公司",
        }
        assert client.post("/account/evaluation/objections", data=data).status_code == 404  # another's result
        data |= {"result": str(g["result"].id), "indicator": "nope"}
        refused = client.post("/account/evaluation/objections", data=data)
        assert (
            refused.status_code == 422
            and "objection.unknown_indicator" in refused.text
            and REASONS in refused.text
        )
        data["indicator"] = "general_penalties_1y"
        filed = client.post(
            "/account/evaluation/objections",
            data=data,
            files=[("evidence", (PDF.filename, PDF.content, "application/pdf"))],
            follow_redirects=False,
        )
        assert filed.status_code == 303, filed.text
        detail = client.get(filed.headers["location"])
        assert (
            detail.status_code == 200 and "近一年一般行政处罚" in detail.text and "异议处理中" in detail.text
        )
        objection = session.scalars(select(Objection)).one()
        client.cookies.clear()
        token = login(client, session, role="reviewer", department_code="SCMR")
        queue = client.get("/console/objections")
        assert f'href="/console/objections/{objection.id}"' in queue.text and "信用评价" in queue.text
        page = client.get(f"/console/objections/{objection.id}")
        assert page.status_code == 200
        assert f"{g['result'].score:.2f}" in page.text and 'class="indicator-value">3<' in page.text
        assert "部门SCSW" in page.text or "四川省商务厅" in page.text  # the other provider named
        assert page.text.count("data-record=") == 3
        assert session.scalars(
            select(AuditEntry).where(AuditEntry.action == "objection.grade_case_view")
        ).all()
        answered = client.post(
            f"/console/objections/{objection.id}/maintain",
            data={"csrf_token": token, "reason": "经核查，处罚决定均有效。"},
            follow_redirects=False,
        )
        assert answered.status_code == 303
        session.refresh(objection)
        assert objection.status == rules.MAINTAINED

    def test_the_department_corrects_the_record_behind_it_and_the_subject_reads_the_new_grade(
        self, client: TestClient, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        g = graded(platform, session, ctx)
        objection = file(platform, session, g)
        mine = session.scalars(
            select(Record).where(Record.subject_id == g["subject"].id, Record.provider_code == "SCMR")
        ).all()
        session.commit()
        token = login(client, session, role="reviewer", department_code="SCMR")
        chosen = client.get(f"/console/objections/{objection.id}?record={mine[1].id}")
        assert f'name="record" value="{mine[1].id}"' in chosen.text
        form = {
            "csrf_token": token,
            "record": str(mine[1].id),
            "field-severity": "轻微",
            "reason": "依复议决定更正",
        }
        corrected = client.post(
            f"/console/objections/{objection.id}/correct", data=form, follow_redirects=False
        )
        assert corrected.status_code == 303, corrected.text
        session.refresh(objection)
        session.refresh(mine[1])
        assert objection.status == rules.CORRECTED and mine[1].severity == "轻微"
        assert objection.changes and objection.changes[0]["record_id"] == mine[1].id
        service.run(
            session, g["models"]["public_comprehensive"], as_of=TODAY + dt.timedelta(days=1), incremental=True
        )
        session.commit()
        client.cookies.clear()
        login(client, session, role="subject", department_code=None, subject_id=g["subject"].id)
        page = client.get(f"/account/objections/{objection.id}")
        assert page.status_code == 200 and "已更正" in page.text
        regraded = re.search(r'class="regraded">([^<]+)<', page.text)
        assert regraded and "尚未重新评价" not in regraded[1] and "2026年11月29日" in regraded[1]
        assert (
            client.get(f"/api/v1/subjects/{g['subject'].uscc}/evaluation").json()["objection_pending"]
            is False
        )
