"""Grade statistics of a model: distribution by region (prefecture), by industry (GB/T 4754 门类), by subject
kind and by month of change, and transitions between grades."""

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


# GB/T 4754-2017 《国民经济行业分类》: the twenty 门类 (sections).
INDUSTRY_SECTIONS = {
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}


def industry_section(code: str | None) -> str:
    """The 门类 name of an industry code (E47 → 建筑业), or 未知行业."""
    section = (code or "")[:1]
    return INDUSTRY_SECTIONS.get(section, "未知行业")


def _prefecture(code: str | None) -> str:
    if not code or len(code) < 4:
        return "未知地区"
    return regions.name(code[:4] + "00") or code[:4] + "00"


def grade_statistics(session: Session, model: ModelFile) -> dict[str, Any]:
    grades = [g.grade for g in model.grades]
    by_region: dict[str, Counter[str]] = defaultdict(Counter)
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    by_industry: dict[str, Counter[str]] = defaultdict(Counter)
    section = func.substr(Subject.industry_code, 1, 1)
    rows = session.execute(
        select(Subject.region_code, Subject.kind, section, EvaluationGrade.grade, func.count())
        .join(Subject, Subject.id == EvaluationGrade.subject_id)
        .where(EvaluationGrade.model_code == model.code)
        .group_by(Subject.region_code, Subject.kind, section, EvaluationGrade.grade)
    )
    for region_code, kind, industry, grade, count in rows:
        by_region[_prefecture(region_code)][grade] += count
        by_kind[KIND_LABELS.get(kind, kind)][grade] += count
        by_industry[industry_section(industry)][grade] += count
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
        "by_industry": {k: {g: v.get(g, 0) for g in grades} for k, v in sorted(by_industry.items())},
        "by_month": {k: {g: v.get(g, 0) for g in grades} for k, v in sorted(by_month.items())},
        "transitions": [
            {"from": a, "to": b, "count": n} for (a, b), n in sorted(transitions.items(), key=lambda t: -t[1])
        ],
        "runs": runs,
    }


def charts(data: dict[str, Any]) -> dict[str, str]:
    """Chart specs (stacked grade counts per category) as JSON safe inside a script element."""
    found = {}
    for name in ("by_region", "by_industry", "by_kind", "by_month"):
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
