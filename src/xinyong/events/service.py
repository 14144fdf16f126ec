"""Writing domain events and consuming them idempotently.

A domain writes an event with the change it makes, in the same transaction (`emit`, or `emit_select` for a
set of rows in one INSERT … SELECT): the event exists if and only if the change was committed. A consumer reads
the events after its cursor, reacts, and moves its cursor in the same transaction, so an event is handled once
per consumer; reactions are written to be idempotent besides (a re-run produces nothing twice), which lets
the daily catch-up look again at the last days' events.

Ids are given out when an event is written, not when it is committed: with two writers at once, an event with
a lower id may commit after a consumer has read past it. So a consumer remembers the ids below its cursor it
has not seen (its gaps, as ranges) and looks at them again on each run: an event that was late is handled on
the next run, once. A gap is kept for `GAPS_KEPT` (an id burned by a transaction that rolled back never
fills); what commits later than that is left to the daily catch-up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, func, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinyong.db.base import UTCDateTime
from xinyong.events.models import DomainEvent, EventCursor

EVENTS_TABLE = cast(Table, DomainEvent.__table__)

# The kinds of events written today (a consumer names those it reacts to).
RECORD_PUBLISHED = "record.published"  # stored active with a publicity window not yet over
RECORD_CORRECTED = "record.corrected"  # a new version on an objection (or a revocation)
RECORD_REVOKED = "record.revoked"
RECORD_REPAIRED = "record.repaired"
RECORD_REPAIR_REVERTED = "record.repair_reverted"  # a wrong repair (错修) undone
LIST_ENTRY_DECIDED = "list_entry.decided"
LIST_ENTRY_REMOVED = "list_entry.removed"
LIST_ENTRY_REINSTATED = "list_entry.reinstated"
COMMITMENT_BREACHED = "commitment.breached"
COMMITMENT_FULFILLED = "commitment.fulfilled"

# Set on a session that wrote events: whoever commits it runs the consumers right after (`dispatch`).
WRITTEN = "xinyong.domain_events_written"


def written(session: Session) -> bool:
    """Whether this session wrote events since the flag was last taken (and take it)."""
    return bool(session.info.pop(WRITTEN, False))


def emit(
    session: Session,
    kind: str,
    aggregate: str,
    aggregate_id: int,
    *,
    subject_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> DomainEvent:
    """Write one event in the caller's transaction."""
    event = DomainEvent(
        kind=kind, aggregate=aggregate, aggregate_id=aggregate_id, subject_id=subject_id, payload=payload
    )
    session.add(event)
    session.flush()
    session.info[WRITTEN] = True
    return event


def emit_select(session: Session, kind: str, aggregate: str, rows: Select[int, int]) -> int:
    """Write one event per row of `rows` (a select of the aggregate's id and its subject's id) in a single
    INSERT … SELECT: the set-based path for ingestion's chunks. Returns how many were written."""
    source = rows.subquery()
    ids, subjects = list(source.c)[:2]
    query = select(
        literal(kind),
        literal(aggregate),
        ids,
        subjects,
        literal(dt.datetime.now(dt.UTC), UTCDateTime()),
    )
    result = session.execute(
        insert(EVENTS_TABLE).from_select(
            ["kind", "aggregate", "aggregate_id", "subject_id", "created_at"], query
        ),
        execution_options={"preserve_rowcount": True},  # psycopg reports -1 for INSERT … SELECT otherwise
    )
    session.info[WRITTEN] = True
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class EventRange:
    """The events a consumer handles in one run: ids after `after` up to and including `upto`."""

    after: int
    upto: int


@dataclass(frozen=True, slots=True)
class Consumer:
    """A reaction to domain events: its name (the cursor's key), the kinds it reads, and a handler that takes a
    range of events and returns how many things it produced. The handler must be idempotent."""

    name: str
    kinds: frozenset[str]
    handle: Callable[[Session, EventRange], int]

    def __post_init__(self) -> None:
        if len(self.name) > 36 or GAP_MARK in self.name:  # its gaps' keys (`name#id`) fit event_cursors
            raise ValueError(f"consumer name {self.name!r}: at most 36 characters, no {GAP_MARK!r}")


def _cursor(session: Session, name: str) -> EventCursor:
    cursor = session.scalars(
        select(EventCursor).where(EventCursor.consumer == name).with_for_update()
    ).one_or_none()
    if cursor is not None:
        return cursor
    try:
        with session.begin_nested():
            session.add(EventCursor(consumer=name, last_event_id=0))
    except IntegrityError:  # another process created it first
        pass
    return session.scalars(select(EventCursor).where(EventCursor.consumer == name).with_for_update()).one()


GAPS_KEPT = dt.timedelta(hours=6)  # how long an id not yet seen below a consumer's cursor is looked for
MAX_GAPS = 1000  # ranges remembered per consumer at most (the oldest are left to the daily catch-up)
GAP_MARK = "#"  # a gap of consumer `c` starting at id `n` is the cursor row `c#n`: its last id, since when


