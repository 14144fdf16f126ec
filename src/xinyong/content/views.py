"""Typical cases and education articles on the portal, and the credit office's console to write them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.content import service
from xinyong.content.models import Article
from xinyong.kit.errors import NotFound, ValidationFailed
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import SessionDep, TodayDep
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
CONSOLE = "/console/content"


def _labels() -> dict[str, Any]:
    return {
        "kinds": service.KIND_LABELS,
        "categories": service.CATEGORIES,
        "states": service.STATUS_LABELS,
        "excerpt": service.excerpt,
    }


# --- portal ---------------------------------------------------------------------------------------------


@router.get("/cases", response_class=HTMLResponse)
def portal_cases(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("public")],
    kind: Annotated[str, Query(max_length=16)] = "case",
    q: Annotated[str, Query(max_length=100)] = "",
    category: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    if kind not in service.KIND_LABELS:
        raise NotFound("文章栏目不存在", code="article.unknown_kind")
    if category not in service.CATEGORIES:
        category = ""
    listing = service.list_published(session, kind, page=page, size=PAGE_SIZE, q=q, category=category)
    return render(
        request, "cases.html", {**_labels(), "kind": kind, "q": q, "category": category, "listing": listing}
    )


@router.get("/cases/{article_id}", response_class=HTMLResponse)
def portal_case(
    article_id: int,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("public")],
) -> HTMLResponse:
    article = service.get_published(session, article_id)
    return render(
        request,
        "case.html",
        {**_labels(), "article": article, "paragraphs": service.paragraphs(article.body)},
    )


# --- console (credit office) ----------------------------------------------------------------------------


def _form_of(article: Article | None) -> dict[str, str]:
    if article is None:
        return ArticleForm(category=service.CATEGORIES[0]).model_dump()
    return {
        "kind": article.kind,
        "category": article.category,
        "title": article.title,
        "summary": article.summary,
        "body": article.body,
        "source": article.source,
        "measure_codes": "、".join(article.related_measure_codes or []),
    }


def _console(
    request: Request,
    session: Session,
    *,
    status: str = "",
    kind: str = "",
    editing: Article | None = None,
    form: dict[str, str] | None = None,
    error: ValidationFailed | None = None,
) -> HTMLResponse:
    return render(
        request,
        "content_console.html",
        {
            **_labels(),
            "articles": service.list_all(session, status=status or None, kind=kind or None),
            "status": status,
            "kind": kind,
            "editing": editing,
            "form": form or _form_of(editing),
            "error": error,
        },
        status_code=422 if error else 200,
    )


@router.get(CONSOLE, response_class=HTMLResponse)
def content_console(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("measures:manage")],
    status: Annotated[str, Query(max_length=16)] = "",
    kind: Annotated[str, Query(max_length=16)] = "",
    edit: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    editing = service.get(session, edit) if edit else None
    return _console(request, session, status=status, kind=kind, editing=editing)


class ArticleForm(BaseModel):
    """The console's article form. Limits are generous bounds; the service enforces the real ones."""

    kind: str = Field("case", max_length=16)
    category: str = Field("其他", max_length=16)
    title: str = Field("", max_length=400)
    summary: str = Field("", max_length=1000)
    body: str = Field("", max_length=40000)
    source: str = Field("", max_length=200)
    measure_codes: str = Field("", max_length=1000)

    def text(self) -> service.ArticleText:
        return service.ArticleText(
            kind=self.kind,
            category=self.category,
            title=self.title,
            summary=self.summary,
            body=self.body,
            source=self.source,
            related_measure_codes=service.parse_codes(self.measure_codes),
        )


ArticleFormDep = Annotated[ArticleForm, Form()]


@router.post(CONSOLE, response_class=HTMLResponse, response_model=None)
def content_create(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("measures:manage")],
    _csrf: CsrfDep,
    form: ArticleFormDep,
) -> HTMLResponse | RedirectResponse:
    try:
        service.create(session, principal, **form.text())
    except ValidationFailed as exc:
        return _console(request, session, form=form.model_dump(), error=exc)
    return RedirectResponse(CONSOLE, status_code=303)


@router.post(CONSOLE + "/{article_id}", response_class=HTMLResponse, response_model=None)
def content_update(
    article_id: int,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("measures:manage")],
    _csrf: CsrfDep,
    form: ArticleFormDep,
) -> HTMLResponse | RedirectResponse:
    article = service.get(session, article_id)
    try:
        service.update(session, principal, article, **form.text())
    except ValidationFailed as exc:
        return _console(request, session, editing=article, form=form.model_dump(), error=exc)
    return RedirectResponse(CONSOLE, status_code=303)


@router.post(CONSOLE + "/{article_id}/publish")
def content_publish(
    article_id: int,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("measures:manage")],
    _csrf: CsrfDep,
) -> RedirectResponse:
    service.publish(session, principal, service.get(session, article_id), today=today)
    return RedirectResponse(CONSOLE, status_code=303)


@router.post(CONSOLE + "/{article_id}/withdraw")
def content_withdraw(
    article_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require("measures:manage")],
    _csrf: CsrfDep,
) -> RedirectResponse:
    service.withdraw(session, principal, service.get(session, article_id))
    return RedirectResponse(CONSOLE, status_code=303)
