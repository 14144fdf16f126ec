"""A small supervised world for the tests of inspection results, interview and training tasks and the public
pages: two prefecture bureaus with their pools, graded subjects (two graded 差 in Chengdu, one of them an
individual business with a personal name, one 差 in Mianyang), a plan of the Chengdu bureau drawn at 100 %."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import uscc
from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.models import Department
from xinyong.accounts.policy import SYSTEM
from xinyong.evaluation.models import EvaluationGrade, EvaluationGradeChange, EvaluationRun
from xinyong.kit.names import normalize_name
from xinyong.platform import Platform
from xinyong.subjects.models import Subject
from xinyong.supervision import plans, tiers
from xinyong.supervision.models import InspectionPlan, Inspector, SupervisionScope

CHENGDU = "CDMR"
MIANYANG = "MYMR"
ALL_DRAWN = {
    "source": "测试：国发〔2019〕5号",
    "default_tier": "C",
    "tiers": [
        {"code": "A", "name": "A类", "grades": ["A"], "ratio_pct": 100},
        {"code": "B", "name": "B类", "grades": ["B"], "ratio_pct": 100},
        {"code": "C", "name": "C类", "grades": ["C"], "ratio_pct": 100},
        {"code": "D", "name": "D类", "grades": ["D"], "ratio_pct": 100},
    ],
}


@dataclass
class SupervisedWorld:
    ctx: UseCaseContext
    run_id: int
    poor: int  # a company graded 差 in Chengdu
    poor_uscc: str
    business: int  # an individual business graded 差 in Chengdu (a personal name)
    business_uscc: str
    good: int  # a company graded 优 in Chengdu
    good_uscc: str
    far: int  # a company graded 差 in Mianyang
    plan: InspectionPlan


def subject(session: Session, code: str, name: str, region: str, kind: str = "legal_person") -> int:
    row = Subject(
        kind=kind, uscc=code, name=name, name_norm=normalize_name(name), core_name=name, region_code=region
    )
    session.add(row)
    session.flush()
    return row.id


def grade(session: Session, run_id: int, subject_id: int, value: str, before: str | None = None) -> int:
    """Give a subject its current grade and the grade change that made it; returns the change's id."""
    current = session.query(EvaluationGrade).filter_by(subject_id=subject_id).one_or_none()
    if current is None:
        session.add(
            EvaluationGrade(
                model_code="public_comprehensive",
                subject_id=subject_id,
                run_id=run_id,
                score=50,
                grade=value,
                as_of=TODAY,
            )
        )
    else:
        current.grade = value
    change = EvaluationGradeChange(
        model_code="public_comprehensive",
        subject_id=subject_id,
        run_id=run_id,
        as_of=TODAY,
        grade_from=before,
        grade_to=value,
        score=50,
    )
    session.add(change)
    session.flush()
    return change.id


def build(platform: Platform, session: Session) -> SupervisedWorld:
    session.add_all(
        [
            Department(code=CHENGDU, name="成都市市场监督管理局", region_code="510100"),
            Department(code=MIANYANG, name="绵阳市市场监督管理局", region_code="510700"),
        ]
    )
    session.flush()
    session.add_all(
        [
            SupervisionScope(department_code=CHENGDU, region_codes=["510100"], updated_by="test"),
            SupervisionScope(department_code=MIANYANG, region_codes=["510700"], updated_by="test"),
        ]
    )
    run = EvaluationRun(model_code="public_comprehensive", model_version="1", engine="sqlite", as_of=TODAY)
    session.add(run)
    session.flush()
    poor_uscc, business_uscc, good_uscc, far_uscc = (
        uscc("510104"),
        uscc("510104", "92"),
        uscc("510107"),
        uscc("510703"),
    )
    poor = subject(session, poor_uscc, "成都差评测试有限公司", "510104")
    business = subject(session, business_uscc, "张三丰", "510104", "individual_business")
    good = subject(session, good_uscc, "成都优良测试有限公司", "510107")
    far = subject(session, far_uscc, "绵阳差评测试有限公司", "510703")
    for sid, value in ((poor, "D"), (business, "D"), (good, "A"), (far, "D")):
        grade(session, run.id, sid, value)
    for n in range(3):
        session.add(
            Inspector(
                department_code=CHENGDU,
                name=f"检查员{n}",
                licence_no=f"H7-5101{n:04d}",
                region_code="510104",
                conflicts=[],
            )
        )
    session.flush()
    ctx = platform.context(SYSTEM, TODAY)
    tiers.save(session, ctx, CHENGDU, ALL_DRAWN)
    plan = plans.create_plan(
        session,
        ctx,
        CHENGDU,
        name="2026年度食品经营双随机抽查",
        period_from=dt.date(2026, 1, 1),
        period_to=dt.date(2026, 12, 31),
        matters=["食品经营许可情况", "食品安全管理制度"],
    )
    plans.draw_plan(session, ctx, plan.id)
    return SupervisedWorld(ctx, run.id, poor, poor_uscc, business, business_uscc, good, good_uscc, far, plan)
