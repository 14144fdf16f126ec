"""The credit file in a real browser: the list badge near the name, the summary bar, sections that expand and
collapse, and a long section paged by the server (also with JavaScript switched off)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TODAY
from tests.helpers import department, penalty, uscc
from xinyong.accounts.policy import Principal
from xinyong.lists import service as lists
from xinyong.platform import Platform
from xinyong.subjects import service as subjects

pytestmark = pytest.mark.browser

NAME = "成都鑫达凯瑞水务有限公司"
CLEAN_NAME = "成都清白诚信科技有限公司"
DECIDER = ("SCFGW", "四川省发展和改革委员会")
CLERK = Principal(kind="user", name="clerk", role="reviewer", department_code=DECIDER[0])


@pytest.fixture(scope="module")
def data(ingest_rows: Any, portal_platform: Platform) -> dict[str, Any]:
    """A company on the serious dishonesty list with 13 penalties and an honour; a company on no list."""
    from xinyong.db.session import transaction

    code, clean = uscc("510104", "91"), uscc("510105", "91")
    docs = [f"川市监罚〔2026〕B{n:02d}号" for n in range(13)]
    ingest_rows([penalty(CF_XDR_MC=NAME, CF_XDR_SHXYM=code, CF_WSH=d) for d in docs])
    ingest_rows([penalty(CF_XDR_MC=CLEAN_NAME, CF_XDR_SHXYM=clean)])
    honour = {
        "doc_no": "川府表〔2026〕3号",
        "subject_name": NAME,
        "subject_category": "法人及非法人组织",
        "uscc": code,
        "honour_name": "四川省节水型企业",
        "honour_level": "省级",
        "decision_date": "2026-03-01",
        "authority_name": "四川省水利厅",
    }
    ingest_rows([honour], item="JL")
    with transaction(portal_platform.sessions) as session:
        department(session, *DECIDER)
        subject = subjects.get_by_uscc(session, code)
        entry = lists.propose(
            session,
            portal_platform.context(CLERK, TODAY - dt.timedelta(days=60)),
            subject_id=subject.id,
            list_type="serious_dishonesty",
            legal_basis="《严重失信主体名单管理办法》第七条",
            facts="拒不履行行政处罚决定，情节严重",
        )
        lists.advance(session, portal_platform.context(CLERK, TODAY - dt.timedelta(days=50)), entry, "notify")
        lists.advance(
            session,
            portal_platform.context(CLERK, TODAY - dt.timedelta(days=30)),
            entry,
            "decide",
            decision_no="川发改信认〔2026〕21号",
        )
    return {"uscc": code, "clean": clean, "docs": docs}


def test_a_listed_company_wears_its_badge_and_opens_on_its_list_entry(
    page: Any, data: dict[str, Any], artifacts: Path
) -> None:
    page.goto(f"/subjects/{data['uscc']}")
    badge = page.locator("h1 .list-badge")
    expect(badge).to_have_text("严重失信主体")
    # A red badge, readable: white on the site's red.
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(184, 38, 44)"
    assert badge.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    summary = page.locator("nav.file-summary")
    expect(summary.locator('[data-section="serious_dishonesty"] strong')).to_have_text("1")
    expect(summary.locator('[data-section="administrative"] strong')).to_have_text("13")
    expect(summary.locator('[data-section="trustworthiness"] strong')).to_have_text("1")
    listed = page.locator("#section-serious_dishonesty")
    expect(listed).to_have_attribute("open", "")
    expect(listed).to_contain_text("川发改信认〔2026〕21号")
    expect(listed).to_contain_text(DECIDER[1])
    decided = TODAY - dt.timedelta(days=30)
    expect(listed).to_contain_text(f"{decided.year}年{decided.month}月{decided.day}日")
    page.screenshot(path=str(artifacts / "credit-file-listed.png"), full_page=False)
    # Clicking a count in the summary bar opens its section and brings it into view (no script needed).
    summary.locator('[data-section="serious_dishonesty"]').click()
    expect(page).to_have_url(re.compile(r"section=serious_dishonesty&page=1#section-serious_dishonesty$"))
    expect(page.locator("#section-serious_dishonesty > summary")).to_be_in_viewport()


def test_a_company_on_no_list_has_no_badge_and_says_so(page: Any, data: dict[str, Any]) -> None:
    page.goto(f"/subjects/{data['clean']}")
    expect(page.locator("h1")).to_have_text(CLEAN_NAME)
    expect(page.locator(".list-badge")).to_have_count(0)
    expect(page.locator(".list-status")).to_contain_text("当前未列入严重失信主体名单")


def test_sections_come_in_report_order_and_expand_and_collapse(page: Any, data: dict[str, Any]) -> None:
    page.goto(f"/subjects/{data['uscc']}?section=administrative&page=1")
    titles = page.locator("details.file-section > summary h2").all_inner_texts()
    assert [t.split()[0] for t in titles] == [
        "基础信息",
        "行政管理信息",
        "诚实守信",
        "严重失信主体名单",
        "经营异常",
        "信用承诺",
        "自主申报信息",
        "信用评价",
        "司法判决",
        "其他",
    ]
    # Another section was asked for, so the honour's section starts closed; a click opens it.
    honours = page.locator("#section-trustworthiness")
    record = honours.get_by_text("四川省节水型企业")
    expect(record).to_be_hidden()
    honours.locator("summary").click()
    expect(honours).to_have_attribute("open", "")
    expect(record).to_be_visible()
    # A count in the summary bar opens a closed section.
    summary_link = page.locator('nav.file-summary [data-section="trustworthiness"]')
    page.goto(f"/subjects/{data['uscc']}?section=administrative&page=2")
    expect(page.locator("#section-trustworthiness")).not_to_have_attribute("open", "")
    summary_link.click()
    expect(page.locator("#section-trustworthiness")).to_have_attribute("open", "")
    expect(page.locator("#section-trustworthiness").get_by_text("四川省节水型企业")).to_be_in_viewport()
    page.goto(f"/subjects/{data['uscc']}?section=administrative&page=1")
    administrative = page.locator("#section-administrative")
    # And a click on an open section closes it.
    first_doc = administrative.locator(".record").first
    expect(first_doc).to_be_visible()
    administrative.locator("summary").click()
    expect(first_doc).to_be_hidden()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_long_section_pages_instead_of_printing_everything(
    browser: Any, base_url: str, data: dict[str, Any], javascript: bool
) -> None:
    context = browser.new_context(
        base_url=base_url,
        locale="zh-CN",
        viewport={"width": 1280, "height": 900},
        java_script_enabled=javascript,
    )
    try:
        page = context.new_page()
        page.goto(f"/subjects/{data['uscc']}")
        administrative = page.locator("#section-administrative")
        expect(administrative.locator(".record")).to_have_count(10)
        expect(administrative.locator(".pager")).to_contain_text("第 1 / 2 页（共 13 条）")
        height = page.evaluate("document.body.scrollHeight")
        assert height < 12_000, height
        administrative.get_by_role("link", name="下一页").click()
        expect(page).to_have_url(re.compile(r"section=administrative&page=2#section-administrative$"))
        administrative = page.locator("#section-administrative")
        expect(administrative).to_have_attribute("open", "")
        expect(administrative.locator(".record")).to_have_count(3)
        expect(administrative.locator(".pager")).to_contain_text("第 2 / 2 页")
        shown = administrative.locator(".record strong").all_inner_texts()
        page.goto(f"/subjects/{data['uscc']}")
        first = page.locator("#section-administrative .record strong").all_inner_texts()
        assert sorted(first + shown) == sorted(data["docs"])
        # The list entry stays in view on every page of another section.
        expect(page.locator("h1 .list-badge")).to_have_text("严重失信主体")
    finally:
        context.close()
