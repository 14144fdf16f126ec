"""Portal pages of the measure list and statistics; the credit office's measure list editor (draft, dry run,
publish). The console check pages are in `check_views.py`."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.kit.errors import ValidationFailed
from xinyong.measures import editor, repository
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/measures", response_class=HTMLResponse)
def measures_page(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
) -> HTMLResponse:
    measure_list = repository.published(session, platform.catalog, platform.measure_lists)
    return render(request, "measures.html", {"ml": measure_list})


@router.get("/statistics", response_class=HTMLResponse)
def statistics_page(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
) -> HTMLResponse:
    """Checks, hits and cases by month and scenario, and the share of subjects on a punishment list.

    Read from the aggregates the daily job stores (`xinyong.monitoring`), with the time they were computed.
    """
    from xinyong.monitoring import service as monitoring

    names = repository.published(session, platform.catalog, platform.measure_lists).scenarios
    stats = monitoring.read(session, platform.calendar, today, monitoring.CHECK_STATISTICS)
    months = stats.values[monitoring.CHECKS_BY_MONTH]
    scenarios = [
        r | {"key": names.get(r["key"], r["key"])} for r in stats.values[monitoring.CHECKS_BY_SCENARIO]
    ]
    share = stats.values[monitoring.PUNISHMENT_SHARE]
    charts = {
        "by-month": {
            "labels": [r["key"] for r in months],
            "type": "line",
            "series": [
                {"name": "核查次数", "data": [r["checks"] for r in months]},
                {"name": "联合奖惩案例", "data": [r["cases"] for r in months]},
            ],
        },
        "by-scenario": {
            "labels": [r["key"] for r in scenarios],
            "series": [
                {"name": "核查次数", "data": [r["checks"] for r in scenarios]},
                {"name": "命中措施", "data": [r["hits"] for r in scenarios]},
                {"name": "案例", "data": [r["cases"] for r in scenarios]},
            ],
        },
        "share": {
            "labels": [p["month"] for p in share],
            "type": "line",
            "percent": True,
            "series": [
                {"name": "失信惩戒名单主体占比", "data": [p["share"] for p in share]},
            ],
        },
    }
    return render(
        request,
        "statistics.html",
        {
            "months": months,
            "scenarios": scenarios,
            "share": share,
            "computed_at": stats.computed_at,
            "charts": {k: json.dumps(v, ensure_ascii=False) for k, v in charts.items()},
        },
    )


def _triggers_text(triggers: list[dict[str, Any]]) -> str:
    lines = []
    for t in triggers:
        if t.get("list_type"):
            lines.append(f"list:{t['list_type']}")
        else:
            lines.append(
                f"item:{t['item']}"
                + (f":{','.join(t.get('severities') or [])}" if t.get("severities") else "")
            )
    return "\n".join(lines)


def _parse_triggers(text: str) -> list[dict[str, Any]]:
    triggers: list[dict[str, Any]] = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.strip().split(":")]
        if parts[0] == "list" and len(parts) == 2:
            triggers.append({"list_type": parts[1]})
        elif parts[0] == "item" and len(parts) in (2, 3):
            severities = [s for s in parts[2].replace("，", ",").split(",") if s] if len(parts) == 3 else []
            triggers.append({"item": parts[1], "severities": severities})
        elif line.strip():
            raise ValidationFailed(f"无法识别的触发条件：{line.strip()}", code="measures.trigger_format")
    return triggers


@router.get("/console/measures", response_class=HTMLResponse)
def measures_console(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("measures:manage")],
    edit: str = "",
) -> HTMLResponse:
    draft = editor.current_draft(session)
    current = repository.published(session, platform.catalog, platform.measure_lists)
    editing = None
    if draft is not None:
        editing = next((m for m in draft.document["measures"] if m["code"] == edit), None)
    return render(
        request,
        "measures_console.html",
        {
            "current": current,
            "draft": draft,
            "editing": editing,
            "editing_triggers": _triggers_text(editing["triggers"]) if editing else "",
            "dry_run": editor.dry_run(session, platform.catalog, draft, today) if draft else None,
        },
    )


@router.post("/console/measures/draft")
def start_draft(
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("measures:manage")],
    _csrf: CsrfDep,
    version: Annotated[str, Form(max_length=32)],
) -> RedirectResponse:
    editor.start_draft(session, platform.catalog, principal, version)
    return RedirectResponse("/console/measures", status_code=303)


@router.post("/console/measures/draft/measure")
def save_measure(
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("measures:manage")],
    _csrf: CsrfDep,
    code: Annotated[str, Form(max_length=48)],
    name: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=16)],
    nature: Annotated[str, Form(max_length=16)],
    action: Annotated[str, Form(max_length=48)],
    scenarios: Annotated[str, Form(max_length=500)],
    triggers: Annotated[str, Form(max_length=2000)],
    description: Annotated[str, Form(max_length=1000)],
    legal_basis: Annotated[str, Form(max_length=2000)] = "",
    implementers: Annotated[str, Form(max_length=500)] = "*",
    valid_from: Annotated[str, Form(max_length=10)] = "",
    valid_until: Annotated[str, Form(max_length=10)] = "",
) -> RedirectResponse:
    draft = editor.current_draft(session)
    if draft is None:
        raise ValidationFailed("请先创建草稿", code="measures.no_draft")
    measure = {
        "code": code.strip(),
        "name": name.strip(),
        "kind": kind,
        "nature": nature,
        "action": action,
        "scenarios": [s.strip() for s in scenarios.replace("，", ",").split(",") if s.strip()],
        "triggers": _parse_triggers(triggers),
        "implementers": [s.strip() for s in implementers.replace("，", ",").split(",") if s.strip()] or ["*"],
        "description": description.strip(),
        "legal_basis": legal_basis.strip(),
        "valid_from": valid_from or draft.document["effective_from"],
        "valid_until": valid_until or None,
    }
    editor.save_measure(session, platform.catalog, principal, draft, measure)
    return RedirectResponse("/console/measures", status_code=303)


@router.post("/console/measures/publish")
def publish(
    session: SessionDep, principal: Annotated[Principal, require("measures:manage")], _csrf: CsrfDep
) -> RedirectResponse:
    draft = editor.current_draft(session)
    if draft is None:
        raise ValidationFailed("没有待发布的草稿", code="measures.no_draft")
    editor.publish(session, principal, draft)
    return RedirectResponse("/measures", status_code=303)
