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
