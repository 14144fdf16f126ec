"""A draw anyone can recompute, on both stores: when the credit office publishes the grades that set the tiers,
the portal's `inputs.json` holds the whole scope and `xinyong supervision recompute` on it alone gives the stored
draw; when it does not, the JSON holds no subject's tier or grade (and no subject outside the drawn list), the
page says why and who verifies, and a subject checks its own key against its tier's cut in its account; a
changed public JSON fails the recompute."""

from __future__ import annotations

import copy
import datetime as dt
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.helpers import login
from tests.supervision_fixtures import DEPT, World
from tests.supervision_fixtures import world as world  # the fixture
from xinyong.cli import app
from xinyong.kit.errors import ValidationFailed
from xinyong.platform import Platform
from xinyong.subjects.models import Subject
from xinyong.supervision import plans, publication, rules
from xinyong.supervision.models import InspectionDrawSubject, InspectionPlan

runner = CliRunner()


def publish_grades(platform: Platform) -> None:
    """The credit office publishes the comprehensive grades (its model file in the data dir, as an edit would)."""
    text = (
        resources.files("xinyong.evaluation") / "data" / "models" / "public_comprehensive.yaml"
    ).read_text("utf-8")
    assert "publish_grades: false" in text
    folder = platform.settings.data_dir / "evaluation" / "models"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "public_comprehensive.yaml").write_text(
        text.replace("publish_grades: false", "publish_grades: true"), "utf-8"
    )


@pytest.fixture
def drawn(session: Session, world: World) -> InspectionPlan:
    """A plan of the Chengdu bureau at the shipped ratios (3/5/10/30 %), drawn."""
    plan = plans.create_plan(
        session,
        world.ctx,
        DEPT,
        name="2026年度双随机抽查",
        period_from=dt.date(2026, 1, 1),
        period_to=dt.date(2026, 12, 31),
    )
    plans.draw_plan(session, world.ctx, plan.id)
    session.commit()
    return plan


def _stored(session: Session, plan: InspectionPlan) -> list[list[str]]:
    rows = session.scalars(
        select(InspectionDrawSubject)
        .where(InspectionDrawSubject.plan_id == plan.id)
        .order_by(InspectionDrawSubject.position)
    )
    return [[r.uscc, r.tier] for r in rows]


def _public(client: TestClient, plan: InspectionPlan) -> dict[str, Any]:
    response = client.get(f"/supervision/plans/{plan.id}/inputs.json")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _recompute(tmp_path: Path, document: dict[str, Any]) -> tuple[int, str]:
    path = tmp_path / "inputs.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["supervision", "recompute", str(path)])
    return result.exit_code, result.output


def _keys(value: Any, skip: str = "tiers") -> set[str]:
    """Every key of a JSON document, except inside the published tier table (`inputs.tiers`: the ratios)."""
    if isinstance(value, dict):
        return set(value) | {n for k, v in value.items() if k != skip for n in _keys(v, skip)}
    if isinstance(value, list):
        return {n for v in value for n in _keys(v, skip)}
    return set()


