"""Opening a subject account in a real browser: public data is refused; the code from the registered phone,
the identity platform (a local test provider over HTTP) and the credit office's review each open one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.helpers import PASSWORD, PDF_BYTES, department, penalty, resident_id, uscc
from tests.oidc_idp import TestIdentityProvider
from xinyong.accounts import auth, messaging
from xinyong.accounts.models import User
from xinyong.db.session import transaction
from xinyong.platform import Platform
from xinyong.subjects import service as subjects

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def idp() -> Iterator[TestIdentityProvider]:
    provider = TestIdentityProvider().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def portal_platform(tmp_path_factory: pytest.TempPathFactory, idp: TestIdentityProvider) -> Platform:
    """The browser tests' platform, with the test identity provider configured."""
    from xinyong.config import Settings
    from xinyong.db import migrate
    from xinyong.platform import build_platform

    tmp = tmp_path_factory.mktemp("opening")
    settings = Settings(
        data_dir=tmp,
        database_url=f"sqlite:///{tmp}/b.db",
        secret_key="test",
        rate_limit_login="100000/minute",
        **idp.settings(tmp),
    )
    platform = build_platform(settings)
    migrate.upgrade(platform.sessions.kw["bind"])
    return platform


def company(ingest_rows: Any, platform: Platform, name: str, phone: str | None) -> str:
    code = uscc("510104", "91")
    ingest_rows([penalty(CF_XDR_MC=name, CF_XDR_SHXYM=code, CF_FRDB="张三")])
    if phone:
        with transaction(platform.sessions) as session:
            subject = subjects.get_by_uscc(session, code)
            messaging.set_contact(session, subject.id, "sms", phone, source="四川省市场监督管理局")
    return code


def last_code(platform: Platform, phone: str) -> str:
    with transaction(platform.sessions, write=False) as session:
        (message,) = messaging.outbox(session, address=phone, limit=1)
        found = re.search(r"验证码为 (\d{6})", message.body)
    assert found
    return found[1]


def account_of(platform: Platform, username: str) -> User | None:
    with transaction(platform.sessions, write=False) as session:
        return session.scalar(select(User).where(User.username == username))


def log_in_and_see_the_account(page: Any, username: str, name: str) -> None:
    page.goto("/login?next=/account")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("h1").first).to_have_text(name)


def test_public_data_is_refused_and_the_code_from_the_registered_phone_opens_the_account(
    page: Any, ingest_rows: Any, portal_platform: Platform
) -> None:
    name, phone = "成都码证示范有限公司", "13811112222"
    code = company(ingest_rows, portal_platform, name, phone)
    page.goto("/register")
    expect(page.locator("h1")).to_have_text("开通主体账号")
    page.select_option("select[name=kind]", "enterprise")
    page.fill("input[name=uscc]", code)
    page.locator("#code-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/register/verify$"))
    expect(page.locator("#sent-to")).to_contain_text("138****2222")
    # what a stranger could try: the public code's digits, the legal representative's name
    for guess in (code[-6:], "张三", "000000"):
        page.fill("input[name=code]", guess)
        page.fill("input[name=username]", "squatter")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form[action='/register/verify'] button[type=submit]").click()
        expect(page.locator("[role=alert]")).to_contain_text("验证码错误或已失效")
    assert account_of(portal_platform, "squatter") is None
    page.fill("input[name=code]", last_code(portal_platform, phone))
    page.fill("input[name=username]", "code-owner")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/register/verify'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login\?next=/account"))
    expect(page.locator("#opened")).to_have_text("账号已开通并核验，请登录。")
    log_in_and_see_the_account(page, "code-owner", name)


def test_a_person_is_answered_alike_and_the_id_is_not_echoed(page: Any) -> None:
    page.goto("/register")
    page.select_option("select[name=kind]", "person")
    number = resident_id("510104")
    page.fill("input[name=resident_id]", number)
    page.fill("input[name=person_name]", "郑十")
    page.locator("#code-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/register/verify$"))
    expect(page.locator("#sent-to")).to_contain_text("如所填信息与登记记录一致")
    assert number not in page.content()


def test_the_identity_platform_opens_the_account(
    page: Any, ingest_rows: Any, portal_platform: Platform, idp: TestIdentityProvider
) -> None:
    name = "成都统一认证示范有限公司"
    code = company(ingest_rows, portal_platform, name, None)
    idp.next_identity = {"uscc": code}
    page.goto("/register")
    page.get_by_role("link", name="通过测试身份认证平台登录").click()
    expect(page).to_have_url(re.compile(r"/register/verify$"))
    expect(page.locator("h1")).to_have_text("身份已核验")
    page.fill("input[name=username]", "idp-owner")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/register/verify'] button[type=submit]").click()
    log_in_and_see_the_account(page, "idp-owner", name)


def test_the_credit_office_reviews_a_request_with_documents(
    browser: Any, base_url: str, page: Any, ingest_rows: Any, portal_platform: Platform, tmp_path: Path
) -> None:
    name = "成都人工审核示范有限公司"
    code = company(ingest_rows, portal_platform, name, None)
    licence, letter = tmp_path / "营业执照.pdf", tmp_path / "授权委托书.pdf"
    licence.write_bytes(PDF_BYTES)
    letter.write_bytes(PDF_BYTES)
    page.goto("/register")
    page.get_by_role("link", name=re.compile("上传营业执照")).click()
    page.fill("input[name=uscc]", code)
    page.fill("input[name=applicant]", "王五")
    page.set_input_files("input[name=licence]", str(licence))
    page.set_input_files("input[name=letter]", str(letter))
    page.fill("input[name=username]", "review-owner")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#review-status")).to_have_text("待处理")

    with transaction(portal_platform.sessions) as session:
        department(session, "SCFGW", "四川省发展和改革委员会")
        auth.create_user(
            session, username="office", password=PASSWORD, role="credit_office", department_code="SCFGW"
        )
    office = browser.new_context(base_url=base_url, locale="zh-CN")
    desk = office.new_page()
    desk.goto("/login?next=/console/account-requests")
    desk.fill("input[name=username]", "office")
    desk.fill("input[name=password]", PASSWORD)
    desk.locator("form[action='/login'] button[type=submit]").click()
    row = desk.locator("tr", has_text=code)
    expect(row).to_contain_text("营业执照.pdf")
    row.get_by_role("button", name="通过", exact=True).click()
    expect(desk.locator("main")).to_contain_text("没有待处理的申请")
    office.close()

    page.reload()
    expect(page.locator("#review-status")).to_have_text("已通过")
    log_in_and_see_the_account(page, "review-owner", name)
