"""Tier tables as data: the shipped default (`data/tiers.yaml`, with its source) and each department's saved
versions (per department, optionally per department and industry), never overwritten."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.models import Department
from xinyong.accounts.policy import Principal, allows, may_act_for_department
from xinyong.audit import service as audit
from xinyong.kit.errors import Forbidden, NotFound, ValidationFailed
from xinyong.supervision import rules
from xinyong.supervision.models import SupervisionTierVersion


@cache
def shipped_document() -> dict[str, Any]:
    text = resources.files("xinyong.supervision").joinpath("data/tiers.yaml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    rules.parse_tier_table(document)  # refuses a shipped table without a source
    return document


def shipped() -> rules.TierTable:
    return rules.parse_tier_table(shipped_document())


@dataclass(frozen=True, slots=True)
class TiersInForce:
    table: rules.TierTable
    version: SupervisionTierVersion | None  # None: the shipped default


def department(session: Session, code: str) -> Department:
    found = session.get(Department, code)
    if found is None:
        raise NotFound(f"部门 {code} 不存在", code="supervision.department_not_found")
    return found


def may_view(principal: Principal, department_code: str) -> bool:
    return allows(principal, "supervision:view") and may_act_for_department(principal, department_code)


def ensure_manage(principal: Principal, department_code: str) -> None:
    if not (allows(principal, "supervision:manage") and may_act_for_department(principal, department_code)):
        raise Forbidden("只有本部门的审核员或信用办可以管理分级分类监管", code="supervision.forbidden")


def ensure_view(principal: Principal, department_code: str) -> None:
    if not may_view(principal, department_code):
        raise Forbidden("只能查看本部门的分级分类监管", code="supervision.forbidden")


def _newest(session: Session, department_code: str, industry: str) -> SupervisionTierVersion | None:
    return session.scalars(
        select(SupervisionTierVersion)
        .where(
            SupervisionTierVersion.department_code == department_code,
            SupervisionTierVersion.industry == industry,
        )
        .order_by(SupervisionTierVersion.version.desc())
        .limit(1)
    ).first()


def in_force(session: Session, department_code: str, industry: str = "") -> TiersInForce:
    """The newest version for the department and industry, else for the department, else the shipped table."""
    for key in dict.fromkeys([industry, ""]):
        version = _newest(session, department_code, key)
        if version is not None:
            return TiersInForce(rules.parse_tier_table(version.tiers), version)
    return TiersInForce(shipped(), None)


def save(
    session: Session,
    ctx: UseCaseContext,
    department_code: str,
    document: dict[str, Any],
    *,
    industry: str = "",
) -> SupervisionTierVersion:
    """Save a new version (validated, with its source); earlier versions stay as they were."""
    ensure_manage(ctx.principal, department_code)
    department(session, department_code)
    industry = industry.strip()
    if len(industry) > 32:
        raise ValidationFailed("行业代码过长", code="supervision.industry_invalid")
    table = rules.parse_tier_table(document)
    latest = session.scalar(
        select(func.max(SupervisionTierVersion.version)).where(
            SupervisionTierVersion.department_code == department_code,
            SupervisionTierVersion.industry == industry,
        )
    )
    version = SupervisionTierVersion(
        department_code=department_code,
        industry=industry,
        version=(latest or 0) + 1,
        tiers={"tiers": [t.to_json() for t in table.tiers], "default_tier": table.default_tier},
        source=table.source,
        saved_by=ctx.principal.name,
    )
    version.tiers["source"] = table.source
    session.add(version)
    session.flush()
    audit.record(
        session,
        ctx.principal,
        "supervision.tiers_saved",
        target=f"{department_code}/{industry or '*'}/v{version.version}",
        ip=ctx.ip,
    )
    return version


def versions(session: Session, department_code: str) -> list[SupervisionTierVersion]:
    return list(
        session.scalars(
            select(SupervisionTierVersion)
            .where(SupervisionTierVersion.department_code == department_code)
            .order_by(SupervisionTierVersion.industry, SupervisionTierVersion.version.desc())
        )
    )
