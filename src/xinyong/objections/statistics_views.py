"""The public statistics of credit repairs and objections: by department and outcome, with the average working
days taken, as a page with charts and as JSON (from the aggregates the daily job stores)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.kit.workdays import WorkdayCalendar
from xinyong.monitoring import service as monitoring
from xinyong.objections import rules
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)


def _statistics(session: Session, calendar: WorkdayCalendar, today: dt.date) -> dict[str, Any]:
    """Repairs and objections from the aggregates the daily job stores (`xinyong.monitoring`), with the time
    they were computed (`computed_at`)."""
    names = {d.code: d.name for d in accounts.list_departments(session)}
    stats = monitoring.read(session, calendar, today, monitoring.REPAIR_STATISTICS)
    result: dict[str, Any] = {
        "repairs": stats.values[monitoring.REPAIRS],
        "objections": stats.values[monitoring.OBJECTIONS],
    }
    for block in result.values():
        for row in block["departments"]:
            row["department_name"] = names.get(row["department"], row["department"])
    result["computed_at"] = stats.computed_at
    return result


def _charts(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    repairs, objections = data["repairs"]["departments"], data["objections"]["departments"]
    departments: dict[str, str] = {}
    for row in [*repairs, *objections]:
        departments.setdefault(row["department"], row["department_name"])
    repair_days = {r["department"]: r["avg_workdays"] for r in repairs}
    objection_days = {r["department"]: r["avg_workdays"] for r in objections}
    return {
        "repairs-by-department": {
            "labels": [r["department_name"] for r in repairs],
            "series": [
                {"name": "已修复", "data": [r["repaired"] for r in repairs]},
                {"name": "不予修复或不予受理", "data": [r["refused"] for r in repairs]},
                {"name": "办理中", "data": [r["open"] for r in repairs]},
            ],
        },
        "objections-by-department": {
            "labels": [r["department_name"] for r in objections],
            "series": [
                {"name": rules.STATE_LABELS[s], "data": [r[s] for r in objections]}
                for s in (rules.CORRECTED, rules.REVOKED, rules.MAINTAINED, rules.OPEN)
            ],
        },
        "outcomes": _outcome_series(data),
        "workdays": {
            "labels": list(departments.values()),
            "series": [
                {"name": "信用修复", "data": [repair_days.get(code) for code in departments]},
                {"name": "异议处理", "data": [objection_days.get(code) for code in departments]},
            ],
        },
    }


def _outcome_series(data: dict[str, Any]) -> dict[str, Any]:
    """Outcomes of both workflows as one bar chart: a category per outcome, one series per workflow."""
    repairs = {o["label"]: o["count"] for o in data["repairs"]["outcomes"]}
    objections = {o["label"]: o["count"] for o in data["objections"]["outcomes"]}
    labels = [*repairs, *(label for label in objections if label not in repairs)]
    return {
        "labels": labels,
        "series": [
            {"name": "信用修复", "data": [repairs.get(label, 0) for label in labels]},
            {"name": "异议处理", "data": [objections.get(label, 0) for label in labels]},
        ],
    }


@router.get("/statistics/repairs", response_class=HTMLResponse)
def repair_statistics_page(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
) -> HTMLResponse:
    """Credit repairs and objections by department and outcome, with the average working days taken."""
    data = _statistics(session, platform.calendar, today)
    charts = _charts(data)
    return render(
        request,
        "objection_statistics.html",
        {
            "repairs": data["repairs"],
            "objections": data["objections"],
            "computed_at": data["computed_at"],
            # "<" escaped: the JSON sits in a <script> element and names come from data.
            "charts": {
                k: json.dumps(v, ensure_ascii=False).replace("<", "\\u003c") for k, v in charts.items()
            },
        },
    )


@router.get("/statistics/repairs.json")
def repair_statistics_json(
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
) -> JSONResponse:
    """The same statistics as JSON."""
    data = _statistics(session, platform.calendar, today)
    return JSONResponse(data | {"computed_at": data["computed_at"].isoformat()})
