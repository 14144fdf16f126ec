"""双公示 listings on the portal, and the console pages of ingestion (upload, batches, review queue)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.creditfile import rules as file_rules
from xinyong.kit import regions
from xinyong.kit.errors import BadRequest, NotFound, PayloadTooLarge
from xinyong.kit.identifiers import normalize_code
from xinyong.kit.tabular import read_rows, spool_rows
from xinyong.records import repository, service
from xinyong.records.api import provider_for, readable_batch
from xinyong.subjects import service as subjects
from xinyong.web.csrf import CsrfDep
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited_search
from xinyong.web.templating import render

router = APIRouter(include_in_schema=False)
PUBLICITY_ITEMS = {"penalties": "CF", "licences": "XK"}


def _date_or_none(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


SEARCH_SUBJECTS = 500
"""A keyword that names more subjects than this shows the records of the closest matches only, and says so."""


@dataclass(frozen=True)
class KeywordMatch:
    """What a publicity keyword matches: subjects (by USCC or name) and document numbers."""

    subject_ids: list[int]
    doc_no: str | None
    broad: bool  # more subjects matched than are searched


def match_keyword(session: Session, keyword: str) -> KeywordMatch | None:
    """The subjects and document number a keyword may mean: a USCC names its subject; otherwise the name is
    searched as on the portal (natural persons are never found by name), and a keyword that looks like a
    document number (文书号) is also matched against the numbers, exactly."""
    keyword = keyword.strip()
    if not keyword:
        return None
    code = normalize_code(keyword)
    if len(code) == 18 and code.isalnum():
        found = subjects.find_by_uscc(session, code)
        if found is not None:
            return KeywordMatch([found.id], None, broad=False)
    named, total = subjects.search(session, keyword, size=SEARCH_SUBJECTS)
    # Matching a number reads every record of the item (there is no index on it): only for a keyword that
    # looks like one — ending in 号, or with four digits or more (a year) — not for a name such as 58同城.
    doc_no = keyword if keyword.endswith("号") or sum(ch.isdigit() for ch in keyword) >= 4 else None
    return KeywordMatch([s.id for s in named], doc_no, broad=total > len(named))


@router.get("/publicity/{kind}", response_class=HTMLResponse, dependencies=[rate_limited_search()])
def publicity(
    kind: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
    q: Annotated[str, Query(max_length=100)] = "",
    department: Annotated[str, Query(max_length=32)] = "",
    region: Annotated[str, Query(max_length=6)] = "",
    date_from: Annotated[str, Query(max_length=10)] = "",
    date_to: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    item_code = PUBLICITY_ITEMS.get(kind)
    if item_code is None:
        raise NotFound("页面不存在", code="page.not_found")
    catalog = platform.catalog
    keyword = match_keyword(session, q)
    listing = repository.publicity_listing(
        session,
        catalog,
        today,
        item_code=item_code,
        provider_code=department or None,
        region_code=region if region.isdigit() and len(region) == 6 else None,
        date_from=_date_or_none(date_from),
        date_to=_date_or_none(date_to),
        subject_ids=keyword.subject_ids if keyword else None,
        doc_no=keyword.doc_no if keyword else None,
        page=page,
    )
    rows = [
        file_rules.record_read(catalog, r, today) | {"subject_name": r.subject_name} for r in listing.items
    ]
    filters = {
        "q": q,
        "department": department,
        "region": region,
        "date_from": date_from,
        "date_to": date_to,
    }
    return render(
        request,
        "publicity.html",
        {
            "kind": kind,
            "item": catalog.item(item_code),
            "listing": listing,
            "rows": rows,
            "departments": accounts.list_departments(session),
            "prefectures": regions.current_prefectures(),
            "filters": filters,
            "query": urlencode(filters) + "&",
            "broad": keyword.broad if keyword else False,
        },
    )


@router.get("/console", response_class=HTMLResponse)
def console_home(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("console:view")],
) -> HTMLResponse:
    own = None if principal.is_credit_office else principal.department_code
    departments = accounts.list_departments(session)
    return render(
        request,
        "console_home.html",
        {
            "batches": repository.recent_batches(session, provider_code=own),
            "counts": repository.counts(session, provider_code=own),
            "departments": [d for d in departments if own is None or d.code == own],
            "catalog": platform.catalog,
        },
    )


@router.post("/console/ingest")
def console_ingest(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("records:write")],
    _csrf: CsrfDep,
    item: Annotated[str, Form(max_length=16)],
    provider: Annotated[str, Form(max_length=32)],
    file: Annotated[UploadFile, File()],
) -> RedirectResponse:
    provider = provider_for(principal, provider)
    limit = platform.settings.max_upload_mb * 1024 * 1024
    if file.size is not None and file.size > limit:
        raise PayloadTooLarge(f"文件超过{platform.settings.max_upload_mb}MB上限", code="file.too_large")
    filename = (file.filename or "upload")[:255]
    if not filename.lower().endswith((".csv", ".xlsx", ".txt")):
        raise BadRequest("只接受 CSV 或 XLSX 文件", code="file.type")
    # The whole file is read (and refused, past its limits) before the request's session first touches the
    # store: parsing never holds SQLite's write lock, which the ingest's first write takes.
    rows = spool_rows(read_rows(file.file, filename))
    receipt = service.ingest(
        session,
        platform.ingest_context(today),
        item_code=item,
        provider_code=provider,
        rows=rows,
        source="upload",
        filename=filename,
    )
    audit.record(
        session,
        principal,
        "records.ingest",
        target=receipt.batch_id,
        ip=client_ip(request),
        details={
            "item": receipt.item,
            "provider": provider,
            "file": filename,
            "accepted": receipt.accepted,
            "updated": receipt.updated,
            "unchanged": receipt.unchanged,
            "rejected": receipt.rejected,
        },
    )
    return RedirectResponse(f"/console/batches/{receipt.batch_id}", status_code=303)


@router.get("/console/batches/{batch_id}", response_class=HTMLResponse)
def console_batch(
    batch_id: str,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("batches:read")],
) -> HTMLResponse:
    batch = readable_batch(session, principal, batch_id)
    return render(
        request,
        "console_batch.html",
        {
            "batch": batch,
            "rejected": repository.rejected_rows(session, batch.id),
            "department": accounts.get_department(session, batch.provider_code),
        },
    )


@router.get("/console/review", response_class=HTMLResponse)
def console_review(
    request: Request, session: SessionDep, principal: Annotated[Principal, require("review:resolve")]
) -> HTMLResponse:
    own = None if principal.is_credit_office else principal.department_code
    departments = {d.code: d.name for d in accounts.list_departments(session)}
    return render(
        request,
        "console_review.html",
        {"rows": repository.open_unresolved(session, provider_code=own), "departments": departments},
    )


@router.post("/console/review/{row_id}/resolve")
def console_resolve(
    row_id: int,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("review:resolve")],
    _csrf: CsrfDep,
    uscc: Annotated[str, Form(max_length=40)],
) -> RedirectResponse:
    receipt = service.resolve_unresolved(
        session, platform.ingest_context(today), row_id, normalize_code(uscc), principal=principal
    )
    audit.record(
        session,
        principal,
        "review.resolve",
        target=str(row_id),
        ip=client_ip(request),
        details={"uscc": normalize_code(uscc), "batch": receipt.batch_id},
    )
    return RedirectResponse("/console/review", status_code=303)
