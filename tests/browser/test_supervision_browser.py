"""The public 双随机、一公开 page in a real browser: reached from the portal's menu, a plan with its tier ratios,
its seed and how to verify it, the drawn subjects with an individual business's personal name masked, and the
published JSON downloadable and masked too."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.supervision_world import SupervisedWorld, build
from xinyong.db.session import transaction
from xinyong.platform import Platform

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def world(portal_platform: Platform) -> SupervisedWorld:
    with transaction(portal_platform.sessions) as session:
        return build(portal_platform, session)


def test_the_public_plan_page_publishes_the_draw_with_personal_names_masked(
    page: Any, world: SupervisedWorld
) -> None:
    page.goto("/")
    page.locator("nav a[href='/supervision']").first.click()
    expect(page).to_have_url(re.compile(r"/supervision$"))
    expect(page.locator("h1")).to_have_text("双随机抽查公示")
    page.locator(f"#plan-{world.plan.id} a").click()
    expect(page.locator("h1")).to_have_text("2026年度食品经营双随机抽查")
    expect(page.locator("table.tier-ratios tr[data-tier=D]")).to_contain_text("100%")
    expect(page.locator("#seed")).to_have_text(re.compile("^[0-9a-f]{64}$"))
    expect(page.locator("dl.facts.mono")).to_contain_text(world.plan.commitment)
    page.locator("details summary").click()
    expect(page.locator("ol.verify-steps li")).to_have_count(6)
    rows = page.locator("table.drawn-subjects tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator(f"tr[data-uscc='{world.poor_uscc}']")).to_contain_text("成都差评测试有限公司")
    masked = page.locator("tr[data-masked='1']")
    expect(masked).to_have_count(1)
    expect(masked).to_contain_text("张**")
    expect(page.locator("main")).not_to_contain_text("张三丰")
    response = page.request.get(page.locator("a[href$='inputs.json']").get_attribute("href"))
    assert response.ok and "张三丰" not in response.text()
    document = response.json()
    assert len(document["drawn"]) == 3 and document["seed"] == page.locator("#seed").inner_text()


def test_on_a_phone_the_plan_page_does_not_scroll_sideways(page: Any, world: SupervisedWorld) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/supervision/plans/{world.plan.id}")
    expect(page.locator("table.drawn-subjects tbody tr")).to_have_count(3)
    # the wide tables scroll inside their panels; the page itself stays as wide as the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
