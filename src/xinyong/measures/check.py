"""The real-time check (联合奖惩核查): resolve the subjects asked, take the measures of the published list for the
scenario, report each measure whose trigger is in force today (a list entry listed and not expired or removed;
a record active — not revoked or repaired — and inside its window) with the legal basis, and store the signed
(Ed25519) answer with its audit entry, so it can be fetched and verified later.

A batch of checks runs set-based, on one of two paths giving the same answers: on PostgreSQL one statement
reads everything (`_read_pg`) and one stores the checks with their audit entries (`_store_pg`); the portable
path (`_read`, a Core INSERT, `audit.record_many`) runs on every store. The caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.catalog.schemas import Catalog, SharingClass
from xinyong.db import bulk
from xinyong.kit import hygiene, identifiers, names
from xinyong.kit.crypto import Signer
from xinyong.kit.errors import Conflict, Forbidden, ValidationFailed, XinyongError
from xinyong.measures import repository, rules
from xinyong.measures.schemas import MeasureList
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject

MAX_BATCH = 1000


@dataclass(frozen=True)
class SubjectRef:
    """Whom a check asks about: a USCC, a resident ID, or a name with a region code."""

    uscc: str | None = None
    resident_id: str | None = None
    name: str | None = None
    region: str | None = None


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


@dataclass(frozen=True)
class BatchRow:
    """One row of a batch of checks (by its row number in the upload): its check, or why it failed."""

    row: int
    ref: SubjectRef
    check: StoredCheck | None
    error: XinyongError | None


def _resolve_one(
    session: Session, ref: SubjectRef, cipher_hash: Any, today: dt.date
) -> tuple[Any, dict[str, Any]]:
    """The subject asked about by resident ID or by name and region, and how it was asked (USCCs are resolved
    together, in the batch's read)."""
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


def _unstorable_text(order: CheckOrder) -> bool:
    """True if a text the check stores holds a NUL or a lone surrogate (`kit.hygiene`)."""
    ref = order.ref
    texts = (order.purpose, order.scenario, order.ip, ref.uscc, ref.resident_id, ref.name, ref.region)
    return any(text is not None and hygiene.bad_text(text) for text in texts)


def hits_for(
    session: Session, measure_list: MeasureList, subject_id: int, scenario: str, today: dt.date
) -> list[dict[str, Any]]:
    """The hits of one subject in a scenario today under a given list (the editor's dry run)."""
    found = repository.triggers(session, (subject_id,), today, measure_list.trigger_items).get(subject_id, [])
    return rules.measure_hits(measure_list, found, scenario, today)


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
            hit["trigger"] = rules.withheld_trigger(
                trigger, item.name if item is not None else trigger["item"]
            )
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
        return rules.record_visible(sharing, trigger["provider"], principal, granted, trigger["item"])


@dataclass
class _Read:
    """What a batch of checks reads: the measure list in force, the subjects asked by USCC, the triggers of every
    subject found (by day, then subject id) and, on PostgreSQL, the audit chain head it locked."""

    measure_list: MeasureList
    by_uscc: dict[str, Any]
    triggers: dict[dt.date, dict[int, list[Any]]]
    head: tuple[int, int, str] | None = None


def _read(
    session: Session,
    catalog: Catalog,
    lists: repository.PublishedLists,
    usccs: set[str],
    ids: set[int],
    days: list[dt.date],
) -> _Read:
    """The batch's read in portable statements: the published version, the subjects by USCC, their triggers."""
    measure_list = lists.current(session, catalog)
    connection = session.connection()
    by_uscc = {row.uscc: row for row in repository.SUBJECTS_BY_USCC.rows(connection, usccs)} if usccs else {}
    ids = ids | {row.id for row in by_uscc.values()}
    items = measure_list.trigger_items
    triggers = {day: repository.triggers(session, ids, day, items) if ids else {} for day in days}
    return _Read(measure_list, by_uscc, triggers)


def _read_pg(
    session: Session,
    catalog: Catalog,
    lists: repository.PublishedLists,
    usccs: set[str],
    ids: set[int],
    days: list[dt.date],
) -> _Read:
    """The batch's read on PostgreSQL: one statement (`repository.read_statement_pg`) instead of four round trips.

    The triggers are read for the record items of the version this process saw last; if another version
    has been published since and names other items, they are read again for it. A batch straddling midnight
    reads the other day's triggers apart."""
    items = (lists.last_seen(catalog) or lists.current(session, catalog)).trigger_items
    lock = audit.held_chain(session) is None
    params: dict[str, Any] = {"today": days[0], "items": sorted(items)}
    slots = next((n for n in repository.SLOTS if n >= len(usccs)), 0) if usccs and not ids else 0
    if slots:
        asked = sorted(usccs)
        params |= {f"u{n}": asked[min(n, len(asked) - 1)] for n in range(slots)}
    else:
        params |= {"usccs": sorted(usccs), "ids": sorted(ids)}
    statement = repository.READ_PG[(slots, lock)]
    row = statement.run(session.connection(), params)[0]
    measure_list = lists.at_head(session, catalog, tuple(row.published) if row.published else None)
    subjects_found = [rules.SubjectRow(*values) for values in row.subjects or ()]
    by_uscc = {s.uscc: s for s in subjects_found if s.uscc in usccs}
    triggers: dict[int, list[Any]] = {}
    for values in row.triggers or ():
        trigger = rules.TriggerRow(
            *values[:9], *(dt.date.fromisoformat(d) if d else None for d in values[9:])
        )
        triggers.setdefault(trigger.subject_id, []).append(trigger)
    found_ids = {s.id for s in subjects_found}
    read = _Read(measure_list, by_uscc, {days[0]: triggers})
    if measure_list.trigger_items != items:  # published since, naming other record items
        read.triggers[days[0]] = repository.triggers(session, found_ids, days[0], measure_list.trigger_items)
    for day in days[1:]:
        read.triggers[day] = repository.triggers(session, found_ids, day, measure_list.trigger_items)
    if lock and row.chain is not None:
        read.head = (row.chain[0], row.chain[1], row.chain[2])
        audit.hold(session, read.head[0])
    return read


def run_checks(
    session: Session,
    *,
    catalog: Catalog,
    signer: Signer,
    id_hash: Any,
    orders: Sequence[CheckOrder],
    lists: repository.PublishedLists | None = None,
    portable: bool = False,
) -> list[StoredCheck | XinyongError]:
    """Run, sign, store and audit many checks in the caller's transaction; each succeeds or fails alone.

    Set-based. On PostgreSQL the batch is two statements: one reads the published version, every subject asked
    by USCC, the triggers of every subject found and locks an audit chain head (`_read_pg`); one stores the
    checks with their audit entries (`_store_pg`). Elsewhere the portable statements do the same in seven
    (`_read`, the checks' INSERT, `audit.record_many`). A subject asked by resident ID or by name is looked up
    on its own first. A failed order (no department, no purpose, unknown scenario, bad or ambiguous subject)
    writes nothing and comes back as its error, in its place.

    `lists` is the process's cache of parsed measure lists (the platform's; without one the list in force is
    read and validated again). `portable` takes the portable statements on PostgreSQL too: both paths give the
    same answers (`tests/service/test_check_equivalence.py`).
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
    postgresql = not portable and session.get_bind().dialect.name == "postgresql"
    lists = lists or repository.PublishedLists()
    read = (_read_pg if postgresql else _read)(session, catalog, lists, usccs, ids, days)
    sharing = _Sharing(session, catalog)
    rows: list[dict[str, Any]] = []
    drafts: list[audit.Draft] = []
    for n, how in asked.items():
        order = orders[n]
        try:
            rules.require_scenario(read.measure_list, order.scenario)
            if isinstance(how, XinyongError):
                raise how
        except XinyongError as exc:
            outcomes[n] = exc
            continue
        subject, question = (read.by_uscc.get(how), {"uscc": how}) if isinstance(how, str) else how
        fired = read.triggers[order.today].get(subject.id, []) if subject is not None else []
        hits = sharing.redact(
            rules.measure_hits(read.measure_list, fired, order.scenario, order.today),
            order.principal,
            order.today,
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
        session.connection().execute(repository.INSERT_CHECK, rows)
        audit.record_many(session, drafts)
    return [o for o in outcomes if o is not None]


_CHECK_COLUMNS = tuple(c.name for c in repository.CHECKS.c)


def _store_pg(
    session: Session, rows: list[dict[str, Any]], drafts: list[audit.Draft], head: tuple[int, int, str]
) -> None:
    """PostgreSQL: the checks and their audit entries in one statement, on the chain head the batch holds."""
    session.flush()  # what the caller's unit of work holds goes first, as before any audit entry
    entries, move = audit.chained(drafts, *head, key=audit.chain_key(session))
    stored = bulk.recordset_insert_sql(repository.CHECKS, _CHECK_COLUMNS)
    sql, params = audit.append_statement_pg(
        entries, move, before=[("stored", stored, (bulk.recordset(rows),))]
    )
    session.connection().exec_driver_sql(sql, params)


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
    purpose = identifiers.mask_ids(order.purpose.strip())[:200]  # shown to the subject: "who viewed my file"
    payload: dict[str, Any] = {
        "check_id": check_id,
        "checked_at": now.isoformat(timespec="seconds"),
        "department": order.principal.department_code,
        "scenario": order.scenario,
        "scenario_name": measure_list.scenarios[order.scenario],
        "purpose": purpose,
        "asked": asked,
        "subject": rules.subject_view(subject),
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
    session: Session,
    *,
    catalog: Catalog,
    signer: Signer,
    id_hash: Any,
    order: CheckOrder,
    lists: repository.PublishedLists | None = None,
) -> StoredCheck:
    """Run, sign, store and audit one check; its error is raised."""
    (outcome,) = run_checks(
        session, catalog=catalog, signer=signer, id_hash=id_hash, orders=[order], lists=lists
    )
    if isinstance(outcome, XinyongError):
        raise outcome
    return outcome


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
    lists: repository.PublishedLists | None = None,
) -> tuple[str, list[BatchRow]]:
    """Check many subjects for one purpose (e.g. every bidder of a tender); each row succeeds or fails alone."""
    if len(refs) > MAX_BATCH:
        raise ValidationFailed(f"一次最多核查{MAX_BATCH}个主体", code="check.batch_too_large")
    lists = lists or repository.PublishedLists()
    rules.require_scenario(lists.current(session, catalog), scenario)
    batch_id = uuid.uuid4().hex
    orders = [CheckOrder(principal, ref, scenario, purpose, today, ip, batch_id) for _, ref in refs]
    outcomes = run_checks(
        session, catalog=catalog, signer=signer, id_hash=id_hash, orders=orders, lists=lists
    )
    return batch_id, [
        BatchRow(number, ref, None, outcome)
        if isinstance(outcome, XinyongError)
        else BatchRow(number, ref, outcome, None)
        for (number, ref), outcome in zip(refs, outcomes, strict=True)
    ]
