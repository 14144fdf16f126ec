"""Joint rewards and punishments: the published measure list, the real-time check, feedback and cases.

A check resolves the subject, takes the measures of the published list for the scenario, and reports each
measure whose trigger is in force today (a list entry that is listed and not expired or removed; a record
that is active — not revoked or repaired — and inside its window), with the legal basis. The answer is
signed (Ed25519) and stored, so it can be fetched and verified later.
"""

from __future__ import annotations

import datetime as dt
import typing
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

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
from sqlalchemy.orm import Session, sessionmaker

from xinyong.accounts import service as accounts
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.catalog.schemas import Catalog, SharingClass
from xinyong.db import bulk
from xinyong.db.bulk import DriverStatement, Membership
from xinyong.db.engine import writer_session
from xinyong.kit import hygiene, identifiers, names
from xinyong.kit.crypto import Signer
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed, XinyongError
from xinyong.lists import service as lists
from xinyong.lists.models import ListEntry
from xinyong.measures import loader
from xinyong.measures.models import Check, MeasureFeedback, MeasureListVersion
from xinyong.measures.schemas import Measure, MeasureList
from xinyong.records.models import Record
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject

MAX_BATCH = 1000
CHECKS = typing.cast(Table, Check.__table__)


@dataclass(frozen=True)
class SubjectRef:
    uscc: str | None = None
    resident_id: str | None = None
    name: str | None = None
    region: str | None = None


_PARSED: dict[tuple[int, str, frozenset[str]], MeasureList] = {}
_LATEST: dict[frozenset[str], tuple[int, str]] = {}  # the published version last seen, by the catalog's items


def published(session: Session, catalog: Catalog) -> MeasureList:
    """The measure list in force; the shipped list is published on first use of an empty store.

    Hot path of every check: one small query for the published version's id; the document is read and
    validated only when that version was not seen before by this process.
    """
    head = session.connection().execute(_PUBLISHED_HEAD).first()
    return _published(session, catalog, None if head is None else (head.id, head.version))


def _published(session: Session, catalog: Catalog, head: tuple[int, str] | None) -> MeasureList:
    """`published`, given the published version's (id, version) as read by the caller."""
    item_codes = catalog.item_codes
    if head is not None and (*head, item_codes) in _PARSED:
        _LATEST[item_codes] = head
        return _PARSED[(*head, item_codes)]
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
    _PARSED[(row.id, row.version, item_codes)] = parsed
    _LATEST[item_codes] = (row.id, row.version)
    return parsed


def _resolve_one(
    session: Session, ref: SubjectRef, cipher_hash: Any, today: dt.date
) -> tuple[Any, dict[str, Any]]:
    """The subject asked about by resident ID or by name and region, and how it was asked (USCCs are resolved
    together, in `_resolve`)."""
    if ref.resident_id:
        try:
            info = identifiers.validate_resident_id(ref.resident_id, today=today)
        except identifiers.IdentifierError as exc:
            raise ValidationFailed(exc.message, code=exc.code) from None
        subject = subjects.find_person(session, cipher_hash(info.number))
        return subject, {"resident_id": identifiers.mask_resident_id(info.number)}
    if ref.name and ref.region:
        norm = names.normalize_name(ref.name)
        found = session.scalars(
            select(Subject).where(Subject.name_norm == norm, Subject.region_code == ref.region).limit(11)
        ).all()
        if len(found) > 1:
            raise Conflict(
                f"名称“{ref.name}”在该地区对应{len(found)}个主体，请改用统一社会信用代码查询",
                code="check.ambiguous_subject",
                details={"candidates": [{"uscc": s.uscc, "name": s.name} for s in found[:10]]},
            )
        return (found[0] if found else None), {"name": ref.name, "region": ref.region}
    raise ValidationFailed(
        "须提供统一社会信用代码、公民身份号码，或名称加行政区划代码", code="check.subject_required"
    )


def _asked(
    session: Session, order: CheckOrder, cipher_hash: Any
) -> str | tuple[Any, dict[str, Any]] | XinyongError:
    """Who an order asks about: a valid USCC (looked up with the batch's other USCCs, in the batch's read), the
    subject asked by resident ID or by name and region (with how it was asked), or why it cannot be resolved."""
    try:
        if order.ref.uscc:
            try:
                return identifiers.validate_uscc(order.ref.uscc)
            except identifiers.IdentifierError as exc:
                raise ValidationFailed(exc.message, code=exc.code) from None
        return _resolve_one(session, order.ref, cipher_hash, order.today)
    except XinyongError as exc:
        return exc


def require_scenario(measure_list: MeasureList, scenario: str) -> None:
    if scenario not in measure_list.scenarios:
        raise ValidationFailed(
            f"未知的应用场景“{scenario}”",
            code="check.unknown_scenario",
            details={"scenarios": sorted(measure_list.scenarios)},
        )


