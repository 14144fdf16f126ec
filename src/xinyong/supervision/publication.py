"""What a draw publishes and how anyone checks it: the draw's result (`xinyong supervision draw --json`), the
published document (the plan's inputs, its frozen scope list, the revealed nonce and the drawn list), its
verification from that document alone, and the fairness figures of the console.

Natural persons and individual businesses (often a personal name) are masked wherever a draw is published
(`rules.public_name`, `rules.public_uscc`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.kit.errors import Conflict, ValidationFailed
from xinyong.subjects.models import Subject
from xinyong.supervision import plans, rules
from xinyong.supervision.models import (
    InspectionDraw,
    InspectionDrawSubject,
    InspectionPlan,
    InspectionPlanSubject,
    Inspector,
)


def _drawn_rows(session: Session, draw: InspectionDraw) -> list[tuple[InspectionDrawSubject, str, str]]:
    rows = session.execute(
        select(InspectionDrawSubject, Subject.kind, Subject.name)
        .join(Subject, Subject.id == InspectionDrawSubject.subject_id)
        .where(InspectionDrawSubject.draw_id == draw.id)
        .order_by(InspectionDrawSubject.position)
    ).all()
    return [(row, kind, name) for row, kind, name in rows]


def _inspectors(draw: InspectionDraw, names: Mapping[int, str]) -> dict[int, dict[str, str]]:
    return {
        int(i["id"]): {"name": names.get(int(i["id"]), ""), "licence_no": str(i["licence_no"])}
        for i in draw.inspectors
    }


def _inspector_names(session: Session, draw: InspectionDraw) -> dict[int, str]:
    ids = [int(i["id"]) for i in draw.inspectors]
    return (
        dict(session.execute(select(Inspector.id, Inspector.name).where(Inspector.id.in_(ids))).all())
        if ids
        else {}
    )


def result(session: Session, plan: InspectionPlan) -> dict[str, Any]:
    """`{"plan_id", "seed", "drawn": [{"uscc", "name", "tier", "inspectors": [{"name", "licence_no"}]}],
    "counts_by_tier", "targets", "commitment", "nonce", "result_digest"}`; names of persons masked."""
    draw = plans.draw_of(session, plan.id)
    if draw is None:
        raise Conflict(f"抽查计划 {plan.id} 尚未抽取", code="supervision.not_drawn")
    people = _inspectors(draw, _inspector_names(session, draw))
    return {
        "plan_id": plan.id,
        "seed": draw.seed,
        "commitment": plan.commitment,
        "nonce": draw.nonce,
        "drawn": [
            {
                "uscc": rules.public_uscc(kind, row.uscc),
                "name": rules.public_name(kind, name),
                "tier": row.tier,
                "inspectors": [people[i] for i in row.inspector_ids],
            }
            for row, kind, name in _drawn_rows(session, draw)
        ],
        "counts_by_tier": draw.counts_by_tier,
        "targets": draw.targets,
        "result_digest": draw.result_digest,
    }


def scope_list(session: Session, plan_id: int) -> list[list[str]]:
    """The frozen scope as published: `[uscc, tier]` by USCC (byte order)."""
    rows = session.execute(
        select(InspectionPlanSubject.uscc, InspectionPlanSubject.tier).where(
            InspectionPlanSubject.plan_id == plan_id
        )
    ).all()
    return sorted([uscc, tier] for uscc, tier in rows)


def published_document(session: Session, plan: InspectionPlan) -> dict[str, Any]:
    """Everything needed to recompute the draw: the inputs (with the commitment), the frozen scope list and,
    once drawn, the revealed nonce, the seed and the drawn list (`[uscc, tier]` in draw order). The scope list
    carries each subject's tier, hence its grade class: it is given to those entitled to grades; the public sees
    its digest and the counts per tier."""
    document: dict[str, Any] = {
        "inputs": plans.inputs_of(plan, plans.scope_counts(session, plan)),
        "scope": scope_list(session, plan.id),
    }
    draw = plans.draw_of(session, plan.id)
    if draw is not None:
        document["nonce"] = draw.nonce
        document["seed"] = draw.seed
        document["drawn"] = [
            [row.uscc, row.tier]
            for row in session.scalars(
                select(InspectionDrawSubject)
                .where(InspectionDrawSubject.draw_id == draw.id)
                .order_by(InspectionDrawSubject.position)
            )
        ]
    return document


def _pairs(rows: Any, what: str) -> list[tuple[str, str]]:
    """`[uscc, tier]` rows, as the department's document lists them, or `{"uscc", "tier", ...}` objects, as the
    public document lists its drawn subjects when the grades are public."""
    if not isinstance(rows, list):
        raise ValidationFailed(f"文件中的 {what} 须为列表", code="supervision.document_invalid")
    pairs = []
    for row in rows:
        if isinstance(row, Mapping) and "uscc" in row and "tier" in row:
            pairs.append((str(row["uscc"]), str(row["tier"])))
        elif isinstance(row, list) and len(row) == 2:
            pairs.append((str(row[0]), str(row[1])))
        else:
            raise ValidationFailed(
                f"文件中的 {what} 每项须为 [统一社会信用代码, 档次]（或含 uscc 与 tier）",
                code="supervision.document_invalid",
            )
    return pairs


def recompute(document: Mapping[str, Any]) -> tuple[str, list[list[str]], list[str]]:
    """From a published document alone: the seed and the drawn list, and what does not check out (the nonce
    against the commitment, the inputs against their digest when given, the scope list against its digest and
    counts). The document is the department's (`published_document`) or the public one when it holds the scope
    (grades public); one without a scope list is refused (`supervision.scope_not_public`)."""
    inputs = document.get("inputs") if isinstance(document, Mapping) else None
    if not isinstance(inputs, Mapping):
        raise ValidationFailed(
            "文件不是公布的抽查计划文件（缺少 inputs）", code="supervision.document_invalid"
        )
    if "scope" not in document:
        raise ValidationFailed(
            "文件不含检查对象名录（据以分档的信用评价结果未公开），不能重算完整名单；"
            "可核对承诺值、种子和名单中各主体的排序值，完整重算由制定计划的部门或信用办进行",
            code="supervision.scope_not_public",
        )
    nonce = str(document.get("nonce") or "")
    problems: list[str] = []
    if rules.commitment_of(nonce) != inputs.get("commitment"):
        problems.append("nonce 与计划公布的承诺值（commitment）不符")
    if (
        "inputs_digest" in document
        and rules.sha256_hex(rules.canonical(dict(inputs))) != document["inputs_digest"]
    ):
        problems.append("inputs 与公布的输入摘要（inputs_digest）不符")
    scope = _pairs(document["scope"], "scope")
    if rules.scope_digest(scope) != inputs.get("scope_digest"):
        problems.append("检查对象名录与公布的摘要（scope_digest）不符")
    if len(scope) != inputs.get("scope_count"):
        problems.append("检查对象数量与公布的数量不符")
    table = rules.parse_tier_table(inputs.get("tiers") or {})
    seed = rules.seed_of(inputs, nonce)
    drawn, _targets = rules.draw(seed, [rules.ScopeSubject(u, t) for u, t in scope], table)
    return seed, [[s.uscc, s.tier] for s in drawn], problems


def check_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """`xinyong supervision recompute`: recompute the draw from a published document and compare it with the
    seed, the drawn list and, in the public document, each drawn subject's published key. `ok` only when all
    agree."""
    seed, drawn, problems = recompute(document)
    if seed != document.get("seed"):
        problems.append("重算的种子与公布的种子不同")
    published = _pairs(document.get("drawn") or [], "drawn")
    if drawn != [list(pair) for pair in published]:
        problems.append("重算的抽取名单与公布的名单不同")
    keys = [row.get("key") for row in document.get("drawn") or [] if isinstance(row, Mapping)]
    if any(key != rules.order_key(seed, uscc) for key, (uscc, _tier) in zip(keys, published, strict=False)):
        problems.append("名单中主体的排序值（key）与重算的不同")
    return {"seed": seed, "drawn": len(drawn), "ok": not problems, "problems": problems}


def verify(session: Session, plan: InspectionPlan) -> dict[str, Any]:
    """Recompute the draw from the published document and compare: the seed, the drawn list, and the stored
    assignment of inspectors recomputed from the pool the draw used. `ok` only when all are identical."""
    document = published_document(session, plan)
    if "drawn" not in document:
        raise Conflict(f"抽查计划 {plan.id} 尚未抽取", code="supervision.not_drawn")
    seed, drawn, problems = recompute(document)
    if seed != document["seed"]:
        problems.append("重算的种子与公布的种子不同")
    if drawn != document["drawn"]:
        problems.append("重算的抽取名单与公布的名单不同")
    if plans.frozen_digest(session, plan.id) != plan.scope_digest:
        problems.append("库中冻结的检查对象与计划公布的摘要不同")
    draw = plans.draw_of(session, plan.id)
    assert draw is not None
    assigned = rules.assign(
        seed,
        [rules.ScopeSubject(u, t) for u, t in drawn],
        plans.entries(draw.inspectors),
        region=plan.region_code,
    )
    stored = [
        row.inspector_ids
        for row in session.scalars(
            select(InspectionDrawSubject)
            .where(InspectionDrawSubject.draw_id == draw.id)
            .order_by(InspectionDrawSubject.position)
        )
    ]
    if assigned != stored:
        problems.append("重算的执法检查人员分配与保存的不同")
    licence = {int(i["id"]): str(i["licence_no"]) for i in draw.inspectors}
    digest = plans.result_digest([(u, t) for u, t in drawn], [[licence[i] for i in a] for a in assigned])
    if digest != draw.result_digest:
        problems.append("结果摘要（result_digest）不符")
    return {"plan_id": plan.id, "seed": seed, "drawn": len(drawn), "ok": not problems, "problems": problems}


# --- fairness ------------------------------------------------------------------------------------------------


def _month(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def fairness(session: Session, plan: InspectionPlan) -> dict[str, Any]:
    """Realised ratio per tier against the target, and the drawn subjects drawn more often than their tier's
    frequency allows (counting the department's other drawn plans by their start month)."""
    table = rules.parse_tier_table(plan.tiers)
    sizes = plans.scope_counts(session, plan)
    draw = plans.draw_of(session, plan.id)
    if draw is None:
        return {"tiers": rules.realised(rules.targets(table, sizes), {}, sizes), "flags": []}
    rows = rules.realised(draw.targets, draw.counts_by_tier, sizes)
    for row in rows:
        tier = table.by_code().get(row["tier"])
        row["target_pct"] = str(tier.ratio_pct) if tier else ""
    drawn = dict(
        session.execute(
            select(InspectionDrawSubject.subject_id, InspectionDrawSubject.tier).where(
                InspectionDrawSubject.draw_id == draw.id
            )
        ).all()
    )
    labels = {
        subject_id: (kind, uscc, name)
        for subject_id, kind, uscc, name in session.execute(
            select(Subject.id, Subject.kind, InspectionDrawSubject.uscc, Subject.name)
            .join(Subject, Subject.id == InspectionDrawSubject.subject_id)
            .where(InspectionDrawSubject.draw_id == draw.id)
        ).all()
    }
    history: dict[int, list[tuple[int, int]]] = defaultdict(list)
    ids = list(drawn)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for subject_id, plan_id, day in session.execute(
            select(InspectionDrawSubject.subject_id, InspectionPlan.id, InspectionPlan.period_from)
            .join(InspectionPlan, InspectionPlan.id == InspectionDrawSubject.plan_id)
            .where(
                InspectionPlan.department_code == plan.department_code,
                InspectionDrawSubject.subject_id.in_(chunk),
                InspectionPlan.period_from <= plan.period_to,
            )
        ).all():
            history[subject_id].append((plan_id, _month(day)))
    flags = []
    tier_rules = table.by_code()
    for subject_id, tier_code in drawn.items():
        tier = tier_rules.get(tier_code)
        months = [m for _, m in history[subject_id]]
        if tier and rules.over_frequency(months, tier.per_period, tier.period_months):
            flags.append(
                {
                    "subject_id": subject_id,
                    "uscc": rules.public_uscc(*labels[subject_id][:2]),
                    "name": rules.public_name(labels[subject_id][0], labels[subject_id][2]),
                    "tier": tier_code,
                    "plans": sorted(p for p, _ in history[subject_id]),
                    "allowed": f"{tier.period_months} 个月内至多 {tier.per_period} 次",
                }
            )
    return {"tiers": rows, "flags": flags}
