"""A subject's credit file (信用档案): the records a principal may see, audited when not public."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, case, func, select, true
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.policy import Principal, allows
from xinyong.audit import service as audit
from xinyong.catalog.schemas import Catalog
from xinyong.records import repository
from xinyong.records.models import Record

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FileAccess:
    """What one principal may read of a subject's records: the view given and the condition selecting them (in
    SQL), and for a non-public view the audit entry its reading makes."""

    view: str  # public, own, authorized or government
    condition: ColumnElement[bool]
    action: str | None  # the audit action; None for the public view (public data, not audited)
    purpose: str | None
    details: dict[str, Any] = field(default_factory=dict)


def access(
    session: Session,
    catalog: Catalog,
    principal: Principal,
    subject_id: int,
    today: dt.date,
    *,
    purpose: str | None = None,
    authorization: Mapping[str, Any] | None = None,
) -> FileAccess:
    """The view and the condition of `credit_file`, without reading: government users see non-public data only
    when they state a purpose; an organisation the subject authorised (`authorization`) sees the whole file as
    the subject's own account does."""
    if principal.subject_id is not None and principal.subject_id == subject_id:
        view, action, details = "own", "subject.view_own", {}
    elif authorization is not None:
        view, action = "authorized", "subject.view_authorized"
        purpose = str(authorization["purpose"])
        details = {k: v for k, v in authorization.items() if k != "purpose"}
    elif allows(principal, "subjects:read_nonpublic") and purpose and purpose.strip():
        view, action, details = "government", "subject.view", {}
    else:
        return FileAccess("public", repository.public_filter(catalog, today), None, purpose)
    if view == "authorized":
        condition: ColumnElement[bool] = true()  # the subject's whole file, as its own account sees it
    else:
        grants = accounts.granted_items(session, principal.department_code, today)
        condition = repository.visible_filter(principal, catalog, today, grants)
    return FileAccess(view, condition, action, purpose, details)


def audit_read(
    session: Session,
    principal: Principal,
    found: FileAccess,
    subject_id: int,
    *,
    records: int,
    ip: str | None = None,
) -> None:
    """Audit one read of a non-public view (`records`: how many records the reader may see); the public view
    is not audited."""
    if found.action is None:
        return
    audit.record(
        session,
        principal,
        found.action,
        subject_id=subject_id,
        purpose=(found.purpose or "").strip() or None,
        ip=ip,
        details={"records": records, **found.details},
    )


def credit_file(
    session: Session,
    catalog: Catalog,
    principal: Principal,
    subject_id: int,
    today: dt.date,
    *,
    purpose: str | None = None,
    ip: str | None = None,
    authorization: Mapping[str, Any] | None = None,
) -> tuple[Sequence[Record], str]:
    """The records of a subject this principal may see, and the view given: public, own, authorized or
    government.

    Government users see non-public data only when they state a purpose; every such read is audited. An
    organisation the subject authorised (`authorization`: what `authorizations.service.reading` gives, its
    id, organisation and purpose) sees the whole file as the subject's own account does, audited with it.
    """
    found = access(
        session, catalog, principal, subject_id, today, purpose=purpose, authorization=authorization
    )
    records = repository.records_of(session, subject_id, found.condition)
    audit_read(session, principal, found, subject_id, records=len(records), ip=ip)
    return records, found.view


def item_counts(session: Session, subject_id: int, condition: ColumnElement[bool]) -> dict[str, int]:
    """How many records of each item the condition selects of a subject's file: one grouped count."""
    rows = session.execute(
        select(Record.item_code, func.count())
        .where(Record.subject_id == subject_id, condition)
        .group_by(Record.item_code)
    ).all()
    return {str(item): int(n) for item, n in rows}


def records_page(
    session: Session,
    subject_id: int,
    condition: ColumnElement[bool],
    *,
    items: Sequence[str],
    item_order: Mapping[str, int],
    offset: int,
    limit: int,
) -> Sequence[Record]:
    """One page of a subject's records of these items, in the file's order: by item as `item_order` ranks them
    (others after, by code), then as `repository.records_of` orders them (newest decision first, then id)."""
    if not items:
        return []
    ranked = {code: n for code, n in item_order.items() if code in items}
    order: list[Any] = [case(ranked, value=Record.item_code, else_=len(item_order))] if ranked else []
    return session.scalars(
        select(Record)
        .where(Record.subject_id == subject_id, condition, Record.item_code.in_(list(items)))
        .order_by(*order, Record.item_code, Record.decision_date.desc(), Record.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
