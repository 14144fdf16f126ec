"""Record queries, scoped to what the public may see (active, inside the window, public item)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.catalog.schemas import Catalog, DisclosureClass, SharingClass
from xinyong.db import bulk, counting
from xinyong.kit.pagination import Page
from xinyong.records.models import Batch, Record, RejectedRow, UnresolvedRow


def public_filter(catalog: Catalog, today: dt.date) -> ColumnElement[bool]:
    """Records the public may see today: active, in window, a public item, persons only where the law says."""
    public_items = [i.code for i in catalog.items if i.disclosure_class == DisclosureClass.PUBLIC]
    person_items = [i.code for i in catalog.items if i.code in public_items and i.public_for_natural_persons]
    return and_(
        Record.status == "active",
        Record.item_code.in_(public_items) if public_items else false(),
        Record.public_from.is_not(None),
        Record.public_from <= today,
        or_(Record.public_until.is_(None), Record.public_until >= today),
        or_(
            Record.subject_kind != "natural_person",
            Record.item_code.in_(person_items) if person_items else false(),
        ),
    )


PUBLICITY_COUNT_BOUND = 2_000
"""A 双公示 listing counts its rows up to this many; beyond, it shows an estimate (see `db.counting`)."""


def publicity_listing(
    session: Session,
    catalog: Catalog,
    today: dt.date,
    *,
    item_code: str,
    provider_code: str | None = None,
    region_code: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    subject_ids: Collection[int] | None = None,
    doc_no: str | None = None,
    page: int = 1,
    size: int = 20,
    count: bool = True,
) -> Page[Record]:
    """双公示 listing: latest public records of one item, filtered by department, region and decision date,
    and, for a keyword search, to the records of `subject_ids` or with document number `doc_no` (either).

    The rows come in the order of the (item, decision date) index; the total is exact up to
    `PUBLICITY_COUNT_BOUND` rows and an estimate beyond. A search by subject walks the (subject, item) index;
    one by document number reads the item's records (no index on the number). Without `count` (the home
    page's latest records) nothing is counted and the total is the rows returned, marked as not exact.
    """
    conditions = [Record.item_code == item_code, public_filter(catalog, today)]
    if provider_code:
        conditions.append(Record.provider_code == provider_code)
    if region_code:
        prefix = region_code.rstrip("0") if region_code.endswith("00") else region_code
        conditions.append(Record.region_code.startswith(prefix[:6], autoescape=True))
    if date_from:
        conditions.append(Record.decision_date >= date_from)
    if date_to:
        conditions.append(Record.decision_date <= date_to)
    if subject_ids is not None or doc_no:
        matches = [*bulk.member_of(session, Record.subject_id, subject_ids or ())]
        if doc_no:
            matches.append(Record.doc_no == doc_no)
        conditions.append(or_(*matches) if matches else false())
    if subject_ids:
        found = _few_newest_first(session, conditions, page, size)
        if found is not None:
            return found
    rows = session.scalars(
        select(Record)
        .where(*conditions)
        .order_by(Record.decision_date.desc(), Record.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    if not count:
        return Page(list(rows), len(rows), page, size, exact=False, at_least=True)
    total = counting.bounded_count(session, select(Record.id).where(*conditions), PUBLICITY_COUNT_BOUND)
    return Page(list(rows), total.value, page, size, exact=total.exact, at_least=total.at_least)


def _few_newest_first(
    session: Session, conditions: list[ColumnElement[bool]], page: int, size: int
) -> Page[Record] | None:
    """The page of a search whose matches are few (at most `PUBLICITY_COUNT_BOUND`), or None if they are more.

    The matches' ids and dates are read in one walk of the (subject, item) index, which also counts them, and
    sorted here; only the page's records are then read whole. Asked for the newest first directly, SQLite
    walks the (item, decision date) index instead and reads every record of the item until it has the page.
    """
    keyed = list(
        session.execute(
            select(Record.id, Record.decision_date).where(*conditions).limit(PUBLICITY_COUNT_BOUND + 1)
        )
    )
    if len(keyed) > PUBLICITY_COUNT_BOUND:
        return None
    keyed.sort(key=lambda r: (r.decision_date or dt.date.min, r.id), reverse=True)
    wanted = [r.id for r in keyed[(page - 1) * size : page * size]]
    records = (
        {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(wanted)))} if wanted else {}
    )
    return Page([records[i] for i in wanted], len(keyed), page, size)


def recent_batches(session: Session, *, provider_code: str | None = None, limit: int = 50) -> Sequence[Batch]:
    query = select(Batch).order_by(Batch.started_at.desc()).limit(limit)
    if provider_code:
        query = query.where(Batch.provider_code == provider_code)
    return session.scalars(query).all()


def rejected_rows(session: Session, batch_id: str, limit: int = 500) -> Sequence[RejectedRow]:
    return session.scalars(
        select(RejectedRow)
        .where(RejectedRow.batch_id == batch_id)
        .order_by(RejectedRow.row_number)
        .limit(limit)
    ).all()


def open_unresolved(
    session: Session, *, provider_code: str | None = None, limit: int = 200
) -> Sequence[UnresolvedRow]:
    query = (
        select(UnresolvedRow).where(UnresolvedRow.status == "open").order_by(UnresolvedRow.id).limit(limit)
    )
    if provider_code:
        query = query.where(UnresolvedRow.provider_code == provider_code)
    return session.scalars(query).all()


def counts(session: Session, *, provider_code: str | None = None) -> dict[str, int]:
    def scoped(query: Select[Any], column: Any) -> Select[Any]:
        return query.where(column == provider_code) if provider_code else query

    rejected = select(func.count(RejectedRow.id)).join(Batch, Batch.id == RejectedRow.batch_id)
    return {
        "records": int(session.scalar(scoped(select(func.count(Record.id)), Record.provider_code)) or 0),
        "batches": int(session.scalar(scoped(select(func.count(Batch.id)), Batch.provider_code)) or 0),
        "rejected": int(session.scalar(scoped(rejected, Batch.provider_code)) or 0),
        "unresolved": int(
            session.scalar(
                scoped(select(func.count(UnresolvedRow.id)), UnresolvedRow.provider_code).where(
                    UnresolvedRow.status == "open"
                )
            )
            or 0
        ),
    }


def visible_filter(
    principal: Principal, catalog: Catalog, today: dt.date, granted_items: set[str]
) -> ColumnElement[bool]:
    """What a principal may see, as a query condition (applied in SQL, never filtered afterwards).

    Public: records public today. A subject account: also its whole own file. Government: unconditionally
    shared items, conditionally shared items granted to its department, and its own department's records;
    items not shared stay with their provider and the credit office.
    """
    if principal.kind == "system" or principal.is_credit_office:
        return true()
    if principal.is_government:
        unconditional = [i.code for i in catalog.items if i.sharing_class == SharingClass.UNCONDITIONAL]
        conditional = [
            i.code
            for i in catalog.items
            if i.sharing_class == SharingClass.CONDITIONAL and i.code in granted_items
        ]
        shared = unconditional + conditional
        # A repaired record stops being shared (信用修复：停止共享); its provider keeps it in the archive.
        return or_(
            and_(Record.item_code.in_(shared), Record.status != "repaired") if shared else false(),
            Record.provider_code == principal.department_code,
        )
    if principal.subject_id is not None:
        return or_(public_filter(catalog, today), Record.subject_id == principal.subject_id)
    return public_filter(catalog, today)


def records_of(session: Session, subject_id: int, condition: ColumnElement[bool]) -> Sequence[Record]:
    return session.scalars(
        select(Record)
        .where(Record.subject_id == subject_id, condition)
        .order_by(Record.item_code, Record.decision_date.desc(), Record.id.desc())
    ).all()
