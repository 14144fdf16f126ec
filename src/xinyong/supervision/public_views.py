"""The portal's 双随机、一公开 pages (`/supervision`): published inspection plans, their draws and results.

Natural persons and individual businesses are masked (`portal.public_drawn`); the published document of a
plan (`/supervision/plans/{id}/inputs.json`) lets anyone check the commitment, the seed and each subject's
own place in the draw, and, when the credit office publishes the grades that set the tiers
(`portal.grades_published`), recompute the whole draw from its scope list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from xinyong.accounts.deps import require
from xinyong.accounts.models import Department
from xinyong.accounts.policy import Principal
from xinyong.evaluation import service as evaluation
from xinyong.kit import regions
from xinyong.platform import Platform
from xinyong.supervision import portal, results, rules
from xinyong.web import downloads
from xinyong.web.deps import PlatformDep, SessionDep
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)


def _grades_public(session: Session, platform: Platform) -> bool:
    """Whether the grades that set the tiers are public now (the evaluation model's publication setting)."""
    models = evaluation.load_models(session, platform.catalog.item_codes, platform.settings.data_dir)
    return portal.grades_published(models)


@router.get("/supervision", response_class=HTMLResponse)
def public_plans(
    request: Request, session: SessionDep, principal: Annotated[Principal, require("public")]
) -> HTMLResponse:
    """Published inspection plans (双随机、一公开), their draws and results."""
    return render(request, "supervision/public_plans.html", {"plans": portal.published_plans(session)})


@router.get("/supervision/plans/{plan_id:int}", response_class=HTMLResponse)
def public_plan(
    plan_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
) -> HTMLResponse:
    """One plan as published: department, period, scope, matters, tier ratios, seed, drawn subjects, results."""
    plan = results.get_plan(session, plan_id)
    department = session.get(Department, plan.department_code)
    name = department.name if department else plan.department_code
    grades_public = _grades_public(session, platform)
    document = portal.public_document(session, plan, name, grades_public=grades_public)
    table = rules.parse_tier_table(plan.tiers)
    scope = plan.scope or {}
    return render(
        request,
        "supervision/public_plan.html",
        {
            "plan": plan,
            "department_name": name,
            "document": document,
            "tiers": table.tiers,
            "default_tier": table.default_tier,
            "scope_regions": [regions.name(c) for c in scope.get("regions", [])],
            "scope_items": scope.get("licence_items", []),
            "scope_by_tier": document["inputs"]["scope_by_tier"],
            "grades_public": grades_public,
            "tier_names": {t.code: t.name for t in table.tiers},
            "percent": results.percent,
            "iso_day": dt.date.fromisoformat,  # the document's ISO days, shown with cn_date
        },
    )


@router.get("/supervision/plans/{plan_id:int}/inputs.json")
def public_inputs(
    plan_id: int,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
) -> Response:
    """The plan's published inputs and draw as JSON, to check the seed and the draw independently (the whole
    draw, with `xinyong supervision recompute`, when the grades that set the tiers are public)."""
    plan = results.get_plan(session, plan_id)
    department = session.get(Department, plan.department_code)
    document = portal.public_document(
        session,
        plan,
        department.name if department else plan.department_code,
        grades_public=_grades_public(session, platform),
    )
    return Response(
        orjson.dumps(document, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={"Content-Disposition": downloads.content_disposition(f"supervision-plan-{plan.id}.json")},
    )
