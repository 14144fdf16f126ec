"""A department clerk checks a listed subject in a real browser: the receipt names the list, the deciding
authority and the dates in Chinese, prints without navigation or forms, and downloads as a PDF."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TODAY
from tests.helpers import PASSWORD, department, licence, uscc
from xinyong.accounts import auth
from xinyong.accounts.policy import Principal
from xinyong.db.session import transaction
from xinyong.lists import service as lists
from xinyong.platform import Platform
from xinyong.subjects import service as subjects

pytestmark = pytest.mark.browser

NAME = "成都蜀道浏览器回执有限公司"
COURT = "四川省高级人民法院"
DECIDED = TODAY - dt.timedelta(days=30)


@pytest.fixture(scope="module")
def listed_subject(ingest_rows: Any, portal_platform: Platform) -> dict[str, str]:
    """A subject on the serious dishonesty list, decided by the court, and a clerk who may run checks."""
    code = uscc("510104", "91")
    ingest_rows([licence(XK_XDR_MC=NAME, XK_XDR_SHXYM=code)], item="XK")
    decider = Principal(kind="user", name="court-clerk", role="reviewer", department_code="SCGY")
    with transaction(portal_platform.sessions) as session:
        department(session, "SCGY", COURT)
        department(session, "SCCZB", "四川省财政厅")
        entry = lists.propose(
            session,
            portal_platform.context(decider, TODAY - dt.timedelta(days=60)),
            subject_id=subjects.get_by_uscc(session, code).id,
            list_type="serious_dishonesty",
            legal_basis="《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条",
            facts="有履行能力而拒不履行生效法律文书确定的义务",
        )
        lists.advance(
            session, portal_platform.context(decider, TODAY - dt.timedelta(days=50)), entry, "notify"
        )
        lists.advance(
            session,
            portal_platform.context(decider, DECIDED),
            entry,
            "decide",
            decision_no="川高法认〔2026〕21号",
        )
        auth.create_user(
            session, username="procurement-clerk", password=PASSWORD, role="reviewer", department_code="SCCZB"
        )
    return {"uscc": code, "username": "procurement-clerk"}


def test_a_clerk_checks_a_listed_subject_and_prints_the_receipt(
    page: Any, listed_subject: dict[str, str], artifacts: Path, tmp_path: Path
) -> None:
    page.goto("/login?next=/console/checks")
    page.fill("input[name=username]", listed_subject["username"])
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/console/checks$"))

    form = page.locator("form[action='/console/checks']")
    form.locator("input[name=uscc]").fill(listed_subject["uscc"])
    form.locator("select[name=scenario]").select_option("government_procurement")
    form.locator("input[name=purpose]").fill("某办公设备采购项目供应商资格审查")
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/console/checks/[0-9a-f]{32}$"))
    check_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1")).to_have_text("信用核查回执")
    main = page.locator("main")
    expect(main).to_contain_text(NAME)
    expect(main).to_contain_text("严重失信主体名单")
    expect(main).to_contain_text(COURT)
    expect(main).to_contain_text("川高法认〔2026〕21号")
    expect(main).to_contain_text(f"{DECIDED.year}年{DECIDED.month}月{DECIDED.day}日")
    expect(main).to_contain_text("四川省财政厅")  # the checking department by name
    expect(page.locator(".hit").first).not_to_contain_text("serious_dishonesty")  # the label, not the code
    expect(page.locator(".hit").first).to_be_visible()
    page.screenshot(path=str(artifacts / "check_receipt.png"), full_page=True)

    page.emulate_media(media="print")  # the browser's print: no navigation, no feedback form
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator("nav").first).to_be_hidden()
    expect(page.locator("#feedback-form")).to_be_hidden()
    expect(page.locator(".hit").first).to_be_visible()
    page.emulate_media(media="screen")

    page.get_by_role("link", name="打印版").click()
    expect(page).to_have_url(re.compile(rf"/console/checks/{check_id}/print$"))
    expect(page.locator("main")).to_contain_text("严重失信主体名单")
    assert page.locator("form").count() == 0

    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载 PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"信用核查回执-{check_id}.pdf"
    target = tmp_path / "receipt.pdf"
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF-")