_ENTRIES = typing.cast(Table, ListEntry.__table__)
_RECORDS = typing.cast(Table, Record.__table__)
_SUBJECTS = typing.cast(Table, Subject.__table__)
_VERSIONS = typing.cast(Table, MeasureListVersion.__table__)
# The check's statements are built once: building and keying a statement costs more than running it here.
_PUBLISHED_HEAD = (
    select(_VERSIONS.c.id, _VERSIONS.c.version)
    .where(_VERSIONS.c.status == "published")
    .order_by(_VERSIONS.c.id.desc())
    .limit(1)
)
_SUBJECT_COLUMNS = select(  # what a check shows of its subject (`_subject_view`); the order of `_SubjectRow`
    _SUBJECTS.c.id,
    _SUBJECTS.c.uscc,
    _SUBJECTS.c.name,
    _SUBJECTS.c.kind,
    _SUBJECTS.c.region_code,
    _SUBJECTS.c.id_masked,
)
_SUBJECTS_BY_USCC = Membership(
    "usccs", String(), lambda member: _SUBJECT_COLUMNS.where(member(_SUBJECTS.c.uscc))
)
_TODAY = bindparam("today", type_=Date())
_ENTRY_TRIGGERS = select(
    literal("list_entry").label("source"),
    _ENTRIES.c.subject_id,
    _ENTRIES.c.id,
    _ENTRIES.c.list_type.label("code"),
    _ENTRIES.c.decision_no.label("doc_no"),
    _ENTRIES.c.department_code.label("department"),
    _ENTRIES.c.legal_basis,
    _ENTRIES.c.scope,
    cast(null(), String).label("severity"),
    _ENTRIES.c.decided_on.label("day"),
    _ENTRIES.c.public_until,
).where(lists.in_force(_TODAY))
_RECORD_TRIGGERS = select(  # the order of `_TriggerRow`, as `_ENTRY_TRIGGERS`
    literal("record"),
    _RECORDS.c.subject_id,
    _RECORDS.c.id,
    _RECORDS.c.item_code,
    _RECORDS.c.doc_no,
    _RECORDS.c.provider_code,
    cast(null(), Text),
    cast(null(), String),
    _RECORDS.c.severity,
    _RECORDS.c.decision_date,
    _RECORDS.c.public_until,
).where(
    _RECORDS.c.status == "active",
    or_(_RECORDS.c.decision_date.is_(None), _RECORDS.c.decision_date <= _TODAY),
    or_(_RECORDS.c.public_until.is_(None), _RECORDS.c.public_until >= _TODAY),
)
_LIST_TRIGGERS = Membership(
    "subject_ids", Integer(), lambda member: _ENTRY_TRIGGERS.where(member(_ENTRIES.c.subject_id))
)
_ALL_TRIGGERS = Membership(
    "subject_ids",
    Integer(),
    lambda member: union_all(
        _ENTRY_TRIGGERS.where(member(_ENTRIES.c.subject_id)),
        _RECORD_TRIGGERS.where(
            _RECORDS.c.item_code.in_(bindparam("items", expanding=True)), member(_RECORDS.c.subject_id)
        ),
    ),
)
_INSERT_CHECK = insert(CHECKS)


