"""The mobile channel in Chromium: /docs lists the `me` routes with their examples, a subject logs in there with
"Try it out" and gets a bearer token; a page script (as a mini-program's web view) reads the file with the
token, under the site's CSP, while the same browser's session cookie opens none of the `/me` routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.watch import ConsoleWatch
from tests.helpers import PASSWORD, penalty, uscc
from xinyong.accounts import auth
from xinyong.db.session import transaction
from xinyong.platform import Platform
from xinyong.subjects import service as subjects

pytestmark = pytest.mark.browser

FETCH = """async ([path, token]) => {
  const headers = token ? {Authorization: `Bearer ${token}`} : {};
  const response = await fetch(path, {headers});
  return {status: response.status, body: await response.json()};
}"""


def test_a_subject_logs_in_from_the_docs_and_reads_its_file_with_the_token(
    page: Any, portal_platform: Platform, ingest_rows: Any, artifacts: Path
) -> None:
    code = uscc()
    ingest_rows([penalty(CF_XDR_SHXYM=code, CF_XDR_MC="成都移动端浏览器有限公司")])
    with transaction(portal_platform.sessions) as session:
        auth.create_user(
            session,
            username="m-owner",
            password=PASSWORD,
            role="subject",
            subject_id=subjects.get_by_uscc(session, code).id,
        )
    watch = ConsoleWatch.attach(page)
    page.goto("/docs")
    expect(page.locator("#operations-tag-me")).to_be_visible()
    login = page.locator(".opblock", has=page.locator(".opblock-summary-path", has_text="/api/v1/me/login"))
    login.locator(".opblock-summary").click()
    expect(login.locator(".body-param__example, .microlight").first).to_contain_text("username")
    login.get_by_role("button", name="Try it out").click()
    login.locator("textarea.body-param__text").fill(json.dumps({"username": "m-owner", "password": PASSWORD}))
    login.get_by_role("button", name="Execute").click()
    answer = login.locator(".live-responses-table .response .response-col_description").first
    expect(answer).to_contain_text("access_token")
    expect(login.locator(".live-responses-table .response .response-col_status").first).to_contain_text("200")
    page.screenshot(path=str(artifacts / "me-docs-login.png"))
    token = json.loads(answer.locator("pre").first.inner_text())["access_token"]

    mine = page.evaluate(FETCH, ["/api/v1/me/file", token])
    assert mine["status"] == 200 and mine["body"]["uscc"] == code
    me = page.evaluate(FETCH, ["/api/v1/me", token])
    assert me["body"]["verified"] is True and me["body"]["subject"]["name"] == "成都移动端浏览器有限公司"

    # The same browser logged in on the web: its cookie opens no /me route.
    page.goto("/login")
    page.fill("input[name=username]", "m-owner")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url("**/account")
    refused = page.evaluate(FETCH, ["/api/v1/me/file", None])
    assert refused["status"] == 403 and refused["body"]["error"]["code"] == "auth.forbidden"
    assert watch.csp_violations == []
    assert watch.script_errors == []
