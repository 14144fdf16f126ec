"""A refused form of the supervision console comes back with the reason and with what the user typed in it — the
plan, the tier version, the scope and the inspector — so nothing has to be typed again; nothing of it is saved."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.helpers import login
from tests.supervision_fixtures import DEPT, World
from tests.supervision_fixtures import world as world  # the fixture
from xinyong.supervision.models import InspectionPlan, Inspector


def test_refused_console_forms_show_again_what_was_typed(
    client: TestClient, session: Session, world: World
) -> None:
    token = login(client, session, role="reviewer", department_code=DEPT)
    base = {"csrf_token": token, "department": DEPT}
    plans = session.scalar(select(func.count()).select_from(InspectionPlan))

    plan = {
        "name": "2027年度餐饮抽查",
        "period_from": "2027-03-01",
        "period_to": "2027-01-01",  # before the start: refused
        "region": "510104",
        "matters": "食品安全;从业人员健康证明",
    }
    refused = client.post("/console/supervision/plans", data=base | plan)
    assert refused.status_code == 422 and "supervision.period_reversed" in refused.text
    for value in ('value="2027年度餐饮抽查"', 'value="2027-03-01"', 'value="2027-01-01"', 'value="510104"'):
        assert value in refused.text, value
    assert 'value="食品安全;从业人员健康证明"' in refused.text
    assert session.scalar(select(func.count()).select_from(InspectionPlan)) == plans

    tiers = {"default_tier": "D", "industry": "H62", "source": "本局试行分档（草案）"}
    tiers |= {f"ratio_{t}": r for t, r in zip("ABCD", ("2", "4", "8", "130"), strict=True)}
    tiers |= {f"per_period_{t}": "1" for t in "ABCD"} | {f"period_months_{t}": "18" for t in "ABCD"}
    bad_tiers = client.post("/console/supervision/tiers", data=base | tiers)
    assert bad_tiers.status_code == 422 and "supervision.ratio_out_of_range" in bad_tiers.text
    assert 'name="ratio_D" value="130"' in bad_tiers.text and 'name="ratio_B" value="4"' in bad_tiers.text
    assert 'name="period_months_A" value="18"' in bad_tiers.text and 'value="H62"' in bad_tiers.text
    assert "本局试行分档（草案）</textarea>" in bad_tiers.text
    assert '<option value="D" selected>' in bad_tiers.text

    scope = {"regions": "510104;999999", "industries": "H62", "licence_items": ""}
    bad_scope = client.post("/console/supervision/scope", data=base | scope)
    assert bad_scope.status_code == 422 and "supervision.region_invalid" in bad_scope.text
    assert 'name="regions" maxlength="2000" value="510104;999999"' in bad_scope.text

    inspectors = session.scalar(select(func.count()).select_from(Inspector))
    inspector = {
        "name": "王晓东",
        "licence_no": "51010099",
        "region": "9999",  # not a region code: refused
        "qualifications": "食品安全",
        "conflicts": "",
    }
    bad_inspector = client.post("/console/supervision/inspectors", data=base | inspector)
    assert bad_inspector.status_code == 422, bad_inspector.text
    assert 'name="name" required maxlength="50" value="王晓东"' in bad_inspector.text
    assert 'value="51010099"' in bad_inspector.text and 'value="食品安全"' in bad_inspector.text
    assert session.scalar(select(func.count()).select_from(Inspector)) == inspectors

    # a new visit starts from the stored values, not the refused ones
    fresh = client.get("/console/supervision")
    assert 'value="130"' not in fresh.text and 'value="王晓东"' not in fresh.text


def test_a_refused_training_session_shows_again_what_was_typed(
    client: TestClient, session: Session, world: World
) -> None:
    from xinyong.supervision.task_models import TrainingSession

    token = login(client, session, role="credit_office", department_code="SCDRC")
    typed = {
        "title": "食品经营主体信用培训（第三期）",
        "held_on": "2026-12-20",
        "place": "成都市青羊区某会议中心",
        "organiser": "四川省食品行业协会",
        "organiser_kind": "association",
        "authorisation": "",  # an association's session needs the credit office's authorisation: refused
        "capacity": "60",
    }
    refused = client.post("/console/supervision/training", data={"csrf_token": token} | typed)
    assert refused.status_code == 422 and "supervision.authorisation_required" in refused.text
    assert "操作未执行" in refused.text
    for name in ("title", "held_on", "place", "organiser", "capacity"):
        assert f'value="{typed[name]}"' in refused.text, name
    assert '<option value="association" selected>' in refused.text
    assert session.scalar(select(func.count()).select_from(TrainingSession)) == 0


def test_the_console_plan_page_writes_ratios_as_people_do_and_names_the_platform(
    client: TestClient, session: Session, world: World
) -> None:
    import datetime as dt

    from xinyong.supervision import plans

    plan = plans.create_plan(
        session,
        world.ctx,  # the platform itself, as the daily job or the demo
        DEPT,
        name="平台制定的抽查计划",
        period_from=dt.date(2026, 1, 1),
        period_to=dt.date(2026, 12, 31),
        region=None,
        matters=["经营行为"],
    )
    session.commit()
    login(client, session, role="provider", department_code=DEPT)  # sees the tiers, may not change them
    page = client.get(f"/console/supervision/plans/{plan.id}")
    assert page.status_code == 200
    assert "<td>3%</td>" in page.text and "<td>30%</td>" in page.text and "3.00%" not in page.text
    assert "<dd>平台，" in page.text and "system" not in page.text
    overview = client.get("/console/supervision")
    assert "<td>3</td>" in overview.text and "<td>3.00</td>" not in overview.text


def test_a_department_without_inspectors_is_told_so(
    client: TestClient, session: Session, world: World
) -> None:
    from tests.supervision_fixtures import OTHER

    login(client, session, role="reviewer", department_code=OTHER)
    page = client.get("/console/supervision")
    assert page.status_code == 200 and "执法检查人员名录库（0 名）" in page.text
    assert "暂无执法检查人员，请在下方登记或导入名录。" in page.text
