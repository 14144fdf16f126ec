"""Subject search and credit file (JSON twins of the portal pages)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.commitments import service as commitments
from xinyong.creditfile import rules as file_rules
from xinyong.creditfile import service as credit_files
from xinyong.creditfile.schemas import SectionCount, SubjectDetail
from xinyong.kit.identifiers import normalize_code
from xinyong.platform import Platform
from xinyong.subjects import rules, service
from xinyong.subjects.models import Subject
from xinyong.subjects.schemas import SubjectPage, SubjectSummary
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited

router = APIRouter(tags=["subjects"])


@router.get("/subjects", response_model=SubjectPage, dependencies=[rate_limited("search")])
def search_subjects(
    session: SessionDep,
    principal: Annotated[Principal, require("public")],
    q: Annotated[str, Query(max_length=100, description="名称或统一社会信用代码")] = "",
    page: Annotated[int, Query(ge=1, le=500)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SubjectPage:
    """Search market subjects by name or unified social credit code."""
    found, total = service.search(session, q, page=page, size=size)
    return SubjectPage(
        items=[SubjectSummary(**rules.summary(s, public=True)) for s in found],
        total=total,
        page=page,
        size=size,
    )


@router.get("/subjects/{uscc}", response_model=SubjectDetail, dependencies=[rate_limited("api")])
def get_subject(
    uscc: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("public")],
    purpose: Annotated[
        str | None, Query(max_length=200, description="查询事由（政府用户查看非公开信息时必填）")
    ] = None,
) -> SubjectDetail:
    """Read a subject's credit file: records and list entries in force the caller may see (with a stated
    purpose, what a department may see), counted by the sections of the national public credit report."""
    subject = service.get_by_uscc(session, normalize_code(uscc)[:18])
    return subject_detail(
        session, platform, principal, subject, today, purpose=purpose, ip=client_ip(request)
    )


def subject_detail(
    session: Session,
    platform: Platform,
    principal: Principal,
    subject: Subject,
    today: dt.date,
    *,
    purpose: str | None,
    ip: str | None,
) -> SubjectDetail:
    """The credit file as `GET /subjects/{uscc}` answers it (also the mobile channel's `GET /me/file`)."""
    catalog = platform.catalog
    file = credit_files.credit_file(session, catalog, principal, subject.id, today, purpose=purpose, ip=ip)
    found = [
        file_rules.record_read(catalog, r, today, under_objection=r.id in file.under_objection)
        for r in file.records
    ]
    sections = file_rules.arrange_file(
        credit_files.file_layout(),
        catalog,
        file.records,
        file.entries,
        read=lambda r: {},  # only the counts are answered here
        commitment_count=len(commitments.public_of_subject(session, subject.id)),
        registration_count=len(file.registrations),
    )
    return SubjectDetail(
        **rules.summary(subject, public=file.view == "public"),
        records=found,
        lists=file.entries,
        list_history=file.history,
        sections=[SectionCount(code=s.code, title=s.title, count=s.count) for s in sections],
        objections_pending=len(file.under_objection),
        registrations=file.registrations,
    )
