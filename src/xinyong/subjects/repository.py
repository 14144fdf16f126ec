"""Subject queries."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from xinyong.db.bulk import lookup, member_of
from xinyong.subjects.models import Subject


def ids_by_uscc(session: Session, usccs: set[str]) -> dict[str, int]:
    return lookup(session, Subject.uscc, Subject.id, usccs)


def ids_by_id_hash(session: Session, hashes: set[str]) -> dict[str, int]:
    return lookup(session, Subject.id_hash, Subject.id, hashes)


def ids_by_org_code_without_uscc(session: Session, codes: set[str]) -> dict[str, int]:
    return lookup(session, Subject.org_code, Subject.id, codes, Subject.uscc.is_(None))


def ids_by_column(
    session: Session, column: InstrumentedAttribute[Any], values: set[str]
) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for condition in member_of(session, column, values):
        for sid, value in session.execute(select(Subject.id, column).where(condition)):
            out[value].append(sid)
    return out


def ids_by_name_norm(session: Session, norms: set[str]) -> dict[str, list[tuple[int, str | None]]]:
    out: dict[str, list[tuple[int, str | None]]] = defaultdict(list)
    for condition in member_of(session, Subject.name_norm, norms):
        rows = session.execute(select(Subject.id, Subject.name_norm, Subject.region_code).where(condition))
        for sid, norm, region in rows:
            out[norm].append((sid, region))
    return out


def by_uscc(session: Session, uscc: str) -> Subject | None:
    return session.scalars(select(Subject).where(Subject.uscc == uscc)).one_or_none()


SEARCH_COUNT_CAP = 10_000


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    session: Session, *, code: str | None, name_norm: str, core: str, offset: int, limit: int
) -> tuple[list[Subject], int]:
    """Search public subjects (not natural persons) by code or name; exact code, exact name, then similar.

    On PostgreSQL the `core_name LIKE '%…%'` condition is served by the pg_trgm GIN index from three
    characters on, and for two (a bare trade name such as 鑫源) by the bigram index of migration 0008.
    """
    from sqlalchemy import ColumnElement, Text, and_, bindparam, case, func, literal, or_
    from sqlalchemy.dialects.postgresql import ARRAY

    conditions = []
    if code:
        conditions.append(Subject.uscc == code)
    if name_norm:
        conditions.append(Subject.name_norm == name_norm)
    if core:
        contains: ColumnElement[bool] = Subject.core_name.like(f"%{_like_escape(core)}%", escape="\\")
        if len(core) == 2 and session.get_bind().dialect.name == "postgresql":
            bigram = bindparam(None, [core], type_=ARRAY(Text))
            contains = and_(func.xinyong_bigrams(Subject.core_name).op("@>")(bigram), contains)
        conditions.append(contains)
    if not conditions:
        return [], 0
    where = [Subject.kind != "natural_person", or_(*conditions)]
    rank = case(
        (Subject.uscc == (code or literal(None)), 0),
        (Subject.name_norm == name_norm, 1),
        (Subject.core_name == core, 2),
        (Subject.core_name.like(f"{_like_escape(core)}%", escape="\\"), 3),
        else_=4,
    )
    rows = session.scalars(
        select(Subject)
        .where(*where)
        .order_by(rank, func.length(Subject.name_norm), Subject.id)
        .offset(offset)
        .limit(limit)
    ).all()
    if len(rows) < limit and (rows or offset == 0):
        return list(rows), offset + len(rows)  # the last page: the count is known without counting
    total = session.scalar(
        select(func.count()).select_from(select(Subject.id).where(*where).limit(SEARCH_COUNT_CAP).subquery())
    )
    return list(rows), int(total or 0)
