"""Subject search and public credit file (JSON twins of the portal pages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from xinyong.kit.identifiers import normalize_code
from xinyong.records import repository as records_repository
from xinyong.subjects import rules, service
from xinyong.subjects.schemas import SubjectDetail, SubjectPage, SubjectSummary
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep

router = APIRouter(tags=["subjects"])


@router.get("/subjects", response_model=SubjectPage)
def search_subjects(
    session: SessionDep,
    q: Annotated[str, Query(max_length=100, description="名称或统一社会信用代码")] = "",
    page: Annotated[int, Query(ge=1, le=500)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SubjectPage:
    """Search market subjects by name or unified social credit code."""
    found, total = service.search(session, q, page=page, size=size)
    return SubjectPage(
        items=[SubjectSummary(**rules.summary(s)) for s in found], total=total, page=page, size=size
    )


@router.get("/subjects/{uscc}", response_model=SubjectDetail)
def get_subject(uscc: str, session: SessionDep, platform: PlatformDep, today: TodayDep) -> SubjectDetail:
    """Read a subject's public credit file: basic information and the records public today."""
    subject = service.get_by_uscc(session, normalize_code(uscc)[:18])
    catalog = platform.catalog
    records = records_repository.public_records_of(session, subject.id, catalog, today)
    return SubjectDetail(
        **rules.summary(subject),
        records=[rules.record_read(catalog, r, today) for r in records],
    )
