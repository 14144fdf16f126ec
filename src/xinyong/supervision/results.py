"""Inspection results (检查结果) of a plan's drawn subjects: entered by the inspecting department, or sent
through ingestion as `JC` (行政检查) records with `inspection_type` 双随机抽查 and the plan's number in
`plan_id`. Either way the result is a `JC` record made by the records owner (ingestion, the plan's department
as provider), so it is in the subject's credit file and its domain event lets the next incremental evaluation
pick the subject up; `inspection_results` links it to the drawn subject for the public page (一公开, `portal`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.models import Department
from xinyong.accounts.policy import Principal, may_act_for_department
from xinyong.catalog import service as catalog_service
from xinyong.catalog.schemas import Catalog
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.records.service import IngestContext
from xinyong.subjects.models import Subject
from xinyong.supervision import plans as supervision_plans
from xinyong.supervision import rules as supervision_rules
from xinyong.supervision.models import (
    InspectionDraw,
    InspectionDrawSubject,
    InspectionPlan,
    InspectionPlanSubject,
)
from xinyong.supervision.task_models import InspectionResult

log = logging.getLogger(__name__)

ITEM = "JC"  # 行政检查
RANDOM_INSPECTION = "双随机抽查"


class ResultError(ValidationFailed):
    pass


def result_choices(catalog: Catalog) -> list[str]:
    """The results an inspection may have: the `JC` item's `result` enum."""
    spec = catalog_service.get_item(catalog, ITEM).field("result")
    return list(spec.enum or []) if spec is not None else []


def get_plan(session: Session, plan_id: int) -> InspectionPlan:
    plan = session.get(InspectionPlan, plan_id)
    if plan is None:
        raise NotFound(f"未找到抽查计划 {plan_id}", code="supervision.plan_not_found")
    return plan


def drawn_subject(session: Session, plan: InspectionPlan, subject_id: int) -> InspectionDrawSubject:
    """The plan's draw entry of a subject; refused when the subject was not drawn (or not yet)."""
    entry = session.scalar(
        select(InspectionDrawSubject).where(
            InspectionDrawSubject.plan_id == plan.id, InspectionDrawSubject.subject_id == subject_id
        )
    )
    if entry is None:
        raise ResultError(
            "该主体未在本抽查计划中被抽中，不能录入抽查结果", code="supervision.subject_not_drawn"
        )
    return entry


@dataclass(frozen=True, slots=True)
class ResultInput:
    result: str
    inspected_on: dt.date
    inspection_items: str
    doc_no: str


def _check(plan: InspectionPlan, data: ResultInput, choices: Sequence[str], today: dt.date) -> None:
    if data.result not in choices:
        raise ResultError(f"检查结果须为以下之一：{'、'.join(choices)}", code="supervision.result_invalid")
    if not plan.period_from <= data.inspected_on <= plan.period_to:
        raise ResultError(
            f"检查日期须在计划期间内（{plan.period_from:%Y-%m-%d} 至 {plan.period_to:%Y-%m-%d}）",
            code="supervision.date_outside_plan",
        )
    if data.inspected_on > today:
        raise ResultError("检查日期不能晚于今天", code="supervision.date_in_future")
    if not data.inspection_items.strip():
        raise ResultError("请填写检查事项", code="supervision.items_required")
    if not data.doc_no.strip() or len(data.doc_no) > 128:
        raise ResultError("请填写检查编号（不超过128个字符）", code="supervision.doc_no_required")


