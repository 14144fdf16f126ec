"""The measures' queries: the statements a check reads with, the triggers in force, and the published measure
list (with `PublishedLists`, the parsed lists a process keeps)."""

from __future__ import annotations

import datetime as dt
import threading
import typing
from collections.abc import Collection
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.catalog.schemas import Catalog
from xinyong.db.bulk import DriverStatement, Membership
from xinyong.lists import service as lists
from xinyong.lists.models import ListEntry
from xinyong.measures import loader
from xinyong.measures.models import Check, MeasureListVersion
from xinyong.measures.schemas import MeasureList
from xinyong.records.models import Record
from xinyong.subjects.models import Subject

CHECKS = typing.cast(Table, Check.__table__)
ENTRIES = typing.cast(Table, ListEntry.__table__)
RECORDS = typing.cast(Table, Record.__table__)
SUBJECTS = typing.cast(Table, Subject.__table__)
_VERSIONS = typing.cast(Table, MeasureListVersion.__table__)
# The check's statements are built once: building and keying a statement costs more than running it here.
PUBLISHED_HEAD = (
    select(_VERSIONS.c.id, _VERSIONS.c.version)
    .where(_VERSIONS.c.status == "published")
    .order_by(_VERSIONS.c.id.desc())
    .limit(1)
)
SUBJECT_COLUMNS = (
    select(  # what a check shows of its subject (`rules.subject_view`); the order of `rules.SubjectRow`
        SUBJECTS.c.id,
        SUBJECTS.c.uscc,
        SUBJECTS.c.name,
        SUBJECTS.c.kind,
        SUBJECTS.c.region_code,
        SUBJECTS.c.id_masked,
    )
)
SUBJECTS_BY_USCC = Membership(
    "usccs", String(), lambda member: SUBJECT_COLUMNS.where(member(SUBJECTS.c.uscc))
)
_TODAY = bindparam("today", type_=Date())
ENTRY_TRIGGERS = select(
    literal("list_entry").label("source"),
    ENTRIES.c.subject_id,
    ENTRIES.c.id,
    ENTRIES.c.list_type.label("code"),
    ENTRIES.c.decision_no.label("doc_no"),
    ENTRIES.c.department_code.label("department"),
    ENTRIES.c.legal_basis,
    ENTRIES.c.scope,
    cast(null(), String).label("severity"),
    ENTRIES.c.decided_on.label("day"),
    ENTRIES.c.public_until,
).where(lists.in_force(_TODAY))
RECORD_TRIGGERS = select(  # the order of `rules.TriggerRow`, as `ENTRY_TRIGGERS`
    literal("record"),
    RECORDS.c.subject_id,
    RECORDS.c.id,
    RECORDS.c.item_code,
    RECORDS.c.doc_no,
    RECORDS.c.provider_code,
    cast(null(), Text),
    cast(null(), String),
    RECORDS.c.severity,
    RECORDS.c.decision_date,
    RECORDS.c.public_until,
).where(
    RECORDS.c.status == "active",
    or_(RECORDS.c.decision_date.is_(None), RECORDS.c.decision_date <= _TODAY),
    or_(RECORDS.c.public_until.is_(None), RECORDS.c.public_until >= _TODAY),
)


_LIST_TRIGGERS = Membership(
    "subject_ids", Integer(), lambda member: ENTRY_TRIGGERS.where(member(ENTRIES.c.subject_id))
)
_ALL_TRIGGERS = Membership(
    "subject_ids",
    Integer(),
    lambda member: union_all(
        ENTRY_TRIGGERS.where(member(ENTRIES.c.subject_id)),
        RECORD_TRIGGERS.where(
            RECORDS.c.item_code.in_(bindparam("items", expanding=True)), member(RECORDS.c.subject_id)
        ),
    ),
)
INSERT_CHECK = insert(CHECKS)


def triggers(
    session: Session, subject_ids: Collection[int], today: dt.date, items: frozenset[str]
) -> dict[int, list[Any]]:
    """What can trigger a measure today, for many subjects in one statement: their list entries in force, and
    their records of an item some measure names that are active (not revoked, not repaired) and not past their
    window. Only the columns a hit shows are read (no JSON documents)."""
    connection = session.connection()
    if items:
        found = _ALL_TRIGGERS.rows(connection, subject_ids, today=today, items=sorted(items))
    else:
        found = _LIST_TRIGGERS.rows(connection, subject_ids, today=today)
    by_subject: dict[int, list[Any]] = {}
    for row in found:
        by_subject.setdefault(row.subject_id, []).append(row)
    return by_subject


