"""Credit repair through its pages: the subject's notice and application, the department's queue and
decision, evidence downloads, the credit office's re-check, and the published commitment."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import PDF_BYTES, apply_for_repair, bearer, login, penalty, uscc
from xinyong.accounts.policy import Principal
from xinyong.audit.models import AuditEntry
from xinyong.commitments.models import Commitment
from xinyong.files.models import Attachment
from xinyong.kit.dates import format_china_date
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.repair import service as repair
from xinyong.repair.models import RepairApplication
from xinyong.subjects import service as subjects

PDF = PDF_BYTES
HTML_AS_PDF = b"<html><body><script>alert(1)</script>\xe5\x87\xad\xe8\xaf\x81</body></html>"
PDF_NAME = "罚款缴纳凭证.pdf"
REVIEWER = Principal(kind="user", name="审核员", role="reviewer", department_code="SCMR")
# 严重 under 58号令 (decided before 2026-04-01): at least 3 months public, so repairable on TODAY.
REPAIRABLE = {"severity": "严重", "CF_JDRQ": "2025-06-10"}
# 严重 under 36号令: at least one year, so not before 2027-06-16.
TOO_EARLY = {"severity": "严重", "CF_JDRQ": "2026-06-15"}


# -- builders ----------------------------------------------------------------------------------------------


def published_penalty(client: TestClient, session: Session, **overrides: Any) -> tuple[str, Record]:
    """A penalty of SCMR, ingested through the API as the department sends it; returns (USCC, record)."""
    code = uscc()
    row = penalty(CF_XDR_SHXYM=code, CF_XDR_MC=f"成都修复测试{code[-6:]}有限公司", **overrides)
    body = client.post(
        "/api/v1/records", json={"item": "CF", "records": [row]}, headers=bearer(session)
    ).json()
    assert body["rejected"] == 0, body
    subject = subjects.get_by_uscc(session, code)
    record = session.scalars(select(Record).where(Record.subject_id == subject.id)).one()
    return code, record


def as_subject(client: TestClient, session: Session, code: str) -> str:
    subject = subjects.get_by_uscc(session, code)
    return login(client, session, role="subject", department_code=None, subject_id=subject.id)


def application_form(token: str, record: Record, **overrides: Any) -> dict[str, Any]:
    form = {
        "csrf_token": token,
        "target_kind": "record",
        "target_id": str(record.id),
        "statement": "已全额缴纳罚款并完成整改，建立了食品安全自查制度。",
        "contact_name": "李四",
        "contact_phone": "028-86001234",
        "signer_name": "张三",
        "agree": "true",
    }
    form.update(overrides)
    return form


def apply_online(
    client: TestClient,
    token: str,
    record: Record,
    files: list[tuple[str, bytes]] | None = None,
    **overrides: Any,
) -> Any:
    uploads = [("evidence", (name, content, "application/pdf")) for name, content in (files or [])]
    return client.post(
        "/account/repairs",
        data=application_form(token, record, **overrides),
        files=uploads or None,
        follow_redirects=False,
    )


def applied(client: TestClient, session: Session, **overrides: Any) -> tuple[str, Record, int]:
    """A subject's online application for a repairable penalty; returns (USCC, record, application id)."""
    code, record = published_penalty(client, session, **(overrides or REPAIRABLE))
    token = as_subject(client, session, code)
    response = apply_online(client, token, record, [(PDF_NAME, PDF)])
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/account/repairs/(\d+)", response.headers["location"])
    assert match
    return code, record, int(match[1])


def count(session: Session, model: Any, *where: Any) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# -- the subject ---------------------------------------------------------------------------------------------


