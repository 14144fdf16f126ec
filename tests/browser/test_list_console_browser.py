"""A deciding department in a real browser: the list console names the subject, offers only the steps its state
allows, and a refused step comes back to the page with the reason."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TODAY
from tests.helpers import PASSWORD, department, licence, uscc
from xinyong.accounts import auth
from xinyong.accounts.policy import Principal
from xinyong.db.session import transaction
from xinyong.lists import service as lists
from xinyong.platform import Platform
from xinyong.subjects import service as subjects

pytestmark = pytest.mark.browser

NAME = "成都锦江名单浏览器示例有限公司"


@pytest.fixture(scope="module")
def notified_entry(ingest_rows: Any, portal_platform: Platform) -> dict[str, Any]:
    """An entry notified today (its statement period open) and a reviewer of the deciding department."""
    code = uscc("510104", "91")
    ingest_rows([licence(XK_XDR_MC=NAME, XK_XDR_SHXYM=code)], item="XK")
    clerk = Principal(kind="user", name="list-clerk", role="reviewer", department_code="SCLW")
    with transaction(portal_platform.sessions) as session:
        department(session, "SCLW", "四川省名单测试局")
        entry = lists.propose(
            session,
            portal_platform.context(clerk, TODAY - dt.timedelta(days=2)),
            subject_id=subjects.get_by_uscc(session, code).id,
            list_type="serious_dishonesty",
            legal_basis="《严重失信主体名单管理办法》第七条",
            facts="拒不履行法定义务",
        )
        lists.advance(session, portal_platform.context(clerk, TODAY), entry, "notify")
        auth.create_user(
            session, username="list-reviewer", password=PASSWORD, role="reviewer", department_code="SCLW"
        )
        entry_id = entry.id
    return {"id": entry_id, "uscc": code, "username": "list-reviewer"}


def test_a_refused_decision_returns_to_the_console_with_the_reason(
    page: Any, notified_entry: dict[str, Any], artifacts: Path
) -> None:
    page.goto("/login?next=/console/lists")
    page.fill("input[name=username]", notified_entry["username"])
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/console/lists$"))

    row = page.locator(f"#entry-{notified_entry['id']}")
    expect(row).to_contain_text(NAME)
    expect(row).to_contain_text(notified_entry["uscc"])
    expect(row).to_contain_text("已告知")
    steps = row.locator("form[data-event]")
    assert sorted(steps.evaluate_all("forms => forms.map(f => f.dataset.event)")) == [
        "decide",
        "drop",
        "statement",
    ]
    expect(row.get_by_role("button", name="移出")).to_have_count(0)
    expect(row.get_by_role("button", name="告知")).to_have_count(0)

    decide = row.locator("form[data-event=decide]")
    decide.locator("input[name=decision_no]").fill("川信认〔2026〕77号")
    decide.get_by_role("button", name="决定列入").click()

    expect(page).to_have_url(re.compile(rf"/console/lists#entry-{notified_entry['id']}$"))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("操作未执行")
    expect(alert).to_contain_text("陈述申辩期限")
    expect(page.locator(f"#entry-{notified_entry['id']}")).to_contain_text("已告知")
    page.screenshot(path=str(artifacts / "list_console_refused.png"), full_page=True)

    page.reload()
    expect(page.get_by_role("alert")).to_have_count(0)  # shown once
