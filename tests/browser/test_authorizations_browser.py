"""Authorisations in Chromium: the company grants its file to an agency on /account/authorizations, the
agency opens the file from /account/authorized and sees the non-public record, the company revokes and the
agency's next look shows only the public file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.browser.conftest import TODAY
from tests.helpers import PASSWORD, penalty, uscc
from xinyong.accounts import auth
from xinyong.db.session import transaction
from xinyong.platform import Platform
from xinyong.subjects import service as subjects

HIDDEN = "川市监罚〔2019〕9号"  # decided years ago: past its publicity window, in the file only


def log_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


def test_a_company_grants_and_revokes_and_the_agency_reads_only_meanwhile(
    browser: Any, base_url: str, portal_platform: Platform, ingest_rows: Any, artifacts: Path
) -> None:
    code, agency_code = uscc(), uscc()
    ingest_rows(
        [
            penalty(CF_XDR_SHXYM=code, CF_XDR_MC="成都浏览器授权有限公司"),
            penalty(
                CF_XDR_SHXYM=code, CF_XDR_MC="成都浏览器授权有限公司", CF_JDRQ="2019-03-01", CF_WSH=HIDDEN
            ),
            penalty(CF_XDR_SHXYM=agency_code, CF_XDR_MC="四川浏览器信用评估有限公司"),
        ]
    )
    with transaction(portal_platform.sessions) as session:
        for username, role, uscc_of in (("b-owner", "subject", code), ("b-agency", "agency", agency_code)):
            auth.create_user(
                session,
                username=username,
                password=PASSWORD,
                role=role,
                subject_id=subjects.get_by_uscc(session, uscc_of).id,
            )
    contexts = [browser.new_context(base_url=base_url, locale="zh-CN") for _ in range(2)]
    owner, agency = (c.new_page() for c in contexts)
    try:
        log_in(owner, "b-owner")
        owner.goto("/account/authorizations")
        owner.fill("input[name=organization]", agency_code)
        owner.select_option("select[name=purpose_kind]", "business_cooperation")
        owner.fill("input[name=purpose]", "合作方资信评估")
        owner.fill("input[name=valid_until]", (TODAY + dt.timedelta(days=60)).isoformat())
        owner.click("#grant-form button[type=submit]")
        assert "已授权四川浏览器信用评估有限公司" in owner.locator("#flash").inner_text()
        assert "合作方资信评估" in owner.locator("[data-state-group=有效]").inner_text()
        owner.screenshot(path=str(artifacts / "authorizations-own.png"), full_page=True)

        log_in(agency, "b-agency")
        assert agency.url.endswith("/account/authorized")  # an organisation's home
        agency.click(f"a[href='/subjects/{code}']")
        agency.wait_for_url(f"**/subjects/{code}")
        assert agency.locator("#authorized-view").is_visible()
        assert HIDDEN in agency.content()
        agency.screenshot(path=str(artifacts / "authorizations-agency-file.png"), full_page=True)

        owner.click("[data-state-group=有效] button:has-text('撤销')")
        assert "授权已撤销" in owner.locator("#flash").inner_text()
        assert "合作方资信评估" in owner.locator("[data-state-group=已撤销]").inner_text()

        agency.reload()
        assert agency.locator("#authorized-view").count() == 0
        assert HIDDEN not in agency.content()
        agency.goto("/account/authorized")
        assert "暂无有效的授权" in agency.content()
    finally:
        for context in contexts:
            context.close()
