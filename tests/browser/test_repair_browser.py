"""Credit repair as a subject meets it in a real browser: the repair notice, the application form with a
file upload and the commitment, then the status page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD, penalty, uscc
from xinyong.accounts import auth
from xinyong.db.session import transaction
from xinyong.platform import Platform
from xinyong.subjects import service as subjects

pytestmark = pytest.mark.browser

NAME = "成都锦城修复示范有限公司"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
SCREENSHOT = Path("/tmp/repair_apply.png")


@pytest.fixture(scope="module")
def account(ingest_rows: Any, portal_platform: Platform) -> dict[str, str]:
    """A published serious penalty (repairable on the test's today) and the subject's own account."""
    code = uscc("510104", "91")
    row = penalty(CF_XDR_MC=NAME, CF_XDR_SHXYM=code, severity="严重", CF_JDRQ="2025-06-10")
    ingest_rows([row])
    with transaction(portal_platform.sessions) as session:
        subject = subjects.get_by_uscc(session, code)
        auth.create_user(
            session, username="repair-subject", password=PASSWORD, role="subject", subject_id=subject.id
        )
    return {"uscc": code, "doc_no": row["CF_WSH"], "username": "repair-subject"}


def test_subject_opens_the_repair_notice_applies_with_a_file_and_sees_the_status(
    page: Any, account: dict[str, str], tmp_path: Path
) -> None:
    evidence = tmp_path / "罚款缴纳凭证.pdf"
    evidence.write_bytes(PDF)

    page.goto("/login?next=/account/notices")
    page.fill("input[name=username]", account["username"])
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/account/notices$"))

    page.get_by_role("link", name="信用修复告知书").click()
    expect(page.locator("h1")).to_have_text("信用修复告知书")
    expect(page.locator("main")).to_contain_text(account["doc_no"])
    expect(page.locator("main")).to_contain_text("最早可申请日期")
    page.get_by_role("link", name="申请信用修复").click()

    expect(page).to_have_url(re.compile(r"/account/repairs/new\?kind=record&id=\d+$"))
    expect(page.locator(".commitment-text")).to_contain_text(NAME)
    page.fill("textarea[name=statement]", "已全额缴纳罚款，完成整改并建立了食品安全自查制度。")
    page.fill("input[name=contact_name]", "李四")
    page.fill("input[name=contact_phone]", "028-86001234")
    page.set_input_files("input[name=evidence]", str(evidence))
    page.fill("input[name=signer_name]", "张三")
    page.check("input[name=agree]")
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.get_by_role("button", name="签署承诺并提交申请").click()

    expect(page).to_have_url(re.compile(r"/account/repairs/\d+$"))
    expect(page.locator("h1")).to_contain_text("已提交")
    expect(page.locator("main")).to_contain_text("罚款缴纳凭证.pdf")
    expect(page.locator("main")).to_contain_text("部门办理期限")
    expect(page.get_by_role("button", name="撤回申请")).to_be_visible()
