"""An enterprise reads its own credit grade in a real browser: every item with its points, the total equal to
the score, the veto, and the day its listing ends named as the change ahead; and the console's charts draw."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TODAY
from tests.helpers import PASSWORD, department, penalty, uscc
from xinyong.accounts import auth
from xinyong.db.session import transaction
from xinyong.evaluation import service
from xinyong.lists.models import ListEntry
from xinyong.platform import Platform
from xinyong.subjects import service as subjects

pytestmark = pytest.mark.browser

NAME = "成都蜀道评价浏览器有限公司"


@pytest.fixture(scope="module")
def graded(ingest_rows: Any, portal_platform: Platform) -> dict[str, str]:
    """A company with a serious penalty and a serious-dishonesty listing ending 2027-10-01, graded; its account."""
    code = uscc("510104", "91")
    ingest_rows(
        [penalty(CF_XDR_MC=NAME, CF_XDR_SHXYM=code, CF_JDRQ="2026-06-15", severity="严重", CF_NR_FK="20")]
    )
    with transaction(portal_platform.sessions) as session:
        subject = subjects.get_by_uscc(session, code)
        department(session, "SCGY", "四川省高级人民法院")
        session.add(
            ListEntry(
                subject_id=subject.id,
                list_type="serious_dishonesty",
                status="listed",
                department_code="SCGY",
                legal_basis="《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条",
                facts="有履行能力而拒不履行生效法律文书确定的义务",
                proposed_on=dt.date(2026, 9, 1),
                decided_on=dt.date(2026, 10, 1),
                public_from=dt.date(2026, 10, 1),
                public_until=dt.date(2027, 10, 1),
            )
        )
        session.flush()
        models = service.load_models(session, portal_platform.catalog.item_codes, None)
        service.run(session, models["public_comprehensive"], as_of=TODAY)
        auth.create_user(
            session, username="eval-company", password=PASSWORD, role="subject", subject_id=subject.id
        )
        auth.create_user(
            session, username="eval-clerk", password=PASSWORD, role="provider", department_code="SCMR"
        )
    return {"uscc": code}


def log_in(page: Any, username: str, target: str) -> None:
    page.goto(f"/login?next={target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def test_the_company_reads_its_grade_explained_item_by_item(page: Any, graded: dict[str, str]) -> None:
    log_in(page, "eval-company", "/account/evaluation")
    page.goto("/account/evaluation")
    expect(page.locator("h1")).to_have_text("我的信用评价")
    expect(page.locator("[data-grade]")).to_have_text("D 差")
    rows = page.locator("table.evaluation-items tbody tr")
    points = [float(t) for t in rows.locator("td.points").all_inner_texts()]
    total = float(page.locator("td.total").inner_text())
    assert sum(points) == pytest.approx(total)
    expect(page.locator("tr[data-code=serious_penalties_3y] td.points")).to_have_text("-25.00")
    expect(page.locator("p.vetoes")).to_contain_text("列入严重失信主体名单")
    ahead = page.locator("table.next-changes tbody tr")
    expect(ahead.first).to_contain_text("2027年10月2日")
    expect(ahead.first).to_contain_text("严重失信主体名单期满移出")


def test_a_clerk_reads_it_with_a_purpose_and_the_console_charts_draw(
    page: Any, graded: dict[str, str]
) -> None:
    log_in(page, "eval-clerk", "/console/evaluation")
    page.goto(f"/subjects/{graded['uscc']}/evaluation?purpose=招标投标资格审查")
    expect(page.locator("h1")).to_contain_text(NAME)
    expect(page.locator("[data-grade]")).to_have_text(re.compile("^D"))
    page.goto("/console/evaluation")
    expect(page.locator('div.chart[data-chart="grades-by-region"] canvas')).to_have_count(1)
    expect(page.locator("table.runs tbody tr").first).to_contain_text("全量")