def _triggers(
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


def _measure_applies(measure: Measure, scenario: str, today: dt.date) -> bool:
    return (
        scenario in measure.scenarios
        and measure.valid_from <= today
        and (measure.valid_until is None or today <= measure.valid_until)
    )


def hits_for(
    session: Session, measure_list: MeasureList, subject_id: int, scenario: str, today: dt.date
) -> list[dict[str, Any]]:
    found = _triggers(session, (subject_id,), today, measure_list.trigger_items).get(subject_id, [])
    return _hits(measure_list, found, scenario, today)


def _hits(
    measure_list: MeasureList, found: Sequence[Any], scenario: str, today: dt.date
) -> list[dict[str, Any]]:
    """The measures of the list that apply in the scenario today, each with the trigger that fires it."""
    if not found:  # every hit is fired by a trigger: most subjects have none
        return []
    entries = [t for t in found if t.source == "list_entry"]
    records = [t for t in found if t.source == "record"]
    hits: list[dict[str, Any]] = []
    for measure in measure_list.measures:
        if not _measure_applies(measure, scenario, today):
            continue
        for trigger in measure.triggers:
            if trigger.list_type:
                for entry in entries:
                    if entry.code == trigger.list_type:
                        hits.append(
                            _hit(
                                measure_list,
                                measure,
                                {
                                    "type": "list_entry",
                                    "id": entry.id,
                                    "list_type": entry.code,
                                    "decision_no": entry.doc_no,
                                    "department": entry.department,
                                    "legal_basis": entry.legal_basis,
                                    "scope": entry.scope,
                                    "decided_on": _iso(entry.day),
                                    "public_until": _iso(entry.public_until),
                                },
                            )
                        )
            else:
                for record in records:
                    if record.code == trigger.item and (
                        not trigger.severities or record.severity in trigger.severities
                    ):
                        hits.append(
                            _hit(
                                measure_list,
                                measure,
                                {
                                    "type": "record",
                                    "id": record.id,
                                    "item": record.code,
                                    "doc_no": record.doc_no,
                                    "severity": record.severity,
                                    "provider": record.department,
                                    "decision_date": _iso(record.day),
                                    "public_until": _iso(record.public_until),
                                },
                            )
                        )
    return hits


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def record_visible(
    sharing: SharingClass | None,
    provider: str | None,
    principal: Principal,
    granted: Collection[str],
    item: str,
) -> bool:
    """Whether a department may see a record that fires a hit (the sharing classes, as `records.repository.
    visible_filter`): the credit office everything, a department its own records, 无条件共享 items, and
    有条件共享 items granted to it; 不予共享 items stay with their provider."""
    if principal.kind == "system" or principal.is_credit_office or provider == principal.department_code:
        return True
    if sharing == SharingClass.UNCONDITIONAL:
        return True
    return sharing == SharingClass.CONDITIONAL and item in granted


def withheld_trigger(trigger: dict[str, Any], item_name: str) -> dict[str, Any]:
    """A record trigger as a department without the right to see the record gets it: the measure the law
    requires still applies, but the trigger names only the item and the decision date."""
    return {
        "type": "record",
        "item": trigger["item"],
        "item_name": item_name,
        "decision_date": trigger["decision_date"],
        "withheld": True,
    }


class _Sharing:
    """What each department of a batch may see of the records that fire its hits. The catalog's sharing
    classes are read once; a department's grants (有条件共享) are read at most once per batch and day, and only
    when one of its hits is fired by a conditionally shared record it does not provide (no query otherwise)."""

    def __init__(self, session: Session, catalog: Catalog) -> None:
        self._session = session
        self._catalog = catalog
        self._granted: dict[tuple[str | None, dt.date], set[str]] = {}

    def redact(
        self, hits: list[dict[str, Any]], principal: Principal, today: dt.date
    ) -> list[dict[str, Any]]:
        """The hits with each record trigger the principal's department may not see withheld (in place)."""
        for hit in hits:
            trigger = hit["trigger"]
            if trigger["type"] != "record":
                continue
            item = self._catalog.item(trigger["item"])
            sharing = item.sharing_class if item is not None else None
            if self._visible(sharing, trigger, principal, today):
                continue
            hit["trigger"] = withheld_trigger(trigger, item.name if item is not None else trigger["item"])
        return hits

    def _visible(
        self, sharing: SharingClass | None, trigger: dict[str, Any], principal: Principal, today: dt.date
    ) -> bool:
        granted: Collection[str] = ()
        if sharing == SharingClass.CONDITIONAL and trigger["provider"] != principal.department_code:
            key = (principal.department_code, today)
            if key not in self._granted:
                self._granted[key] = accounts.granted_items(self._session, principal.department_code, today)
            granted = self._granted[key]
        return record_visible(sharing, trigger["provider"], principal, granted, trigger["item"])


def _hit(measure_list: MeasureList, measure: Measure, trigger: dict[str, Any]) -> dict[str, Any]:
    return {
        "measure": measure.code,
        "name": measure.name,
        "kind": str(measure.kind),
        "nature": str(measure.nature),
        "action": str(measure.action),
        "action_label": measure_list.actions.get(measure.action, measure.action),
        "description": measure.description,
        "legal_basis": measure.legal_basis,
        "trigger": trigger,
    }


@dataclass(frozen=True, slots=True)
class StoredCheck:
    """A check just run, as stored: the values of its `Check` row, which are what the caller answers with.

    `run_checks` returns these rather than ORM instances: a check is never changed after it is stored, and
    building a mapped instance (an instrumented set per column) cost about a tenth of a batch's work.
    """

    id: str
    checked_at: dt.datetime
    department_code: str
    actor: str
    scenario: str
    purpose: str
    subject_id: int | None
    measure_version: str
    hit_count: int
    result: dict[str, Any]
    signature: str
    batch_id: str | None


def _unstorable_text(order: CheckOrder) -> bool:
    """True if a text the check stores holds a NUL or a lone surrogate (`kit.hygiene`)."""
    ref = order.ref
    texts = (order.purpose, order.scenario, order.ip, ref.uscc, ref.resident_id, ref.name, ref.region)
    return any(text is not None and hygiene.bad_text(text) for text in texts)


@dataclass(frozen=True)
class CheckOrder:
    """One check asked for: by whom, about whom, in which scenario and why (`at` defaults to now; the demo
    history passes past times)."""

    principal: Principal
    ref: SubjectRef
    scenario: str
    purpose: str
    today: dt.date
    ip: str | None = None
    batch_id: str | None = None
    at: dt.datetime | None = None


class _SubjectRow(NamedTuple):
    """A subject as a check reads it (`_SUBJECT_COLUMNS`)."""

    id: int
    uscc: str | None
    name: str
    kind: str
    region_code: str | None
    id_masked: str | None


class _TriggerRow(NamedTuple):
    """A list entry or record that can trigger a measure (`_ENTRY_TRIGGERS`, `_RECORD_TRIGGERS`)."""

    source: str
    subject_id: int
    id: int
    code: str
    doc_no: str | None
    department: str | None
    legal_basis: str | None
    scope: str | None
    severity: str | None
    day: dt.date | None
    public_until: dt.date | None


@dataclass
class _Read:
    """What a batch of checks reads: the measure list in force, the subjects asked by USCC, the triggers of every
    subject found (by day, then subject id) and, on PostgreSQL, the audit chain head it locked."""

    measure_list: MeasureList
    by_uscc: dict[str, Any]
    triggers: dict[dt.date, dict[int, list[Any]]]
    head: tuple[int, int, str] | None = None


def _read(session: Session, catalog: Catalog, usccs: set[str], ids: set[int], days: list[dt.date]) -> _Read:
    """The batch's read in portable statements: the published version, the subjects by USCC, their triggers."""
    measure_list = published(session, catalog)
    connection = session.connection()
    by_uscc = {row.uscc: row for row in _SUBJECTS_BY_USCC.rows(connection, usccs)} if usccs else {}
    ids = ids | {row.id for row in by_uscc.values()}
    items = measure_list.trigger_items
    triggers = {day: _triggers(session, ids, day, items) if ids else {} for day in days}
    return _Read(measure_list, by_uscc, triggers)


def _read_statement_pg(slots: int, lock_head: bool) -> Select[Any]:
    """PostgreSQL: the batch's read in one statement, one row of JSON — the published version, the subjects
    asked, every trigger of theirs in force on `today` among the `items` the list names, and an audit chain
    head no other transaction holds, locked (`lock_head`).

    The subjects are asked by `slots` USCC parameters `u0`, `u1`… (a batch fills the slots it does not need
    with its last USCC again): PostgreSQL keeps one generic plan of such a statement for every batch it fits
    (planning it took longer than running it). With `slots` 0 they are asked by the arrays `usccs` and `ids`
    (subjects resolved by resident ID or name, or batches of more than `_SLOTS[-1]`), planned again on every
    call: the generic plan of `= ANY(array)` never looks cheaper than a custom one.
    """
    if slots:
        asking = _SUBJECT_COLUMNS.where(
            _SUBJECTS.c.uscc.in_([bindparam(f"u{n}", type_=String()) for n in range(slots)])
        )
    else:
        asking = _SUBJECT_COLUMNS.where(
            or_(
                _SUBJECTS.c.uscc == any_(bindparam("usccs", type_=ARRAY(String()))),
                _SUBJECTS.c.id == any_(bindparam("ids", type_=ARRAY(Integer()))),
            )
        )
    asked = asking.cte("asked")
    of_asked = select(asked.c.id)
    found = union_all(
        _ENTRY_TRIGGERS.where(_ENTRIES.c.subject_id.in_(of_asked)),
        _RECORD_TRIGGERS.where(
            _RECORDS.c.item_code == any_(bindparam("items", type_=ARRAY(String()))),
            _RECORDS.c.subject_id.in_(of_asked),
        ),
    ).subquery("found")
    head = _PUBLISHED_HEAD.subquery("head")
    columns = [
        select(func.json_build_array(head.c.id, head.c.version)).scalar_subquery().label("published"),
        select(func.json_agg(func.json_build_array(*asked.c))).scalar_subquery().label("subjects"),
        select(func.json_agg(func.json_build_array(*found.c))).scalar_subquery().label("triggers"),
    ]
    if lock_head:
        chain = audit.FREE_HEAD.cte("chain")
        columns.append(select(func.json_build_array(*chain.c)).scalar_subquery().label("chain"))
    return select(*columns)


_SLOTS = (1, 4, 16, 64)  # few statements, each soon prepared and planned on the connections in use
_READ_PG = {
    (slots, lock): DriverStatement(_read_statement_pg(slots, lock))
    for slots in (0, *_SLOTS)
    for lock in (False, True)
}


def _read_pg(
    session: Session, catalog: Catalog, usccs: set[str], ids: set[int], days: list[dt.date]
) -> _Read:
    """The batch's read on PostgreSQL: one statement (`_read_statement_pg`) instead of four round trips.

    The triggers are read for the record items of the version this process saw last; if another version
    has been published since and names other items, they are read again for it. A batch straddling midnight
    reads the other day's triggers apart."""
    item_codes = catalog.item_codes
    seen = _LATEST.get(item_codes)
    guess = _PARSED[(*seen, item_codes)] if seen is not None else published(session, catalog)
    items = guess.trigger_items
    lock = audit.held_chain(session) is None
    params: dict[str, Any] = {"today": days[0], "items": sorted(items)}
    slots = next((n for n in _SLOTS if n >= len(usccs)), 0) if usccs and not ids else 0
    if slots:
        asked = sorted(usccs)
        params |= {f"u{n}": asked[min(n, len(asked) - 1)] for n in range(slots)}
    else:
        params |= {"usccs": sorted(usccs), "ids": sorted(ids)}
    statement = _READ_PG[(slots, lock)]
    row = statement.run(session.connection(), params)[0]
    measure_list = _published(session, catalog, tuple(row.published) if row.published else None)
    subjects_found = [_SubjectRow(*values) for values in row.subjects or ()]
    by_uscc = {s.uscc: s for s in subjects_found if s.uscc in usccs}
    triggers: dict[int, list[Any]] = {}
    for values in row.triggers or ():
        trigger = _TriggerRow(*values[:9], *(dt.date.fromisoformat(d) if d else None for d in values[9:]))
        triggers.setdefault(trigger.subject_id, []).append(trigger)
    found_ids = {s.id for s in subjects_found}
    read = _Read(measure_list, by_uscc, {days[0]: triggers})
    if measure_list.trigger_items != items:  # published since, naming other record items
        read.triggers[days[0]] = _triggers(session, found_ids, days[0], measure_list.trigger_items)
    for day in days[1:]:
        read.triggers[day] = _triggers(session, found_ids, day, measure_list.trigger_items)
    if lock and row.chain is not None:
        read.head = (row.chain[0], row.chain[1], row.chain[2])
        audit.hold(session, read.head[0])
    return read


def run_checks(
    session: Session, *, catalog: Catalog, signer: Signer, id_hash: Any, orders: Sequence[CheckOrder]
) -> list[StoredCheck | XinyongError]:
    """Run, sign, store and audit many checks in the caller's transaction; each succeeds or fails alone.

    Set-based. On PostgreSQL the batch is two statements: one reads the published version, every subject asked
    by USCC, the triggers of every subject found and locks an audit chain head (`_read_pg`); one stores the
    checks with their audit entries (`_store_pg`). Elsewhere the portable statements do the same in seven
    (`_read`, the checks' INSERT, `audit.record_many`). A subject asked by resident ID or by name is looked up
    on its own first. A failed order (no department, no purpose, unknown scenario, bad or ambiguous subject)
    writes nothing and comes back as its error, in its place.
    """
    outcomes: list[StoredCheck | XinyongError | None] = [None] * len(orders)
    asked: dict[int, str | tuple[Any, dict[str, Any]] | XinyongError] = {}
    for n, order in enumerate(orders):
        if not order.principal.department_code:
            outcomes[n] = Forbidden("核查须以部门身份进行", code="check.department_required")
        elif not order.purpose.strip():
            outcomes[n] = ValidationFailed("须说明核查事由", code="check.purpose_required")
        elif _unstorable_text(order):  # a NUL would fail the batch's shared statement on PostgreSQL
            outcomes[n] = ValidationFailed(hygiene.MESSAGE, code=hygiene.CODE)
        else:
            asked[n] = _asked(session, order, id_hash)
    if not asked:  # nothing to look up or store
        return [o for o in outcomes if o is not None]
    usccs = {a for a in asked.values() if isinstance(a, str)}
    ids = {a[0].id for a in asked.values() if isinstance(a, tuple) and a[0] is not None}
    days = list(dict.fromkeys(orders[n].today for n in asked))
    postgresql = session.get_bind().dialect.name == "postgresql"
    read = (_read_pg if postgresql else _read)(session, catalog, usccs, ids, days)
    sharing = _Sharing(session, catalog)
    rows: list[dict[str, Any]] = []
    drafts: list[audit.Draft] = []
    for n, how in asked.items():
        order = orders[n]
        try:
            require_scenario(read.measure_list, order.scenario)
            if isinstance(how, XinyongError):
                raise how
        except XinyongError as exc:
            outcomes[n] = exc
            continue
        subject, question = (read.by_uscc.get(how), {"uscc": how}) if isinstance(how, str) else how
        fired = read.triggers[order.today].get(subject.id, []) if subject is not None else []
        hits = sharing.redact(
            _hits(read.measure_list, fired, order.scenario, order.today), order.principal, order.today
        )
        values = _check_row(read.measure_list, signer, order, subject, question, hits)
        rows.append(values)
        outcomes[n] = StoredCheck(**values)
        drafts.append(
            audit.Draft(
                order.principal,
                "check.run",
                subject_id=values["subject_id"],
                target=values["id"],
                purpose=values["purpose"],
                ip=order.ip,
                details={"scenario": order.scenario, "hits": len(hits)},
            )
        )
    if rows and postgresql:
        _store_pg(session, rows, drafts, read.head or audit.locked_head(session))
    elif rows:
        # A Core INSERT: a stored check is never changed, so it needs no unit of work (a check is a hot path).
        session.connection().execute(_INSERT_CHECK, rows)
        audit.record_many(session, drafts)
    return [o for o in outcomes if o is not None]


_CHECK_COLUMNS = tuple(c.name for c in CHECKS.c)


def _store_pg(
    session: Session, rows: list[dict[str, Any]], drafts: list[audit.Draft], head: tuple[int, int, str]
) -> None:
    """PostgreSQL: the checks and their audit entries in one statement, on the chain head the batch holds."""
    session.flush()  # what the caller's unit of work holds goes first, as before any audit entry
    entries, move = audit.chained(drafts, *head, key=audit.chain_key(session))
    stored = bulk.recordset_insert_sql(CHECKS, _CHECK_COLUMNS)
    sql, params = audit.append_statement_pg(
        entries, move, before=[("stored", stored, (bulk.recordset(rows),))]
    )
    session.connection().exec_driver_sql(sql, params)


def run_checks_committed(
    sessions: sessionmaker[Session],
    *,
    catalog: Catalog,
    signer: Signer,
    id_hash: Any,
    orders: Sequence[CheckOrder],
) -> list[StoredCheck | XinyongError]:
    """`run_checks` in a transaction of its own, committed before any outcome is returned (the API's batches of
    concurrent checks, `kit.coalesce`)."""
    with writer_session(sessions) as session:
        outcomes = run_checks(session, catalog=catalog, signer=signer, id_hash=id_hash, orders=orders)
        session.commit()
    return outcomes


def _check_row(
    measure_list: MeasureList,
    signer: Signer,
    order: CheckOrder,
    subject: Any,
    asked: dict[str, Any],
    hits: list[dict[str, Any]],
) -> dict[str, Any]:
    """The stored check: the signed answer and the columns it is found and counted by."""
    now = order.at or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:  # as the column type refuses it (`db.base.UTCDateTime`), on every path
        raise ValueError("naive datetime")
    check_id = uuid.uuid4().hex
    purpose = order.purpose.strip()[:200]
    payload: dict[str, Any] = {
        "check_id": check_id,
        "checked_at": now.isoformat(timespec="seconds"),
        "department": order.principal.department_code,
        "scenario": order.scenario,
        "scenario_name": measure_list.scenarios[order.scenario],
        "purpose": purpose,
        "asked": asked,
        "subject": _subject_view(subject),
        "measure_list_version": measure_list.version,
        "hits": hits,
    }
    return {
        "id": check_id,
        "checked_at": now,
        "department_code": order.principal.department_code,
        "actor": order.principal.name,
        "scenario": order.scenario,
        "purpose": purpose,
        "subject_id": subject.id if subject else None,
        "measure_version": measure_list.version,
        "hit_count": len(hits),
        "result": payload,
        "signature": signer.sign(payload),
        "batch_id": order.batch_id,
    }


def run_check(
    session: Session, *, catalog: Catalog, signer: Signer, id_hash: Any, order: CheckOrder
) -> StoredCheck:
    """Run, sign, store and audit one check; its error is raised."""
    (outcome,) = run_checks(session, catalog=catalog, signer=signer, id_hash=id_hash, orders=[order])
    if isinstance(outcome, XinyongError):
        raise outcome
    return outcome


def _subject_view(subject: Any) -> dict[str, Any]:
    if subject is None:
        return {"found": False}
    return {
        "found": True,
        "uscc": subject.uscc,
        "name": subject.name,
        "kind": subject.kind,
        "region_code": subject.region_code,
        "resident_id": subject.id_masked,
    }


def get_check(session: Session, principal: Principal, check_id: str) -> Check:
    check = session.get(Check, check_id)
    if check is None:
        raise NotFound("未找到该核查记录", code="check.not_found")
    if not (principal.is_credit_office or principal.department_code == check.department_code):
        raise Forbidden("只能查看本部门的核查记录", code="check.other_department")
    return check


def record_feedback(
    session: Session,
    principal: Principal,
    check: Check | StoredCheck,
    items: Sequence[dict[str, str]],
    today: dt.date,
) -> list[MeasureFeedback]:
    """The department reports, per hit, whether it applied the measure; applied ones become cases."""
    by_code = {h["measure"]: h for h in check.result.get("hits", [])}
    rows = []
    for item in items:
        code, outcome, reason = (
            item.get("measure", ""),
            item.get("outcome", ""),
            (item.get("reason") or "").strip(),
        )
        if code not in by_code:
            raise ValidationFailed(f"措施“{code}”不在本次核查的命中结果中", code="feedback.unknown_measure")
        if outcome not in ("applied", "not_applicable"):
            raise ValidationFailed("outcome 应为 applied 或 not_applicable", code="feedback.outcome")
        if outcome == "not_applicable" and not reason:
            raise ValidationFailed("未采取措施的须说明理由", code="feedback.reason_required")
        rows.append(
            MeasureFeedback(
                check_id=check.id,
                measure_code=code,
                measure_kind=by_code[code]["kind"],
                scenario=check.scenario,
                department_code=check.department_code,
                outcome=outcome,
                reason=reason or None,
                reported_on=today,
                actor=principal.name,
            )
        )
    session.add_all(rows)
    audit.record(
        session,
        principal,
        "check.feedback",
        subject_id=check.subject_id,
        target=check.id,
        details={"items": len(rows)},
    )
    session.flush()
    return rows


def statistics(session: Session, group: str) -> list[dict[str, Any]]:
    """Checks, hits and applied measures (cases) grouped by department, measure, scenario or month."""
    if group == "measure":
        column: Any = MeasureFeedback.measure_code
        rows = session.execute(
            select(column, func.count(), func.sum(func.cast(MeasureFeedback.outcome == "applied", Integer)))
            .group_by(column)
            .order_by(column)
        ).all()
        return [{"key": k, "feedback": n, "cases": int(c or 0)} for k, n, c in rows]
    column = {
        "department": Check.department_code,
        "scenario": Check.scenario,
        "month": func.substr(func.cast(Check.checked_at, String), 1, 7),
    }.get(group)
    if column is None:
        raise ValidationFailed("group 应为 department、measure、scenario 或 month", code="stats.group")
    checks = session.execute(
        select(column, func.count(), func.sum(Check.hit_count)).group_by(column).order_by(column)
    ).all()
    cases_column = {
        "department": MeasureFeedback.department_code,
        "scenario": MeasureFeedback.scenario,
        "month": func.substr(func.cast(MeasureFeedback.reported_on, String), 1, 7),
    }[group]
    cases: dict[Any, int] = dict(
        session.execute(
            select(cases_column, func.count())
            .where(MeasureFeedback.outcome == "applied")
            .group_by(cases_column)
        ).all()
    )
    return [{"key": k, "checks": n, "hits": int(h or 0), "cases": int(cases.get(k, 0))} for k, n, h in checks]


def punishment_share(session: Session, today: dt.date, months: int = 24) -> list[dict[str, Any]]:
    """Share of market subjects on a punishment list (严重失信 or 市场禁入) at each month end ("降比例")."""
    from xinyong.kit.dates import add_months
    from xinyong.lists.models import ListEntry

    points = []
    for back in range(months - 1, -1, -1):
        first_of_next = add_months(today.replace(day=1), 1 - back)
        day = first_of_next - dt.timedelta(days=1)
        listed = (
            session.scalar(
                select(func.count(func.distinct(ListEntry.subject_id))).where(
                    ListEntry.list_type.in_(("serious_dishonesty", "market_ban")),
                    ListEntry.decided_on.is_not(None),
                    ListEntry.decided_on <= day,
                    or_(ListEntry.removed_on.is_(None), ListEntry.removed_on > day),
                    or_(ListEntry.public_until.is_(None), ListEntry.public_until >= day),
                )
            )
            or 0
        )
        market = (
            session.scalar(
                select(func.count(Subject.id)).where(
                    Subject.kind.in_(("legal_person", "individual_business")),
                    or_(Subject.registered_on.is_(None), Subject.registered_on <= day),
                )
            )
            or 0
        )
        points.append(
            {
                "month": day.strftime("%Y-%m"),
                "listed": int(listed),
                "subjects": int(market),
                "share": round(listed / market, 6) if market else 0.0,
            }
        )
    return points


def recent_checks(session: Session, principal: Principal, limit: int = 50) -> Sequence[Check]:
    query = select(Check).order_by(Check.checked_at.desc()).limit(limit)
    if not principal.is_credit_office:
        query = query.where(Check.department_code == principal.department_code)
    return session.scalars(query).all()


def batch_checks(session: Session, principal: Principal, batch_id: str) -> Sequence[Check]:
    """The checks of one batch, in the order they were run; own department's only (the credit office: any)."""
    query = select(Check).where(Check.batch_id == batch_id).order_by(Check.checked_at, Check.id)
    if not principal.is_credit_office:
        query = query.where(Check.department_code == principal.department_code)
    checks = session.scalars(query.limit(MAX_BATCH)).all()
    if not checks:
        raise NotFound("未找到该批量核查", code="check.batch_not_found")
    return checks


def feedback_of(session: Session, check_id: str) -> Sequence[MeasureFeedback]:
    return session.scalars(select(MeasureFeedback).where(MeasureFeedback.check_id == check_id)).all()


# --- The measure list editor: drafts, dry runs, publication -------------------------------------------------


def current_draft(session: Session) -> MeasureListVersion | None:
    return session.scalars(select(MeasureListVersion).where(MeasureListVersion.status == "draft")).first()


def start_draft(session: Session, catalog: Catalog, principal: Principal, version: str) -> MeasureListVersion:
    """Open a draft (a copy of the published list under a new version number); one draft at a time."""
    if current_draft(session) is not None:
        raise Conflict("已有一个草稿，请先发布或放弃", code="measures.draft_exists")
    version = version.strip()
    if not version or session.scalar(
        select(MeasureListVersion.id).where(MeasureListVersion.version == version)
    ):
        raise ValidationFailed("版本号不能为空且不能与已有版本重复", code="measures.version")
    document = published(session, catalog).model_dump(mode="json") | {"version": version}
    draft = MeasureListVersion(
        version=version,
        status="draft",
        effective_from=dt.date.fromisoformat(document["effective_from"]),
        document=document,
        created_by=principal.name,
    )
    session.add(draft)
    audit.record(session, principal, "measures.draft", target=version)
    session.flush()
    return draft


def save_measure(
    session: Session,
    catalog: Catalog,
    principal: Principal,
    draft: MeasureListVersion,
    measure: dict[str, Any],
) -> MeasureList:
    """Add or replace one measure in the draft; the whole list is validated (no legal basis, no save)."""
    measures = [m for m in draft.document["measures"] if m["code"] != measure.get("code")]
    document = draft.document | {"measures": [*measures, measure]}
    try:
        validated = loader.validate_document(document, catalog.item_codes)
    except loader.MeasureListError as exc:
        raise ValidationFailed(str(exc), code="measures.invalid") from None
    draft.document = validated.model_dump(mode="json")
    audit.record(session, principal, "measures.edit", target=f"{draft.version}:{measure.get('code')}")
    session.flush()
    return validated


def dry_run(
    session: Session, catalog: Catalog, draft: MeasureListVersion, today: dt.date, days: int = 90
) -> dict[str, Any]:
    """What publishing the draft would change: recent checks whose hits differ, and subjects affected."""
    current = published(session, catalog)
    proposed = loader.validate_document(draft.document, catalog.item_codes)
    since = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(), tzinfo=dt.UTC)
    checks = session.scalars(
        select(Check).where(Check.checked_at >= since, Check.subject_id.is_not(None))
    ).all()
    changed_checks, subjects_changed = 0, set()
    for check in checks:
        assert check.subject_id is not None
        before = {
            (h["measure"], h["trigger"]["id"])
            for h in hits_for(session, current, check.subject_id, check.scenario, today)
        }
        after = {
            (h["measure"], h["trigger"]["id"])
            for h in hits_for(session, proposed, check.subject_id, check.scenario, today)
        }
        if before != after:
            changed_checks += 1
            subjects_changed.add(check.subject_id)
    old = {m.code: m.model_dump(mode="json") for m in current.measures}
    new = {m.code: m.model_dump(mode="json") for m in proposed.measures}
    return {
        "checks_considered": len(checks),
        "checks_changed": changed_checks,
        "subjects_changed": len(subjects_changed),
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
        "modified": sorted(code for code in set(old) & set(new) if old[code] != new[code]),
    }


