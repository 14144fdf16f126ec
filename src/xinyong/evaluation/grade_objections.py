"""A subject objects to its grade (对评价结果提出异议): the target, the routing and the case the provider reads.

The objection names the evaluation result and the disputed indicator, or none for the model as a whole
(整体评价). It goes to the provider of the disputed input: the department that provided the most of the
subject's records in force on the result's as-of day among the indicator's source items (the others are named
in the case); to the credit office when no record is behind the value (a missing-data default, a list or an
external input with no record) or when the model as a whole is disputed. The workflow itself (deadline,
answer, escalation) is the objections package's; a correction or revocation of a record behind the grade
reaches the grade through the next incremental evaluation.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.evaluation import repository, rules, service
from xinyong.evaluation.models import EvaluationGrade, EvaluationResult, EvaluationRun
from xinyong.evaluation.schemas import Indicator, ModelFile
from xinyong.files.service import Upload
from xinyong.kit.errors import Conflict, NotFound, ValidationFailed
from xinyong.objections import service as objections
from xinyong.objections.models import Objection
from xinyong.records.models import Record

WHOLE = "整体评价"


@dataclass(frozen=True)
class Route:
    department: str
    others: list[str]


def own_result(
    session: Session, subject_id: int | None, result_id: int
) -> tuple[EvaluationResult, EvaluationRun]:
    """The evaluation result, if it is this subject's (404 otherwise: another's result is not revealed)."""
    result = session.get(EvaluationResult, result_id)
    if result is None or subject_id is None or result.subject_id != subject_id:
        raise NotFound("未找到该评价结果", code="objection.result_not_found")
    run = session.get(EvaluationRun, result.run_id)
    assert run is not None
    return result, run


def indicator_of(model: ModelFile, code: str | None) -> Indicator | None:
    """The disputed indicator (None: the model as a whole); an unknown code is refused."""
    if not code:
        return None
    for indicator in model.indicators:
        if indicator.code == code:
            return indicator
    raise ValidationFailed(f"评价模型中没有指标“{code}”", code="objection.unknown_indicator")


def records_behind(
    session: Session, indicator: Indicator | None, subject_id: int, as_of: dt.date
) -> list[Record]:
    """The subject's records in force on the as-of day among the indicator's source items."""
    items = rules.items_of(indicator) if indicator is not None else []
    if not items:
        return []
    found = repository.subject_records_in_force(session, subject_id, items, as_of)
    return sorted(
        (r for r in found if r.decision_date is None or r.decision_date <= as_of),
        key=lambda r: (r.decision_date or dt.date.min, r.id),
    )


def route(records: Sequence[Record], credit_office: str) -> Route:
    """The provider with the most records answers (ties: the lowest code), the others are named; else the
    credit office."""
    counts = Counter(r.provider_code for r in records)
    if not counts:
        return Route(credit_office, [])
    ranked = sorted(counts, key=lambda code: (-counts[code], code))
    return Route(ranked[0], ranked[1:])


def file(
    session: Session,
    ctx: UseCaseContext,
    models: Mapping[str, ModelFile],
    *,
    answer_workdays: int,
    credit_office: str,
    result_id: int,
    indicator_code: str | None,
    reasons: str,
    filer_name: str,
    filer_contact: str | None,
    evidence: Sequence[Upload],
) -> Objection:
    """The subject objects to its current grade, naming an indicator or none (the model as a whole)."""
    result, run = own_result(session, ctx.principal.subject_id, result_id)
    current = service.current_grade(session, run.model_code, result.subject_id)
    if current is None or current.run_id != run.id:
        raise Conflict(
            "该评价结果已被新的评价结果取代，请对当前评价结果提出异议", code="objection.result_superseded"
        )
    model = service.get_model(models, run.model_code)
    indicator = indicator_of(model, indicator_code)
    routed = route(records_behind(session, indicator, result.subject_id, run.as_of), credit_office)
    label = f"{model.name} {result.grade}级" + (f"，指标“{indicator.name}”" if indicator else f"，{WHOLE}")
    return objections.file_grade(
        session,
        ctx,
        answer_workdays=answer_workdays,
        result_id=result.id,
        subject_id=result.subject_id,
        model_code=model.code,
        indicator_code=indicator.code if indicator else None,
        label=label,
        department_code=routed.department,
        other_departments=routed.others,
        reasons=reasons,
        filer_name=filer_name,
        filer_contact=filer_contact,
        evidence=evidence,
    )


def case(session: Session, models: Mapping[str, ModelFile], objection: Objection) -> dict[str, Any]:
    """What the department reads: the model, score and grade objected to, the indicator's value and points,
    the records behind it, and the re-graded result once a later run graded the subject."""
    assert objection.evaluation_result_id is not None
    result = session.get(EvaluationResult, objection.evaluation_result_id)
    assert result is not None
    run = session.get(EvaluationRun, result.run_id)
    assert run is not None
    model = models.get(run.model_code)
    indicator = None
    if model is not None and objection.indicator_code:
        indicator = next((i for i in model.indicators if i.code == objection.indicator_code), None)
    value, points = (
        (result.indicators or {}).get("items", {}).get(objection.indicator_code or "", [None, None])
    )
    current: EvaluationGrade | None = service.current_grade(session, run.model_code, result.subject_id)
    regraded = current if current is not None and current.run_id != run.id else None
    # A later run that found the same inputs writes no new result: the result objected to still holds.
    holds = service.holds_as_of(session, current) if current is not None and regraded is None else None
    return {
        "model_name": model.name if model else run.model_code,
        "model_version": run.model_version,
        "labels": {g.grade: g.label for g in model.grades} if model else {},
        "as_of": run.as_of,
        "score": result.score,
        "grade": result.grade,
        "indicator": (
            {"code": indicator.code, "name": indicator.name, "source": indicator.source}
            if indicator is not None
            else None
        ),
        "indicator_code": objection.indicator_code,
        "value": value,
        "points": points,
        "records": records_behind(session, indicator, result.subject_id, run.as_of),
        "regraded": regraded,
        "unchanged_as_of": holds if holds is not None and holds > run.as_of else None,
    }