class TestRepairNotice:
    def test_subject_sees_the_notice_after_ingest_with_window_earliest_date_and_a_link_to_apply(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code, record = published_penalty(client, session, **REPAIRABLE)
        as_subject(client, session, code)
        inbox = client.get("/account/notices")
        assert inbox.status_code == 200 and "信用修复告知书" in inbox.text and "未读 1 条" in inbox.text
        link = re.search(r'href="/account/notices/(\d+)"', inbox.text)
        assert link

        page = client.get(f"/account/notices/{link[1]}")
        view = repair.notice_view(
            platform.repair_policy, repair.target_of_record(platform.catalog, record, TODAY)
        )
        assert page.status_code == 200
        shown_dates = (format_china_date(view["public_from"]), format_china_date(view["earliest"]))
        for shown in (record.doc_no, "部门SCMR", *shown_dates):
            assert shown in page.text
        assert "3 个工作日" in page.text and "7 个工作日" in page.text and "信用修复管理办法" in page.text
        assert f"/account/repairs/new?kind=record&amp;id={record.id}" in page.text
        after = client.get("/account/notices").text
        assert "未读 0 条" in after and "已读" in after

    def test_another_subjects_notice_is_not_found(self, client: TestClient, session: Session) -> None:
        code, _ = published_penalty(client, session, **REPAIRABLE)
        other, _ = published_penalty(client, session, **REPAIRABLE)
        as_subject(client, session, code)
        mine = re.search(r'href="/account/notices/(\d+)"', client.get("/account/notices").text)
        assert mine
        as_subject(client, session, other)
        assert client.get(f"/account/notices/{mine[1]}").status_code == 404


class TestApplyOnline:
    def test_subject_applies_with_a_pdf_and_sees_the_application(
        self, client: TestClient, session: Session
    ) -> None:
        code, record = published_penalty(client, session, **REPAIRABLE)
        token = as_subject(client, session, code)
        overview = client.get("/account/repairs")
        assert record.doc_no in overview.text and "现在可以申请" in overview.text
        form = client.get(f"/account/repairs/new?kind=record&id={record.id}")
        assert form.status_code == 200
        assert (
            "信用修复承诺书" in form.text
            and "我已阅读并承诺" in form.text
            and record.subject_name in form.text
        )

        response = apply_online(client, token, record, [(PDF_NAME, PDF)])
        assert response.status_code == 303
        page = client.get(response.headers["location"])
        assert page.status_code == 200
        assert "已提交" in page.text and PDF_NAME in page.text and "部门办理期限" in page.text
        assert "张三" in page.text and "本主体成都修复测试" in page.text  # the signed commitment text
        assert "已提交" in client.get("/account/repairs").text

    def test_too_early_application_shows_the_unmet_condition_and_stores_nothing(
        self, client: TestClient, session: Session
    ) -> None:
        code, record = published_penalty(client, session, **TOO_EARLY)
        token = as_subject(client, session, code)
        form = client.get(f"/account/repairs/new?kind=record&id={record.id}")
        assert "暂不能申请" in form.text and "2027年6月16日" in form.text

        response = apply_online(client, token, record, [(PDF_NAME, PDF)])
        assert response.status_code == 422
        assert "最短公示期未满，2027年6月16日起方可申请" in response.text
        assert count(session, RepairApplication, RepairApplication.record_id == record.id) == 0

    def test_html_renamed_pdf_is_refused_with_a_clear_message_and_nothing_is_stored(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code, record = published_penalty(client, session, **REPAIRABLE)
        token = as_subject(client, session, code)
        response = apply_online(client, token, record, [(PDF_NAME, PDF), ("凭证.pdf", HTML_AS_PDF)])
        assert response.status_code == 422
        assert "文件“凭证.pdf”不是允许的格式：请上传 PDF、OFD、JPG 或 PNG 文件" in response.text
        assert "已全额缴纳罚款并完成整改" in response.text  # the form keeps what was typed
        assert count(session, RepairApplication, RepairApplication.record_id == record.id) == 0
        assert count(session, Attachment) == 0
        assert count(session, Commitment, Commitment.subject_id == record.subject_id) == 0
        assert not (platform.settings.data_dir / "uploads").exists()

    def test_the_commitment_must_be_agreed_to(self, client: TestClient, session: Session) -> None:
        code, record = published_penalty(client, session, **REPAIRABLE)
        token = as_subject(client, session, code)
        form = application_form(token, record)
        del form["agree"]
        response = client.post(
            "/account/repairs", data=form, files=[("evidence", (PDF_NAME, PDF, "application/pdf"))]
        )
        assert response.status_code == 422 and "我已阅读并承诺" in response.text
        assert count(session, RepairApplication, RepairApplication.record_id == record.id) == 0

    def test_form_without_csrf_token_is_refused_and_nothing_is_stored(
        self, client: TestClient, session: Session
    ) -> None:
        code, record = published_penalty(client, session, **REPAIRABLE)
        token = as_subject(client, session, code)
        form = application_form(token, record)
        del form["csrf_token"]
        response = client.post(
            "/account/repairs", data=form, files=[("evidence", (PDF_NAME, PDF, "application/pdf"))]
        )
        assert response.status_code == 403 and "auth.csrf" in response.text
        assert count(session, RepairApplication, RepairApplication.record_id == record.id) == 0

    def test_subject_cannot_apply_for_another_subjects_record(
        self, client: TestClient, session: Session
    ) -> None:
        code, _ = published_penalty(client, session, **REPAIRABLE)
        _, other_record = published_penalty(client, session, **REPAIRABLE)
        token = as_subject(client, session, code)
        assert client.get(f"/account/repairs/new?kind=record&id={other_record.id}").status_code == 404
        assert apply_online(client, token, other_record, [(PDF_NAME, PDF)]).status_code == 404

    def test_subject_withdraws_an_open_application(self, client: TestClient, session: Session) -> None:
        _, _, application_id = applied(client, session)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account/repairs").text)
        assert token
        response = client.post(
            f"/account/repairs/{application_id}/withdraw", data={"csrf_token": token[1], "note": "另行处理"}
        )
        assert response.status_code == 200 and "已撤回" in response.text
        assert "撤回申请</button>" not in response.text


# -- the department ------------------------------------------------------------------------------------------


class TestDepartmentHandling:
    def test_the_deciding_departments_reviewer_accepts_reviews_and_approves(
        self, client: TestClient, session: Session
    ) -> None:
        _code, record, application_id = applied(client, session)
        token = login(client, session, role="reviewer", department_code="SCMR")
        assert "信用修复申请待受理" in client.get("/console/notices").text
        queue = client.get("/console/repairs")
        assert f"/console/repairs/{application_id}" in queue.text
        assert record.subject_name in queue.text and "在线申请" in queue.text

        detail = client.get(f"/console/repairs/{application_id}")
        assert detail.status_code == 200
        assert "提交时的条件审查" in detail.text and "按今日重新审查" in detail.text
        assert "已上传1份履行义务的证明材料" in detail.text and PDF_NAME in detail.text
        for step in ("accept", "review"):
            response = client.post(
                f"/console/repairs/{application_id}/{step}",
                data={"csrf_token": token},
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text

        missing_no = client.post(f"/console/repairs/{application_id}/approve", data={"csrf_token": token})
        assert missing_no.status_code == 422 and "准予修复须有修复决定文号" in missing_no.text
        approved = client.post(
            f"/console/repairs/{application_id}/approve",
            data={"csrf_token": token, "decision_no": "川市监修〔2026〕8号", "note": "材料齐全"},
        )
        assert (
            approved.status_code == 200
            and "已修复" in approved.text
            and "川市监修〔2026〕8号" in approved.text
        )
        session.expire_all()
        assert session.get(Record, record.id).status == "repaired"  # type: ignore[union-attr]

    def test_refusal_needs_a_reason_and_the_page_says_so(self, client: TestClient, session: Session) -> None:
        _, _, application_id = applied(client, session)
        token = login(client, session, role="reviewer", department_code="SCMR")
        response = client.post(f"/console/repairs/{application_id}/reject", data={"csrf_token": token})
        assert response.status_code == 409 and "“不予受理”须写明理由" in response.text
        assert "已提交" in response.text

    def test_a_reviewer_of_another_department_neither_sees_nor_decides(
        self, client: TestClient, session: Session
    ) -> None:
        _, _, application_id = applied(client, session)
        token = login(client, session, role="reviewer", department_code="SCSW")
        assert f"/console/repairs/{application_id}" not in client.get("/console/repairs").text
        assert client.get(f"/console/repairs/{application_id}").status_code == 404
        refused = client.post(f"/console/repairs/{application_id}/accept", data={"csrf_token": token})
        assert refused.status_code == 404
        assert client.get(f"/console/repairs/{application_id}/files/1").status_code == 404
        session.expire_all()
        assert session.get(RepairApplication, application_id).status == "submitted"  # type: ignore[union-attr]

    def test_the_queue_marks_and_filters_overdue_applications(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        _, _, fresh_id = applied(client, session)
        code, record = published_penalty(client, session, **REPAIRABLE)
        subject = subjects.get_by_uscc(session, code)
        late = apply_for_repair(
            platform,
            session,
            Principal(kind="user", name="企业经办人", role="subject", subject_id=subject.id),
            record.id,
            dt.date(2026, 11, 2),  # due three working days later, long before TODAY
            statement="已缴纳罚款",
        )
        session.commit()
        login(client, session, role="reviewer", department_code="SCMR")
        queue = client.get("/console/repairs").text
        row = re.search(rf"/console/repairs/{late.id}\".*?</tr>", queue, re.S)
        assert row and "已逾期" in row[0] and format_china_date(late.due_on) in row[0]
        overdue = client.get("/console/repairs?status=open&overdue=true").text
        assert f'/console/repairs/{late.id}"' in overdue and f'/console/repairs/{fresh_id}"' not in overdue

    def test_a_subject_cannot_open_the_console(self, client: TestClient, session: Session) -> None:
        code, _, _ = applied(client, session)
        as_subject(client, session, code)
        assert client.get("/console/repairs").status_code == 403

    def test_a_clerk_records_a_paper_application(self, client: TestClient, session: Session) -> None:
        code, record = published_penalty(client, session, **REPAIRABLE)
        token = login(client, session, role="reviewer", department_code="SCMR")
        found = client.get(f"/console/repairs/new?uscc={code}")
        assert f"/console/repairs/new?kind=record&amp;id={record.id}" in found.text
        form = client.get(f"/console/repairs/new?kind=record&id={record.id}")
        assert "纸质承诺书上的签署人姓名" in form.text
        response = client.post(
            "/console/repairs/new",
            data=application_form(token, record, signer_name="王五"),
            files=[("evidence", ("申请书扫描件.pdf", PDF, "application/pdf"))],
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        page = client.get(response.headers["location"])
        assert "纸质申请" in page.text and "王五" in page.text
        session.expire_all()
        application = session.scalars(
            select(RepairApplication).where(RepairApplication.record_id == record.id)
        ).one()
        assert application.channel == "paper"


class TestEvidenceDownload:
    def test_applicant_and_department_download_and_another_subject_gets_404(
        self, client: TestClient, session: Session
    ) -> None:
        _, _, application_id = applied(client, session)
        page = client.get(f"/account/repairs/{application_id}").text
        link = re.search(rf'href="(/account/repairs/{application_id}/files/(\d+))"', page)
        assert link
        own = client.get(link[1])
        assert own.status_code == 200 and own.content == PDF
        assert own.headers["content-type"] == "application/pdf"
        assert own.headers["x-content-type-options"] == "nosniff"
        disposition = own.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''%E7%BD%9A%E6%AC%BE%E7%BC%B4%E7%BA%B3%E5%87%AD%E8%AF%81.pdf" in disposition

        login(client, session, role="reviewer", department_code="SCMR")
        department = client.get(f"/console/repairs/{application_id}/files/{link[2]}")
        assert department.status_code == 200 and department.content == PDF
        assert count(session, AuditEntry, AuditEntry.action == "repair.evidence_download") == 1

        stranger, _ = published_penalty(client, session, **REPAIRABLE)
        as_subject(client, session, stranger)
        assert client.get(link[1]).status_code == 404
        assert client.get(f"/account/repairs/{application_id}").status_code == 404

    def test_supplement_uploads_more_material_when_asked(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code, _, application_id = applied(client, session)
        application = session.get(RepairApplication, application_id)
        assert application is not None
        for event in ("accept", "review", "request_material"):
            repair.advance(
                session,
                platform.context(REVIEWER, TODAY),
                application,
                event,
                repair_policy=platform.repair_policy,
                note="请补充整改报告" if event == "request_material" else None,
            )
        session.commit()
        token = as_subject(client, session, code)
        page = client.get(f"/account/repairs/{application_id}")
        assert "待补正材料" in page.text and "请补充整改报告" in page.text
        refused = client.post(
            f"/account/repairs/{application_id}/supplement",
            data={"csrf_token": token},
            files=[("evidence", ("整改报告.pdf", HTML_AS_PDF, "application/pdf"))],
        )
        assert refused.status_code == 422 and "不是允许的格式" in refused.text
        sent = client.post(
            f"/account/repairs/{application_id}/supplement",
            data={"csrf_token": token, "note": "已补充"},
            files=[("evidence", ("整改报告.pdf", PDF + b"report", "application/pdf"))],
        )
        assert sent.status_code == 200 and "审核中" in sent.text and "整改报告.pdf" in sent.text
        assert count(session, Attachment, Attachment.owner == f"repair:{application_id}") == 2


# -- the credit office ---------------------------------------------------------------------------------------


class TestRecheck:
    def test_credit_office_draws_last_months_sample_and_reverts_a_wrong_repair(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code, record = published_penalty(client, session, **REPAIRABLE)
        subject = subjects.get_by_uscc(session, code)
        applicant = Principal(kind="user", name="企业经办人", role="subject", subject_id=subject.id)
        october = dt.date(2026, 10, 12)
        application = apply_for_repair(
            platform, session, applicant, record.id, october, statement="已缴纳罚款"
        )
        for event in ("accept", "review", "approve"):
            repair.advance(
                session,
                platform.context(REVIEWER, october + dt.timedelta(days=2)),
                application,
                event,
                repair_policy=platform.repair_policy,
                decision_no="川市监修〔2026〕3号" if event == "approve" else None,
            )
        session.commit()

        login(client, session, role="reviewer", department_code="SCMR")
        assert client.get("/console/repairs/recheck").status_code == 403

        token = login(client, session, role="credit_office", department_code="SCFGW")
        drawn = client.post("/console/repairs/recheck/draw", data={"csrf_token": token})
        assert drawn.status_code == 200 and "已抽取 1 件待复核" in drawn.text
        assert f"/console/repairs/{application.id}" in drawn.text and "川市监修〔2026〕3号" in drawn.text
        again = client.post("/console/repairs/recheck/draw", data={"csrf_token": token})
        assert "2026-10 的样本已抽取过" in again.text

        no_reason = client.post(
            f"/console/repairs/recheck/{application.id}/revert", data={"csrf_token": token}
        )
        assert no_reason.status_code == 409 and "须写明理由" in no_reason.text
        reverted = client.post(
            f"/console/repairs/recheck/{application.id}/revert",
            data={"csrf_token": token, "note": "罚款缴纳凭证系伪造"},
        )
        assert (
            reverted.status_code == 200
            and "已纠正" in reverted.text
            and "罚款缴纳凭证系伪造" in reverted.text
        )
        session.expire_all()
        assert session.get(Record, record.id).status == "active"  # type: ignore[union-attr]
        assert session.get(RepairApplication, application.id).status == "reverted"  # type: ignore[union-attr]


# -- the portal ----------------------------------------------------------------------------------------------


class TestPublishedCommitment:
    def test_commitment_page_shows_the_text_and_a_valid_signature_and_detects_tampering(
        self, client: TestClient, session: Session
    ) -> None:
        _, record, application_id = applied(client, session)
        session.expire_all()
        application = session.get(RepairApplication, application_id)
        assert application is not None and application.commitment_id is not None
        client.cookies.clear()  # the public, not logged in
        page = client.get(f"/commitments/{application.commitment_id}")
        assert page.status_code == 200
        assert "信用修复承诺书" in page.text and record.subject_name in page.text and "张三" in page.text
        assert "不再发生同类失信行为" in page.text and "《信用修复承诺书》范本 2026.1" in page.text
        assert "credit_repair" not in page.text  # the template by its title, never by its code
        assert "有效" in page.text and "无效" not in page.text

        commitment = session.get(Commitment, application.commitment_id)
        assert commitment is not None
        commitment.text = commitment.text.replace("张三", "李四")
        session.commit()
        assert "无效" in client.get(f"/commitments/{application.commitment_id}").text

    def test_unknown_commitment_is_404(self, client: TestClient) -> None:
        assert client.get("/commitments/999999").status_code == 404
