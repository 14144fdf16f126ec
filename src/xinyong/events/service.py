"""Writing domain events and consuming them idempotently.

A domain writes an event with the change it makes, in the same transaction (`emit`, or `emit_select` for a
set of rows in one INSERT … SELECT): the event exists if and only if the change was committed. A consumer reads
the events after its cursor, reacts, and moves its cursor in the same transaction, so an event is handled once
per consumer; reactions are written to be idempotent besides (a re-run produces nothing twice), which lets
the daily catch-up look again at the last days' events. An event whose transaction committed after a consumer
had read past its id (two writers at once) is such a case: the catch-up sees it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, func, insert, literal, select
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


def consume(session: Session, consumer: Consumer, *, since: dt.datetime | None = None) -> int:
    """Handle the events after the consumer's cursor (locked for the transaction) and move it to the last one.

    `since`: also look again at events written since then, behind the cursor (the daily catch-up).
    """
    cursor = _cursor(session, consumer.name)
    upto = int(session.scalar(select(func.max(DomainEvent.id))) or 0)
    after = cursor.last_event_id
    if since is not None:
        first = session.scalar(select(func.min(DomainEvent.id)).where(DomainEvent.created_at >= since))
        if first is not None:
            after = min(after, int(first) - 1)
    if upto <= after:
        return 0
    produced = consumer.handle(session, EventRange(after, upto))
    cursor.last_event_id = max(cursor.last_event_id, upto)
    cursor.updated_at = dt.datetime.now(dt.UTC)
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
