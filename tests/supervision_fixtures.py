"""A small Chengdu for the supervision tests: two departments, 61 graded or ungraded subjects in two districts
(one an individual business with a personal name), one subject elsewhere, five inspectors with conflicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import uscc
from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.models import Department
from xinyong.accounts.policy import SYSTEM
from xinyong.evaluation.models import EvaluationGrade, EvaluationRun
from xinyong.kit.names import normalize_name
from xinyong.platform import Platform
from xinyong.subjects.models import Subject
from xinyong.supervision.models import Inspector

DEPT = "CDMR"  # 成都市市场监督管理局, region 510100
OTHER = "MYMR"  # 绵阳, region 510700
ALL_IN: dict[str, Any] = {
    "source": "测试：国发〔2019〕5号",
    "default_tier": "C",
    "tiers": [
        {"code": "A", "grades": ["A"], "ratio_pct": 100, "per_period": 1, "period_months": 24},
        {"code": "B", "grades": ["B"], "ratio_pct": 100},
        {"code": "C", "grades": ["C"], "ratio_pct": 100},
        {"code": "D", "grades": ["D"], "ratio_pct": 100},
    ],
}


@dataclass
class World:
    ctx: UseCaseContext
    graded: dict[str, str | None]  # uscc -> grade (None: not graded)
    person_business: str  # an individual business (a personal name), graded D
    outside: str  # a company outside the department's region


def _subject(session: Session, code: str, name: str, region: str, kind: str = "legal_person") -> int:
    subject = Subject(
        kind=kind, uscc=code, name=name, name_norm=normalize_name(name), core_name=name, region_code=region
    )
    session.add(subject)
    session.flush()
    return subject.id


@pytest.fixture
def world(platform: Platform, session: Session) -> World:
    session.add_all(
        [
            Department(code=DEPT, name="成都市市场监督管理局", region_code="510100"),
            Department(code=OTHER, name="绵阳市市场监督管理局", region_code="510700"),
        ]
    )
    session.flush()
    run = EvaluationRun(model_code="public_comprehensive", model_version="1", engine="sqlite", as_of=TODAY)
    session.add(run)
    session.flush()
    graded: dict[str, str | None] = {}
    grades = ["A"] * 20 + ["B"] * 20 + ["C"] * 12 + ["D"] * 4 + [None] * 4
    for n, grade in enumerate(grades):
        code = uscc("510104" if n % 2 else "510107")
        sid = _subject(session, code, f"成都测试{n}有限公司", code[2:8])
        graded[code] = grade
        if grade:
            session.add(
                EvaluationGrade(
                    model_code="public_comprehensive",
                    subject_id=sid,
                    run_id=run.id,
                    score=70,
                    grade=grade,
                    as_of=TODAY,
                )
            )
    person_business = uscc("510104", "92")
    sid = _subject(session, person_business, "张三丰", "510104", "individual_business")
    session.add(
        EvaluationGrade(
            model_code="public_comprehensive", subject_id=sid, run_id=run.id, score=10, grade="D", as_of=TODAY
        )
    )
    graded[person_business] = "D"
    outside = uscc("510703")
    _subject(session, outside, "绵阳测试有限公司", "510703")
    codes = list(graded)
    for n in range(5):
        session.add(
            Inspector(
                department_code=DEPT,
                name=f"检查员{n}",
                licence_no=f"51010{n:05d}",
                region_code="510104" if n < 4 else "510107",
                conflicts=[codes[0]] if n < 3 else [],
            )
        )
    session.flush()
    return World(platform.context(SYSTEM, TODAY), graded, person_business, outside)
