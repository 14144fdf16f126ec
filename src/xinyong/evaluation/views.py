"""Evaluation pages: a subject's grade explained (portal, own account, government with a purpose), the
personal model's consent on the account, and the console's runs and grade statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xinyong.accounts import people
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.evaluation import editor, explain, repository, rules, service, statistics
from xinyong.evaluation.schemas import ModelFile
from xinyong.kit.errors import Conflict, NotFound, ValidationFailed
from xinyong.kit.identifiers import normalize_code
from xinyong.platform import Platform
from xinyong.subjects import service as subjects
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)
PERSONAL = "personal_incentive"
ModelCode = Annotated[str | None, Query(max_length=48, pattern=r"^[a-z][a-z0-9_]{1,47}$")]


def _models(session: SessionDep, platform: Platform) -> dict[str, ModelFile]:
    return service.load_models(session, platform.catalog.item_codes, platform.settings.data_dir)


@router.get("/subjects/{uscc}/evaluation", response_class=HTMLResponse)
def evaluation_page(
    uscc: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
    model: ModelCode = None,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """A subject's credit grade explained item by item."""
    subject = subjects.get_by_uscc(session, normalize_code(uscc)[:18])
    models = _models(session, platform)
    read = explain.explain(
        session,
        platform.catalog,
        models,
        principal,
        subject,
        model_code=model,
        purpose=purpose,
        ip=client_ip(request),
    )
    chosen = models[read.model]
    return render(
        request,
        "evaluation_explanation.html",
        {
            "subject": subject,
            "read": read,
            "model": chosen,
            "labels": {g.grade: g.label for g in chosen.grades},
            "purpose": purpose,
            "own": principal.subject_id is not None and principal.subject_id == subject.id,
        },
    )


@router.get("/account/evaluation", response_class=HTMLResponse)
def own_evaluation(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("account:own")],
) -> HTMLResponse:
    """My credit grade (信用评价), explained; for a person, the consent to the incentive evaluation."""
    assert principal.subject_id is not None
    subject = subjects.get(session, principal.subject_id)
    models = _models(session, platform)
    read = None
    try:
        read = explain.explain(session, platform.catalog, models, principal, subject, ip=client_ip(request))
    except NotFound:
        read = None
    chosen = models.get(read.model if read else explain.default_model_code(subject))
    consent = subject.kind == "natural_person" and service.has_consent(session, PERSONAL, subject.id)
    inputs = []
    if read is not None and chosen is not None:
        # The records the grade rests on: each can be objected to (异议), and its provider answers.
        items = {item for indicator in chosen.indicators for item in rules.items_of(indicator)}
        names = {i.code: i.name for i in platform.catalog.items}
        inputs = [
            {
                "id": r.id,
                "item": names.get(r.item_code, r.item_code),
                "doc_no": r.doc_no,
                "decided": r.decision_date,
            }
            for r in repository.subject_records_in_force(session, subject.id, items, read.as_of)
        ]
    return render(
        request,
        "evaluation_account.html",
        {
            "subject": subject,
            "read": read,
            "model": chosen,
            "labels": {g.grade: g.label for g in chosen.grades} if chosen else {},
            "person": subject.kind == "natural_person",
            "consent": consent,
            "inputs": inputs,
        },
    )


@router.post("/account/evaluation/consent")
def change_consent(
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("account:own")],
    _csrf: CsrfDep,
    action: Annotated[str, Form(pattern="^(give|withdraw)$")],
) -> RedirectResponse:
    assert principal.subject_id is not None
    subject = subjects.get(session, principal.subject_id)
    if subject.kind != "natural_person":
        raise NotFound("只有自然人可以授权个人守信激励评价", code="evaluation.not_a_person")
    model = service.get_model(_models(session, platform), PERSONAL)
    if action == "give":
        service.give_consent(session, model, subject.id, principal.user_id)
    else:
        service.withdraw_consent(session, model, subject.id)
    return RedirectResponse("/account/evaluation", status_code=303)