def enter_result(
    session: Session,
    ctx: UseCaseContext,
    ingest: IngestContext,
    *,
    plan_id: int,
    uscc: str,
    data: ResultInput,
) -> InspectionResult:
    """Record a drawn subject's inspection result: a `JC` record through ingestion (the plan's department as
    provider), linked to the draw. Entering it again with the same document number corrects it (a new version
    of the record); another number for the same drawn subject is refused."""
    plan = get_plan(session, plan_id)
    if not may_act_for_department(ctx.principal, plan.department_code):
        raise Forbidden("只能录入本部门抽查计划的结果", code="supervision.other_department")
    subject = session.scalar(select(Subject).where(Subject.uscc == uscc))
    if subject is None:
        raise NotFound("未找到该主体", code="subject.not_found")
    entry = drawn_subject(session, plan, subject.id)
    _check(plan, data, result_choices(ctx.catalog), ctx.today)
    existing = session.scalar(select(InspectionResult).where(InspectionResult.draw_subject_id == entry.id))
    if existing is not None and existing.doc_no != data.doc_no.strip():
        raise Conflict(
            f"该主体的抽查结果已录入（检查编号 {existing.doc_no}），更正请使用同一检查编号",
            code="supervision.result_exists",
        )
    department = session.get(Department, plan.department_code)
    row = {
        "doc_no": data.doc_no.strip(),
        "subject_name": subject.name,
        "uscc": subject.uscc,
        "inspection_type": RANDOM_INSPECTION,
        "plan_id": str(plan.id),
        "inspection_items": data.inspection_items.strip(),
        "result": data.result,
        "decision_date": data.inspected_on.isoformat(),
        "authority_name": department.name if department else plan.department_code,
    }
    receipt = records.ingest_json(
        session, ingest, item_code=ITEM, provider_code=plan.department_code, records=[row]
    )
    if receipt.rejected or receipt.queued:
        reasons = "；".join(
            f"{e.get('field', '')}：{e.get('message', '')}" for r in receipt.rejected_rows for e in r.errors
        )
        raise ResultError(f"检查结果未能入库：{reasons or '主体待匹配'}", code="supervision.result_rejected")
    record = _record_of(session, plan.department_code, subject.id, data.doc_no.strip())
    return _link(
        session, plan, entry, record, data, source="console", by=ctx.principal.name, existing=existing
    )


def _record_of(session: Session, provider: str, subject_id: int, doc_no: str) -> Record:
    record = session.scalar(
        select(Record).where(
            Record.item_code == ITEM,
            Record.provider_code == provider,
            Record.subject_id == subject_id,
            Record.doc_no == doc_no,
        )
    )
    if record is None:  # pragma: no cover - ingestion accepted the row, so its record exists
        raise NotFound("未找到检查结果记录", code="supervision.record_missing")
    return record


def _link(
    session: Session,
    plan: InspectionPlan,
    entry: InspectionDrawSubject,
    record: Record,
    data: ResultInput,
    *,
    source: str,
    by: str,
    existing: InspectionResult | None,
) -> InspectionResult:
    result = existing or InspectionResult(
        plan_id=plan.id,
        draw_subject_id=entry.id,
        subject_id=entry.subject_id,
        department_code=plan.department_code,
        source=source,
    )
    result.record_id = record.id
    result.doc_no = data.doc_no.strip()
    result.result = data.result
    result.inspected_on = data.inspected_on
    result.inspection_items = data.inspection_items.strip()
    result.entered_by = by
    result.entered_at = dt.datetime.now(dt.UTC)
    if existing is None:
        session.add(result)
    session.flush()
    return result


def link_ingested(session: Session, catalog: Catalog, today: dt.date) -> int:
    """Link `JC` records sent through ingestion as 双随机抽查 with a `plan_id` to their plan's drawn subject;
    idempotent. A record naming an unknown plan, a subject not drawn, another department's plan or a day
    outside the plan's period is left unlinked (it stays an ordinary inspection record) and logged."""
    linked_ids = select(InspectionResult.record_id)
    candidates = session.scalars(
        select(Record)
        .where(
            Record.item_code == ITEM,
            Record.fields["inspection_type"].as_string() == RANDOM_INSPECTION,
            Record.fields["plan_id"].is_not(None),
            Record.id.not_in(linked_ids),
        )
        .order_by(Record.id)
    ).all()
    choices = result_choices(catalog)
    linked = 0
    for record in candidates:
        fields = record.fields or {}
        if fields.get("inspection_type") != RANDOM_INSPECTION or fields.get("plan_id") in (None, ""):
            continue
        try:
            plan = get_plan(session, int(fields["plan_id"]))
            if plan.department_code != record.provider_code:
                raise ResultError("计划不属于报送部门", code="supervision.other_department")
            entry = drawn_subject(session, plan, record.subject_id)
            data = ResultInput(
                result=str(fields.get("result") or ""),
                inspected_on=record.decision_date or today,
                inspection_items=str(fields.get("inspection_items") or ""),
                doc_no=record.doc_no or "",
            )
            _check(plan, data, choices, today)
        except (ValidationFailed, NotFound, ValueError) as error:
            log.info("inspection record %s not linked to a plan: %s", record.id, error)
            continue
        existing = session.scalar(
            select(InspectionResult).where(InspectionResult.draw_subject_id == entry.id)
        )
        if existing is not None and existing.doc_no != data.doc_no:
            log.info(
                "inspection record %s not linked: drawn subject already has result %s", record.id, existing.id
            )
            continue
        _link(
            session, plan, entry, record, data, source="ingestion", by=record.provider_code, existing=existing
        )
        linked += 1
    return linked


