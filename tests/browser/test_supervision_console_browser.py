"""A department's reviewer in a real browser: makes an inspection plan in the console, sees its commitment,
presses 抽取 and gets the drawn subjects with two inspectors each, the realised ratios and no draw button any
more; an individual business's personal name is masked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.helpers import PASSWORD, uscc
from xinyong.accounts import auth
from xinyong.accounts.models import Department
from xinyong.db.session import transaction
from xinyong.kit.names import normalize_name
from xinyong.platform import Platform
from xinyong.subjects.models import Subject
from xinyong.supervision.models import Inspector

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def reviewer(portal_platform: Platform) -> str:
    with transaction(portal_platform.sessions) as session:
        session.add(Department(code="LSMR", name="乐山市市场监督管理局", region_code="511100"))
        session.flush()
        for n in range(24):
            kind, name = (
                ("individual_business", "王小二")
                if n == 0
                else ("legal_person", f"乐山浏览器抽查{n}有限公司")
            )
            session.add(
                Subject(
                    kind=kind,
                    uscc=uscc("511102", "92" if n == 0 else "91"),
                    name=name,
                    name_norm=normalize_name(name),
                    core_name=name,
                    region_code="511102",
                )
            )
        for n in range(3):
            session.add(
                Inspector(
                    department_code="LSMR",
                    name=f"乐山检查员{n}",
                    licence_no=f"LS{n:04d}",
                    region_code="511102",
                    conflicts=[],
                )
            )
        auth.create_user(
            session, username="ls-reviewer", password=PASSWORD, role="reviewer", department_code="LSMR"
        )
    return "ls-reviewer"


def test_plan_then_draw_in_the_console(page: Any, reviewer: str, artifacts: Path) -> None:
    page.goto("/login?next=/console/supervision")
    page.fill("input[name=username]", reviewer)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/console/supervision$"))
    expect(page.locator("#inspectors")).to_contain_text("乐山检查员2")

    form = page.locator("#plan-form")
    form.locator("input[name=name]").fill("乐山2026年度双随机抽查")
    form.locator("input[name=period_from]").fill("2026-01-01")
    form.locator("input[name=period_to]").fill("2026-12-31")
    form.locator("input[name=matters]").fill("经营行为；广告发布")
    form.get_by_role("button", name="制定并公布").click()
    expect(page).to_have_url(re.compile(r"/console/supervision/plans/\d+$"))
    expect(page.locator("#commitment")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    expect(page.locator("dl")).to_contain_text("24 个主体")

    page.locator("#draw-form").get_by_role("button", name="抽取").click()
    expect(page).to_have_url(re.compile(r"/console/supervision/plans/\d+#drawn$"))
    expect(page.locator("#seed")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    rows = page.locator("table.supervision-drawn tbody tr")
    expect(rows).to_have_count(3)  # 24 ungraded subjects, tier C at 10 %: ceil(2.4)
    for text in rows.all_inner_texts():
        assert text.count("乐山检查员") == 2
    expect(page.locator("#fairness tr[data-tier=C]")).to_contain_text("12.50%")
    expect(page.locator("#draw-form")).to_have_count(0)
    assert "王小二" not in page.content()
    page.screenshot(path=str(artifacts / "supervision-draw.png"), full_page=True)
