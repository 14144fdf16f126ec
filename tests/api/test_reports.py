"""Credit reports (信用报告, 专项信用报告): who may issue them, what each section holds, the special report per
field and period, the 已修复 mark, the PDF (text, fonts, QR), its signatures and verification by API and CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.api.test_credit_file import company, entry, load, subject_id
from tests.conftest import TODAY
from tests.helpers import bearer, csrf, login, penalty, resident_id, uscc
from xinyong.accounts import service as accounts
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.evaluation.models import EvaluationGrade, EvaluationRun
from xinyong.kit.errors import Forbidden
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.reports import rules, service, verification
from xinyong.subjects import service as subjects

GOV = ("subjects:read",)


def issue(
    client: TestClient, session: Session, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Any:
    return client.post(
        "/api/v1/reports", json=body, headers=bearer(session, "SCFGW", GOV) if headers is None else headers
    )


def payload(client: TestClient, session: Session, number: str, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"/api/v1/reports/{number}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["payload"]  # type: ignore[no-any-return]


def section(body: dict[str, Any], code: str) -> dict[str, Any]:
    return next(s for s in body["sections"] if s["code"] == code)


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


class TestStandardReport:
    def test_sections_hold_records_in_force_and_empty_ones_say_so(
        self, client: TestClient, session: Session, tmp_path: Path
    ) -> None:
        code = company(client, session, CF_XDR_MC="成都报告测试有限公司")
        headers = bearer(session, "SCFGW", GOV)
        response = issue(
            client,
            session,
            {"subject": {"uscc": code}, "kind": "standard", "purpose": "招标资格审查"},
            headers,
        )
        assert response.status_code == 200, response.text
        issued = response.json()
        assert set(issued) == {"report_number", "pdf_url", "json_url", "sha256"}
        body = payload(client, session, issued["report_number"], headers)
        assert [s["title"] for s in body["sections"]] == [
            "基础信息",
            "行政管理信息",
            "诚实守信",
            "严重失信主体名单",
            "经营异常",
            "信用承诺",
            "自主申报信息",
            "信用评价",
            "司法判决",
            "其他",
        ]
        (penalty_item,) = section(body, "administrative")["items"]
        assert penalty_item["title"] == "行政处罚" and penalty_item["repaired"] is False
        assert section(body, "serious_dishonesty")["items"] == []
        assert section(body, "serious_dishonesty")["empty"] == rules.EMPTY

        pdf = client.get(issued["pdf_url"], headers=headers)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert hashlib.sha256(pdf.content).hexdigest() == issued["sha256"]
        assert client.get(issued["pdf_url"], headers=headers).content == pdf.content  # frozen bytes
        text = pdftotext(pdf.content, tmp_path)
        for needle in (
            "成都报告测试有限公司",
            code,
            issued["report_number"],
            "公共信用信息报告",
            "行政管理信息",
            "严重失信主体名单",
            "司法判决",
            rules.EMPTY,
            "第1页/共",
        ):
            assert needle in text, needle

    def test_a_listed_subject_shows_its_entry_and_a_repaired_record_never_shows_as_current(
        self, client: TestClient, session: Session
    ) -> None:
        code = company(client, session)
        sid = subject_id(session, code)
        entry(session, sid)
        record = session.scalars(select(Record).where(Record.subject_id == sid)).one()
        record.status = "repaired"
        session.commit()
        headers = bearer(session, "SCFGW", GOV)
        number = issue(client, session, {"subject": {"uscc": code}, "purpose": "评审"}, headers).json()[
            "report_number"
        ]
        body = payload(client, session, number, headers)
        (listed,) = section(body, "serious_dishonesty")["items"]
        assert listed["title"] == "严重失信主体名单" and listed["doc_no"] == "川发改信认〔2026〕8号"
        assert section(body, "administrative")["items"] == []

    def test_the_public_and_other_departments_without_purpose_get_nothing(
        self, client: TestClient, session: Session
    ) -> None:
        code = company(client, session)
        assert client.post("/api/v1/reports", json={"subject": {"uscc": code}}).status_code == 401
        assert issue(client, session, {"subject": {"uscc": code}}).status_code == 422  # no purpose
        headers = bearer(session, "SCFGW", GOV)
        number = issue(client, session, {"subject": {"uscc": code}, "purpose": "审查"}, headers).json()[
            "report_number"
        ]
        other = bearer(session, "SCTAX", GOV)
        assert client.get(f"/api/v1/reports/{number}", headers=other).status_code == 404
        assert client.get(f"/api/v1/reports/{number}.pdf", headers=other).status_code == 404

    def test_the_subject_downloads_its_own_report_and_sees_it_logged(
        self, client: TestClient, session: Session
    ) -> None:
        code = company(client, session)
        sid = subject_id(session, code)
        login(client, session, role="subject", department_code=None, subject_id=sid)
        response = client.post("/api/v1/reports", json={"subject": {"uscc": code}, "kind": "standard"})
        assert response.status_code == 200, response.text
        number = response.json()["report_number"]
        assert client.get(f"/api/v1/reports/{number}.pdf").status_code == 200
        other = company(client, session)
        assert client.post("/api/v1/reports", json={"subject": {"uscc": other}}).status_code == 403
        gov = bearer(session, "SCFGW", GOV)
        issue(client, session, {"subject": {"uscc": code}, "purpose": "招标审查"}, gov)
        actions = [e.action for e in audit.views_of_subject(session, sid)]
        assert "report.issue" in actions
        logged = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "report.issue", AuditEntry.subject_id == sid)
        ).all()
        assert {e.purpose for e in logged} == {"本人下载", "招标审查"}


class TestSpecialReport:
    def test_per_field_and_period_with_the_repaired_mark(self, client: TestClient, session: Session) -> None:
        code = uscc()
        load(client, session, "CF", [penalty(CF_XDR_SHXYM=code, CF_JDRQ="2026-06-15")])
        load(client, session, "CF", [penalty(CF_XDR_SHXYM=code, CF_JDRQ="2025-03-01")])
        sid = subject_id(session, code)
        old = session.scalars(
            select(Record).where(Record.subject_id == sid, Record.decision_date == dt.date(2025, 3, 1))
        ).one()
        old.status = "repaired"
        session.commit()
        gov = bearer(session, "SCFGW", GOV)
        login(client, session, role="subject", department_code=None, subject_id=sid)
        headers: dict[str, str] = {}

        def findings(start: str, fields: list[str]) -> list[dict[str, Any]]:
            body = {
                "subject": {"uscc": code},
                "kind": "special",
                "period": {"from": start, "to": TODAY.isoformat()},
                "fields": fields,
                "purpose": "替代无违法违规证明",
            }
            response = issue(client, session, body, headers)
            assert response.status_code == 200, response.text
            return payload(client, session, response.json()["report_number"], headers)["findings"]  # type: ignore[no-any-return]

        market, tax = findings("2025-01-01", ["market", "tax"])
        penalties = {c["code"]: c for c in market["categories"]}["penalty"]
        assert penalties["found"] and penalties["verdict"] == "有相关记录"
        assert sorted(i["repaired"] for i in penalties["items"]) == [False, True]
        assert all(c["verdict"] == rules.EMPTY for c in tax["categories"])
        (market,) = findings("2026-01-01", ["market"])
        (penalties,) = [c for c in market["categories"] if c["code"] == "penalty"]
        assert [i["repaired"] for i in penalties["items"]] == [False]  # the 2025 one is outside the period
        # A repaired record is no longer shared (信用修复：停止共享): a department's report leaves it out.
        headers = gov
        (market,) = findings("2025-01-01", ["market"])
        (penalties,) = [c for c in market["categories"] if c["code"] == "penalty"]
        assert [i["repaired"] for i in penalties["items"]] == [False]

    def test_a_criminal_judgment_is_answered_in_every_field_and_never_published(
        self, client: TestClient, session: Session
    ) -> None:
        code = company(client, session)
        judgment = {
            "doc_no": "（2026）川0104刑初12号",
            "subject_name": "成都刑事判决测试有限公司",
            "subject_category": "法人及非法人组织",
            "uscc": code,
            "court_name": "成都市锦江区人民法院",
            "charge_category": "破坏社会主义市场经济秩序罪",
            "judgment_date": "2026-03-02",
            "effective_date": "2026-03-20",
        }
        load(client, session, "XSPJ", [judgment], provider="SCGY")
        body = {
            "subject": {"uscc": code},
            "kind": "special",
            "period": {"from": "2026-01-01", "to": TODAY.isoformat()},
            "fields": ["market", "tax"],
            "purpose": "替代无违法违规证明",
        }
        # The subject's own special report (信用代证): the judgment answers 刑事判决 in every field chosen.
        login(client, session, role="subject", department_code=None, subject_id=subject_id(session, code))
        response = issue(client, session, body, {})
        assert response.status_code == 200, response.text
        for field in payload(client, session, response.json()["report_number"], {})["findings"]:
            criminal = {c["code"]: c for c in field["categories"]}["criminal"]
            assert criminal["verdict"] == "有相关记录"
            assert [i["doc_no"] for i in criminal["items"]] == ["（2026）川0104刑初12号"]
        # 有条件共享: a department sees it in the 司法判决 section only once granted the item, with its basis.
        gov = bearer(session, "SCFGW", GOV)

        def judicial() -> list[str]:
            issued = issue(client, session, {"subject": {"uscc": code}, "purpose": "审查"}, gov).json()
            found = section(payload(client, session, issued["report_number"], gov), "judicial")
            return [i["doc_no"] for i in found["items"]]

        assert judicial() == []

        def criminal_verdict() -> str:
            issued = issue(client, session, body | {"fields": ["tax"]}, gov).json()
            (field,) = payload(client, session, issued["report_number"], gov)["findings"]
            return str({c["code"]: c for c in field["categories"]}["criminal"]["verdict"])

        assert criminal_verdict() == rules.NOT_VISIBLE  # not 无: the department may not see the item
        accounts.grant_item(
            session,
            department_code="SCFGW",
            item_code="XSPJ",
            purpose="信用审查",
            legal_basis="国办发〔2019〕35号",
        )
        session.commit()
        assert judicial() == ["（2026）川0104刑初12号"] and criminal_verdict() == "有相关记录"
        # 政务共享 only: the public file never shows it.
        client.cookies.clear()
        assert "刑初12号" not in client.get(f"/api/v1/subjects/{code}").text

    def test_bad_fields_and_periods_are_refused(self, client: TestClient, session: Session) -> None:
        code = company(client, session)
        base = {"subject": {"uscc": code}, "kind": "special", "purpose": "证明"}
        assert issue(client, session, base).status_code == 422
        assert issue(client, session, base | {"fields": ["nowhere"]}).status_code == 422
        late = {"from": TODAY.isoformat(), "to": (TODAY + dt.timedelta(days=1)).isoformat()}
        assert issue(client, session, base | {"fields": ["tax"], "period": late}).status_code == 422
        back = {"from": "2026-05-01", "to": "2026-01-01"}
        assert issue(client, session, base | {"fields": ["tax"], "period": back}).status_code == 422


class TestPdfAndVerification:
    @pytest.fixture
    def issued(self, client: TestClient, session: Session) -> tuple[str, bytes, dict[str, str]]:
        code = company(client, session, CF_XDR_MC="成都核验测试有限公司")
        headers = bearer(session, "SCFGW", GOV)
        number = issue(client, session, {"subject": {"uscc": code}, "purpose": "核验"}, headers).json()[
            "report_number"
        ]
        return number, client.get(f"/api/v1/reports/{number}.pdf", headers=headers).content, headers

    def test_every_font_is_embedded(self, issued: tuple[str, bytes, dict[str, str]], tmp_path: Path) -> None:
        path = tmp_path / "r.pdf"
        path.write_bytes(issued[1])
        out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
        rows = out.splitlines()[2:]
        assert rows and any("CJK" in row for row in rows)
        assert all(row.split()[-5] == "yes" for row in rows), out  # the "emb" column

    @pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg (zbar-tools) not installed")
    def test_the_qr_code_decodes_to_the_verification_url(
        self, issued: tuple[str, bytes, dict[str, str]], tmp_path: Path, platform: Platform
    ) -> None:
        number, pdf, _ = issued
        (tmp_path / "r.pdf").write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "150",
                "-f",
                "1",
                "-l",
                "1",
                "-png",
                str(tmp_path / "r.pdf"),
                str(tmp_path / "page"),
            ],
            check=True,
        )
        (image,) = tmp_path.glob("page*.png")
        decoded = subprocess.run(
            ["zbarimg", "--raw", "-q", str(image)], capture_output=True, text=True
        ).stdout.strip()
        assert decoded == service.verify_url(platform.settings.public_url, number)

    def test_the_api_verifies_the_pdf_and_refuses_a_one_byte_change(
        self, client: TestClient, issued: tuple[str, bytes, dict[str, str]]
    ) -> None:
        number, pdf, _ = issued
        good = client.post("/api/v1/reports/verify", files={"file": ("r.pdf", pdf, "application/pdf")}).json()
        assert good["genuine"] and good["unchanged"] and good["report_number"] == number
        assert good["summary"]["subject_name"] == "成都核验测试有限公司"
        for offset in (len(pdf) // 2, 200, len(pdf) - 40):
            changed = bytearray(pdf)
            changed[offset] ^= 0x01
            bad = client.post(
                "/api/v1/reports/verify", files={"file": ("r.pdf", bytes(changed), "application/pdf")}
            )
            assert bad.status_code == 200 and bad.json()["unchanged"] is False, offset

    def test_the_number_and_code_verify_and_a_wrong_code_does_not(
        self, client: TestClient, session: Session, issued: tuple[str, bytes, dict[str, str]]
    ) -> None:
        number, pdf, headers = issued
        code = payload(client, session, number, headers)["verification_code"]
        good = client.post(
            "/api/v1/reports/verify", json={"report_number": number, "verification_code": code}
        ).json()
        assert good["genuine"] and good["summary"]["sha256"] == hashlib.sha256(pdf).hexdigest()
        bad = client.post(
            "/api/v1/reports/verify", json={"report_number": number, "verification_code": "AAAAAAAAAA"}
        )
        assert bad.json()["genuine"] is False and bad.json()["summary"] is None
        assert client.post("/api/v1/reports/verify", json={"x": 1}).status_code == 422

    def test_offline_verification_needs_only_the_keys(
        self, issued: tuple[str, bytes, dict[str, str]], platform: Platform
    ) -> None:
        context = service.report_context(platform.settings, platform.catalog, platform.signer)
        number, pdf, _ = issued
        verdict = verification.verify_pdf_offline(
            pdf, verification.by_public_key(platform.signer.public_key_b64), context.certificate
        )
        assert verdict.genuine and verdict.unchanged and verdict.report_number == number
        assert not verification.verify_pdf_offline(
            b"%PDF-1.7 not a report",
            verification.by_public_key(platform.signer.public_key_b64),
            context.certificate,
        ).genuine


def test_rendered_pages_carry_the_header_and_footer_and_the_cover_its_qr_code(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    """Every page rendered (pdftoppm) has ink in its header and footer bands, and the body between them."""
    code = company(client, session)
    headers = bearer(session, "SCFGW", GOV)
    number = issue(client, session, {"subject": {"uscc": code}, "purpose": "版式检查"}, headers).json()[
        "report_number"
    ]
    (tmp_path / "r.pdf").write_bytes(client.get(f"/api/v1/reports/{number}.pdf", headers=headers).content)
    subprocess.run(
        ["pdftoppm", "-r", "72", "-gray", str(tmp_path / "r.pdf"), str(tmp_path / "p")], check=True
    )
    pages = sorted(tmp_path.glob("p*.pgm"))
    assert len(pages) >= 2
    for page in pages:
        with Image.open(page) as image:
            width, height = image.size
            top = image.crop((0, 0, width, height * 6 // 100))
            bottom = image.crop((0, height * 94 // 100, width, height))
            body = image.crop((0, height * 10 // 100, width, height * 90 // 100))
            for band in (top, bottom, body):
                darkest = band.getextrema()[0]  # a grey image: (darkest, lightest)
                assert isinstance(darkest, int) and darkest < 200, page.name  # something is printed there


def test_the_subject_issues_and_downloads_its_reports_from_its_account(
    client: TestClient, session: Session
) -> None:
    code = company(client, session)
    token = login(client, session, role="subject", department_code=None, subject_id=subject_id(session, code))
    page = client.get("/account/reports")
    assert page.status_code == 200 and "出具公共信用信息报告" in page.text and "市场监管" in page.text
    issued = client.post(
        "/account/reports", data={"csrf_token": token, "kind": "standard"}, follow_redirects=False
    )
    assert issued.status_code == 303, issued.text
    pdf = client.get(issued.headers["location"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    form = {
        "csrf_token": token,
        "kind": "special",
        "fields": ["market"],
        "start": "2026-01-01",
        "end": "2026-11-01",
    }
    assert client.post("/account/reports", data=form, follow_redirects=False).status_code == 303
    refused = client.post("/account/reports", data={"csrf_token": token, "kind": "special"})
    assert refused.status_code == 422 and "至少一个领域" in refused.text
    listing = client.get("/account/reports").text
    assert listing.count('.pdf">下载</a>') == 2 and "专项信用报告" in listing
    assert 'href="/account/reports"' in client.get("/account").text


def test_the_verify_page_answers_by_number_and_code(client: TestClient, session: Session) -> None:
    code = company(client, session, CF_XDR_MC="成都页面核验有限公司")
    headers = bearer(session, "SCFGW", GOV)
    number = issue(client, session, {"subject": {"uscc": code}, "purpose": "核验"}, headers).json()[
        "report_number"
    ]
    secret = payload(client, session, number, headers)["verification_code"]
    page = client.get(f"/reports/verify?number={number}")
    assert page.status_code == 200 and f'value="{number}"' in page.text
    token = csrf(client)
    good = client.post("/reports/verify", data={"csrf_token": token, "number": number, "code": secret})
    assert "核验通过" in good.text and "成都页面核验有限公司" in good.text
    bad = client.post("/reports/verify", data={"csrf_token": token, "number": number, "code": "WRONG12345"})
    assert "核验未通过" in bad.text and "成都页面核验有限公司" not in bad.text


def test_a_natural_person_gets_the_personal_report_with_its_id_masked_and_nobody_else_does(
    client: TestClient, session: Session, platform: Platform, tmp_path: Path
) -> None:
    rid = resident_id()
    load(
        client,
        session,
        "CF",
        [penalty(CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJHM=rid, CF_XDR_MC="赵六")],
    )
    person = subjects.find_person(session, platform.cipher.hash(rid))
    assert person is not None
    context = service.report_context(platform.settings, platform.catalog, platform.signer)
    staff = Principal(kind="user", name="clerk", role="reviewer", department_code="SCFGW")
    with pytest.raises(Forbidden):
        service.issue(
            session, context, staff, subject_id=person.id, kind="standard", today=TODAY, purpose="审查"
        )
    token = login(client, session, role="subject", department_code=None, subject_id=person.id)
    issued = client.post(
        "/account/reports", data={"csrf_token": token, "kind": "standard"}, follow_redirects=False
    )
    assert issued.status_code == 303, issued.text
    text = pdftotext(client.get(issued.headers["location"]).content, tmp_path)
    assert "个人公共信用信息报告" in text and "赵六" in text
    assert rid not in text, text[max(0, text.find(rid) - 300) : text.find(rid) + 50]
    assert rid[:4] in text  # the masked ID keeps its first digits, never the whole number


def test_the_evaluation_section_shows_the_current_grade(client: TestClient, session: Session) -> None:
    code = company(client, session)
    sid = subject_id(session, code)
    run = EvaluationRun(model_code="public_comprehensive", model_version="1", engine="sqlite", as_of=TODAY)
    session.add(run)
    session.flush()
    session.add(
        EvaluationGrade(
            model_code="public_comprehensive",
            subject_id=sid,
            run_id=run.id,
            score=88.5,
            grade="A",
            as_of=TODAY,
        )
    )
    session.commit()
    headers = bearer(session, "SCFGW", GOV)
    number = issue(client, session, {"subject": {"uscc": code}, "purpose": "评价"}, headers).json()[
        "report_number"
    ]
    (grade,) = section(payload(client, session, number, headers), "evaluation")["items"]
    assert grade["doc_no"] == "等级 A" and grade["lines"] == [["评价结果", "A（88.5 分）"]]


def test_an_outside_grade_shows_in_the_evaluation_section_beside_the_platform_grade(
    client: TestClient, session: Session
) -> None:
    from tests.service.test_evaluation import outside_grade

    code = company(client, session)
    load(client, session, "WBPJ", [outside_grade(code, "税务", "A")], provider="SCSW")
    session.add(
        run := EvaluationRun(
            model_code="public_comprehensive", model_version="1", engine="sqlite", as_of=TODAY
        )
    )
    session.flush()
    session.add(
        EvaluationGrade(
            model_code="public_comprehensive",
            subject_id=subject_id(session, code),
            run_id=run.id,
            score=80.0,
            grade="B",
            as_of=TODAY,
        )
    )
    session.commit()
    headers = bearer(session, "SCFGW", GOV)
    number = issue(client, session, {"subject": {"uscc": code}, "purpose": "评价"}, headers).json()[
        "report_number"
    ]
    body = payload(client, session, number, headers)
    # 外部信用评价结果 is 信用评价信息 in the national report: the tax grade sits with the platform's own grade.
    held = section(body, "evaluation")["items"]
    assert [i["title"] for i in held] == ["外部信用评价结果", "公共信用综合评价"]
    assert ["评价结果（等级）", "A"] in held[0]["lines"]
    assert all(
        i["title"] != "外部信用评价结果"
        for s in body["sections"]
        if s["code"] != "evaluation"
        for i in s["items"]
    )
