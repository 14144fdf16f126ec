"""Every demo role walks the site in Chromium: no page it reaches logs a Content Security Policy violation or a
script error, none answers with a server error, and no menu or link leads it to a refusal (401/403).

The app serves the demo Sichuan at a small scale from a SQLite file (tests/browser/conftest.py); each role logs
in through the login form and crawls from the home page, menus first (tests/crawl.py), one page per pattern.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests import crawl
from tests.browser.conftest import TODAY
from tests.browser.watch import ConsoleWatch
from xinyong.platform import Platform

pytestmark = pytest.mark.browser

SCALE = 0.02
MAX_PAGES = 80  # enough for every pattern the admin reaches (about 55)
ROLES = (None, "admin", "provider", "reviewer", "auditor", "agency", "bank", "enterprise")


@pytest.fixture(scope="module")
def demo_data(portal_platform: Platform) -> None:
    """The demo data set, committed to the module's database before the server answers its first page."""
    from xinyong.accounts.policy import SYSTEM
    from xinyong.content.demo import seed_articles
    from xinyong.db.session import transaction
    from xinyong.demo import service as demo
    from xinyong.demo.authorizations import seed_authorizations
    from xinyong.demo.registrations import seed_registrations
    from xinyong.demo.repair import seed_repair
    from xinyong.demo.supervision import seed_supervision
    from xinyong.demo.supervision_plans import seed_supervision_plans

    ctx = portal_platform.ingest_context(TODAY)
    with transaction(portal_platform.sessions) as session:
        demo.seed(session, ctx, scale=SCALE)
        demo.seed_accounts(session, ctx)
        seed_authorizations(session, portal_platform.context(SYSTEM, TODAY), demo.DEMO_PASSWORD)
        seed_articles(session, SYSTEM, TODAY)
        seed_supervision(session, portal_platform.context(SYSTEM, ctx.today), scale=SCALE)
        seed_repair(session, portal_platform, TODAY)
        seed_supervision_plans(session, portal_platform, TODAY)  # pools, plans, a draw and results
        seed_registrations(session, portal_platform, TODAY)


@pytest.fixture
def role_page(browser: Any, base_url: str, demo_data: None) -> Iterator[Any]:
    context = browser.new_context(base_url=base_url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page: Any, username: str) -> None:
    from xinyong.demo.service import DEMO_PASSWORD

    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def browser_fetch(page: Any, watch: ConsoleWatch, problems: list[str]) -> crawl.Fetch:
    def fetch(url: str) -> tuple[int, str | None]:
        watch.clear()
        try:
            response = page.goto(url, wait_until="load")
        except PlaywrightError as error:
            if "Download is starting" not in str(error):
                raise
            return page.request.get(url).status, None  # a file, not a page
        if response is None:
            return 0, None
        html = page.content() if "text/html" in response.headers.get("content-type", "") else None
        problems.extend(f"{url}: CSP: {text}" for text in watch.csp_violations)
        problems.extend(f"{url}: script error: {text}" for text in watch.script_errors)
        return response.status, html

    return fetch


@pytest.mark.parametrize("username", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_no_page_breaks_the_csp_or_fails_for_any_role(
    role_page: Any, username: str | None, artifacts: Path
) -> None:
    watch = ConsoleWatch.attach(role_page)
    if username is not None:
        log_in(role_page, username)
    problems: list[str] = []
    result = crawl.crawl(browser_fetch(role_page, watch, problems), max_pages=MAX_PAGES, per_pattern=1)
    assert len(result.visits) >= 10, [v.url for v in result.visits]
    assert problems == []
    assert result.server_errors() == []
    assert result.refused_links() == []


def test_the_watch_sees_what_the_csp_blocks(page: Any) -> None:
    """The check above would miss nothing: an inline style and an inline script on a page are both reported."""
    watch = ConsoleWatch.attach(page)
    page.goto("/")
    page.evaluate(
        """() => {
            document.body.insertAdjacentHTML('beforeend', '<p style="color: red">x</p>');
            const script = document.createElement('script');
            script.textContent = 'window.__inline = 1';
            document.body.appendChild(script);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__inline") is None
    assert any("style" in text for text in watch.csp_violations), watch.csp_violations
    assert any("script" in text for text in watch.csp_violations), watch.csp_violations


CHART_LABELS = """() => Array.from(document.querySelectorAll("div.chart[data-chart]")).map((el) => {
  const chart = window.echarts.getInstanceByDom(el);
  const axis = chart.getModel().getComponent("xAxis", 0).axis;
  const width = chart.getWidth(), height = chart.getHeight();
  const outside = chart.getZr().storage.getDisplayList()
    .filter((e) => e.type === "text" && e.style && e.style.text)
    .map((e) => {
      const box = e.getBoundingRect().clone();
      const transform = e.getComputedTransform();
      if (transform) box.applyTransform(transform);
      return {text: e.style.text, x: box.x, y: box.y, right: box.x + box.width, bottom: box.y + box.height};
    })
    .filter((b) => b.x < -1 || b.y < -1 || b.right > width + 1 || b.bottom > height + 1)
    .map((b) => b.text);
  return {
    id: el.dataset.chart,
    categories: axis.scale.getOrdinalMeta().categories.length,
    shown: axis.getViewLabels().length,
    outside: outside,
  };
})"""


@pytest.mark.parametrize("path", ["/statistics", "/statistics/repairs"])
@pytest.mark.parametrize("width", [1280, 420], ids=["desktop", "phone"])
def test_chart_labels_are_all_shown_inside_the_chart(
    role_page: Any, path: str, width: int, artifacts: Path
) -> None:
    role_page.set_viewport_size({"width": width, "height": 900})
    role_page.goto(path)
    role_page.wait_for_function("document.querySelectorAll('div.chart canvas').length > 0")
    charts = role_page.evaluate(CHART_LABELS)
    assert charts, f"{path} draws no chart"
    for chart in charts:
        assert chart["shown"] == chart["categories"], chart
        assert chart["outside"] == [], chart
    role_page.screenshot(path=str(artifacts / f"charts{path.replace('/', '-')}-{width}.png"), full_page=True)