def plan_results(session: Session, plan_id: int) -> dict[int, InspectionResult]:
    """A plan's results by drawn-subject entry id."""
    rows = session.scalars(select(InspectionResult).where(InspectionResult.plan_id == plan_id))
    return {r.draw_subject_id: r for r in rows}


@dataclass(frozen=True, slots=True)
class SubjectInspection:
    plan: InspectionPlan
    department_name: str
    tier: str
    drawn_at: dt.datetime | None
    result: InspectionResult | None


def subject_inspections(session: Session, subject_id: int) -> list[SubjectInspection]:
    """Every plan that drew the subject, newest first, with its department, the subject's tier and result."""
    rows = session.execute(
        select(InspectionDrawSubject, InspectionPlan, Department.name, InspectionDraw.drawn_at)
        .join(InspectionPlan, InspectionPlan.id == InspectionDrawSubject.plan_id)
        .join(InspectionDraw, InspectionDraw.id == InspectionDrawSubject.draw_id)
        .join(Department, Department.code == InspectionPlan.department_code)
        .where(InspectionDrawSubject.subject_id == subject_id)
        .order_by(InspectionPlan.period_from.desc(), InspectionPlan.id.desc())
    ).all()
    found = {
        r.draw_subject_id: r
        for r in session.scalars(select(InspectionResult).where(InspectionResult.subject_id == subject_id))
    }
    return [
        SubjectInspection(plan, name, entry.tier, at, found.get(entry.id)) for entry, plan, name, at in rows
    ]


@dataclass(frozen=True, slots=True)
class OwnPlace:
    """A subject's own place in a drawn plan whose scope held it: what it checks by itself (its key, recomputed
    from the published seed and its USCC) and its tier's cut (the largest key drawn in that tier)."""

    plan: InspectionPlan
    department_name: str
    tier: str
    tier_name: str
    key: str  # SHA-256(seed ‖ own USCC)
    tier_size: int
    tier_target: int
    # The largest key drawn in the tier (None: the tier draws nobody): another subject's key, so it tells that
    # subject's tier; pages show `within_cut` only.
    cut: str | None
    within_cut: bool  # the key is at or below the cut: the subject must be on the list
    drawn: bool  # it is on the stored list


def own_places(session: Session, subject_id: int) -> list[OwnPlace]:
    """Every drawn plan whose frozen scope held the subject, newest first, with the subject's key and whether it
    fell within its tier's cut: `within_cut == drawn` is what the draw promises (the page flags any other)."""
    drawn_plans = list(session.scalars(select(InspectionDraw.plan_id).order_by(InspectionDraw.plan_id)))
    if not drawn_plans:
        return []
    held = session.execute(
        select(InspectionPlanSubject.plan_id, InspectionPlanSubject.uscc, InspectionPlanSubject.tier).where(
            InspectionPlanSubject.plan_id.in_(drawn_plans), InspectionPlanSubject.subject_id == subject_id
        )
    ).all()
    places = []
    for plan_id, own_uscc, tier in held:
        plan = get_plan(session, plan_id)
        draw = session.scalar(select(InspectionDraw).where(InspectionDraw.plan_id == plan_id))
        assert draw is not None
        department = session.get(Department, plan.department_code)
        in_tier = session.scalars(
            select(InspectionDrawSubject.uscc).where(
                InspectionDrawSubject.draw_id == draw.id, InspectionDrawSubject.tier == tier
            )
        ).all()
        keys = [(supervision_rules.order_key(draw.seed, u), u) for u in in_tier]
        cut = max(keys) if keys else None
        own = (supervision_rules.order_key(draw.seed, own_uscc), own_uscc)
        names = {t.code: t.name for t in supervision_rules.parse_tier_table(plan.tiers).tiers}
        places.append(
            OwnPlace(
                plan=plan,
                department_name=department.name if department else plan.department_code,
                tier=tier,
                tier_name=names.get(tier, tier),
                key=own[0],
                tier_size=supervision_plans.scope_counts(session, plan).get(tier, 0),
                tier_target=int(draw.targets.get(tier, 0)),
                cut=cut[0] if cut else None,
                within_cut=cut is not None and own <= cut,
                drawn=own_uscc in set(in_tier),
            )
        )
    places.sort(key=lambda p: (p.plan.period_from, p.plan.id), reverse=True)
    return places


def principal_may_enter(principal: Principal, plan: InspectionPlan) -> bool:
    return may_act_for_department(principal, plan.department_code)


def percent(value: Decimal) -> str:
    """A ratio in per cent as people write it: 3, 12.5 (not 3.00)."""
    return format(value.normalize(), "f")
