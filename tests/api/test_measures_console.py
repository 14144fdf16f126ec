"""The credit office edits the measure list (draft, dry run, publish); departments run checks in the console."""

from __future__ import annotations

import io
import re

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.helpers import bearer, licence, login, uscc

MEASURE = {
    "code": "P-TEST-BAN",
    "name": "测试：限制参与政府采购",
    "kind": "punishment",
    "nature": "administrative",
    "action": "prohibit",
    "scenarios": "government_procurement",
    "triggers": "item:XK",
    "implementers": "*",
    "description": "测试用措施：有行政许可记录即限制（仅用于试运行）。",
    "legal_basis": "《中华人民共和国政府采购法》第二十二条",
}


def checked(client: TestClient, session: Session, code: str) -> None:
    headers = bearer(session, "SCCZ", ("checks:run",))
    body = {"subject": {"uscc": code}, "scenario": "government_procurement", "purpose": "试运行基线"}
    assert client.post("/api/v1/checks", json=body, headers=headers).status_code == 200


class TestMeasureEditor:
    def test_no_legal_basis_no_save_and_dry_run_then_publish(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        client.post(
            "/api/v1/records",
            json={"item": "XK", "records": [licence(XK_XDR_SHXYM=code)]},
            headers=bearer(session),
        )
        checked(client, session, code)
        token = login(client, session, role="credit_office", department_code="SCFGW")
        assert (
            client.post(
                "/console/measures/draft", data={"version": "2026.9", "csrf_token": token}
            ).status_code
            == 200
        )
        refused = client.post(
            "/console/measures/draft/measure", data={**MEASURE, "legal_basis": "", "csrf_token": token}
        )
        assert refused.status_code == 422 and "legal_basis" in refused.text
        saved = client.post("/console/measures/draft/measure", data={**MEASURE, "csrf_token": token})
        assert saved.status_code == 200
        page = client.get("/console/measures").text
        assert "P-TEST-BAN" in page
        changed = re.search(r"结果将改变的核查</dt><dd>(\d+)</dd>", page)
        assert changed and int(changed[1]) >= 1
        assert client.post("/console/measures/publish", data={"csrf_token": token}).status_code == 200
        published = client.get("/api/v1/measures").json()
        assert published["version"] == "2026.9"
        assert any(m["code"] == "P-TEST-BAN" for m in published["measures"])

    def test_only_the_credit_office_edits(self, client: TestClient, session: Session) -> None:
        login(client, session, role="reviewer")
        assert client.get("/console/measures").status_code == 403


class TestConsoleChecks:
    def test_a_clerk_checks_a_list_of_bidders_from_an_xlsx(
        self, client: TestClient, session: Session
    ) -> None:
        codes = [uscc(), uscc()]
        client.post(
            "/api/v1/records",
            json={"item": "XK", "records": [licence(XK_XDR_SHXYM=c) for c in codes]},
            headers=bearer(session),
        )
        token = login(client, session, role="reviewer", department_code="SCZJ")
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["统一社会信用代码", "名称"])
        for c in codes:
            sheet.append([c, ""])
        sheet.append(["91510104MA6C12341Y", ""])  # wrong check digit
        buffer = io.BytesIO()
        book.save(buffer)
        response = client.post(
            "/console/checks/batch",
            data={"scenario": "public_bidding", "purpose": "某工程评标", "csrf_token": token},
            files={
                "file": (
                    "bidders.xlsx",
                    buffer.getvalue(),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                )
            },
        )
        assert response.status_code == 200
        assert response.text.count("未命中") == 2 and "uscc.checksum" in response.text

    def test_a_malformed_batch_file_is_a_clear_error(self, client: TestClient, session: Session) -> None:
        token = login(client, session, role="reviewer", department_code="SCZJ")
        response = client.post(
            "/console/checks/batch",
            data={"scenario": "public_bidding", "purpose": "某工程评标", "csrf_token": token},
            files={"file": ("bidders.xlsx", b"PK\x03\x04 not really a workbook", "application/octet-stream")},
        )
        assert response.status_code == 400 and "file.xlsx" in response.text

    def test_single_check_receipt_and_feedback_form(self, client: TestClient, session: Session) -> None:
        code = uscc()
        client.post(
            "/api/v1/records",
            json={"item": "XK", "records": [licence(XK_XDR_SHXYM=code)]},
            headers=bearer(session),
        )
        token = login(client, session, role="reviewer", department_code="SCZJ")
        response = client.post(
            "/console/checks",
            data={
                "uscc": code,
                "scenario": "administrative_approval",
                "purpose": "施工许可审查",
                "csrf_token": token,
            },
        )
        assert response.status_code == 200 and "信用核查回执" in response.text and "Ed25519" in response.text
