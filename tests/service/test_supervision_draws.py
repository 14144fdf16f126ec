"""Tiered supervision on both stores: tiers as versioned data, the scope frozen into a plan, a draw reproducible
from its published document alone (the PostgreSQL statement gives what the pure rule gives), inspectors without
conflicts and at least two, masking, fairness, the inspectors import, and bad input with its code."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.supervision_fixtures import ALL_IN, DEPT, OTHER, World
from tests.supervision_fixtures import world as world  # the fixture
from xinyong.accounts.policy import Principal
from xinyong.kit.errors import Conflict, Forbidden, ValidationFailed, XinyongError
from xinyong.kit.tabular import write_xlsx
from xinyong.supervision import plans, pools, publication, rules, tiers
from xinyong.supervision.models import InspectionDrawSubject, InspectionPlanSubject, Inspector


def _plan(session: Session, world: World, **kwargs: Any) -> Any:
    values: dict[str, Any] = {
        "name": "2026年度双随机抽查",
        "period_from": dt.date(2026, 1, 1),
        "period_to": dt.date(2026, 12, 31),
    } | kwargs
    return plans.create_plan(session, world.ctx, DEPT, **values)


def test_a_plan_freezes_scope_and_tiers_and_the_draw_meets_each_ratio(session: Session, world: World) -> None:
    plan = _plan(session, world)
    frozen = dict(session.execute(select(InspectionPlanSubject.uscc, InspectionPlanSubject.tier)).all())
    assert world.outside not in frozen and set(frozen) == set(world.graded)
    assert all(
        frozen[c] == (g or "C") for c, g in world.graded.items()
    )  # no grade: the stated default tier C
    assert plan.tiers["source"] and plan.commitment == rules.commitment_of(plan.nonce)
    draw = plans.draw_plan(session, world.ctx, plan.id)
    sizes = {"A": 20, "B": 20, "C": 16, "D": 5}
    assert draw.targets == {
        "A": 1,
        "B": 1,
        "C": 2,
        "D": 2,
    }  # ceil(20×3%), ceil(20×5%), ceil(16×10%), ceil(5×30%)
    assert draw.counts_by_tier == draw.targets
    for tier, size in sizes.items():
        assert draw.counts_by_tier[tier] / size >= float(tiers.shipped().by_code()[tier].ratio_pct) / 100
    out = publication.result(session, plan)
    assert out["plan_id"] == plan.id and out["seed"] == draw.seed and len(out["drawn"]) == 6
    for item in out["drawn"]:
        assert frozen[item["uscc"]] == item["tier"] and len(item["inspectors"]) >= 2


def test_the_draw_is_recomputed_from_the_published_document_alone(session: Session, world: World) -> None:
    plan = _plan(session, world)
    published_before = json.loads(json.dumps(publication.published_document(session, plan)))
    assert "nonce" not in published_before and "drawn" not in published_before  # nonce secret until the draw
    plans.draw_plan(session, world.ctx, plan.id)
    document = json.loads(json.dumps(publication.published_document(session, plan), ensure_ascii=False))
    assert document["inputs"] == published_before["inputs"]  # the inputs did not move between plan and draw
    seed, drawn, problems = publication.recompute(document)
    stored = [
        [r.uscc, r.tier]
        for r in session.scalars(select(InspectionDrawSubject).order_by(InspectionDrawSubject.position))
    ]
    assert problems == [] and seed == document["seed"] and drawn == stored  # SQL (PostgreSQL) == pure rule
    assert publication.verify(session, plan)["ok"]
    forged = copy.deepcopy(document)
    forged["nonce"] = "0" * 64
    assert publication.recompute(forged)[2] == ["nonce 与计划公布的承诺值（commitment）不符"]
    shrunk = copy.deepcopy(document)
    shrunk["scope"] = shrunk["scope"][1:]
    assert any("摘要" in p for p in publication.recompute(shrunk)[2])


def test_verify_fails_when_a_stored_draw_or_scope_was_changed(session: Session, world: World) -> None:
    plan = _plan(session, world)
    plans.draw_plan(session, world.ctx, plan.id)
    first = session.scalars(select(InspectionDrawSubject).order_by(InspectionDrawSubject.position)).first()
    assert first is not None
    session.execute(
        update(InspectionDrawSubject).where(InspectionDrawSubject.id == first.id).values(inspector_ids=[1, 1])
    )
    assert not publication.verify(session, plan)["ok"]
    session.execute(
        update(InspectionPlanSubject)
        .where(InspectionPlanSubject.plan_id == plan.id, InspectionPlanSubject.uscc == world.outside)
        .values(tier="A")
    )
    session.execute(
        update(InspectionPlanSubject)
        .where(InspectionPlanSubject.uscc == first.uscc)
        .values(tier="B" if first.tier != "B" else "A")
    )
    outcome = publication.verify(session, plan)
    assert not outcome["ok"] and any("摘要" in p for p in outcome["problems"])


def test_inspectors_never_conflicted_at_least_two_and_inside_the_plans_region(
    session: Session, world: World
) -> None:
    tiers.save(session, world.ctx, DEPT, ALL_IN)
    plan = _plan(session, world, region="510104")
    plans.draw_plan(session, world.ctx, plan.id)
    people = {i.id: i for i in session.scalars(select(Inspector))}
    rows = list(session.scalars(select(InspectionDrawSubject)))
    assert len(rows) == 31  # every subject of 510104 (ratio 100 %)
    loads: dict[int, int] = {}
    for row in rows:
        assert len(set(row.inspector_ids)) >= 2
        for inspector_id in row.inspector_ids:
            assert row.uscc not in people[inspector_id].conflicts
            assert people[inspector_id].region_code == "510104"  # the 510107 inspector is outside the region
            loads[inspector_id] = loads.get(inspector_id, 0) + 1
    assert max(loads.values()) - min(loads.values()) <= 2  # balanced


def test_too_few_inspectors_for_a_conflicted_subject_is_a_clear_error(session: Session, world: World) -> None:
    conflicted = next(c for c in world.graded if c[2:8] == "510104")
    tiers.save(session, world.ctx, DEPT, ALL_IN)
    three = ["5101000000", "5101000001", "5101000002"]  # of the four inspectors in 510104
    session.execute(update(Inspector).where(Inspector.licence_no.in_(three)).values(conflicts=[conflicted]))
    plan = _plan(session, world, region="510104")
    with pytest.raises(ValidationFailed) as caught:
        plans.draw_plan(session, world.ctx, plan.id)
    assert caught.value.code == "supervision.too_few_inspectors" and conflicted in caught.value.message


def test_individual_businesses_are_masked_in_the_published_result(session: Session, world: World) -> None:
    tiers.save(session, world.ctx, DEPT, ALL_IN)
    plan = _plan(session, world)
    plans.draw_plan(session, world.ctx, plan.id)
    body = json.dumps(publication.result(session, plan), ensure_ascii=False)
    assert "张三丰" not in body and "张**" in body and "成都测试1有限公司" in body


def test_tier_versions_are_kept_with_author_and_a_plan_freezes_the_one_in_force(
    session: Session, world: World
) -> None:
    assert tiers.in_force(session, DEPT).version is None  # the shipped table until the department saves
    first = tiers.save(session, world.ctx, DEPT, ALL_IN)
    changed = copy.deepcopy(ALL_IN)
    changed["tiers"][0]["ratio_pct"] = 50
    second = tiers.save(session, world.ctx, DEPT, changed)
    assert (first.version, second.version) == (1, 2) and first.tiers["tiers"][0]["ratio_pct"] == "100.00"
    assert second.saved_by == "system" and len(tiers.versions(session, DEPT)) == 2
    plan = _plan(session, world)
    assert plan.tier_version_id == second.id and plan.tiers["tiers"][0]["ratio_pct"] == "50.00"
    industry = tiers.save(session, world.ctx, DEPT, ALL_IN, industry="C14")
    assert tiers.in_force(session, DEPT, "C14").version == industry
    assert tiers.in_force(session, DEPT, "F51").version == second  # no table of its own: the department's


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"ratio_pct": 101}, "supervision.ratio_out_of_range"),
        ({"ratio_pct": -1}, "supervision.ratio_out_of_range"),
        ({"ratio_pct": "abc"}, "supervision.ratio_invalid"),
    ],
)
def test_bad_ratios_are_refused(session: Session, world: World, change: dict[str, Any], code: str) -> None:
    document = copy.deepcopy(ALL_IN)
    document["tiers"][0].update(change)
    with pytest.raises(ValidationFailed) as caught:
        tiers.save(session, world.ctx, DEPT, document)
    assert caught.value.code == code


def test_a_table_without_source_cannot_be_saved(session: Session, world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        tiers.save(session, world.ctx, DEPT, ALL_IN | {"source": " "})
    assert caught.value.code == "supervision.source_missing"


def test_bad_plans_and_a_second_draw(session: Session, world: World) -> None:
    with pytest.raises(ValidationFailed) as reversed_:
        _plan(session, world, period_from=dt.date(2026, 12, 31), period_to=dt.date(2026, 1, 1))
    assert reversed_.value.code == "supervision.period_reversed"
    with pytest.raises(ValidationFailed) as empty:
        _plan(session, world, region="510112")  # a district of Chengdu without subjects
    assert empty.value.code == "supervision.empty_pool"
    with pytest.raises(ValidationFailed) as outside:
        _plan(session, world, region="510703")
    assert outside.value.code == "supervision.region_outside_scope"
    plan = _plan(session, world)
    plans.draw_plan(session, world.ctx, plan.id)
    with pytest.raises(Conflict) as twice:
        plans.draw_plan(session, world.ctx, plan.id)
    assert twice.value.code == "supervision.already_drawn" and twice.value.status_code == 409


def test_another_departments_reviewer_can_neither_plan_nor_draw(session: Session, world: World) -> None:
    plan = _plan(session, world)
    stranger = world.ctx.acting_as(Principal(kind="user", name="r", role="reviewer", department_code=OTHER))
    clerk = world.ctx.acting_as(Principal(kind="user", name="p", role="provider", department_code=DEPT))
    for ctx in (stranger, clerk):
        with pytest.raises(Forbidden):
            _plan(session, World(ctx, world.graded, world.person_business, world.outside))
        with pytest.raises(Forbidden):
            plans.draw_plan(session, ctx, plan.id)
        with pytest.raises(Forbidden):
            tiers.save(session, ctx, DEPT, ALL_IN)
    with pytest.raises(Forbidden):
        plans.view_plan(session, stranger.principal, plan.id)
    assert plans.view_plan(session, clerk.principal, plan.id).id == plan.id


def test_fairness_shows_ratios_and_flags_a_subject_drawn_too_often(session: Session, world: World) -> None:
    tiers.save(session, world.ctx, DEPT, ALL_IN)
    first = _plan(session, world)
    plans.draw_plan(session, world.ctx, first.id)
    second = _plan(session, world, period_from=dt.date(2027, 1, 1), period_to=dt.date(2027, 12, 31))
    plans.draw_plan(session, world.ctx, second.id)
    report = publication.fairness(session, second)
    assert {r["tier"]: r["realised_pct"] for r in report["tiers"]} == {
        "A": 100.0,
        "B": 100.0,
        "C": 100.0,
        "D": 100.0,
    }
    flagged = {f["tier"] for f in report["flags"]}
    assert flagged == {"A"}  # tier A allows one draw in 24 months; B–D one or more a year
    assert len(report["flags"]) == 20
    assert all(f["uscc"] in world.graded and "有限公司" in f["name"] for f in report["flags"])


CSV_HEADER = "姓名,执法证号,地区,回避主体\n"


def _import(
    session: Session, world: World, content: bytes, name: str = "inspectors.csv"
) -> pools.ImportReport:
    return pools.import_inspectors(session, world.ctx, DEPT, io.BytesIO(content), name)


def test_inspectors_import_csv_and_xlsx_idempotent_on_the_licence_number(
    session: Session, world: World
) -> None:
    avoid = next(iter(world.graded))
    text = CSV_HEADER + f"李四,5101XX0001,510104,{avoid};{world.outside}\n王五,5101XX0002,510107,\n"
    report = _import(session, world, text.encode())
    assert (report.created, report.updated, report.errors) == (2, 0, [])
    assert _import(session, world, text.encode()).unchanged == 2
    found = session.scalar(select(Inspector).where(Inspector.licence_no == "5101XX0001"))
    assert found is not None and found.conflicts == sorted([avoid, world.outside])
    xlsx = write_xlsx(
        [("人员", [["姓名", "执法证号", "地区", "回避主体"], ["李四", "5101XX0001", "510107", ""]])]
    )
    report = _import(session, world, xlsx, "inspectors.xlsx")
    assert (
        report.updated == 1
        and session.scalar(select(Inspector.region_code).where(Inspector.licence_no == "5101XX0001"))
        == "510107"
    )


def test_inspectors_import_rejects_the_whole_file_and_names_each_bad_row(
    session: Session, world: World
) -> None:
    text = (
        CSV_HEADER + "李四,A1,510104,91510000XXXXXXXXXX\n王五,A2,510104,\n赵六,A2,510104,\n钱七,A3,999999,\n"
    )
    report = _import(session, world, text.encode())
    assert [(e["row"], e["code"]) for e in report.errors] == [
        (2, "supervision.conflict_uscc"),
        (4, "supervision.licence_no_duplicate"),
        (5, "supervision.region_invalid"),
    ]
    assert session.scalar(select(Inspector).where(Inspector.licence_no == "A2")) is None  # nothing imported
    with pytest.raises(XinyongError) as header:
        _import(session, world, "姓名,执法证号,地区\n李四,A9,510104\n".encode())
    assert header.value.code == "supervision.import_headers"
    session.add(
        Inspector(department_code=OTHER, name="孙八", licence_no="B1", region_code="510703", conflicts=[])
    )
    session.flush()
    taken = _import(session, world, (CSV_HEADER + "孙八,B1,510104,\n").encode())
    assert [e["code"] for e in taken.errors] == ["supervision.licence_no_taken"]
