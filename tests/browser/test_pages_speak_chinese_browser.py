"""In a real browser, a company reads its grade's note in Chinese (never the developers' English source note) and
the history of its repair application with Chinese dates."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TODAY
from tests.browser.test_evaluation_browser import log_in
from tests.helpers import PASSWORD, apply_for_repair, penalty, uscc
from xinyong.accounts import auth
from xinyong.accounts.policy import Principal
from xinyong.db.session import transaction
from xinyong.evaluation import service
from xinyong.kit.dates import format_china_date
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.subjects import service as subjects

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def company(ingest_rows: Any, portal_platform: Platform) -> str:
    """A graded company with a repairable penalty and a repair application; its account's username."""
    code = uscc("510104", "91")
    ingest_rows([penalty(CF_XDR_MC="成都中文页面测试有限公司", CF_XDR_SHXYM=code, CF_JDRQ="2025-06-10")])
    with transaction(portal_platform.sessions) as session:
        subject = subjects.get_by_uscc(session, code)
        models = service.load_models(session, portal_platform.catalog.item_codes, None)
        service.run(session, models["public_comprehensive"], as_of=TODAY)
        user = auth.create_user(
            session, username="zh-company", password=PASSWORD, role="subject", subject_id=subject.id
        )
        record = session.query(Record).filter(Record.subject_id == subject.id).one()
        applicant = Principal(
            kind="user", name=user.username, role="subject", subject_id=subject.id, user_id=user.id
        )
        apply_for_repair(portal_platform, session, applicant, record.id, TODAY)
    return "zh-company"


def test_the_company_reads_its_grade_note_and_repair_history_in_chinese(page: Any, company: str) -> None:
    log_in(page, company, "/account/evaluation")
    note = page.locator("p.model-note")
    expect(note).to_be_visible()
    assert re.search(r"[\u4e00-\u9fff]{10,}", note.inner_text())
    expect(page.get_by_text("NOT reproduced")).to_have_count(0)

    page.goto("/account/repairs")
    page.locator("a[href^='/account/repairs/']").first.click()
    history = page.locator("section", has=page.locator("h2", has_text="办理记录")).locator("tbody tr")
    expect(history.first.locator("td").first).to_have_text(format_china_date(TODAY))
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", page.locator("main").inner_text())