def read_statement_pg(slots: int, lock_head: bool) -> Select[Any]:
    """PostgreSQL: a batch of checks reads in one statement (`check._read_pg`), one row of JSON — the published version, the subjects
    asked, every trigger of theirs in force on `today` among the `items` the list names, and an audit chain
    head no other transaction holds, locked (`lock_head`).

    The subjects are asked by `slots` USCC parameters `u0`, `u1`… (a batch fills the slots it does not need
    with its last USCC again): PostgreSQL keeps one generic plan of such a statement for every batch it fits
    (planning it took longer than running it). With `slots` 0 they are asked by the arrays `usccs` and `ids`
    (subjects resolved by resident ID or name, or batches of more than `SLOTS[-1]`), planned again on every
    call: the generic plan of `= ANY(array)` never looks cheaper than a custom one.
    """
    if slots:
        asking = SUBJECT_COLUMNS.where(
            SUBJECTS.c.uscc.in_([bindparam(f"u{n}", type_=String()) for n in range(slots)])
        )
    else:
        asking = SUBJECT_COLUMNS.where(
            or_(
                SUBJECTS.c.uscc == any_(bindparam("usccs", type_=ARRAY(String()))),
                SUBJECTS.c.id == any_(bindparam("ids", type_=ARRAY(Integer()))),
            )
        )
    asked = asking.cte("asked")
    of_asked = select(asked.c.id)
    found = union_all(
        ENTRY_TRIGGERS.where(ENTRIES.c.subject_id.in_(of_asked)),
        RECORD_TRIGGERS.where(
            RECORDS.c.item_code == any_(bindparam("items", type_=ARRAY(String()))),
            RECORDS.c.subject_id.in_(of_asked),
        ),
    ).subquery("found")
    head = PUBLISHED_HEAD.subquery("head")
    columns = [
        select(func.json_build_array(head.c.id, head.c.version)).scalar_subquery().label("published"),
        select(func.json_agg(func.json_build_array(*asked.c))).scalar_subquery().label("subjects"),
        select(func.json_agg(func.json_build_array(*found.c))).scalar_subquery().label("triggers"),
    ]
    if lock_head:
        chain = audit.FREE_HEAD.cte("chain")
        columns.append(select(func.json_build_array(*chain.c)).scalar_subquery().label("chain"))
    return select(*columns)


SLOTS = (1, 4, 16, 64)  # few statements, each soon prepared and planned on the connections in use
READ_PG = {
    (slots, lock): DriverStatement(read_statement_pg(slots, lock))
    for slots in (0, *SLOTS)
    for lock in (False, True)
}


class PublishedLists:
    """The measure lists a process has read and validated, by (version id, version, the catalog's items), and
    the published version it saw last, by the catalog's items: a check reads only the published version's id
    and validates the document of a version it has not seen before.

    One is owned by the platform (`xinyong.platform.Platform.measure_lists`) for the process's life; a caller
    without one gets a fresh one per call, which caches nothing across calls. Entries are never removed: a
    process sees few versions. A lock guards the two maps (the check batcher runs in a thread of its own).
    """

    def __init__(self) -> None:
        self._parsed: dict[tuple[int, str, frozenset[str]], MeasureList] = {}
        self._latest: dict[frozenset[str], tuple[int, str]] = {}
        self._lock = threading.Lock()

    def current(self, session: Session, catalog: Catalog) -> MeasureList:
        """The measure list in force; the shipped list is published on first use of an empty store.

        Hot path of every check: one small query for the published version's id; the document is read and
        validated only when that version was not seen before.
        """
        head = session.connection().execute(PUBLISHED_HEAD).first()
        return self.at_head(session, catalog, None if head is None else (head.id, head.version))

    def at_head(self, session: Session, catalog: Catalog, head: tuple[int, str] | None) -> MeasureList:
        """`current`, given the published version's (id, version) as read by the caller."""
        item_codes = catalog.item_codes
        if head is not None:
            with self._lock:
                parsed = self._parsed.get((*head, item_codes))
                if parsed is not None:
                    self._latest[item_codes] = head
                    return parsed
        row = session.get(MeasureListVersion, head[0]) if head is not None else None
        if row is None:
            shipped = loader.load_shipped(catalog.item_codes)
            row = MeasureListVersion(
                version=shipped.version,
                status="published",
                effective_from=shipped.effective_from,
                document=shipped.model_dump(mode="json"),
                created_by="system",
                published_at=dt.datetime.now(dt.UTC),
            )
            session.add(row)
            session.flush()
        parsed = loader.validate_document(row.document, item_codes)
        with self._lock:
            self._parsed[(row.id, row.version, item_codes)] = parsed
            self._latest[item_codes] = (row.id, row.version)
        return parsed

    def last_seen(self, catalog: Catalog) -> MeasureList | None:
        """The published list this process saw last for the catalog's items, if any (read nothing)."""
        item_codes = catalog.item_codes
        with self._lock:
            seen = self._latest.get(item_codes)
            return None if seen is None else self._parsed[(*seen, item_codes)]


def published(session: Session, catalog: Catalog, lists: PublishedLists | None = None) -> MeasureList:
    """The measure list in force (`PublishedLists.current`), through the caller's cache if it has one."""
    return (lists or PublishedLists()).current(session, catalog)
