"""Objection pages through the web: filing from the portal (anonymous and as the subject), the subject's own
objections, the department's queue and answers in the console, evidence downloads, and the public statistics
of repairs and objections. Bad input (missing reasons, a disguised file, no CSRF token) is refused clearly."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import bearer, csrf, department, login, penalty, uscc
from xinyong.accounts.policy import ANONYMOUS, SYSTEM, Principal
from xinyong.files.service import Upload
from xinyong.kit.dates import format_china_date
from xinyong.objections import rules
from xinyong.objections import service as objections
from xinyong.objections.models import Objection
from xinyong.platform import Platform
from xinyong.records.models import Record, RecordVersion
from xinyong.subjects import service as subjects

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
REASONS = "处罚决定书载明的罚款金额为三万元，公示为五万元，与原决定书不符。"


def ingest(client: TestClient, session: Session, rows: list[dict[str, Any]]) -> None:
    body = client.post(
        "/api/v1/records", json={"item": "CF", "records": rows}, headers=bearer(session)
    ).json()
    assert body["rejected"] == 0, body


def record_of(session: Session, code: str) -> Record:
    subject = subjects.get_by_uscc(session, code)
    return session.scalars(select(Record).where(Record.subject_id == subject.id)).one()


def objection_count(session: Session, record: Record) -> int:
    return session.scalar(select(func.count()).where(Objection.record_id == record.id)) or 0


def post_objection(
    client: TestClient, record: Record, token: str, *, files: list[Any] | None = None, **form: str
) -> Any:
    data = {
        "csrf_token": token,
        "record": str(record.id),
        "reasons": REASONS,
        "filer_name": "王五",
        "filer_contact": "13800000000",
        **form,
    }
    return client.post("/objections", data=data, files=files or [])


def filed(platform: Platform, session: Session, record: Record, **kw: Any) -> Objection:
    """An objection filed through the service (for console tests), committed."""
    principal = kw.pop("principal", ANONYMOUS)
    args: dict[str, Any] = {
        "answer_workdays": platform.repair_policy.objection_workdays,
        "record_id": record.id,
        "reasons": REASONS,
        "filer_name": "王五",
        "filer_contact": "13800000000",
        "evidence": [Upload("罚款决定书（原件）.pdf", PDF)],
        "today": TODAY,
    }
    args.update(kw)
    objection = objections.file(session, platform.context(principal, args.pop("today")), **args)
    session.commit()
    return objection


class TestFilingFromThePortal:
    def test_anonymous_visitor_files_from_the_subject_page_and_gets_number_and_deadline(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        record = record_of(session, code)
        page = client.get(f"/subjects/{code}").text
        link = f"/objections/new?record={record.id}"
        assert link in page and "异议处理中" not in page
        form = client.get(link)
        assert (
            form.status_code == 200
            and record.doc_no in form.text
            and 'enctype="multipart/form-data"' in form.text
        )
        response = post_objection(
            client, record, csrf(client), files=[("evidence", ("决定书.pdf", PDF, "application/pdf"))]
        )
        assert response.status_code == 200, response.text
        objection = session.scalars(select(Objection).where(Objection.record_id == record.id)).one()
        due = platform.calendar.add_workdays(TODAY, platform.repair_policy.objection_workdays).due
        assert objection.due_on == due and objection.filer_kind == "public"
        assert re.search(rf'id="objection-number">{objection.id}<', response.text)
        assert format_china_date(due) in response.text and "决定书.pdf" in response.text
        assert "异议处理中" in client.get(f"/subjects/{code}").text

    def test_missing_reasons_re_shows_the_form_with_the_error_and_keeps_the_input(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        record = record_of(session, code)
        response = post_objection(client, record, csrf(client), reasons="", filer_name="赵六有限公司")
        assert response.status_code == 422
        assert "objection.reasons_required" in response.text and 'value="赵六有限公司"' in response.text
        assert objection_count(session, record) == 0

    def test_a_disguised_file_is_refused_and_leaves_no_half_filed_objection(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        record = record_of(session, code)
        files = [
            ("evidence", ("决定书.pdf", PDF, "application/pdf")),
            ("evidence", ("照片.png", b"<html><script>alert(1)</script></html>", "image/png")),
        ]
        response = post_objection(client, record, csrf(client), files=files)
        assert response.status_code == 422 and "file.type_not_allowed" in response.text
        assert "请重新选择证明材料" in response.text
        assert objection_count(session, record) == 0

    def test_an_empty_file_input_is_not_an_attachment(self, client: TestClient, session: Session) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        record = record_of(session, code)
        # What a browser sends when no file was chosen: a part with an empty filename and no content.
        fields = {
            "csrf_token": csrf(client),
            "record": str(record.id),
            "reasons": REASONS,
            "filer_name": "王五",
            "filer_contact": "13800000000",
        }
        boundary = "----xinyongFormBoundary"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; filename=""\r\n'
            "Content-Type: application/octet-stream\r\n\r\n\r\n"
        )
        body = ("".join(parts) + f"--{boundary}--\r\n").encode()
        response = client.post(
            "/objections", content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
        )
        assert response.status_code == 200, response.text
        assert "未上传" in response.text and objection_count(session, record) == 1

    def test_a_post_without_csrf_token_is_refused(self, client: TestClient, session: Session) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        record = record_of(session, code)
        response = post_objection(client, record, "")
        assert response.status_code == 403 and "auth.csrf" in response.text
        assert objection_count(session, record) == 0

    def test_a_record_that_is_not_public_cannot_be_objected_to_by_the_public(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, severity="轻微")])
        record = record_of(session, code)
        assert client.get(f"/objections/new?record={record.id}").status_code == 404
        response = post_objection(client, record, csrf(client))
        assert response.status_code == 404 and "objection.record_not_found" in response.text
        assert client.get("/objections/new?record=abc").status_code == 422

    def test_the_subject_files_on_its_own_record_without_a_contact(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, severity="轻微")])  # not public: only its own
        record = record_of(session, code)
        token = login(client, session, role="subject", department_code=None, subject_id=record.subject_id)
        page = client.get(f"/subjects/{code}").text
        assert f"/objections/new?record={record.id}" in page
        response = post_objection(client, record, token, filer_contact="")
        assert response.status_code == 200, response.text
        objection = session.scalars(select(Objection).where(Objection.record_id == record.id)).one()
        assert objection.filer_kind == "subject" and objection.filed_by is not None
        assert f"/account/objections/{objection.id}" in response.text
        again = post_objection(client, record, token, filer_contact="")
        assert again.status_code == 409 and "objection.duplicate" in again.text


class TestAccountPages:
    def test_subject_follows_its_objection_sees_the_correction_and_cannot_withdraw_an_answered_one(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, CF_NR_FK="5")])
        record = record_of(session, code)
        token = login(client, session, role="subject", department_code=None, subject_id=record.subject_id)
        assert post_objection(client, record, token).status_code == 200
        objection = session.scalars(select(Objection).where(Objection.record_id == record.id)).one()
        listing = client.get("/account/objections")
        assert listing.status_code == 200 and f"/account/objections/{objection.id}" in listing.text
        detail = client.get(f"/account/objections/{objection.id}").text
        assert (
            "异议处理中" in detail and "撤回异议" in detail and format_china_date(objection.due_on) in detail
        )

        reviewer = Principal(kind="user", name="审核员", role="reviewer", department_code="SCMR")
        objections.answer(
            session,
            platform.context(reviewer, TODAY),
            objection,
            "correct",
            rule_sets=platform.rule_sets,
            reason="经核对决定书原件，罚款金额录入有误。",
            corrections={"fine_wan": "3"},
        )
        session.commit()
        detail = client.get(f"/account/objections/{objection.id}").text
        assert "已更正" in detail and "罚款金额" in detail and "撤回异议" not in detail
        assert re.search(r"<del>5</del>.*<ins>3</ins>", detail)
        assert "经核对决定书原件" in detail and "第 1 版 → 第 2 版" in detail
        refused = client.post(f"/account/objections/{objection.id}/withdraw", data={"csrf_token": token})
        assert refused.status_code == 409 and rules.ILLEGAL_TRANSITION in refused.text

    def test_subject_withdraws_and_others_cannot_see_it(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code, other = uscc(), uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code), penalty(CF_XDR_SHXYM=other)])
        record = record_of(session, code)
        token = login(client, session, role="subject", department_code=None, subject_id=record.subject_id)
        post_objection(client, record, token)
        objection = session.scalars(select(Objection).where(Objection.record_id == record.id)).one()
        response = client.post(
            f"/account/objections/{objection.id}/withdraw", data={"csrf_token": token}, follow_redirects=False
        )
        assert response.status_code == 303
        session.refresh(objection)
        assert objection.status == rules.WITHDRAWN
        assert "已撤回" in client.get(f"/account/objections/{objection.id}").text

        login(
            client,
            session,
            role="subject",
            department_code=None,
            subject_id=record_of(session, other).subject_id,
        )
        assert client.get(f"/account/objections/{objection.id}").status_code == 404
        assert f"/account/objections/{objection.id}" not in client.get("/account/objections").text

    def test_account_pages_need_a_subject_account(self, client: TestClient, session: Session) -> None:
        assert client.get("/account/objections").status_code == 401
        login(client, session, role="reviewer")
        assert client.get("/account/objections").status_code == 403


class TestConsolePages:
    def test_reviewer_sees_the_queue_downloads_evidence_and_corrects_only_changed_fields(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, CF_NR_FK="5", CF_JDRQ="2026-06-15")])
        record = record_of(session, code)
        objection = filed(platform, session, record)
        token = login(client, session, role="reviewer", department_code="SCMR")

        queue = client.get("/console/objections")
        assert queue.status_code == 200 and f"/console/objections/{objection.id}" in queue.text
        assert record.doc_no in queue.text and "社会公众" in queue.text

        detail = client.get(f"/console/objections/{objection.id}")
        assert detail.status_code == 200 and REASONS in detail.text and "13800000000" in detail.text
        link = re.search(rf"/console/objections/{objection.id}/files/(\d+)", detail.text)
        assert link, "no evidence download link"
        download = client.get(link[0])
        assert download.status_code == 200 and download.content == PDF
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["x-content-type-options"] == "nosniff"
        disposition = download.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''%E7%BD%9A%E6%AC%BE" in disposition  # 罚款…, percent-encoded (RFC 5987)
        assert client.get(f"/console/objections/{objection.id}/files/999999").status_code == 404

        # The form is prefilled with every correctable field; the browser sends them all back.
        found = re.findall(r'<input name="(field-[a-z_]+)" value="([^"]*)"', detail.text)
        fields = {name: html.unescape(value) for name, value in found}
        assert fields["field-fine_wan"] == "5" and "field-doc_no" not in fields
        form = {
            **fields,
            "field-fine_wan": "3",
            "csrf_token": token,
            "reason": "经核对决定书原件，罚款金额录入有误。",
        }
        response = client.post(
            f"/console/objections/{objection.id}/correct", data=form, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        session.refresh(objection)
        session.refresh(record)
        assert objection.status == rules.CORRECTED and record.version == 2
        assert [c["field"] for c in objection.changes or []] == ["fine_wan"]
        assert session.scalar(select(func.count()).where(RecordVersion.record_id == record.id)) == 1
        page = client.get(f"/console/objections/{objection.id}").text
        assert (
            "<del>5</del>" in page and "<ins>3</ins>" in page and "撤销记录" not in page.split("办理过程")[1]
        )

        twice = client.post(
            f"/console/objections/{objection.id}/maintain", data={"csrf_token": token, "reason": "再答复一次"}
        )
        assert twice.status_code == 409 and rules.ILLEGAL_TRANSITION in twice.text

    def test_bad_answers_are_refused_on_the_page_and_change_nothing(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        record = record_of(session, code)
        objection = filed(platform, session, record)
        token = login(client, session, role="reviewer", department_code="SCMR")
        url = f"/console/objections/{objection.id}"

        no_reason = client.post(f"{url}/maintain", data={"csrf_token": token, "reason": " "})
        assert no_reason.status_code == 409 and "objection.reason_required" in no_reason.text
        doc_no = client.post(
            f"{url}/correct",
            data={"csrf_token": token, "reason": "改文号", "field-doc_no": "川市监罚〔2026〕9号"},
        )
        assert doc_no.status_code == 422 and "objection.field_not_correctable" in doc_no.text
        bad_date = client.post(
            f"{url}/correct",
            data={"csrf_token": token, "reason": "改日期", "field-decision_date": "2026-13-45"},
        )
        assert bad_date.status_code == 422 and "objection.invalid_correction" in bad_date.text
        unchanged = client.post(
            f"{url}/correct",
            data={"csrf_token": token, "reason": "无改动", "field-facts": record.fields["facts"]},
        )
        assert unchanged.status_code == 409 and "objection.no_changes" in unchanged.text
        assert client.post(f"{url}/approve", data={"csrf_token": token, "reason": "x"}).status_code == 404
        no_csrf = client.post(f"{url}/revoke", data={"reason": "原决定已撤销"})
        assert no_csrf.status_code == 403 and "auth.csrf" in no_csrf.text
        session.refresh(objection)
        session.refresh(record)
        assert objection.status == rules.OPEN and record.version == 1 and record.status == "active"

        revoked = client.post(f"{url}/revoke", data={"csrf_token": token, "reason": "原处罚决定已被复议撤销"})
        assert revoked.status_code == 200  # followed the redirect to the detail page
        session.refresh(record)
        assert record.status == "revoked"
        assert record.doc_no not in client.get(f"/subjects/{code}").text

    def test_queue_filters_overdue_in_red_and_escalated(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        department(session, "SCFGW", "四川省发展和改革委员会")
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code), penalty(CF_XDR_SHXYM=code)])
        subject = subjects.get_by_uscc(session, code)
        late_record, fresh_record = session.scalars(
            select(Record).where(Record.subject_id == subject.id).order_by(Record.id)
        ).all()
        late = filed(platform, session, late_record, today=dt.date(2026, 11, 2))
        fresh = filed(platform, session, fresh_record)
        assert late.due_on < TODAY <= fresh.due_on
        objections.escalate_overdue(session, TODAY, credit_office="SCFGW", principal=SYSTEM)
        session.commit()
        login(client, session, role="reviewer", department_code="SCMR")

        def ids(show: str) -> set[int]:
            page = client.get(f"/console/objections?show={show}")
            assert page.status_code == 200
            return {int(n) for n in re.findall(r'href="/console/objections/(\d+)"', page.text)}

        assert ids("open") == ids("") == {late.id, fresh.id}
        assert ids("overdue") == ids("escalated") == {late.id}
        assert ids("maintained") == set()
        page = client.get("/console/objections").text
        assert (
            f'<span class="tag serious" title="已逾期">{format_china_date(late.due_on)} 已逾期</span>' in page
        )
        assert "督办</span>" in page
        assert client.get("/console/objections?show=nonsense").status_code == 422

    def test_other_departments_and_the_public_cannot_reach_it(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        objection = filed(platform, session, record_of(session, code))
        assert client.get(f"/console/objections/{objection.id}").status_code == 401
        login(client, session, role="reviewer", department_code="SCSW")
        assert client.get(f"/console/objections/{objection.id}").status_code == 404
        assert f"/console/objections/{objection.id}" not in client.get("/console/objections?show=").text
        login(client, session, role="credit_office", department_code="SCFGW")
        assert client.get(f"/console/objections/{objection.id}").status_code == 200
        assert f"/console/objections/{objection.id}" in client.get("/console/objections").text


class TestStatisticsPage:
    def test_repairs_and_objections_by_department_with_charts_and_json(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        department(session, "SCMR", "四川省市场监督管理局")
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code), penalty(CF_XDR_SHXYM=code)])
        subject = subjects.get_by_uscc(session, code)
        first, second = session.scalars(select(Record).where(Record.subject_id == subject.id)).all()
        done = filed(platform, session, first, today=dt.date(2026, 11, 2))
        filed(platform, session, second, today=dt.date(2026, 11, 2))
        reviewer = Principal(kind="user", name="审核员", role="reviewer", department_code="SCMR")
        objections.answer(
            session,
            platform.context(reviewer, dt.date(2026, 11, 6)),
            done,
            "revoke",
            rule_sets=platform.rule_sets,
            reason="原处罚决定已被复议撤销",
        )
        session.commit()

        body = client.get("/statistics/repairs.json").json()
        row = next(d for d in body["objections"]["departments"] if d["department"] == "SCMR")
        assert row["department_name"] == "四川省市场监督管理局"
        assert (row["total"], row["revoked"], row["open"], row["avg_workdays"]) == (2, 1, 1, 4)
        assert {o["label"]: o["count"] for o in body["objections"]["outcomes"]} == {
            "已撤销记录": 1,
            "异议处理中": 1,
        }
        assert body["repairs"]["departments"] == []

        page = client.get("/statistics/repairs")
        assert page.status_code == 200
        for chart in ("repairs-by-department", "objections-by-department", "outcomes", "workdays"):
            assert f'data-chart="{chart}"' in page.text and f'id="{chart}"' in page.text
        assert "/static/vendor/echarts/echarts.min.js" in page.text
        assert row["department_name"] in page.text and "暂无信用修复申请" in page.text