@dataclass(slots=True)
class _Gap:
    """Ids `first`..`last` below a consumer's cursor that were not there when it read past them, since `seen`."""

    row: EventCursor
    first: int
    last: int
    seen: dt.datetime


def _gaps(session: Session, name: str) -> list[_Gap]:
    rows = session.scalars(
        select(EventCursor).where(EventCursor.consumer.startswith(name + GAP_MARK, autoescape=True))
    ).all()
    gaps = [_Gap(r, int(r.consumer.rsplit(GAP_MARK, 1)[1]), r.last_event_id, r.updated_at) for r in rows]
    return sorted(gaps, key=lambda g: g.first)


def _remember(session: Session, name: str, first: int, last: int, seen: dt.datetime) -> None:
    session.add(EventCursor(consumer=f"{name}{GAP_MARK}{first}", last_event_id=last, updated_at=seen))


def _missing(session: Session, first: int, last: int) -> list[tuple[int, int]]:
    """The ranges of ids in `first`..`last` with no event (yet), read in one statement (gaps between the ids
    there are, and before the first and after the last)."""
    ids = (
        select(
            DomainEvent.id.label("id"),
            func.lag(DomainEvent.id).over(order_by=DomainEvent.id).label("before"),
            func.lead(DomainEvent.id).over(order_by=DomainEvent.id).label("after"),
        )
        .where(DomainEvent.id >= first, DomainEvent.id <= last)
        .subquery()
    )
    edges = session.execute(
        select(ids.c.id, ids.c.before, ids.c.after).where(
            or_(ids.c.before.is_(None), ids.c.after.is_(None), ids.c.id - ids.c.before > 1)
        )
    ).all()
    if not edges:
        return [(first, last)]
    missing: list[tuple[int, int]] = []
    for event_id, before, after in edges:
        start = first if before is None else before + 1
        if start < event_id:
            missing.append((start, event_id - 1))
        if after is None and event_id < last:
            missing.append((event_id + 1, last))
    return missing


def _late(session: Session, consumer: Consumer, gaps: list[_Gap], now: dt.datetime, after: int) -> int:
    """Handle the events that have come into the remembered gaps since the last run, once; keep what is still
    missing (with the time it was first missed), drop gaps older than `GAPS_KEPT` and beyond `MAX_GAPS` (the
    oldest). Gaps above `after` are left to the range the caller handles next (the daily catch-up's)."""
    for gap in gaps:
        session.delete(gap.row)
    session.flush()  # their keys are free before the gaps still open are written again
    produced = 0
    for gap in gaps[-MAX_GAPS:]:
        if gap.seen < now - GAPS_KEPT:
            continue  # given up: the daily catch-up looks again at the last days
        missing = _missing(session, gap.first, gap.last)
        if missing != [(gap.first, gap.last)] and gap.first <= after:
            produced += consumer.handle(session, EventRange(gap.first - 1, min(gap.last, after)))
        for first, last in missing:
            _remember(session, consumer.name, first, last, gap.seen)
    return produced


def consume(session: Session, consumer: Consumer, *, since: dt.datetime | None = None) -> int:
    """Handle the events after the consumer's cursor (locked for the transaction) and move it to the last one;
    handle the events that came late into its gaps, and remember the new gaps below the cursor.

    `since`: also look again at events written since then, behind the cursor (the daily catch-up).
    """
    cursor = _cursor(session, consumer.name)
    now = dt.datetime.now(dt.UTC)
    upto = int(session.scalar(select(func.max(DomainEvent.id))) or 0)
    high = cursor.last_event_id
    after = high
    if since is not None:
        first = session.scalar(select(func.min(DomainEvent.id)).where(DomainEvent.created_at >= since))
        if first is not None:
            after = min(after, int(first) - 1)
    gaps = _gaps(session, consumer.name)
    produced = _late(session, consumer, gaps, now, after) if gaps else 0
    if upto <= after:
        session.flush()
        return produced
    new_gaps = _missing(session, high + 1, upto) if upto > high else []
    produced += consumer.handle(session, EventRange(after, upto))
    for first, last in new_gaps:
        _remember(session, consumer.name, first, last, now)
    cursor.last_event_id = max(high, upto)
    cursor.updated_at = now
    session.flush()
    return produced


def pending(session: Session, consumer: Consumer) -> int:
    """How many events of the consumer's kinds wait after its cursor."""
    last = session.scalar(select(EventCursor.last_event_id).where(EventCursor.consumer == consumer.name)) or 0
    return int(
        session.scalar(
            select(func.count(DomainEvent.id)).where(
                DomainEvent.id > last, DomainEvent.kind.in_(sorted(consumer.kinds))
            )
        )
        or 0
    )


def events_of(session: Session, aggregate: str, aggregate_id: int) -> Sequence[DomainEvent]:
    return session.scalars(
        select(DomainEvent)
        .where(DomainEvent.aggregate == aggregate, DomainEvent.aggregate_id == aggregate_id)
        .order_by(DomainEvent.id)
    ).all()
