"""Scheduled disclosure work: record, once a day, which records' publicity windows (公示期) have ended.

The public filter already hides a record the day after its last public day (query time, see
`xinyong.records.repository.public_filter`), so nothing is changed here: the job only writes down, in the
audit trail, how many windows ended since it last ran. The audit trail also keeps its progress (the
`through` date of its latest entry), so no table of its own is needed and a re-run is harmless.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import SYSTEM
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry, AuditHead
from xinyong.records.models import Record

ACTION = "disclosure.end_publicity"


def last_run(session: Session) -> dt.date | None:
    """The `through` date of the latest run, from the audit trail; None if the job never ran."""
    details = session.scalars(
        select(AuditEntry.details)
        .where(AuditEntry.action == ACTION, AuditEntry.outcome == "ok")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    through = details.get("through") if details else None
    return dt.date.fromisoformat(through) if isinstance(through, str) else None


def end_publicity(session: Session, today: dt.date) -> int:
    """Count the active records whose publicity ended since the last run and write one audit entry.

    A record is public through its `public_until` day, so its publicity has ended on `today` when
    `public_until < today`. Records whose last public day is on or after the previous run's date were still
    public then; those are the ones that ended since. The first run counts every window ended before
    `today`. Idempotent: a run on a day already covered (the same day again, or an earlier one) returns 0
    and writes nothing. Revoked records are not counted: their publicity ended with the revocation.
    The caller owns the transaction.
    """
    # Serialise concurrent runs on the audit chain head (the lock audit.record takes anyway) before reading
    # the last run, so two schedulers starting together cannot both count the same day.
    session.execute(select(AuditHead.id).with_for_update()).all()
    previous = last_run(session)
    if previous is not None and today <= previous:
        return 0
    conditions = [
        Record.status == "active",
        Record.public_from.is_not(None),
        Record.public_until.is_not(None),
        Record.public_until < today,
    ]
    if previous is not None:
        conditions.append(Record.public_until >= previous)
    ended = int(session.scalar(select(func.count(Record.id)).where(*conditions)) or 0)
    audit.record(session, SYSTEM, ACTION, details={"ended": ended, "through": today.isoformat()})
    return ended
