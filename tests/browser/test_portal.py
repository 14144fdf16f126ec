"""The public portal as a user meets it in a real browser: search, the subject's page, 双公示 listings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.helpers import licence, penalty, uscc

pytestmark = pytest.mark.browser

NAME = "成都天府软件园科技有限公司"
XSS_NAME = "<script>window.__xss=1</script>恶意公司有限公司"
OTHER_DEPT = ("SCEE", "四川省生态环境厅")


@pytest.fixture(scope="module")
def data(ingest_rows: Any) -> dict[str, str]:
    """Everything the tests look at, submitted once through the ingestion service."""
    code = uscc("510107", "91")
    xss_code = uscc("510104", "91")
    other_code = uscc("510106", "91")
    cf = penalty(CF_XDR_MC=NAME, CF_XDR_SHXYM=code, CF_JDRQ="2026-08-20")
    xss = penalty(CF_XDR_MC=XSS_NAME, CF_XDR_SHXYM=xss_code, CF_JDRQ="2026-07-01")
    env = penalty(
        CF_XDR_MC="成都锦江化工有限公司",
        CF_XDR_SHXYM=other_code,
        CF_WFXW="超标排放大气污染物",
        CF_CFJG=OTHER_DEPT[1],
        CF_JDRQ="2026-09-10",
    )
    xk = licence(XK_XDR_MC=NAME, XK_XDR_SHXYM=code)
    ingest_rows([cf, xss])
    ingest_rows([env], provider=OTHER_DEPT[0], provider_name=OTHER_DEPT[1])
    ingest_rows([xk], item="XK")
    return {
        "uscc": code,
        "cf_doc": cf["CF_WSH"],
        "xk_doc": xk["XK_WSH"],
        "xss_uscc": xss_code,
        "xss_doc": xss["CF_WSH"],
        "env_doc": env["CF_WSH"],
        "env_name": env["CF_XDR_MC"],
    }


def test_traditional_name_search_finds_the_subject_and_opens_its_page(
    page: Any, data: dict[str, str], artifacts: Path
) -> None:
    page.goto("/")
    page.fill("#q", "成都天府軟件園科技")
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(r"/search\?q="))
    page.get_by_role("link", name=NAME).click()

    expect(page).to_have_url(re.compile(f"/subjects/{data['uscc']}$"))
    expect(page.locator("h1")).to_have_text(NAME)
    expect(page.locator("#item-CF")).to_contain_text(data["cf_doc"])
    expect(page.locator("#item-XK")).to_contain_text(data["xk_doc"])
    page.screenshot(path=str(artifacts / "subject-page.png"), full_page=True)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("成都 天府软件园科技 有限公司", id="ascii-spaces"),
        pytest.param("成都　天府軟件園科技有限公司", id="ideographic-space-traditional"),
        pytest.param("  成都天府 软件园 科技  ", id="padded-no-suffix"),
        pytest.param("成都天府软件园科技有限责任公司", id="other-legal-suffix"),
        pytest.param("fullwidth-uscc", id="fullwidth-uscc"),
        pytest.param("成都 天府软件园科技（有限公司）", id="bracketed-suffix"),
    ],
)
def test_search_tolerates_width_spacing_and_suffix_variations(
    page: Any, data: dict[str, str], query: str
) -> None:
    if query == "fullwidth-uscc":
        query = " ".join(chr(ord(c) + 0xFEE0) for c in data["uscc"])  # ＡＢＣ… spaced out
    page.goto(f"/search?q={quote(query)}")
    expect(page.locator(".result h3 a").first).to_have_text(NAME)
    expect(page.locator(f'.result a[href="/subjects/{data["uscc"]}"]')).to_have_count(1)


def test_markup_in_a_subject_name_is_shown_as_text_not_run(page: Any, data: dict[str, str]) -> None:
    page.goto(f"/subjects/{data['xss_uscc']}")
    h1 = page.locator("h1")
    expect(h1).to_have_text(XSS_NAME)
    assert "<script>" in h1.inner_text()
    assert page.locator("h1 script").count() == 0
    assert page.evaluate("window.__xss") is None
    expect(page.locator("#item-CF")).to_contain_text(data["xss_doc"])

    # The same name in search results and in the penalties listing is escaped too.
    page.goto(f"/search?q={quote('恶意公司')}")
    expect(page.locator(".result h3")).to_have_text(XSS_NAME)
    page.goto("/publicity/penalties")
    expect(page.locator("tbody").get_by_role("link", name=XSS_NAME)).to_have_count(1)
    assert page.locator("main script").count() == 0
    assert page.evaluate("window.__xss") is None


def test_subject_page_fits_a_phone_screen(
    browser: Any, base_url: str, data: dict[str, str], artifacts: Path
) -> None:
    context = browser.new_context(
        base_url=base_url,
        locale="zh-CN",
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        page.goto(f"/subjects/{data['uscc']}")
        expect(page.locator("h1")).to_have_text(NAME)
        fits = "document.documentElement.scrollWidth <= window.innerWidth + 1"
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert page.evaluate(fits), f"horizontal scroll on the subject page: {widths}"
        page.screenshot(path=str(artifacts / "subject-page-mobile.png"), full_page=True)
        for path in ("/", f"/search?q={quote('天府软件园')}", "/publicity/penalties", "/publicity/licences"):
            page.goto(path)
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert page.evaluate(fits), f"horizontal scroll on {path}: {widths}"
    finally:
        context.close()


def test_penalties_listing_filters_by_department(page: Any, data: dict[str, str]) -> None:
    page.goto("/publicity/penalties")
    rows = page.locator("tbody tr")
    expect(rows.filter(has_text=data["env_doc"])).to_have_count(1)
    expect(rows.filter(has_text=data["cf_doc"])).to_have_count(1)

    page.select_option("select[name=department]", OTHER_DEPT[0])
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(f"department={OTHER_DEPT[0]}"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(data["env_doc"])
    expect(rows.first).to_contain_text(data["env_name"])
    expect(page.locator("select[name=department]")).to_have_value(OTHER_DEPT[0])

    page.select_option("select[name=department]", "SCMR")
    page.get_by_role("button", name="筛选").click()
    expect(rows.filter(has_text=data["cf_doc"])).to_have_count(1)
    expect(rows.filter(has_text=data["env_doc"])).to_have_count(0)


def test_search_and_subject_page_work_without_javascript(
    browser: Any, base_url: str, data: dict[str, str]
) -> None:
    context = browser.new_context(base_url=base_url, locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/")
        page.fill("#q", "天府软件园")
        page.get_by_role("button", name="查询").click()
        expect(page).to_have_url(re.compile(r"/search\?q="))
        page.get_by_role("link", name=NAME).click()
        expect(page).to_have_url(re.compile(f"/subjects/{data['uscc']}$"))
        expect(page.locator("h1")).to_have_text(NAME)
        expect(page.locator("#item-CF")).to_contain_text(data["cf_doc"])
    finally:
        context.close()
