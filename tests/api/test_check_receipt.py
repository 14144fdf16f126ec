"""The console check receipt: a hit from a list entry renders with names and Chinese dates; the printable page,
the PDF (CJK font embedded, text extractable) and the batch results as XLSX."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import acting, bearer, department, licence, login, penalty, resident_id, uscc
from xinyong.accounts.policy import Principal
from xinyong.audit.models import AuditEntry
from xinyong.lists import service as lists
from xinyong.subjects import service as subjects

DECIDER = Principal(kind="user", name="decider", role="reviewer", department_code="SCFY")
COMPANY = "成都蜀锦回执测试有限公司"


def subject_with_licence(client: TestClient, session: Session, name: str = COMPANY) -> str:
    code = uscc()
    body = client.post(
        "/api/v1/records",
        json={"item": "XK", "records": [licence(XK_XDR_SHXYM=code, XK_XDR_MC=name)]},
        headers=bearer(session),
    ).json()
    assert body["rejected"] == 0, body
    return code


def listed(session: Session, code: str, list_type: str = "serious_dishonesty") -> Any:
    department(session, "SCFY", "四川省高级人民法院")
    subject = subjects.get_by_uscc(session, code)
    entry = lists.propose(
        session,
        acting(DECIDER, TODAY - dt.timedelta(days=60)),
        subject_id=subject.id,
        list_type=list_type,
        legal_basis="《严重失信主体名单管理办法》第七条",
        facts="拒不履行法定义务",
        scope="政府采购" if list_type == "market_ban" else None,
    )
    if list_type != "red":
        lists.advance(session, acting(DECIDER, TODAY - dt.timedelta(days=50)), entry, "notify")
    lists.advance(
        session, acting(DECIDER, dt.date(2026, 10, 29)), entry, "decide", decision_no="川高法认〔2026〕8号"
    )
    session.commit()
    return entry


def run_console_check(client: TestClient, token: str, code: str) -> str:
    response = client.post(
        "/console/checks",
        data={
            "uscc": code,
            "scenario": "government_procurement",
            "purpose": "某项目采购资格审查",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    match = re.fullmatch(r"/console/checks/([0-9a-f]{32})", location)
    assert match, location
    return match[1]


class TestReceiptWithListHit:
    def test_a_list_entry_hit_renders_with_the_list_label_authority_and_chinese_dates(
        self, client: TestClient, session: Session
    ) -> None:
        code = subject_with_licence(client, session)
        listed(session, code)
        token = login(client, session, role="reviewer", department_code="SCCZ")
        check_id = run_console_check(client, token, code)
        page = client.get(f"/console/checks/{check_id}")
        assert page.status_code == 200, page.text
        assert "严重失信主体名单" in page.text
        assert "serious_dishonesty</dd>" not in page.text  # the label, not the code
        assert "四川省高级人民法院" in page.text  # the deciding authority by name
        assert "川高法认〔2026〕8号" in page.text
        assert "2026年10月29日" in page.text  # decided on, in Chinese format
        assert COMPANY in page.text and code in page.text
        assert "/api/v1/checks/verify" in page.text  # how to verify the signature
        assert f'href="/console/checks/{check_id}/receipt.pdf"' in page.text

    def test_the_feedback_form_still_records_a_case(self, client: TestClient, session: Session) -> None:
        code = subject_with_licence(client, session)
        listed(session, code)
        token = login(client, session, role="reviewer", department_code="SCCZ")
        check_id = run_console_check(client, token, code)
        measure = client.get(f"/api/v1/checks/{check_id}").json()
        assert measure.get("hits") or measure.get("result", {}).get("hits")
        page = client.get(f"/console/checks/{check_id}").text
        field = re.search(r'name="outcome-([^"]+)" form="feedback-form"', page)
        assert field, "no feedback field"
        response = client.post(
            f"/console/checks/{check_id}/feedback",
            data={f"outcome-{field[1]}": "applied", "csrf_token": token},
        )
        assert response.status_code == 200 and "已反馈" in response.text and "已采取" in response.text

    def test_a_printable_page_without_navigation_or_forms(self, client: TestClient, session: Session) -> None:
        code = subject_with_licence(client, session)
        listed(session, code, "market_ban")
        token = login(client, session, role="reviewer", department_code="SCCZ")
        check_id = run_console_check(client, token, code)
        page = client.get(f"/console/checks/{check_id}/print")
        assert page.status_code == 200
        assert "市场禁入名单" in page.text and "禁入范围" in page.text and "政府采购" in page.text
        assert "<form" not in page.text and "site-header" not in page.text
        assert 'href="/static/site.css"' in page.text and check_id in page.text

    def test_another_department_cannot_read_or_download_it(
        self, client: TestClient, session: Session
    ) -> None:
        code = subject_with_licence(client, session)
        token = login(client, session, role="reviewer", department_code="SCCZ")
        check_id = run_console_check(client, token, code)
        client.post("/logout", data={"csrf_token": token})
        login(client, session, role="reviewer", department_code="SCJT")
        for suffix in ("", "/print", "/receipt.pdf"):
            assert client.get(f"/console/checks/{check_id}{suffix}").status_code == 403
        client.cookies.clear()
        assert client.get(f"/console/checks/{check_id}/receipt.pdf").status_code == 401


needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdffonts") and shutil.which("pdftotext")),
    reason="poppler-utils (pdffonts, pdftotext) not installed",
)


@needs_poppler
class TestReceiptPdf:
    def test_the_pdf_embeds_the_cjk_font_and_holds_the_subject_and_check_id(
        self, client: TestClient, session: Session, tmp_path: Path
    ) -> None:
        code = subject_with_licence(client, session)
        listed(session, code)
        token = login(client, session, role="reviewer", department_code="SCCZ")
        check_id = run_console_check(client, token, code)
        response = client.get(f"/console/checks/{check_id}/receipt.pdf")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.content.startswith(b"%PDF-")
        path = tmp_path / "receipt.pdf"
        path.write_bytes(response.content)

        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        cjk = [line for line in fonts.splitlines() if "CJK" in line]
        assert cjk, fonts
        assert all(line.split()[-5] == "yes" for line in cjk), fonts  # the "emb" column

        text = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        flat = re.sub(r"\s+", "", text)
        assert COMPANY in flat and check_id in flat
        assert "严重失信主体名单" in flat and "四川省高级人民法院" in flat

        exported = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "check.export_pdf", AuditEntry.target == f"check:{check_id}"
            )
        ).all()
        assert len(exported) == 1


@needs_poppler
class TestNaturalPersonReceipt:
    def test_the_page_and_the_pdf_show_a_persons_id_masked_only(
        self, client: TestClient, session: Session, tmp_path: Path
    ) -> None:
        rid = resident_id()
        row = penalty(
            CF_XDR_LB="自然人",
            CF_XDR_SHXYM="",
            CF_XDR_ZJHM=rid,
            CF_XDR_MC="钱七",
            severity="严重",
            CF_JDRQ="2026-05-01",
        )
        body = client.post("/api/v1/records", json={"item": "CF", "records": [row]}, headers=bearer(session))
        assert body.json()["accepted"] == 1
        checked = client.post(
            "/api/v1/checks",
            json={
                "subject": {"resident_id": rid},
                "scenario": "government_procurement",
                "purpose": "资格审查",
            },
            headers=bearer(session, "SCCZ", ("checks:run",)),
        ).json()
        assert checked["subject"]["found"] and checked["hits"], checked
        login(client, session, role="reviewer", department_code="SCCZ")
        for suffix in ("", "/print"):
            page = client.get(f"/console/checks/{checked['check_id']}{suffix}").text
            assert "钱七" in page and checked["subject"]["resident_id"] in page and rid not in page
        pdf = client.get(f"/console/checks/{checked['check_id']}/receipt.pdf")
        assert pdf.status_code == 200
        path = tmp_path / "person.pdf"
        path.write_bytes(pdf.content)
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        flat = re.sub(r"\s+", "", text)
        assert "钱七" in flat and rid not in flat and rid not in pdf.content.decode("latin-1")


class TestBatchXlsx:
    def test_the_batch_results_download_as_xlsx_with_each_subjects_hits(
        self, client: TestClient, session: Session
    ) -> None:
        listed_code = subject_with_licence(client, session, "成都黑名单示例有限公司")
        listed(session, listed_code)
        clean_code = subject_with_licence(client, session, '=HYPERLINK("http://x")有限公司')
        token = login(client, session, role="reviewer", department_code="SCCZ")
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["统一社会信用代码"])
        for c in (listed_code, clean_code, "91510104MA6C12341Y"):
            sheet.append([c])
        upload = io.BytesIO()
        book.save(upload)
        page = client.post(
            "/console/checks/batch",
            data={"scenario": "government_procurement", "purpose": "某工程评标", "csrf_token": token},
            files={"file": ("bidders.xlsx", upload.getvalue(), "application/octet-stream")},
        )
        assert page.status_code == 200, page.text
        link = re.search(r'href="(/console/checks/batches/[0-9a-f]{32}\.xlsx)"', page.text)
        assert link, "no XLSX link on the batch result"

        response = client.get(link[1])
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert response.headers["content-disposition"].startswith("attachment;")
        workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        rows = list(workbook["核查结果"].iter_rows(values_only=True))
        header, data = rows[0], rows[1:]
        col = {
            name: header.index(name) for name in ("统一社会信用代码", "主体名称", "命中措施数", "触发依据")
        }
        by_subject: dict[str, list[tuple[Any, ...]]] = {}
        for row in data:
            by_subject.setdefault(str(row[col["统一社会信用代码"]]), []).append(row)
        assert set(by_subject) == {listed_code, clean_code}
        listed_rows = by_subject[listed_code]
        assert listed_rows[0][col["命中措施数"]] == len(listed_rows) >= 1
        assert all("严重失信主体名单" in str(r[col["触发依据"]]) for r in listed_rows)
        (clean,) = by_subject[clean_code]
        assert clean[col["命中措施数"]] == 0
        assert str(clean[col["主体名称"]]).startswith("'=")  # formula injection neutralised

    def test_the_upload_can_answer_with_the_workbook_itself_rows_that_failed_included(
        self, client: TestClient, session: Session
    ) -> None:
        listed_code = subject_with_licence(client, session, "成都直接下载示例有限公司")
        listed(session, listed_code)
        token = login(client, session, role="reviewer", department_code="SCCZ")
        upload = f"统一社会信用代码\n{listed_code}\n91510104MA6C12341Y\n=1+1\n".encode()
        response = client.post(
            "/console/checks/batch",
            data={
                "scenario": "government_procurement",
                "purpose": "某工程评标",
                "output": "xlsx",
                "csrf_token": token,
            },
            files={"file": ("bidders.csv", upload, "text/csv")},
        )
        assert response.status_code == 200
        assert response.headers["content-disposition"].startswith("attachment;")
        sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)["核查结果"]
        header, *data = list(sheet.iter_rows(values_only=True))
        at = {
            name: header.index(name)
            for name in ("文件行号", "统一社会信用代码", "查询条件", "未能核查的原因")
        }
        assert {r[at["文件行号"]] for r in data} == {2, 3, 4}
        failed = {r[at["文件行号"]]: r for r in data if r[at["未能核查的原因"]]}
        assert set(failed) == {3, 4}
        assert "uscc" in str(failed[3][at["未能核查的原因"]])  # the stable code beside the reason
        assert str(failed[4][at["查询条件"]]).startswith("'=")  # what was asked, formula-safe
        assert all(r[at["统一社会信用代码"]] == listed_code for r in data if r[at["文件行号"]] == 2)

    def test_another_department_cannot_download_a_batch(self, client: TestClient, session: Session) -> None:
        code = subject_with_licence(client, session)
        token = login(client, session, role="reviewer", department_code="SCCZ")
        page = client.post(
            "/console/checks/batch",
            data={"scenario": "government_procurement", "purpose": "评标", "csrf_token": token},
            files={"file": ("b.csv", f"统一社会信用代码\n{code}\n".encode(), "text/csv")},
        )
        link = re.search(r'href="(/console/checks/batches/[0-9a-f]{32}\.xlsx)"', page.text)
        assert link
        client.post("/logout", data={"csrf_token": token})
        login(client, session, role="reviewer", department_code="SCJT")
        assert client.get(link[1]).status_code == 404
        assert client.get("/console/checks/batches/not-a-batch.xlsx").status_code == 404
