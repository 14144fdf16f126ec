"""The supervision part of the daily jobs (idempotent): interview and training tasks from current grades, the
overdue alerts to the supervising departments, and inspection results sent through ingestion linked to their
plan's drawn subject."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from xinyong.catalog.schemas import Catalog
from xinyong.kit.workdays import WorkdayCalendar
from xinyong.supervision import results, task_followup, tasks


def create_tasks(
    session: Session,
    *,
    data_dir: Path | None,
    calendar: WorkdayCalendar,
    today: dt.date,
    credit_office: str,
) -> int:
    """Create the interview and training tasks current grades call for (once per grade change)."""
    policy = tasks.load_policy(data_dir)
    return tasks.generate(session, policy, calendar, today, credit_office=credit_office)


def alert_overdue(session: Session, today: dt.date) -> int:
    """Notify the supervising departments of overdue tasks (once per overdue step)."""
    return task_followup.alert_overdue(session, today)


def link_results(session: Session, catalog: Catalog, today: dt.date) -> int:
    """Link 双随机抽查 `JC` records sent through ingestion to their plan's drawn subject (once each)."""
    return results.link_ingested(session, catalog, today)
