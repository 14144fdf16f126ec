"""Inspection plans (抽查计划) and their draws (抽取): create a plan (freezing tiers and scope and committing to a
nonce), draw once (seeded, stratified, inspectors assigned), publish, verify, and the fairness figures.

The seed and its weakness are described in `supervision.rules`. On PostgreSQL the selection is one set-based
statement (per tier, the smallest `sha256(seed ‖ uscc)` keys, `LIMIT` the tier's target); SQLite orders the
same keys in Python. Both give the list `rules.draw` gives (tested on both stores).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict
from typing import Any

from sqlalchemy import Table, case, func, insert, literal, select, text
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.db.bulk import bulk_insert
from xinyong.evaluation.models import EvaluationGrade
from xinyong.kit import regions
from xinyong.kit.errors import Conflict, NotFound, ValidationFailed
from xinyong.subjects.models import Subject
from xinyong.supervision import pools, rules, tiers
from xinyong.supervision.models import (
    InspectionDraw,
    InspectionDrawSubject,
    InspectionPlan,
    InspectionPlanSubject,
)

GRADE_MODEL = "public_comprehensive"  # the grades that steer supervision (evaluation's current grades)
MAX_MATTERS = 50


def _validate(
    name: str, period_from: dt.date, period_to: dt.date, region: str | None, matters: list[str]
) -> None:
    if not name.strip() or len(name.strip()) > 200:
        raise ValidationFailed("计划名称不能为空，最多 200 字", code="supervision.plan_name")
    if period_to < period_from:
        raise ValidationFailed(
            f"计划期间颠倒：{period_from.isoformat()} 晚于 {period_to.isoformat()}",
            code="supervision.period_reversed",
        )
    if (period_to - period_from).days > 366 * 3:
        raise ValidationFailed("计划期间最长三年", code="supervision.period_too_long")
    if region is not None and not regions.is_known(region):
        raise ValidationFailed(f"未知的行政区划代码 {region}", code="supervision.region_invalid")
    if len(matters) > MAX_MATTERS or any(len(m) > 200 for m in matters):
        raise ValidationFailed(
            f"检查事项最多 {MAX_MATTERS} 项，每项最多 200 字", code="supervision.matters_invalid"
        )


def inputs_of(plan: InspectionPlan, counts: dict[str, int]) -> dict[str, Any]:
    """The plan's published inputs: what the seed is computed over (with the nonce revealed at the draw)."""
    return {
        "plan_id": plan.id,
        "department": plan.department_code,
        "name": plan.name,
        "from": plan.period_from.isoformat(),
        "to": plan.period_to.isoformat(),
        "region": plan.region_code,
        "matters": list(plan.matters),
        "tiers": plan.tiers,
        "tier_version_id": plan.tier_version_id,
        "scope": plan.scope,
        "scope_count": plan.scope_count,
        "scope_by_tier": counts,
        "scope_digest": plan.scope_digest,
        "commitment": plan.commitment,
    }


def _freeze_scope(session: Session, plan: InspectionPlan, scope: pools.Scope, table: rules.TierTable) -> None:
    """Copy the subjects in scope, with their current grade and tier, into the plan (one INSERT … SELECT)."""
    tier_of = case(
        *(
            (EvaluationGrade.grade.in_(tier.grades), literal(tier.code))
            for tier in table.tiers
            if tier.grades
        ),
        else_=literal(table.default_tier),
    )
    chosen = (
        select(literal(plan.id), Subject.id, Subject.uscc, EvaluationGrade.grade, tier_of)
        .select_from(Subject)
        .outerjoin(
            EvaluationGrade,
            (EvaluationGrade.subject_id == Subject.id) & (EvaluationGrade.model_code == GRADE_MODEL),
        )
        .where(pools.scope_filter(scope))
    )
    session.execute(
        insert(InspectionPlanSubject).from_select(["plan_id", "subject_id", "uscc", "grade", "tier"], chosen)
    )


def frozen_digest(session: Session, plan_id: int) -> str:
    """SHA-256 of the frozen scope's published lines (`uscc,tier`, by USCC in byte order)."""
    if session.get_bind().dialect.name == "postgresql":
        digest = session.execute(
            text(
                "SELECT encode(sha256(convert_to(coalesce(string_agg(uscc || ',' || tier || E'\\n', ''"
                " ORDER BY uscc COLLATE \"C\"), ''), 'UTF8')), 'hex') FROM inspection_plan_subjects"
                " WHERE plan_id = :plan"
            ),
            {"plan": plan_id},
        ).scalar_one()
        return str(digest)
    hasher = hashlib.sha256()
    for uscc, tier in session.execute(
        select(InspectionPlanSubject.uscc, InspectionPlanSubject.tier)
        .where(InspectionPlanSubject.plan_id == plan_id)
        .order_by(InspectionPlanSubject.uscc)
    ).yield_per(10_000):
        hasher.update(rules.scope_line(uscc, tier).encode())
    return hasher.hexdigest()


