"""/docs in a real browser: Swagger UI loads from the package, under the site's CSP, with no network beyond."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.watch import ConsoleWatch

pytestmark = pytest.mark.browser


def test_docs_renders_every_operation_offline_under_the_csp(
    page: Any, base_url: str, artifacts: Path
) -> None:
    foreign: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base_url) else foreign.append(r.url))
    watch = ConsoleWatch.attach(page)

    response = page.goto("/docs")
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("公共信用信息平台")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    openapi = page.request.get(f"{base_url}/openapi.json").json()
    expected = sum(len(methods) for methods in openapi["paths"].values())
    expect(operations).to_have_count(expected)
    page.screenshot(path=str(artifacts / "docs.png"))

    # An operation opens and can be tried: the public check key needs no credentials.
    summary = page.locator(".opblock-summary", has_text="/api/v1/checks/public-key")
    summary.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table tr.response .response-col_status").first).to_contain_text(
        "200"
    )

    assert watch.csp_violations == []
    assert watch.script_errors == []
    assert foreign == [], "the documentation must not reach any other site"


def test_docs_page_has_no_inline_script(page: Any) -> None:
    html = page.request.get("/docs").text()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "the page starts Swagger UI from script files"
    assert all(re.search(r'\bsrc="/', tag) for tag in scripts), scripts
    assert "style=" not in html
    assert "cdn" not in html.lower()


def test_the_site_has_a_favicon(page: Any) -> None:
    page.goto("/")
    icon = page.locator("link[rel=icon]")
    href = icon.get_attribute("href")
    assert href and href.startswith("/static/")
    served = page.request.get(href)
    assert served.status == 200 and served.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in served.text()
    legacy = page.request.get("/favicon.ico")  # browsers that ask without reading the page
    assert legacy.status == 200 and legacy.url.endswith(href)
