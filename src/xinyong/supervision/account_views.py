"""The subject's own view of supervision (`/account/supervision`): how often and when it was drawn and
inspected, by which department, with what result and why (its tier and the tier's ratio), its own check of
each draw whose scope held it (its key and whether it fell within its tier's cut, `results.own_places`), and
its interview and training tasks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.supervision import results, rules, task_followup, tasks
from xinyong.web.deps import SessionDep, TodayDep
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/account/supervision", response_class=HTMLResponse)
def own_supervision(
    request: Request,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("account:own")],
) -> HTMLResponse:
    """My random inspections (双随机抽查) and why I was drawn, and my interview and training tasks."""
    assert principal.subject_id is not None
    inspections: list[dict[str, Any]] = []
    for found in results.subject_inspections(session, principal.subject_id):
        table = rules.parse_tier_table(found.plan.tiers)
        tier = table.by_code().get(found.tier)
        inspections.append(
            {
                "plan": found.plan,
                "department": found.department_name,
                "drawn_at": found.drawn_at,
                "tier": tier,
                "tier_code": found.tier,
                "ratio": results.percent(tier.ratio_pct) if tier else None,
                "result": found.result,
            }
        )
    return render(
        request,
        "supervision/account_supervision.html",
        {
            "inspections": inspections,
            "inspected": sum(1 for i in inspections if i["result"] is not None),
            "places": results.own_places(session, principal.subject_id),
            "rows": task_followup.subject_tasks(session, principal.subject_id, today),
            "kind_labels": tasks.KIND_LABELS,
            "state_labels": tasks.STATE_LABELS,
            "step_labels": tasks.STEP_LABELS,
        },
    )
