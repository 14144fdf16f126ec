"""Portal pages: home, search results and the subject's public credit file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal, allows
from xinyong.commitments import service as commitments
from xinyong.creditfile import rules as file_rules
from xinyong.creditfile import service as credit_files
from xinyong.kit.identifiers import normalize_code
from xinyong.kit.pagination import Page
from xinyong.records import repository as records_repository
from xinyong.registration.rules import display as registration_display
from xinyong.registration.service import kind_set as registration_kinds
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
        code: records_repository.publicity_listing(
            session, catalog, today, item_code=code, size=6, count=False
        ).items
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
    results = Page([rules.summary(s, public=True) for s in found], total, page, size)
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
    section: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """A subject's credit file: a summary, then its sections in the order of the national credit report."""
    subject = service.get_by_uscc(session, normalize_code(uscc)[:18])
    catalog = platform.catalog
    file = credit_files.credit_file_page(
        session,
        catalog,
        principal,
        subject.id,
        today,
        section=section or None,
        page=page,
        purpose=purpose,
        ip=client_ip(request),
    )
    public_commitments = commitments.public_of_subject(session, subject.id)
    sections = file_rules.arrange_counted(
        credit_files.file_layout(),
        catalog,
        file.slices,
        file.counts,
        file.shown,
        file.entries,
        read=lambda r: file_rules.record_read(catalog, r, today),
        history=file.history,
        commitment_count=len(public_commitments),
        registration_count=len(file.registrations),
        section=section or None,
    )
    return render(
        request,
        "subject.html",
        {
            "subject": rules.summary(subject, public=file.view == "public"),
            "sections": sections,
            "badges": file.badges,
            "objections_pending": file.objections_pending,
            "requested": section if any(s.requested for s in sections) else "",
            "catalog": catalog,
            "today": today,
            "view": file.view,
            "purpose": purpose,
            "may_read_nonpublic": allows(principal, "subjects:read_nonpublic"),
            "under_objection": file.under_objection,
            "commitments": public_commitments,
            "commitment_labels": commitments.STATUS_LABELS,
            "registrations": file.registrations,
            "registration_kinds": registration_kinds(),
            "registration_display": registration_display,
            "field_text": file_rules.field_text,
        },
    )
