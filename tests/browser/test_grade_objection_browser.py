"""A company objects to its grade from its explanation page in a real browser: it names the disputed indicator,
files with evidence, and its grade then reads 异议处理中; the department that provided the records sees it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TODAY
from tests.helpers import PASSWORD, PDF_BYTES, penalty, uscc
from xinyong.accounts import auth
from xinyong.db.session import transaction
from xinyong.evaluation import service
from xinyong.platform import Platform
from xinyong.subjects import service as subjects

pytestmark = pytest.mark.browser

NAME = "成都蜀道评价异议浏览器有限公司"


@pytest.fixture(scope="module")
def graded(ingest_rows: Any, portal_platform: Platform) -> dict[str, str]:
    """A company with one general penalty from SCMR, graded; its account and a SCMR clerk."""
    code = uscc("510104", "91")
    ingest_rows([penalty(CF_XDR_MC=NAME, CF_XDR_SHXYM=code, CF_JDRQ="2026-06-15")])
    with transaction(portal_platform.sessions) as session:
        subject = subjects.get_by_uscc(session, code)
        models = service.load_models(session, portal_platform.catalog.item_codes, None)
        service.run(session, models["public_comprehensive"], as_of=TODAY)
        auth.create_user(
            session, username="grade-objector", password=PASSWORD, role="subject", subject_id=subject.id
        )
        auth.create_user(
            session, username="grade-clerk", password=PASSWORD, role="provider", department_code="SCMR"
        )
    return {"uscc": code}


def log_in(page: Any, username: str, target: str) -> None:
    page.goto(f"/login?next={target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def test_the_company_objects_to_an_indicator_from_its_explanation_page(
    page: Any, graded: dict[str, str], tmp_path: Path
) -> None:
    explanation = f"/subjects/{graded['uscc']}/evaluation"
    log_in(page, "grade-objector", explanation)
    expect(page.locator(".objection-pending")).to_have_count(0)
    page.get_by_role("link", name="对评价结果提出异议").click()
    expect(page.locator("h1")).to_have_text("对评价结果提出异议")
    page.select_option("select[name=indicator]", "general_penalties_1y")
    page.fill("textarea[name=reasons]", "该处罚决定已被行政复议撤销，不应计入近一年一般行政处罚。")
    evidence = tmp_path / "复议决定书.pdf"
    evidence.write_bytes(PDF_BYTES)
    page.set_input_files("input[name=evidence]", str(evidence))
    page.get_by_role("button", name="提交异议").click()
    expect(page).to_have_url(re.compile(r"/account/objections/\d+$"))
    expect(page.locator("h1")).to_contain_text("异议处理中")
    expect(page.locator("dd.disputed")).to_have_text("近一年一般失信行政处罚")
    expect(page.locator("dt", has_text="证明材料").locator("xpath=following-sibling::dd[1]")).to_contain_text(
        "复议决定书.pdf"
    )
    number = page.url.rsplit("/", 1)[1]
    page.goto(explanation)
    expect(page.locator(".evaluation-summary .objection-pending")).to_have_text("异议处理中")
    page.context.clear_cookies()
    log_in(page, "grade-clerk", "/console/objections")
    expect(page.locator(f'a[href="/console/objections/{number}"]')).to_have_count(1)
    page.goto(f"/console/objections/{number}")
    expect(page.locator("table.records-behind tbody tr")).to_have_count(1)
    expect(page.locator("dd.indicator-value")).to_have_text("1")
