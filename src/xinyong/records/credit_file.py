"""A subject's credit file (信用档案): the records a principal may see, audited when not public."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.policy import Principal, allows
from xinyong.audit import service as audit
from xinyong.catalog.schemas import Catalog
from xinyong.records import repository
from xinyong.records.models import Record

T = TypeVar("T")


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
    details: dict[str, Any] = {}
    if principal.subject_id is not None and principal.subject_id == subject_id:
        view, action = "own", "subject.view_own"
    elif authorization is not None:
        view, action = "authorized", "subject.view_authorized"
        purpose = str(authorization["purpose"])
        details = {k: v for k, v in authorization.items() if k != "purpose"}
    elif allows(principal, "subjects:read_nonpublic") and purpose and purpose.strip():
        view, action = "government", "subject.view"
    else:
        return repository.records_of(session, subject_id, repository.public_filter(catalog, today)), "public"
    if view == "authorized":
        condition: ColumnElement[bool] = true()  # the subject's whole file, as its own account sees it
    else:
        grants = accounts.granted_items(session, principal.department_code, today)
        condition = repository.visible_filter(principal, catalog, today, grants)
    records = repository.records_of(session, subject_id, condition)
    audit.record(
        session,
        principal,
        action,
        subject_id=subject_id,
        purpose=(purpose or "").strip() or None,
        ip=ip,
        details={"records": len(records), **details},
    )
    return records, view
