"""Totals for listings: exact up to a bound, and beyond it an estimate that costs no more than the bound.

Counting every matching row of a large listing at each request scans them all; a person reading page one
needs the exact figure for a few thousand rows and only the order of magnitude for millions. So rows are
counted up to `bound` (one index walk of at most `bound` + 1 rows), and past it PostgreSQL's planner gives
its estimate of the whole set (`EXPLAIN`, no rows read). SQLite has no estimate: there the total is a lower
bound, the bound itself ("N 以上"), with a next page offered while pages are full.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

COUNT_BOUND = 10_000


@dataclass(frozen=True, slots=True)
class Total:
    value: int
    exact: bool
    at_least: bool = False  # not exact and no estimate: `value` is a lower bound


def bounded_count(session: Session, query: Select[Any], bound: int = COUNT_BOUND) -> Total:
    """The number of rows `query` selects: exact when at most `bound`, else an estimate above `bound` (or,
    with no estimate to be had, `bound` as a lower bound)."""
    counted = int(
        session.scalar(select(func.count()).select_from(query.order_by(None).limit(bound + 1).subquery()))
        or 0
    )
    if counted <= bound:
        return Total(counted, True)
    estimate = planner_rows(session, query)
    if estimate is None:
        return Total(bound, False, at_least=True)
    return Total(max(estimate, bound + 1), False)


def planner_rows(session: Session, query: Select[Any]) -> int | None:
    """PostgreSQL's estimate of the rows `query` returns (from its statistics; nothing is read), or None
    on a store without one."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return None
    compiled = query.order_by(None).compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params).scalar()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"]) if plan else None
