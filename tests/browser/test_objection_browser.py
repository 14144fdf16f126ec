"""An objection in a real browser: a visitor files one from a subject's page with a PDF, the record shows
异议处理中, then the provider department's reviewer logs in and corrects one field."""

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

pytestmark = pytest.mark.browser

NAME = "成都锦城食品贸易有限公司"
SCREENSHOT = Path("/tmp/objection.png")


@pytest.fixture(scope="module")
def data(ingest_rows: Any, portal_platform: Platform) -> dict[str, str]:
    code = uscc("510107", "91")
    row = penalty(CF_XDR_MC=NAME, CF_XDR_SHXYM=code, CF_NR_FK="5", CF_JDRQ="2026-08-20")
    ingest_rows([row])
    with transaction(portal_platform.sessions) as session:
        auth.create_user(
            session,
            username="scmr-reviewer",
            password=PASSWORD,
            role="reviewer",
            display_name="市场监管局审核员",
            department_code="SCMR",
        )
    return {"uscc": code, "doc": row["CF_WSH"]}


def test_visitor_files_an_objection_and_the_reviewer_corrects_the_fine(
    page: Any, data: dict[str, str], tmp_path: Path, artifacts: Path
) -> None:
    evidence = tmp_path / "处罚决定书.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")

    page.goto(f"/subjects/{data['uscc']}")
    card = page.locator("#item-CF .record").filter(has_text=data["doc"])
    expect(card.locator(".objection")).to_have_count(0)
    card.get_by_role("link", name="提出异议").click()

    expect(page).to_have_url(re.compile(r"/objections/new\?record=\d+$"))
    expect(page.locator("h1")).to_have_text("对信用信息提出异议")
    page.get_by_label("异议的事实和理由").fill("处罚决定书载明罚款三万元，公示为五万元，与原决定书不符。")
    page.get_by_label("异议人姓名或名称").fill("王五")
    page.get_by_label("联系方式").fill("13800000000")
    page.get_by_label("证明材料").set_input_files(str(evidence))
    page.get_by_role("button", name="提交异议").click()

    expect(page.locator("h1")).to_have_text("异议已提交")
    number = page.locator("#objection-number").inner_text()
    assert number.isdigit()
    expect(page.locator("#objection-deadline")).to_contain_text("2026年12月")
    expect(page.locator("body")).to_contain_text("处罚决定书.pdf")

    page.goto(f"/subjects/{data['uscc']}")
    expect(card.locator(".objection")).to_have_text("异议处理中")

    page.goto("/login")
    page.get_by_label("用户名").fill("scmr-reviewer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/console$"))

    page.goto("/console/objections")
    page.get_by_role("link", name=number, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/console/objections/{number}$"))
    expect(page.locator("body")).to_contain_text("罚款三万元")
    expect(page.get_by_role("link", name="处罚决定书.pdf")).to_be_visible()

    correct = page.locator("form[action$='/correct']")
    expect(correct.locator("[name='field-fine_wan']")).to_have_value("5")
    correct.locator("[name='field-fine_wan']").fill("3")
    correct.locator("textarea[name='reason']").fill("经核对处罚决定书原件，罚款金额录入有误，予以更正。")
    correct.get_by_role("button", name="更正", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/console/objections/{number}$"))
    expect(page.locator("h1")).to_contain_text("已更正")
    change = page.locator("tr.change")
    expect(change).to_have_count(1)  # only the field that was changed, though the form sent them all
    expect(change).to_contain_text("罚款金额")
    expect(change.locator("del")).to_have_text("5")
    expect(change.locator("ins")).to_have_text("3")
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.screenshot(path=str(artifacts / "objection-corrected.png"), full_page=True)

    page.goto(f"/subjects/{data['uscc']}")
    expect(card.locator(".objection")).to_have_count(0)
    expect(card).to_contain_text("3 万元")

    # The public statistics count the answered objection and draw their charts (ECharts renders a canvas).
    page.goto("/statistics/repairs")
    expect(page.locator("#objections table")).to_contain_text("四川省市场监督管理局")
    expect(page.locator("div.chart[data-chart='objections-by-department'] canvas")).to_have_count(1)
    page.screenshot(path=str(artifacts / "repair-statistics.png"), full_page=True)
