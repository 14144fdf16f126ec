"""The supervision console: a department's reviewer makes a plan and draws it with CSRF-protected forms; its data
clerk sees but cannot draw; another department's reviewer sees nothing; a second draw is a 409; a refused form
keeps nothing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.helpers import login
from tests.supervision_fixtures import DEPT, OTHER, World
from tests.supervision_fixtures import world as world  # the fixture
from xinyong.supervision.models import InspectionDraw, InspectionPlan

PLAN = {
    "name": "2026年度抽查",
    "period_from": "2026-01-01",
    "period_to": "2026-12-31",
    "matters": "经营行为;广告",
}


def _create(client: TestClient, token: str, **form: str) -> int:
    response = client.post(
        "/console/supervision/plans",
        data={"csrf_token": token, "department": DEPT} | PLAN | form,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    match = re.search(r"/plans/(\d+)$", response.headers["location"])
    assert match
    return int(match[1])


def test_a_reviewer_plans_and_draws_and_sees_the_result(
    client: TestClient, session: Session, world: World
) -> None:
    token = login(client, session, role="reviewer", department_code=DEPT)
    page = client.get("/console/supervision")
    assert page.status_code == 200 and "制定抽查计划" in page.text and "检查员0" in page.text
    plan_id = _create(client, token)
    before = client.get(f"/console/supervision/plans/{plan_id}")
    assert before.status_code == 200 and 'id="draw-form"' in before.text and "随机数承诺值" in before.text
    plan = session.get(InspectionPlan, plan_id)
    assert plan is not None and plan.nonce not in before.text  # revealed only by the draw
    assert (
        client.post(f"/console/supervision/plans/{plan_id}/draw", data={}).status_code == 403
    )  # no CSRF token
    drawn = client.post(
        f"/console/supervision/plans/{plan_id}/draw", data={"csrf_token": token}, follow_redirects=False
    )
    assert drawn.status_code == 303
    after = client.get(f"/console/supervision/plans/{plan_id}")
    assert 'id="seed"' in after.text and 'id="draw-form"' not in after.text and after.text.count("<tr>") >= 6
    assert "张三丰" not in after.text and plan.nonce in after.text
    # the tier by name, not its letter
    assert re.search(r"<tr><td>1</td><td>信用.（[ABCD]类）</td>", after.text)
    again = client.post(f"/console/supervision/plans/{plan_id}/draw", data={"csrf_token": token})
    assert again.status_code == 409 and "已经抽取" in again.text


def test_a_refused_plan_shows_its_reason_and_keeps_nothing(
    client: TestClient, session: Session, world: World
) -> None:
    token = login(client, session, role="reviewer", department_code=DEPT)
    count = session.scalar(select(func.count()).select_from(InspectionPlan))
    response = client.post(
        "/console/supervision/plans",
        data={"csrf_token": token, "department": DEPT} | PLAN | {"region": "510112"},
    )
    assert response.status_code == 422 and "supervision.empty_pool" in response.text
    reversed_ = client.post(
        "/console/supervision/plans",
        data={"csrf_token": token, "department": DEPT} | PLAN | {"period_to": "2025-01-01"},
    )
    assert reversed_.status_code == 422 and "supervision.period_reversed" in reversed_.text
    assert session.scalar(select(func.count()).select_from(InspectionPlan)) == count


def test_the_clerk_sees_but_cannot_draw_and_another_department_sees_nothing(
    client: TestClient, session: Session, world: World
) -> None:
    token = login(client, session, role="reviewer", department_code=DEPT)
    plan_id = _create(client, token)
    client.post("/logout", data={"csrf_token": token})
    clerk = login(client, session, role="provider", department_code=DEPT)
    page = client.get(f"/console/supervision/plans/{plan_id}")
    assert page.status_code == 200 and 'id="draw-form"' not in page.text
    denied = client.post(f"/console/supervision/plans/{plan_id}/draw", data={"csrf_token": clerk})
    assert denied.status_code == 403
    assert session.scalar(select(func.count()).select_from(InspectionDraw)) == 0
    client.post("/logout", data={"csrf_token": clerk})
    stranger = login(client, session, role="reviewer", department_code=OTHER)
    assert client.get(f"/console/supervision/plans/{plan_id}").status_code == 403
    assert client.get(f"/console/supervision?department={DEPT}").status_code == 403
    refused = client.post(f"/console/supervision/plans/{plan_id}/draw", data={"csrf_token": stranger})
    assert refused.status_code == 403
    created = client.post(
        "/console/supervision/plans",
        data={"csrf_token": stranger, "department": DEPT} | PLAN,
        follow_redirects=False,
    )
    assert created.status_code == 403


def test_the_public_cannot_open_the_console(client: TestClient, world: World) -> None:
    assert client.get("/console/supervision", follow_redirects=False).status_code in (303, 401)


def test_a_reviewer_saves_a_tier_version_and_a_bad_ratio_is_refused(
    client: TestClient, session: Session, world: World
) -> None:
    token = login(client, session, role="reviewer", department_code=DEPT)
    form = {"csrf_token": token, "department": DEPT, "default_tier": "C", "source": "国办发〔2019〕35号"}
    ratios = {f"ratio_{t}": r for t, r in zip("ABCD", ("2", "5", "10", "40"), strict=True)}
    periods = {f"per_period_{t}": "1" for t in "ABCD"} | {f"period_months_{t}": "12" for t in "ABCD"}
    bad = client.post("/console/supervision/tiers", data=form | ratios | periods | {"ratio_D": "130"})
    assert bad.status_code == 422 and "supervision.ratio_out_of_range" in bad.text
    no_source = client.post("/console/supervision/tiers", data=form | ratios | periods | {"source": ""})
    assert no_source.status_code == 422 and "supervision.source_missing" in no_source.text
    saved = client.post("/console/supervision/tiers", data=form | ratios | periods, follow_redirects=False)
    assert saved.status_code == 303
    page = client.get("/console/supervision")
    assert "第 1 版" in page.text and 'value="40.00"' in page.text


def test_the_scope_form_narrows_the_next_plan(client: TestClient, session: Session, world: World) -> None:
    token = login(client, session, role="reviewer", department_code=DEPT)
    bad = client.post(
        "/console/supervision/scope", data={"csrf_token": token, "department": DEPT, "regions": "999999"}
    )
    assert bad.status_code == 422 and "supervision.region_invalid" in bad.text
    saved = client.post(
        "/console/supervision/scope",
        data={"csrf_token": token, "department": DEPT, "regions": "510104"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    plan = session.get(InspectionPlan, _create(client, token))
    assert plan is not None and plan.scope_count == 31 and plan.scope["regions"] == ["510104"]
