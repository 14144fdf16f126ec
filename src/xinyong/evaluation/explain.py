"""A subject's grade explained item by item, who may read it, and the dated events that would change it.

The points of the explanation add up to the score: the model's base score, each indicator's points and, when
the model's score range cut the total, that adjustment as a line of its own. `next_changes` lists the days on
which a record or list entry in force stops counting (its publicity ends, or it leaves an indicator's time
window) and the grade after, and what repairing a record (信用修复) would change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal, allows
from xinyong.audit import service as audit
from xinyong.catalog.schemas import Catalog
from xinyong.evaluation import compiler, repository, results, rules, service
from xinyong.evaluation.schemas import (
    EvaluationRead,
    ExternalGradeFeature,
    Indicator,
    IndicatorExplained,
    ModelFile,
    NextChange,
    VetoExplained,
)
from xinyong.kit.errors import NotFound
from xinyong.objections import service as objections
from xinyong.subjects.models import Subject

LIST_NAMES = {
    "serious_dishonesty": "严重失信主体名单",
    "red": "守信激励对象名单",
    "market_ban": "市场禁入名单",
}
MAX_CANDIDATES = 12  # dated changes looked at (each is one single-subject feature query)
REPAIRABLE = ("轻微", "一般")


def default_model_code(subject: Subject) -> str:
    return "personal_incentive" if subject.kind == "natural_person" else "public_comprehensive"


def view_of(principal: Principal, subject: Subject, model: ModelFile, purpose: str | None) -> str | None:
    """Who reads: the subject itself ("own"), a government user with a stated purpose ("government"), anyone
    where the credit office publishes the model's grades ("public", never a natural person's); else None."""
    if principal.subject_id is not None and principal.subject_id == subject.id:
        return "own"
    if allows(principal, "subjects:read_nonpublic") and purpose and purpose.strip():
        return "government"
    if model.publish_grades and subject.kind != "natural_person" and model.use != "incentive":
        return "public"
    return None


def _grade_at(
    session: Session, model: ModelFile, subject_id: int, day: dt.date, exclude: tuple[int, ...] = ()
) -> str | None:
    dialect = service.DIALECT_OF[service.engine_of(session)]
    sql = compiler.feature_query(
        model, as_of=day, dialect=dialect, subject_ids=[subject_id], exclude_record_ids=exclude
    )
    row = session.execute(text(sql)).mappings().first()
    if row is None:
        return None
    values = {i.code: results.plain_feature(row.get(i.code)) for i in model.indicators}
    return rules.evaluate(model, values).grade


def next_changes(
    session: Session, catalog: Catalog, model: ModelFile, subject_id: int, as_of: dt.date, grade: str
) -> list[NextChange]:
    """The dated events that would change the grade, and what repairing a record would change."""
    items = {item for indicator in model.indicators for item in rules.items_of(indicator)}
    names = {i.code: i.name for i in catalog.items}
    dated: dict[dt.date, list[str]] = {}
    records = repository.subject_records_in_force(session, subject_id, items, as_of) if items else []
    for record in records:
        label = f"{names.get(record.item_code, record.item_code)} {record.doc_no or ''}".strip()
        for day in rules.record_exit_dates(
            model, record.item_code, record.severity, record.decision_date, record.public_until, as_of
        ):
            ends = record.public_until is not None and day == record.public_until + dt.timedelta(days=1)
            dated.setdefault(day, []).append(f"{label}{'公示期满' if ends else '超出评价时间范围'}")
    if any(i.feature.kind == "list_in_force" for i in model.indicators):
        for entry in repository.subject_entries_in_force(session, subject_id, as_of):
            if entry.public_until is not None:
                day = entry.public_until + dt.timedelta(days=1)
                dated.setdefault(day, []).append(
                    f"{LIST_NAMES.get(entry.list_type, entry.list_type)}期满移出"
                )
    changes: list[NextChange] = []
    current = grade
    for day in sorted(dated)[:MAX_CANDIDATES]:
        after = _grade_at(session, model, subject_id, day)
        if after is not None and after != current:
            changes.append(NextChange(on=day, what="；".join(dated[day]), grade_after=after))
            current = after
    for record in records[:MAX_CANDIDATES]:
        if record.severity not in REPAIRABLE:
            continue
        after = _grade_at(session, model, subject_id, as_of, exclude=(record.id,))
        if after is not None and after != grade:
            on = max(as_of, record.min_public_until or as_of)
            what = f"信用修复：{names.get(record.item_code, record.item_code)} {record.doc_no or ''}".strip()
            changes.append(NextChange(on=on, what=what, grade_after=after))
    return changes


def _still_valid(fields: Mapping[str, object], key: str | None, as_of: dt.date) -> bool:
    until = fields.get(key) if key else None
    return until is None or str(until) >= as_of.isoformat()


def external_source(
    session: Session, indicator: Indicator, feature: ExternalGradeFeature, subject_id: int, as_of: dt.date
) -> str:
    """An external grade's source as shown: the indicator's source, then who gave the grade and on what day
    (the subject's latest record in force of the item, as the feature query picks it)."""
    records = [
        r
        for r in repository.subject_records_in_force(session, subject_id, [feature.item], as_of)
        if all(str((r.fields or {}).get(k)) == v for k, v in feature.field_equals.items())
        and (r.decision_date is None or r.decision_date <= as_of)
        and _still_valid(r.fields or {}, feature.valid_until_field, as_of)
    ]
    if not records:
        return indicator.source
    latest = max(records, key=lambda r: (r.decision_date or dt.date.min, r.id))
    fields = latest.fields or {}
    given = "，".join(
        str(part)
        for part in (fields.get("source"), fields.get("evaluation_name"), fields.get("evaluator"))
        if part
    )
    day = latest.decision_date
    dated = f"{day.year}年{day.month}月{day.day}日评价" if day else ""
    until = latest.public_until
    if feature.valid_until_field and fields.get(feature.valid_until_field):
        until = dt.date.fromisoformat(str(fields[feature.valid_until_field]))
    valid = f"，有效期至{until.year}年{until.month}月{until.day}日" if until else ""
    detail = "，".join(part for part in (given, dated) if part) + valid
    return f"{indicator.source}（{detail}）" if detail else indicator.source


def explain(
    session: Session,
    catalog: Catalog,
    models: Mapping[str, ModelFile],
    principal: Principal,
    subject: Subject,
    *,
    model_code: str | None = None,
    purpose: str | None = None,
    ip: str | None = None,
) -> EvaluationRead:
    """The subject's current grade under the model, explained; reading it is audited unless it is public."""
    model = service.get_model(models, model_code or default_model_code(subject))
    view = view_of(principal, subject, model, purpose)
    not_found = NotFound("该主体没有可查看的信用评价结果", code="evaluation.not_available")
    if view is None:
        raise not_found
    grade = service.current_grade(session, model.code, subject.id)
    result = repository.result_of(session, grade.run_id, subject.id) if grade is not None else None
    if grade is None or result is None:
        raise not_found
    if view != "public":
        audit.record(
            session,
            principal,
            "evaluation.view_own" if view == "own" else "evaluation.view",
            subject_id=subject.id,
            purpose=(purpose or "").strip() or None,
            ip=ip,
            details={"model": model.code, "grade": grade.grade},
        )
    as_of = repository.holds_as_of(session, grade)
    document = result.indicators
    lines = [IndicatorExplained(code="base", name="基础分", value=None, points=document["base"], source=None)]
    items = document.get("items", {})
    for indicator in model.indicators:
        value, points = items.get(indicator.code, [None, 0.0])
        source = indicator.source
        if isinstance(indicator.feature, ExternalGradeFeature) and value is not None:
            source = external_source(session, indicator, indicator.feature, subject.id, as_of)
        lines.append(
            IndicatorExplained(
                code=indicator.code, name=indicator.name, value=value, points=points, source=source
            )
        )
    if document.get("adjustment"):
        lines.append(
            IndicatorExplained(
                code="score_range",
                name="分值上下限调整",
                value=None,
                points=document["adjustment"],
                source=None,
            )
        )
    vetoes = {v.code: v for v in model.vetoes}
    return EvaluationRead(
        model=model.code,
        model_version=model.version,
        as_of=as_of,
        score=grade.score,
        grade=grade.grade,
        indicators=lines,
        vetoes=[
            VetoExplained(code=c, name=vetoes[c].name, grade=vetoes[c].grade)
            for c in result.vetoes
            if c in vetoes
        ],
        next_changes=next_changes(session, catalog, model, subject.id, as_of, grade.grade),
        objection_pending=objections.grade_pending(session, subject.id, model.code),
    )
