"""Voluntary registration in a real browser: a subject registers an honour from its account (the commitment
shown and signed, a file uploaded), the department confirms it in the console, and the public file shows it
as 已核实."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD, PDF_BYTES, licence, uscc
from xinyong.accounts import auth
from xinyong.db.session import transaction
from xinyong.platform import Platform
from xinyong.subjects import service as subjects

pytestmark = pytest.mark.browser

NAME = "成都蓉城自愿注册示范有限公司"
HONOUR = "四川省守合同重信用企业"


@pytest.fixture(scope="module")
def accounts(ingest_rows: Any, portal_platform: Platform) -> dict[str, str]:
    """A company known from a licence of SCMR, its own account and a reviewer of SCMR."""
    code = uscc("510104", "91")
    ingest_rows([licence(XK_XDR_MC=NAME, XK_XDR_SHXYM=code)], item="XK")
    with transaction(portal_platform.sessions) as session:
        subject = subjects.get_by_uscc(session, code)
        auth.create_user(
            session, username="registering-subject", password=PASSWORD, role="subject", subject_id=subject.id
        )
        auth.create_user(
            session,
            username="registering-reviewer",
            password=PASSWORD,
            role="reviewer",
            department_code="SCMR",
        )
    return {"uscc": code}


def log_in(page: Any, username: str, next_url: str) -> None:
    page.goto(f"/login?next={next_url}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(next_url) + "$"))


def test_register_an_honour_then_the_department_confirms_it(
    browser: Any, base_url: str, accounts: dict[str, str], tmp_path: Path
) -> None:
    evidence = tmp_path / "荣誉证书.pdf"
    evidence.write_bytes(PDF_BYTES)

    subject_context = browser.new_context(base_url=base_url, locale="zh-CN")
    page = subject_context.new_page()
    log_in(page, "registering-subject", "/account/registrations")
    page.locator("a[data-kind=honour]").click()
    expect(page).to_have_url(re.compile(r"/account/registrations/new\?kind=honour$"))
    expect(page.locator(".commitment-text")).to_contain_text(NAME)
    page.fill("input[name=f_name]", HONOUR)
    page.fill("input[name=f_issuer_name]", "四川省市场监督管理局")
    page.fill("input[name=f_awarded_on]", "2025-06-30")
    page.select_option("select[name=f_level]", "省级")
    page.select_option("select[name=department_code]", "SCMR")
    page.set_input_files("input[name=evidence]", str(evidence))
    page.fill("input[name=signer_name]", "张三")
    page.check("input[name=agree]")
    page.get_by_role("button", name="签署承诺并提交").click()
    expect(page).to_have_url(re.compile(r"/account/registrations/\d+$"))
    expect(page.locator("h1")).to_contain_text("自主申报")
    expect(page.locator("main")).to_contain_text("荣誉证书.pdf")
    registration_url = page.url
    subject_context.close()

    console = browser.new_context(base_url=base_url, locale="zh-CN")
    page = console.new_page()
    log_in(page, "registering-reviewer", "/console/registrations")
    page.get_by_role("link", name=HONOUR).click()
    expect(page.locator("main")).to_contain_text(NAME)
    page.get_by_role("button", name="核实无误").click()
    expect(page.locator("h1")).to_contain_text("已核实")
    console.close()

    public = browser.new_context(base_url=base_url, locale="zh-CN")
    page = public.new_page()
    page.goto(f"/subjects/{accounts['uscc']}")
    entry = page.locator("#section-registrations [data-kind=honour]")
    expect(entry).to_contain_text(HONOUR)
    expect(entry).to_contain_text("已核实")
    expect(entry).to_contain_text("四川省市场监督管理局")
    response = page.goto(registration_url)  # a stranger cannot open the subject's own page
    assert response is not None and response.status == 401
    expect(page.locator("main")).not_to_contain_text(HONOUR)
    public.close()