class TestGradesPublished:
    def test_anyone_recomputes_the_draw_from_the_public_json_alone(
        self,
        client: TestClient,
        session: Session,
        platform: Platform,
        world: World,
        drawn: InspectionPlan,
        tmp_path: Path,
    ) -> None:
        publish_grades(platform)
        document = _public(client, drawn)
        assert document["scope_public"] is True
        assert len(document["scope"]) == drawn.scope_count == len(world.graded)
        tiers = dict(document["scope"])
        assert all(tiers[u] == (g or "C") for u, g in world.graded.items())  # every subject with its tier
        assert "张三丰" not in json.dumps(
            document, ensure_ascii=False
        )  # the individual business: masked name
        code, out = _recompute(tmp_path, document)
        assert code == 0, out
        outcome = json.loads(out)
        assert outcome == {"seed": document["seed"], "drawn": 6, "ok": True, "problems": []}
        seed, recomputed, problems = publication.recompute(document)
        assert problems == [] and seed == document["seed"]
        assert recomputed == _stored(session, drawn) == [[d["uscc"], d["tier"]] for d in document["drawn"]]
        page = client.get(f"/supervision/plans/{drawn.id}")
        assert 'id="scope-public"' in page.text and 'id="scope-withheld"' not in page.text
        assert "xinyong supervision recompute" in page.text
        first = document["drawn"][0]
        assert f'data-tier="{first["tier"]}"' in page.text

    def test_a_changed_public_json_is_detected(
        self, client: TestClient, platform: Platform, drawn: InspectionPlan, tmp_path: Path
    ) -> None:
        publish_grades(platform)
        document = _public(client, drawn)
        assert publication.check_document(document)["ok"]
        drawn_codes = {d["uscc"] for d in document["drawn"]}
        undrawn = next(i for i, (u, _t) in enumerate(document["scope"]) if u not in drawn_codes)

        retiered = copy.deepcopy(document)  # an undrawn subject moved to another tier
        retiered["scope"][undrawn][1] = "D" if retiered["scope"][undrawn][1] != "D" else "A"
        assert (
            "检查对象名录与公布的摘要（scope_digest）不符" in publication.check_document(retiered)["problems"]
        )

        swapped = copy.deepcopy(document)  # a drawn subject replaced by an undrawn one
        swapped["drawn"][0]["uscc"] = document["scope"][undrawn][0]
        problems = publication.check_document(swapped)["problems"]
        assert "重算的抽取名单与公布的名单不同" in problems

        ratio = copy.deepcopy(document)  # a ratio changed after the plan was published
        ratio["inputs"]["tiers"]["tiers"][0]["ratio_pct"] = "50.00"
        assert "inputs 与公布的输入摘要（inputs_digest）不符" in publication.check_document(ratio)["problems"]

        reseeded = copy.deepcopy(document)
        reseeded["seed"] = "0" * 64
        code, out = _recompute(tmp_path, reseeded)
        assert code == 1 and "重算的种子与公布的种子不同" in out

        code, out = _recompute(tmp_path, retiered)
        assert code == 1 and "scope_digest" in out
        (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
        bad = runner.invoke(app, ["supervision", "recompute", str(tmp_path / "bad.json")])
        assert bad.exit_code == 1 and "supervision.document_invalid" in bad.output


class TestGradesNotPublished:
    def test_the_json_holds_no_tier_and_no_grade_and_the_page_says_who_verifies(
        self, client: TestClient, session: Session, world: World, drawn: InspectionPlan, tmp_path: Path
    ) -> None:
        document = _public(client, drawn)
        assert document["scope_public"] is False and "scope" not in document
        keys = _keys(document)
        assert not keys & {"tier", "grade"}, keys & {"tier", "grade"}  # `inputs.scope` is the scope's rule
        assert document["inputs"]["scope_by_tier"] == {"A": 20, "B": 20, "C": 16, "D": 5}  # counts only
        order = [d["key"] for d in document["drawn"]]  # by key, not tier by tier (with the counts: each tier)
        assert order == sorted(order) and [d["position"] for d in document["drawn"]] == list(range(1, 7))
        assert sorted(d["uscc"] for d in document["drawn"]) == sorted(u for u, _t in _stored(session, drawn))
        text = json.dumps(document, ensure_ascii=False)
        drawn_codes = {u for u, _t in _stored(session, drawn)}
        assert all(u not in text for u in world.graded if u not in drawn_codes)  # nobody outside the list
        code, out = _recompute(tmp_path, document)
        assert code == 1 and "supervision.scope_not_public" in out
        with pytest.raises(ValidationFailed):
            publication.check_document(document)
        page = client.get(f"/supervision/plans/{drawn.id}")
        assert 'id="scope-withheld"' in page.text and 'id="scope-public"' not in page.text
        assert (
            "信用办" in page.text and "监管检查" in page.text
        )  # who verifies: the department, the office, each subject

    def test_a_subject_checks_its_own_key_against_its_tiers_cut(
        self, client: TestClient, session: Session, world: World, drawn: InspectionPlan
    ) -> None:
        stored = _stored(session, drawn)
        seed = publication.published_document(session, drawn)["seed"]
        inside = stored[-1][0]
        outside = next(u for u in world.graded if u not in {s for s, _t in stored})
        for code, on_list in ((inside, True), (outside, False)):
            subject_id = session.scalar(select(Subject.id).where(Subject.uscc == code))
            login(client, session, role="subject", department_code=None, subject_id=subject_id)
            page = client.get("/account/supervision")
            assert page.status_code == 200
            flag = "1" if on_list else "0"
            assert f'data-plan="{drawn.id}" data-within="{flag}" data-drawn="{flag}"' in page.text
            assert rules.order_key(seed, code) in page.text  # its own key, which it can recompute
            assert ("已被抽中" if on_list else "未被抽中") in page.text
            others = [u for u in world.graded if u != code]  # nor the cut: another subject's key, its tier
            assert not any(rules.order_key(seed, u) in page.text for u in others)
            client.cookies.clear()
        assert client.get("/account/supervision").status_code == 401