@router.get("/console/evaluation", response_class=HTMLResponse)
def console_statistics(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("console:view")],
    model: ModelCode = None,
) -> HTMLResponse:
    """Evaluation runs and grade statistics (by region, subject kind and month; transitions)."""
    models = _models(session, platform)
    chosen = service.get_model(models, model or "public_comprehensive")
    data = statistics.grade_statistics(session, chosen)
    return render(
        request,
        "evaluation_console.html",
        {"models": models, "model": chosen, "data": data, "charts": statistics.charts(data), "public": False},
    )


@router.get("/statistics/evaluation", response_class=HTMLResponse)
def public_statistics(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
    model: ModelCode = None,
) -> HTMLResponse:
    """Grade statistics of the models whose grades the credit office publishes."""
    models = {
        c: m for c, m in _models(session, platform).items() if m.publish_grades and not m.applies_to.opt_in
    }
    if not models:
        raise NotFound("暂无公开发布的信用评价统计", code="evaluation.no_published_model")
    chosen = service.get_model(models, model or next(iter(models)))
    data = statistics.grade_statistics(session, chosen)
    data["runs"] = []
    return render(
        request,
        "evaluation_console.html",
        {"models": models, "model": chosen, "data": data, "charts": statistics.charts(data), "public": True},
    )


def _editor_page(
    request: Request, session: SessionDep, platform: Platform, text: str, errors: list[str], status: int = 200
) -> HTMLResponse:
    models = _models(session, platform)
    drafts = editor.drafts(session)
    return render(
        request,
        "evaluation_editor.html",
        {
            "models": models,
            "drafts": drafts,
            "people": people.labels(session, [d.saved_by for d in drafts]),
            "text": text,
            "errors": errors,
        },
        status_code=status,
    )


@router.get("/console/evaluation/models", response_class=HTMLResponse)
def editor_page(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("evaluation:manage")],
    model: ModelCode = None,
) -> HTMLResponse:
    """Evaluation models: their versions, the drafts, and a new draft from a model's current text."""
    text = ""
    if model:
        published = [d for d in editor.drafts(session) if d.model_code == model and d.status == "published"]
        found = service.model_texts(platform.settings.data_dir).get(model)
        text = published[0].text if published else found[1] if found else ""
    return _editor_page(request, session, platform, text, [])


@router.post("/console/evaluation/models", response_class=HTMLResponse)
def save_draft(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("evaluation:manage")],
    _csrf: CsrfDep,
    text: Annotated[str, Form(max_length=editor.MAX_TEXT)],
) -> Response:
    models = _models(session, platform)
    try:
        draft = editor.save_draft(session, platform.catalog.item_codes, models, text, principal.name)
    except (ValidationFailed, Conflict) as exc:
        errors = [str(d) for d in exc.details] if isinstance(exc.details, list) else [exc.message]
        return _editor_page(request, session, platform, text, errors, status=exc.status_code)
    return RedirectResponse(f"/console/evaluation/drafts/{draft.id}", status_code=303)


@router.get("/console/evaluation/drafts/{draft_id:int}", response_class=HTMLResponse)
def draft_page(
    draft_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("evaluation:manage")],
    dry: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """A draft model: its text, a dry run against today's data (nothing stored), and publication."""
    draft = editor.get_draft(session, draft_id)
    model = editor.parsed(draft, platform.catalog.item_codes)
    result = editor.dry_run(session, model, today) if dry else None
    return render(
        request, "evaluation_draft.html", {"draft": draft, "model": model, "dry": result, "today": today}
    )


@router.post("/console/evaluation/drafts/{draft_id:int}/publish")
def publish_draft(
    draft_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require("evaluation:manage")],
    _csrf: CsrfDep,
) -> RedirectResponse:
    editor.publish(session, editor.get_draft(session, draft_id))
    return RedirectResponse("/console/evaluation/models", status_code=303)
