"""The credit file use case: what one reader may see of a subject's file, its reading audited once."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.policy import Principal
from xinyong.authorizations import rules as authorization_rules
from xinyong.authorizations import service as authorizations
from xinyong.catalog.schemas import Catalog
from xinyong.creditfile import rules
from xinyong.creditfile.schemas import FileLayout
from xinyong.lists import service as lists
from xinyong.objections import service as objections
from xinyong.records import credit_file as records
from xinyong.records.models import Record
from xinyong.registration import service as registrations


@functools.cache
def file_layout() -> FileLayout:
    """The sections of a credit file and what each holds (`creditfile/data/file_sections.yaml`), validated."""
    text = (
        resources.files("xinyong.creditfile").joinpath("data/file_sections.yaml").read_text(encoding="utf-8")
    )
    return FileLayout.model_validate(yaml.safe_load(text))


@dataclass(slots=True)
class CreditFile:
    """What one reader may see of a subject's file: records, list entries in force, open objections."""

    view: str  # public, own, authorized (an organisation the subject authorised) or government
    records: Sequence[Record]
    entries: list[dict[str, Any]]
    under_objection: set[int]
    # Entries that do not count today (in due process, dropped, removed, expired): own and government views.
    history: list[dict[str, Any]] = field(default_factory=list)
    # Registered information (自主申报信息) this reader may see, newest first.
    registrations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def badges(self) -> list[dict[str, str]]:
        return rules.list_badges([e["list_type"] for e in self.entries])


def credit_file(
    session: Session,
    catalog: Catalog,
    principal: Principal,
    subject_id: int,
    today: dt.date,
    *,
    purpose: str | None = None,
    ip: str | None = None,
    use: str = authorization_rules.FILE_READ,
) -> CreditFile:
    """A subject's credit file as this principal may see it; list entries follow the records' view.

    The public sees published entries in force (never a natural person's); the subject itself and government
    users who stated a purpose see every entry in force, and apart from them (`history`, never as current)
    the entries in due process, dropped, removed or past their period. Reading non-public data is audited once per read by
    `records.credit_file`, whose entry covers the whole file shown, list entries included.

    An organisation account (agency, bank) reads as the subject's own account does only while an
    authorisation from the subject covers `use` (file:read, or reports:issue when a report is issued); its
    read is audited with the authorisation, the organisation and the purpose. Otherwise it reads as the public.
    """
    granted = authorizations.check(session, principal, subject_id, use, today)
    found, view = records.credit_file(
        session,
        catalog,
        principal,
        subject_id,
        today,
        purpose=purpose,
        ip=ip,
        authorization=authorizations.reading(session, granted) if granted is not None else None,
    )
    entries = lists.in_force_of_subject(session, subject_id, today, public_only=view == "public")
    past = [] if view == "public" else lists.not_in_force_of_subject(session, subject_id, today)
    names = {
        code: accounts.get_department(session, code).name
        for code in sorted({e.department_code for e in [*entries, *past]})
    }
    return CreditFile(
        view=view,
        records=found,
        entries=[rules.list_entry_read(e, names[e.department_code]) for e in entries],
        under_objection=objections.open_record_ids(session, [r.id for r in found]),
        history=[
            rules.list_entry_read(e, names[e.department_code]) | {"standing": rules.list_standing(e, today)}
            for e in past
        ],
        registrations=registrations.for_file(session, subject_id, view),
    )


@dataclass(slots=True)
class CreditFilePage:
    """What one reader may see of a subject's file, for the page: each section's counts and one page of its
    records, read in SQL (a grouped count and a LIMIT/OFFSET query per section) rather than every record."""

    view: str  # as `CreditFile.view`
    counts: dict[str, int]  # records per catalog item this reader may see
    shown: dict[str, Sequence[Record]]  # by section code: the page of records it shows
    slices: list[rules.SectionSlice]
    entries: list[dict[str, Any]]
    under_objection: set[int]  # of the records shown, those under objection
    objections_pending: int  # of all the records this reader may see, those under objection
    history: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def badges(self) -> list[dict[str, str]]:
        return rules.list_badges([e["list_type"] for e in self.entries])


def credit_file_page(
    session: Session,
    catalog: Catalog,
    principal: Principal,
    subject_id: int,
    today: dt.date,
    *,
    section: str | None = None,
    page: int = 1,
    size: int = rules.SECTION_PAGE_SIZE,
    purpose: str | None = None,
    ip: str | None = None,
    use: str = authorization_rules.FILE_READ,
) -> CreditFilePage:
    """A subject's credit file as `credit_file` gives it to this principal (the same views, visibility and
    audit, the same order within each section), paged in SQL: one grouped count of the records per item, then
    for each section that holds records one query for the page it shows (`page` of `section`, the first page of
    the others). A subject with thousands of records costs a page of rows per section, not the whole file."""
    granted = authorizations.check(session, principal, subject_id, use, today)
    found = records.access(
        session,
        catalog,
        principal,
        subject_id,
        today,
        purpose=purpose,
        authorization=authorizations.reading(session, granted) if granted is not None else None,
    )
    counts = records.item_counts(session, subject_id, found.condition)
    records.audit_read(session, principal, found, subject_id, records=sum(counts.values()), ip=ip)
    layout = file_layout()
    slices = rules.slice_file(layout, catalog, counts, section=section, page=page, size=size)
    order = rules.item_rank(catalog)
    shown = {
        cut.code: records.records_page(
            session,
            subject_id,
            found.condition,
            items=cut.items,
            item_order=order,
            offset=cut.offset,
            limit=size,
        )
        for cut in slices
        if cut.total
    }
    entries = lists.in_force_of_subject(session, subject_id, today, public_only=found.view == "public")
    past = [] if found.view == "public" else lists.not_in_force_of_subject(session, subject_id, today)
    names = {
        code: accounts.get_department(session, code).name
        for code in sorted({e.department_code for e in [*entries, *past]})
    }
    return CreditFilePage(
        view=found.view,
        counts=counts,
        shown=shown,
        slices=slices,
        entries=[rules.list_entry_read(e, names[e.department_code]) for e in entries],
        under_objection=objections.open_record_ids(session, [r.id for rows in shown.values() for r in rows]),
        objections_pending=objections.open_count(session, subject_id, found.condition),
        history=[
            rules.list_entry_read(e, names[e.department_code]) | {"standing": rules.list_standing(e, today)}
            for e in past
        ],
        registrations=registrations.for_file(session, subject_id, found.view),
    )
