"""What the portal publishes of each inspection plan (双随机、一公开, `/supervision`): the plans with their
departments and result counts, and a plan's published document — its inputs, once drawn the nonce, seed,
targets and counts per tier, and the drawn subjects with their keys and results (`results.plan_results`),
with the steps to verify them.

Natural persons and individual businesses are masked (`rules.public_name`, `rules.public_uscc`). A tier is a
grade class: the scope list and each drawn subject's tier are published only while the credit office publishes
the grades that set the tiers (`grades_published`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department
from xinyong.evaluation.schemas import ModelFile
from xinyong.kit.identifiers import mask_ids
from xinyong.subjects.models import Subject
from xinyong.supervision import plans as supervision_plans
from xinyong.supervision import publication
from xinyong.supervision import rules as supervision_rules
from xinyong.supervision.models import InspectionDraw, InspectionDrawSubject, InspectionPlan
from xinyong.supervision.results import plan_results
from xinyong.supervision.task_models import InspectionResult

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
