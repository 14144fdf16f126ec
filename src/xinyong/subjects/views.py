"""Portal pages: home, search results and the subject's public credit file."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal, allows
from xinyong.commitments import service as commitments
from xinyong.kit.identifiers import normalize_code
from xinyong.kit.pagination import Page
from xinyong.objections import service as objections
from xinyong.records import repository as records_repository
from xinyong.records import service as records
from xinyong.subjects import rules, service
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
) -> HTMLResponse:
    catalog = platform.catalog
    latest = {
        code: records_repository.publicity_listing(session, catalog, today, item_code=code, size=6).items
        for code in ("CF", "XK")
    }
    return render(request, "home.html", {"latest": latest, "catalog": catalog})


@router.get("/search", response_class=HTMLResponse, dependencies=[rate_limited("search")])
def search(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("public")],
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=500)] = 1,
) -> HTMLResponse:
    size = 20
    found, total = service.search(session, q, page=page, size=size)
    results = Page([rules.summary(s) for s in found], total, page, size)
    return render(request, "search.html", {"q": q, "results": results})


@router.get("/subjects/{uscc}", response_class=HTMLResponse)
def subject_page(
    uscc: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
    purpose: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    subject = service.get_by_uscc(session, normalize_code(uscc)[:18])
    catalog = platform.catalog
    found, view = records.credit_file(
        session,
        catalog,
        principal,
        subject.id,
        today,
        purpose=purpose,
        ip=client_ip(request),
    )
    sections: list[dict[str, Any]] = []
    for code, group in groupby(found, key=lambda r: r.item_code):
        item = catalog.item(code)
        if item is None:
            continue
        sections.append({"item": item, "records": [rules.record_read(catalog, r, today) for r in group]})
    order = {i.code: n for n, i in enumerate(catalog.items)}
    sections.sort(key=lambda s: order[s["item"].code])
    under_objection = objections.open_record_ids(session, [r.id for r in found])
    return render(
        request,
        "subject.html",
        {
            "subject": rules.summary(subject),
            "sections": sections,
            "catalog": catalog,
            "today": today,
            "view": view,
            "purpose": purpose,
            "may_read_nonpublic": allows(principal, "subjects:read_nonpublic"),
            "under_objection": under_objection,
            "commitments": commitments.public_of_subject(session, subject.id),
            "commitment_labels": commitments.STATUS_LABELS,
        },
    )
