"""Statistics of the portal (`/statistics`, `/statistics/repairs`), kept as aggregates.

How they stay correct: every statistic is **recomputed by the daily job** (`monitoring.jobs`, the last part of
`xinyong jobs run` and of the scheduler inside `xinyong serve`, which also runs at start-up) and at the end of
the demo seed; they are not updated on write. A page reads the stored rows and says when they were computed
("统计截至 …"), so what it shows is exact as of that moment; a write made since appears after the next run.
While a statistic has never been computed (a new database), the page computes it for the request itself and
stores nothing (a read never writes).

The stored values are what the live computations return (`measures.statistics`, `repair.statistics`,
`objections.statistics`), except the share of subjects on a punishment list, computed here with one pass
over the subjects and the list entries instead of two queries per month (`punishment_share`, the same numbers
as `measures.punishment_share`, which scans every subject 24 times).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from xinyong.commitments import service as commitments
from xinyong.db.base import utcnow
from xinyong.kit.dates import add_months
from xinyong.kit.workdays import WorkdayCalendar
from xinyong.lists.models import ListEntry
from xinyong.measures import service as measures
from xinyong.monitoring.models import StatisticsAggregate
from xinyong.objections import service as objections
from xinyong.repair import service as repair
from xinyong.subjects.models import Subject

CHECKS_BY_MONTH = "checks_by_month"
CHECKS_BY_SCENARIO = "checks_by_scenario"
PUNISHMENT_SHARE = "punishment_share"
REPAIRS = "repairs"
OBJECTIONS = "objections"
COMMITMENTS = "commitments"  # /statistics/commitments
CHECK_STATISTICS = (CHECKS_BY_MONTH, CHECKS_BY_SCENARIO, PUNISHMENT_SHARE)  # /statistics
REPAIR_STATISTICS = (REPAIRS, OBJECTIONS)  # /statistics/repairs
NAMES = (*CHECK_STATISTICS, *REPAIR_STATISTICS, COMMITMENTS)

PUNISHMENT_LISTS = ("serious_dishonesty", "market_ban")
MARKET_SUBJECT_KINDS = ("legal_person", "individual_business")

Computation = Callable[[Session, dt.date], Any]


@dataclass(frozen=True, slots=True)
class Statistics:
    """Statistics as a page shows them, and when they were computed."""

    values: dict[str, Any]
    computed_at: dt.datetime
    live: bool  # computed for this request: the daily job has not stored them yet


def month_ends(today: dt.date, months: int) -> list[dt.date]:
    """The last day of each of the ``months`` months up to and including ``today``'s, oldest first."""
    ends = []
    for back in range(months - 1, -1, -1):
        first_of_next = add_months(today.replace(day=1), 1 - back)
        ends.append(first_of_next - dt.timedelta(days=1))
    return ends


def punishment_share(session: Session, today: dt.date, months: int = 24) -> list[dict[str, Any]]:
    """Share of market subjects on a punishment list (严重失信 or 市场禁入) at each month end ("降比例").

    One grouped read of the subjects (by registration day) and one of the decided punishment entries, then a
    walk over the month ends: at 1,000,000 subjects one scan instead of 24.
    """
    ends = month_ends(today, months)
    by_day = session.execute(
        select(Subject.registered_on, func.count())
        .where(Subject.kind.in_(MARKET_SUBJECT_KINDS))
        .group_by(Subject.registered_on)
    ).all()
    undated = sum(int(n) for day, n in by_day if day is None)
    dated = sorted((day, int(n)) for day, n in by_day if day is not None)
    days = [day for day, _ in dated]
    running = [0]
    for _, n in dated:
        running.append(running[-1] + n)
    entries = session.execute(
        select(
            ListEntry.subject_id, ListEntry.decided_on, ListEntry.removed_on, ListEntry.public_until
        ).where(
            ListEntry.list_type.in_(PUNISHMENT_LISTS),
            ListEntry.decided_on.is_not(None),
            ListEntry.decided_on <= ends[-1],
        )
    ).all()
    points = []
    for day in ends:
        listed = len(
            {
                subject_id
                for subject_id, decided, removed, until in entries
                if decided is not None
                and decided <= day
                and (removed is None or removed > day)
                and (until is None or until >= day)
            }
        )
        market = undated + running[bisect.bisect_right(days, day)]
        points.append(
            {
                "month": day.strftime("%Y-%m"),
                "listed": listed,
                "subjects": market,
                "share": round(listed / market, 6) if market else 0.0,
            }
        )
    return points


def computations(calendar: WorkdayCalendar) -> dict[str, Computation]:
    """How each statistic is computed from the live tables."""
    return {
        CHECKS_BY_MONTH: lambda session, _today: measures.statistics(session, "month"),
        CHECKS_BY_SCENARIO: lambda session, _today: measures.statistics(session, "scenario"),
        PUNISHMENT_SHARE: punishment_share,
        REPAIRS: lambda session, _today: repair.statistics(session, calendar),
        OBJECTIONS: lambda session, _today: objections.statistics(session, calendar),
        COMMITMENTS: commitments.statistics,
    }


def compute(
    session: Session, calendar: WorkdayCalendar, today: dt.date, names: Iterable[str] = NAMES
) -> dict[str, Any]:
    """The named statistics computed now from the live tables."""
    known = computations(calendar)
    return {name: known[name](session, today) for name in names}


def refresh(
    session: Session,
    calendar: WorkdayCalendar,
    today: dt.date,
    *,
    now: dt.datetime | None = None,
    names: Sequence[str] = NAMES,
) -> int:
    """Recompute and store the named statistics for ``today``; returns how many were stored.

    Idempotent: a re-run stores the same values again with a new time. Each row is updated in place under its
    row lock (the rows exist from migration 0010), so concurrent runs take turns instead of failing on a
    duplicate; a name without a row gets one. The caller owns the transaction.
    """
    moment = now or utcnow()
    stored = 0
    for name, value in compute(session, calendar, today, names).items():
        result = session.execute(
            update(StatisticsAggregate)
            .where(StatisticsAggregate.name == name)
            .values(as_of=today, computed_at=moment, data=value)
            .execution_options(synchronize_session=False)
        )
        if not cast("CursorResult[Any]", result).rowcount:
            session.add(StatisticsAggregate(name=name, as_of=today, computed_at=moment, data=value))
        stored += 1
    session.flush()
    return stored


def read(session: Session, calendar: WorkdayCalendar, today: dt.date, names: Sequence[str]) -> Statistics:
    """The stored statistics, or all of them computed for this request if any has never been stored.

    ``computed_at`` is the oldest computation among them, so the page never claims more than it knows.
    """
    rows = session.execute(
        select(StatisticsAggregate.name, StatisticsAggregate.computed_at, StatisticsAggregate.data).where(
            StatisticsAggregate.name.in_(names), StatisticsAggregate.data.is_not(None)
        )
    ).all()
    stored = {name: (at, data) for name, at, data in rows if at is not None}
    if all(name in stored for name in names):
        return Statistics(
            values={name: stored[name][1] for name in names},
            computed_at=min(stored[name][0] for name in names),
            live=False,
        )
    return Statistics(values=compute(session, calendar, today, names), computed_at=utcnow(), live=True)
