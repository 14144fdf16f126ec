"""A consumer's gaps: an event whose id is below the consumer's cursor but that committed after the consumer read
past it (two writers at once) is handled on the next run, once; a gap is given up after `GAPS_KEPT`, and the
daily catch-up still sees its event. On both stores (a gap made by writing ids out of order) and on PostgreSQL
with two sessions really writing at once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from tests.conftest import PG_URL
from xinyong.events import service as events
from xinyong.events.models import DomainEvent, EventCursor
from xinyong.events.service import Consumer, EventRange

KIND = "test.gap"


def collecting(name: str, seen: list[int]) -> Consumer:
    """A consumer that notes the ids of the events of its kind in each range it is handed."""

    def handle(session: Session, span: EventRange) -> int:
        ids = session.scalars(
            select(DomainEvent.id)
            .where(DomainEvent.kind == KIND, DomainEvent.id > span.after, DomainEvent.id <= span.upto)
            .order_by(DomainEvent.id)
        ).all()
        seen.extend(ids)
        return len(ids)

    return Consumer(name, frozenset({KIND}), handle)


def write(session: Session, event_id: int) -> None:
    """An event with the given id, as if its writer had taken that id from the sequence."""
    session.add(DomainEvent(id=event_id, kind=KIND, aggregate="test", aggregate_id=event_id))
    session.flush()


def gaps(session: Session, name: str) -> dict[int, int]:
    rows = session.scalars(select(EventCursor).where(EventCursor.consumer.startswith(name + "#"))).all()
    return {int(r.consumer.split("#")[1]): r.last_event_id for r in rows}


def test_a_late_event_below_the_cursor_is_handled_once_on_the_next_run(session: Session) -> None:
    seen: list[int] = []
    consumer = collecting("test.gaps", seen)
    events.consume(session, consumer)
    base = int(session.scalar(select(func.max(DomainEvent.id))) or 0)
    write(session, base + 3)  # ids base+1 and base+2 are still with writers that have not committed
    assert events.consume(session, consumer) == 1 and seen == [base + 3]
    assert gaps(session, "test.gaps")[base + 1] == base + 2  # remembered below the cursor
    assert session.get(EventCursor, "test.gaps").last_event_id == base + 3  # type: ignore[union-attr]
    write(session, base + 2)  # one of them commits
    assert events.consume(session, consumer) == 1 and seen == [base + 3, base + 2]
    assert gaps(session, "test.gaps")[base + 1] == base + 1  # the other is still looked for
    write(session, base + 1)
    write(session, base + 4)  # and a new one arrives in order
    assert events.consume(session, consumer) == 2 and sorted(seen) == [base + 1, base + 2, base + 3, base + 4]
    assert events.consume(session, consumer) == 0 and len(seen) == 4  # each once
    assert base + 1 not in gaps(session, "test.gaps")


def test_a_gap_is_given_up_after_its_time_and_the_daily_catch_up_still_sees_its_event(
    session: Session,
) -> None:
    seen: list[int] = []
    consumer = collecting("test.gaps.old", seen)
    events.consume(session, consumer)
    base = int(session.scalar(select(func.max(DomainEvent.id))) or 0)
    write(session, base + 2)
    events.consume(session, consumer)
    (row,) = session.scalars(select(EventCursor).where(EventCursor.consumer == f"test.gaps.old#{base + 1}"))
    row.updated_at = dt.datetime.now(dt.UTC) - events.GAPS_KEPT - dt.timedelta(minutes=1)
    write(session, base + 1)  # later than a writer may take
    assert events.consume(session, consumer) == 0 and seen == [base + 2]
    assert gaps(session, "test.gaps.old") == {}  # given up
    events.consume(session, consumer, since=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    assert base + 1 in seen  # the daily catch-up


def test_a_consumer_name_leaves_room_for_its_gaps_keys() -> None:
    with pytest.raises(ValueError, match="at most 36"):
        Consumer("x" * 37, frozenset({KIND}), lambda _s, _r: 0)
    with pytest.raises(ValueError, match="no '#'"):
        Consumer("a#b", frozenset({KIND}), lambda _s, _r: 0)


@pytest.mark.skipif(not PG_URL, reason="two sessions writing at once on PostgreSQL")
def test_two_writers_at_once_on_postgresql(pg_engine: Engine) -> None:
    name = "test.gaps.pg"
    seen: list[int] = []
    consumer = collecting(name, seen)

    def run() -> int:
        with Session(pg_engine) as session:
            produced = events.consume(session, consumer)
            session.commit()
        return produced

    try:
        run()  # the cursor at the end of the outbox
        with Session(pg_engine) as slow, Session(pg_engine) as quick:
            low = events.emit(slow, KIND, "test", 1).id  # its id taken, its transaction still open
            high = events.emit(quick, KIND, "test", 2).id
            assert low < high
            quick.commit()
            assert run() == 1 and seen == [high]  # the consumer reads past the open one
            slow.commit()
        assert run() == 1 and seen == [high, low]  # the next run handles it
        assert run() == 0 and seen == [high, low]  # once
    finally:
        with pg_engine.begin() as conn:
            conn.execute(delete(DomainEvent).where(DomainEvent.kind == KIND))
            conn.execute(delete(EventCursor).where(EventCursor.consumer.startswith(name)))
