"""Grade statistics of a model: distribution by region (prefecture), by subject kind and by month of change,
and transitions between grades. Subjects carry no industry classification yet, so there is no industry
breakdown; the industry models' own distributions stand in for it."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.evaluation.models import EvaluationGrade, EvaluationGradeChange, EvaluationRun
from xinyong.evaluation.schemas import ModelFile
from xinyong.kit import regions
from xinyong.subjects.models import Subject

KIND_LABELS = {
    "legal_person": "法人和非法人组织",
    "individual_business": "个体工商户",
    "natural_person": "自然人",
    "gov_body": "政府机构",
}


def _prefecture(code: str | None) -> str:
    if not code or len(code) < 4:
        return "未知地区"
    return regions.name(code[:4] + "00") or code[:4] + "00"


def grade_statistics(session: Session, model: ModelFile) -> dict[str, Any]:
    grades = [g.grade for g in model.grades]
    by_region: dict[str, Counter[str]] = defaultdict(Counter)
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    rows = session.execute(
        select(Subject.region_code, Subject.kind, EvaluationGrade.grade, func.count())
        .join(Subject, Subject.id == EvaluationGrade.subject_id)
        .where(EvaluationGrade.model_code == model.code)
        .group_by(Subject.region_code, Subject.kind, EvaluationGrade.grade)
    )
    for region_code, kind, grade, count in rows:
        by_region[_prefecture(region_code)][grade] += count
        by_kind[KIND_LABELS.get(kind, kind)][grade] += count
    by_month: dict[str, Counter[str]] = defaultdict(Counter)
    transitions: Counter[tuple[str, str]] = Counter()
    changes = session.execute(
        select(
            EvaluationGradeChange.as_of, EvaluationGradeChange.grade_from, EvaluationGradeChange.grade_to
        ).where(EvaluationGradeChange.model_code == model.code)
    )
    for as_of, grade_from, grade_to in changes:
        by_month[as_of.strftime("%Y-%m")][grade_to] += 1
        if grade_from is not None:
            transitions[(grade_from, grade_to)] += 1
    total = Counter[str]()
    for counts in by_region.values():
        total.update(counts)
    runs = list(
        session.scalars(
            select(EvaluationRun)
            .where(EvaluationRun.model_code == model.code)
            .order_by(EvaluationRun.id.desc())
            .limit(10)
        )
    )
    return {
        "grades": grades,
        "total": {g: total.get(g, 0) for g in grades},
        "by_region": {k: {g: v.get(g, 0) for g in grades} for k, v in sorted(by_region.items())},
        "by_kind": {k: {g: v.get(g, 0) for g in grades} for k, v in sorted(by_kind.items())},
        "by_month": {k: {g: v.get(g, 0) for g in grades} for k, v in sorted(by_month.items())},
        "transitions": [
            {"from": a, "to": b, "count": n} for (a, b), n in sorted(transitions.items(), key=lambda t: -t[1])
        ],
        "runs": runs,
    }


def charts(data: dict[str, Any]) -> dict[str, str]:
    """Chart specs (stacked grade counts per category) as JSON safe inside a script element."""
    found = {}
    for name in ("by_region", "by_kind", "by_month"):
        table = data[name]
        spec = {
            "labels": list(table),
            "series": [{"name": g, "data": [table[k][g] for k in table]} for g in data["grades"]],
            "type": "line" if name == "by_month" else "bar",
        }
        found[f"grades-{name.replace('_', '-')}"] = json.dumps(spec, ensure_ascii=False).replace(
            "<", "\\u003c"
        )
    return found