def publish(session: Session, principal: Principal, draft: MeasureListVersion) -> None:
    for row in session.scalars(select(MeasureListVersion).where(MeasureListVersion.status == "published")):
        row.status = "retired"
    draft.status = "published"
    draft.published_at = dt.datetime.now(dt.UTC)
    audit.record(session, principal, "measures.publish", target=draft.version)
    session.flush()


@dataclass(frozen=True)
class BatchRow:
    row: int
    ref: SubjectRef
    check: StoredCheck | None
    error: XinyongError | None


def run_batch(
    session: Session,
    *,
    catalog: Catalog,
    signer: Signer,
    id_hash: Any,
    principal: Principal,
    refs: Sequence[tuple[int, SubjectRef]],
    scenario: str,
    purpose: str,
    today: dt.date,
    ip: str | None = None,
) -> tuple[str, list[BatchRow]]:
    """Check many subjects for one purpose (e.g. every bidder of a tender); each row succeeds or fails alone."""
    if len(refs) > MAX_BATCH:
        raise ValidationFailed(f"一次最多核查{MAX_BATCH}个主体", code="check.batch_too_large")
    require_scenario(published(session, catalog), scenario)
    batch_id = uuid.uuid4().hex
    orders = [CheckOrder(principal, ref, scenario, purpose, today, ip, batch_id) for _, ref in refs]
    outcomes = run_checks(session, catalog=catalog, signer=signer, id_hash=id_hash, orders=orders)
    return batch_id, [
        BatchRow(number, ref, None, outcome)
        if isinstance(outcome, XinyongError)
        else BatchRow(number, ref, outcome, None)
        for (number, ref), outcome in zip(refs, outcomes, strict=True)
    ]
