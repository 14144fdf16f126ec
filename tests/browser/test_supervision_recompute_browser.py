"""Who can check a draw, in a real browser: while the grades that set the tiers are not public, the public plan
page says why the full list is withheld and who verifies; the subject's own account shows its key (the one
anyone recomputes from the published seed and its USCC) and that it fell within its tier's cut."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD
from tests.supervision_world import SupervisedWorld, build
from xinyong.accounts import auth
from xinyong.db.session import transaction
from xinyong.platform import Platform
from xinyong.supervision import plans, rules

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def world(portal_platform: Platform) -> tuple[SupervisedWorld, str]:
    with transaction(portal_platform.sessions) as session:
        built = build(portal_platform, session)
        auth.create_user(
            session, username="h12-poor", password=PASSWORD, role="subject", subject_id=built.poor
        )
        draw = plans.draw_of(session, built.plan.id)
        assert draw is not None
        return built, draw.seed


def test_the_page_says_who_verifies_and_the_subject_checks_its_own_place(
    page: Any, world: tuple[SupervisedWorld, str]
) -> None:
    built, seed = world
    page.goto(f"/supervision/plans/{built.plan.id}")
    expect(page.locator("#scope-withheld")).to_contain_text("信用办")
    expect(page.locator("#scope-public")).to_have_count(0)
    page.goto("/login?next=/account/supervision")
    page.fill("input[name=username]", "h12-poor")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/account/supervision$"))
    row = page.locator(f"table.own-places tr[data-plan='{built.plan.id}']")
    expect(row).to_have_count(1)
    expect(row.locator("code.key")).to_have_text(rules.order_key(seed, built.poor_uscc))
    expect(row).to_contain_text("在抽取线以内，已被抽中")
    expect(row).to_have_attribute("data-within", "1")
