"""Daily monitoring work: recompute the statistics the portal shows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from xinyong.kit.workdays import WorkdayCalendar
from xinyong.monitoring import service


def refresh_statistics(session: Session, today: dt.date, calendar: WorkdayCalendar) -> int:
    """Recompute every stored statistic for ``today``; returns how many were stored.

    Idempotent (a re-run stores the same values with a new time); run after the day's other parts so the
    statistics include what they changed. The caller owns the transaction.
    """
    return service.refresh(session, calendar, today)
