"""Commitments in a real browser: a verified subject account signs a 告知承诺 online for a matter of the
approval catalogue, and the accepting department records the verification (违诺, with evidence) in the console;
the portal then shows the outcome."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD, department, licence, uscc
from xinyong.accounts import auth
from xinyong.db.session import transaction
from xinyong.platform import Platform
from xinyong.subjects import service as subjects

pytestmark = pytest.mark.browser

NAME = "成都承诺示范餐饮有限公司"
MATTER = "食品经营许可（仅销售预包装食品除外的低风险经营项目）"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def accounts(ingest_rows: Any, portal_platform: Platform) -> dict[str, str]:
    code = uscc("510104", "91")
    ingest_rows([licence(XK_XDR_MC=NAME, XK_XDR_SHXYM=code)], item="XK")
    with transaction(portal_platform.sessions) as session:
        subject = subjects.get_by_uscc(session, code)
        department(session, "SCMR", "四川省市场监督管理局")
        auth.create_user(
            session, username="commit-subject", password=PASSWORD, role="subject", subject_id=subject.id
        )
        auth.create_user(
            session, username="commit-reviewer", password=PASSWORD, role="reviewer", department_code="SCMR"
        )
    return {"uscc": code}


def log_in(page: Any, username: str, target: str) -> None:
    page.goto(f"/login?next={target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def test_a_subject_signs_online_and_the_department_records_a_breach(
    page: Any, browser: Any, base_url: str, accounts: dict[str, str], tmp_path: Path
) -> None:
    log_in(page, "commit-subject", "/account/commitments")
    page.get_by_role("link", name="涉企经营许可事项告知承诺书").click()
    expect(page.locator("h1")).to_have_text("签署涉企经营许可事项告知承诺书")
    expect(page.locator(".commitment-text")).to_contain_text(NAME)
    page.select_option("select[name=matter]", MATTER)
    page.fill("input[name=signer_name]", "周九")
    page.check("input[name=agree]")
    page.get_by_role("button", name="签署承诺").click()
    expect(page).to_have_url(re.compile(r"/account/commitments#c\d+$"))
    row = page.locator("tbody tr").filter(has_text="涉企经营许可事项告知承诺书")
    expect(row).to_contain_text("核查中")
    expect(row).to_contain_text(MATTER)

    clerk = browser.new_context(base_url=base_url, locale="zh-CN")
    console = clerk.new_page()
    log_in(console, "commit-reviewer", "/console/commitments")
    console.locator("tbody tr").filter(has_text=NAME).get_by_role("link").first.click()
    expect(console.locator("h1")).to_have_text("涉企经营许可事项告知承诺书")
    evidence = tmp_path / "现场检查笔录.pdf"
    evidence.write_bytes(PDF)
    console.check("input[name=outcome][value=breached]")
    console.get_by_role("button", name="提交核查结果").click()  # no facts: refused, nothing lost
    expect(console.get_by_role("alert")).to_contain_text("事实")
    console.check("input[name=outcome][value=breached]")
    console.fill("textarea[name=facts]", "现场检查发现经营场所不符合许可条件，承诺不实。")
    console.set_input_files("input[name=evidence]", str(evidence))
    console.get_by_role("button", name="提交核查结果").click()
    expect(console.locator("main")).to_contain_text("现场检查笔录.pdf")
    expect(console.locator("main")).to_contain_text("违诺")
    public_link = console.get_by_role("link", name="已公示")
    public_url = public_link.get_attribute("href")
    clerk.close()

    page.goto(public_url)
    expect(page.locator("main")).to_contain_text("审批替代型")
    expect(page.locator("main")).to_contain_text("四川省市场监督管理局")
    expect(page.locator("main")).to_contain_text("现场检查发现经营场所不符合许可条件")
    page.goto(f"/commitments?q={accounts['uscc']}")
    expect(page.locator("tbody")).to_contain_text("违诺")
