"""Inspection results (检查结果) of a plan's drawn subjects: entered by the inspecting department, or sent
through ingestion as `JC` (行政检查) records with `inspection_type` 双随机抽查 and the plan's number in
`plan_id`. Either way the result is a `JC` record made by the records owner (ingestion, the plan's department
as provider), so it is in the subject's credit file and its domain event lets the next incremental evaluation
pick the subject up; `inspection_results` links it to the drawn subject for the public page (一公开).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.models import Department
from xinyong.accounts.policy import Principal, may_act_for_department
from xinyong.catalog import service as catalog_service
from xinyong.catalog.schemas import Catalog
from xinyong.evaluation.schemas import ModelFile
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.kit.identifiers import mask_ids
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.records.service import IngestContext
from xinyong.subjects.models import Subject
from xinyong.supervision import plans as supervision_plans
from xinyong.supervision import publication
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


# --- publication (一公开) -------------------------------------------------------------------------------

VERIFY_STEPS = (
    "1. 计划公布时即公布承诺值 commitment = SHA-256(nonce)；抽取时公布 nonce，核对 SHA-256(nonce) 等于 commitment。",
    "2. 将 inputs 按键名排序、无空格、UTF-8 序列化为 JSON（canonical JSON），核对其 SHA-256 等于 inputs_digest。",
    "3. 种子 seed = SHA-256(canonical(inputs) 的字节 + nonce 的 UTF-8 字节)，以十六进制小写表示。",
    "4. 每个主体的排序值 key = SHA-256(seed + 统一社会信用代码)（十六进制小写）；各档次内按 key 从小到大取前"
    " targets[档次] 个，名单中每个主体的 key 均可按此复核。",
    "5. 主体所在档次即其信用等级类别，而据以分档的公共信用综合评价结果未向社会公开，故完整的检查对象名录（各主体档次）"
    "不予公开，本文件只含各档次的主体数（inputs.scope_by_tier）；主体本人可在账户“监管检查”中查看自己的档次、"
    "排序值以及是否落在本档次的抽取线以内。",
    "6. 制定计划的部门和信用办持有完整名录，可运行 xinyong supervision draw --plan ID --verify 由完整名录重算全部抽取结果。",
)

# When the credit office publishes the grades that set the tiers, the scope list (USCC and tier of every subject)
# is published too, and anyone recomputes the whole draw.
VERIFY_STEPS_FULL = (
    *VERIFY_STEPS[:4],
    "5. 据以分档的信用评价结果已向社会公开，本文件的 scope 列出检查对象名录（统一社会信用代码、档次，按代码字节序）："
    "逐行拼接“代码,档次\\n”后的 SHA-256 应等于 inputs.scope_digest，行数等于 inputs.scope_count。",
    "6. 按第 4 步在每个档次内重算抽取名单，应与 drawn 完全一致；也可下载本文件后运行"
    " xinyong supervision recompute 文件名（无需数据库），一致才以 0 退出。",
)


def grades_published(models: Mapping[str, ModelFile]) -> bool:
    """Whether the credit office publishes the grades that set the tiers (`plans.GRADE_MODEL`): the model's
    publication setting, as the evaluation pages read it (never an incentive or opt-in model's)."""
    model = models.get(supervision_plans.GRADE_MODEL)
    return bool(
        model is not None
        and model.publish_grades
        and model.use != "incentive"
        and not model.applies_to.opt_in
    )


def percent(value: Decimal) -> str:
    """A ratio in per cent as people write it: 3, 12.5 (not 3.00)."""
    return format(value.normalize(), "f")


def _masked(kind: str, name: str, uscc: str) -> tuple[str, str]:
    return mask_ids(supervision_rules.public_name(kind, name)), supervision_rules.public_uscc(kind, uscc)


def public_drawn(session: Session, plan: InspectionPlan, *, with_tier: bool = False) -> list[dict[str, Any]]:
    """The drawn subjects as published: legal persons by name and USCC; natural persons and individual
    businesses with the personal name masked (and a natural person's code); each with its key in the draw and
    its result when entered. Its tier only `with_tier` (the grades that set the tiers are public), the list then
    in draw order (tier by tier); otherwise by key, since a tier is a grade class and the draw order, tier by
    tier, with the counts per tier would tell it."""
    draw = session.scalar(select(InspectionDraw).where(InspectionDraw.plan_id == plan.id))
    if draw is None:
        return []
    found = plan_results(session, plan.id)
    rows = session.execute(
        select(InspectionDrawSubject, Subject.kind, Subject.name)
        .join(Subject, Subject.id == InspectionDrawSubject.subject_id)
        .where(InspectionDrawSubject.draw_id == draw.id)
        .order_by(InspectionDrawSubject.position)
    ).all()
    drawn = []
    for entry, kind, name in rows:
        shown_name, shown_uscc = _masked(kind, name, entry.uscc)
        result = found.get(entry.id)
        drawn.append(
            {
                "position": entry.position,
                "uscc": shown_uscc,
                "name": shown_name,
                "masked": kind in supervision_rules.PERSONAL_KINDS,
                "key": None
                if kind == "natural_person"
                else supervision_rules.order_key(draw.seed, entry.uscc),
                "result": None
                if result is None
                else {
                    "result": result.result,
                    "inspected_on": result.inspected_on.isoformat(),
                    "doc_no": result.doc_no,
                    "inspection_items": mask_ids(result.inspection_items),
                },
            }
            | ({"tier": entry.tier} if with_tier else {})
        )
    if not with_tier:
        # The draw's order is tier by tier: with the published counts per tier it would tell each subject's
        # tier. Without tiers the list goes by key, numbered afresh (each key still checks against the seed).
        drawn.sort(key=lambda d: (d["key"] is None, d["key"] or "", d["uscc"]))
        for position, row in enumerate(drawn, 1):
            row["position"] = position
    return drawn


def public_document(
    session: Session, plan: InspectionPlan, department_name: str, *, grades_public: bool = False
) -> dict[str, Any]:
    """The plan's published inputs and, once drawn, the nonce, seed, targets and counts per tier and the drawn
    list with results: enough for anyone to check the commitment, the seed and each listed subject's key.

    Tiers are grade classes. When the grades that set them are public (`grades_published`, `grades_public`),
    the document also holds the frozen scope list (`scope`: `[uscc, tier]` by USCC, in the format of
    `publication.published_document`) and each drawn subject's tier, so that anyone recomputes the whole draw
    (`VERIFY_STEPS_FULL`, `xinyong supervision recompute`). Otherwise it holds no subject's tier or grade, only
    the counts per tier (`inputs.scope_by_tier`); the department and the credit office recompute the draw with
    `xinyong supervision draw --verify`, and a subject reads its own tier and key in its account."""
    counts = supervision_plans.scope_counts(session, plan)
    document: dict[str, Any] = {
        "plan_id": plan.id,
        "department_name": department_name,
        "inputs": supervision_plans.inputs_of(plan, counts),
        "inputs_digest": plan.inputs_digest,
        "status": plan.status,
        "scope_public": grades_public,
        "verify": list(VERIFY_STEPS_FULL if grades_public else VERIFY_STEPS),
    }
    if grades_public:
        document["scope"] = publication.scope_list(session, plan.id)
    draw = session.scalar(select(InspectionDraw).where(InspectionDraw.plan_id == plan.id))
    if draw is not None:
        drawn = public_drawn(session, plan, with_tier=grades_public)
        document.update(
            {
                "nonce": draw.nonce,
                "seed": draw.seed,
                "targets": draw.targets,
                "counts_by_tier": draw.counts_by_tier,
                "drawn_at": draw.drawn_at.isoformat(),
                "drawn": drawn,
            }
        )
    return document


def published_plans(session: Session) -> list[tuple[InspectionPlan, str, int]]:
    """Every published plan, newest period first, with its department's name and how many results it has."""
    counted = (
        select(InspectionResult.plan_id, func.count(InspectionResult.id).label("n"))
        .group_by(InspectionResult.plan_id)
        .subquery()
    )
    rows = session.execute(
        select(InspectionPlan, Department.name, counted.c.n)
        .join(Department, Department.code == InspectionPlan.department_code)
        .outerjoin(counted, counted.c.plan_id == InspectionPlan.id)
        .order_by(InspectionPlan.period_from.desc(), InspectionPlan.id.desc())
        .limit(500)
    ).all()
    return [(plan, name, int(n or 0)) for plan, name, n in rows]