def scope_counts(session: Session, plan: InspectionPlan) -> dict[str, int]:
    table = rules.parse_tier_table(plan.tiers)
    found = dict(
        session.execute(
            select(InspectionPlanSubject.tier, func.count())
            .where(InspectionPlanSubject.plan_id == plan.id)
            .group_by(InspectionPlanSubject.tier)
        ).all()
    )
    return {t.code: int(found.get(t.code, 0)) for t in table.tiers}


def create_plan(
    session: Session,
    ctx: UseCaseContext,
    department_code: str,
    *,
    name: str,
    period_from: dt.date,
    period_to: dt.date,
    region: str | None = None,
    matters: list[str] | None = None,
) -> InspectionPlan:
    """Create and publish a plan: the tiers in force and the scope frozen, the commitment to a fresh nonce."""
    tiers.ensure_manage(ctx.principal, department_code)
    items = [m.strip() for m in matters or [] if m.strip()]
    _validate(name, period_from, period_to, region, items)
    scope = pools.scope_of(session, department_code, region=region)
    industry = scope.industries[0] if len(scope.industries) == 1 else ""
    force = tiers.in_force(session, department_code, industry)
    nonce = secrets.token_hex(32)
    plan = InspectionPlan(
        department_code=department_code,
        name=name.strip(),
        period_from=period_from,
        period_to=period_to,
        region_code=region,
        matters=items,
        scope=scope.to_json(),
        tiers=force.table.to_json(),
        tier_version_id=force.version.id if force.version else None,
        scope_digest="",
        inputs_digest="",
        commitment=rules.commitment_of(nonce),
        nonce=nonce,
        status="published",
        created_by=ctx.principal.name,
    )
    session.add(plan)
    session.flush()
    _freeze_scope(session, plan, scope, force.table)
    counts = scope_counts(session, plan)
    plan.scope_count = sum(counts.values())
    if plan.scope_count == 0:
        raise ValidationFailed(
            "检查对象名录库为空：范围内没有主体，不能制定抽查计划", code="supervision.empty_pool"
        )
    plan.scope_digest = frozen_digest(session, plan.id)
    plan.inputs_digest = rules.sha256_hex(rules.canonical(inputs_of(plan, counts)))
    session.flush()
    audit.record(
        session,
        ctx.principal,
        "supervision.plan_created",
        target=f"plan:{plan.id}",
        ip=ctx.ip,
        details={"department": department_code, "scope_count": plan.scope_count},
    )
    return plan


def get_plan(session: Session, plan_id: int, *, lock: bool = False) -> InspectionPlan:
    query = select(InspectionPlan).where(InspectionPlan.id == plan_id)
    if lock:
        query = query.with_for_update()
    plan = session.scalar(query)
    if plan is None:
        raise NotFound(f"抽查计划 {plan_id} 不存在", code="supervision.plan_not_found")
    return plan


def view_plan(session: Session, principal: Principal, plan_id: int) -> InspectionPlan:
    plan = get_plan(session, plan_id)
    tiers.ensure_view(principal, plan.department_code)
    return plan


def plans_of(session: Session, department_code: str) -> list[InspectionPlan]:
    return list(
        session.scalars(
            select(InspectionPlan)
            .where(InspectionPlan.department_code == department_code)
            .order_by(InspectionPlan.id.desc())
        )
    )


# --- selection -----------------------------------------------------------------------------------------------


def select_drawn(
    session: Session, plan: InspectionPlan, seed: str, wanted: dict[str, int]
) -> list[tuple[int, str, str]]:
    """(subject_id, uscc, tier) drawn, in tier order, each tier by key."""
    if session.get_bind().dialect.name == "postgresql":
        return _select_drawn_sql(session, plan.id, seed, wanted)
    rows = session.execute(
        select(
            InspectionPlanSubject.subject_id, InspectionPlanSubject.uscc, InspectionPlanSubject.tier
        ).where(InspectionPlanSubject.plan_id == plan.id)
    ).all()
    by_tier: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for subject_id, uscc, tier in rows:
        by_tier[tier].append((rules.order_key(seed, uscc), uscc, subject_id))
    drawn: list[tuple[int, str, str]] = []
    for code, count in wanted.items():
        ordered = sorted(by_tier.get(code, []))[:count]
        drawn.extend((subject_id, uscc, code) for _key, uscc, subject_id in ordered)
    return drawn


DRAW_SQL = """
SELECT d.subject_id, d.uscc, t.tier
FROM unnest(CAST(:tiers AS text[]), CAST(:counts AS int[])) WITH ORDINALITY AS t(tier, n, pos)
CROSS JOIN LATERAL (
    SELECT p.subject_id, p.uscc, sha256(convert_to(:seed || p.uscc, 'UTF8')) AS key
    FROM inspection_plan_subjects p
    WHERE p.plan_id = :plan AND p.tier = t.tier
    ORDER BY key, p.uscc COLLATE "C"
    LIMIT t.n
) d
ORDER BY t.pos, d.key, d.uscc COLLATE "C"
"""


def _select_drawn_sql(
    session: Session, plan_id: int, seed: str, wanted: dict[str, int]
) -> list[tuple[int, str, str]]:
    rows = session.execute(
        text(DRAW_SQL),
        {"tiers": list(wanted), "counts": list(wanted.values()), "seed": seed, "plan": plan_id},
    ).all()
    return [(int(subject_id), str(uscc), str(tier)) for subject_id, uscc, tier in rows]


# --- the draw ------------------------------------------------------------------------------------------------


def _pool_snapshot(session: Session, department_code: str) -> list[dict[str, Any]]:
    return [
        {"id": i.id, "licence_no": i.licence_no, "region_code": i.region_code, "conflicts": list(i.conflicts)}
        for i in pools.inspectors(session, department_code)
    ]


def entries(snapshot: list[dict[str, Any]]) -> list[rules.InspectorEntry]:
    return [
        rules.InspectorEntry(
            id=int(i["id"]),
            licence_no=str(i["licence_no"]),
            region_code=i.get("region_code"),
            conflicts=frozenset(i.get("conflicts") or []),
        )
        for i in snapshot
    ]


def result_digest(drawn: list[tuple[str, str]], assigned: list[list[str]]) -> str:
    return rules.sha256_hex(rules.canonical([[u, t, a] for (u, t), a in zip(drawn, assigned, strict=True)]))


def draw_plan(session: Session, ctx: UseCaseContext, plan_id: int) -> InspectionDraw:
    """Draw once: reveal the nonce, compute the seed, select per tier, assign inspectors, store. A second draw
    of the same plan is a conflict (409)."""
    plan = get_plan(session, plan_id, lock=True)
    tiers.ensure_manage(ctx.principal, plan.department_code)
    if plan.status == "drawn" or session.scalar(
        select(InspectionDraw.id).where(InspectionDraw.plan_id == plan.id)
    ):
        raise Conflict(f"抽查计划 {plan.id} 已经抽取过，不能再抽", code="supervision.already_drawn")
    table = rules.parse_tier_table(plan.tiers)
    counts = scope_counts(session, plan)
    seed = rules.seed_of(inputs_of(plan, counts), plan.nonce)
    wanted = rules.targets(table, counts)
    drawn = select_drawn(session, plan, seed, wanted)
    snapshot = _pool_snapshot(session, plan.department_code)
    assigned = rules.assign(
        seed,
        [rules.ScopeSubject(uscc=u, tier=t) for _, u, t in drawn],
        entries(snapshot),
        region=plan.region_code,
    )
    licence = {int(i["id"]): str(i["licence_no"]) for i in snapshot}
    record = InspectionDraw(
        plan_id=plan.id,
        seed=seed,
        nonce=plan.nonce,
        targets=wanted,
        counts_by_tier=rules.counts_by_tier(table, (rules.ScopeSubject(u, t) for _, u, t in drawn)),
        result_digest=result_digest(
            [(u, t) for _, u, t in drawn], [[licence[i] for i in a] for a in assigned]
        ),
        inspectors=snapshot,
        drawn_by=ctx.principal.name,
    )
    session.add(record)
    session.flush()
    rows_table = InspectionDrawSubject.__table__
    assert isinstance(rows_table, Table)
    bulk_insert(  # COPY on PostgreSQL: a large draw stores tens of thousands of rows
        session,
        rows_table,
        [
            {
                "draw_id": record.id,
                "plan_id": plan.id,
                "subject_id": subject_id,
                "uscc": uscc,
                "tier": tier,
                "position": position,
                "inspector_ids": ids,
            }
            for position, ((subject_id, uscc, tier), ids) in enumerate(zip(drawn, assigned, strict=True), 1)
        ],
    )
    plan.status = "drawn"
    session.flush()
    audit.record(
        session,
        ctx.principal,
        "supervision.plan_drawn",
        target=f"plan:{plan.id}",
        ip=ctx.ip,
        details={"drawn": len(drawn), "seed": seed},
    )
    return record


def draw_of(session: Session, plan_id: int) -> InspectionDraw | None:
    return session.scalar(select(InspectionDraw).where(InspectionDraw.plan_id == plan_id))
