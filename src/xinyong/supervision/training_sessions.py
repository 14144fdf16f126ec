"""Credit training sessions (信用培训场次): offered by the credit office or by an association it authorised;
a training task is closed by the subject's attendance at one (`task_followup.record_attendance`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.supervision.task_models import SupervisionTask, TrainingSession
from xinyong.supervision.tasks import TaskError

ORGANISER_KINDS = {"credit_office": "信用办", "association": "经授权的信用行业协（商）会"}


def add_session(
    session: Session,
    principal: Principal,
    *,
    title: str,
    held_on: dt.date,
    place: str,
    organiser: str,
    organiser_kind: str,
    authorisation: str | None,
    capacity: int,
) -> TrainingSession:
    """A training session offered by the credit office, or by an association it authorised (the
    authorisation is then required)."""
    if organiser_kind not in ORGANISER_KINDS:
        raise TaskError("举办单位类别无效", code="supervision.organiser_kind")
    if organiser_kind == "association" and not (authorisation or "").strip():
        raise TaskError("行业协会举办的培训须注明信用办的授权文件", code="supervision.authorisation_required")
    if not title.strip() or not place.strip() or not organiser.strip():
        raise TaskError("请填写培训名称、地点和举办单位", code="supervision.session_incomplete")
    if capacity < 1:
        raise TaskError("培训人数须为正数", code="supervision.capacity")
    training = TrainingSession(
        title=title.strip(),
        held_on=held_on,
        place=place.strip(),
        organiser=organiser.strip(),
        organiser_kind=organiser_kind,
        authorisation=(authorisation or "").strip() or None,
        capacity=capacity,
        created_by=principal.name,
    )
    session.add(training)
    session.flush()
    return training


def sessions(session: Session, *, since: dt.date | None = None) -> Sequence[TrainingSession]:
    query = select(TrainingSession).order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
    if since is not None:
        query = query.where(TrainingSession.held_on >= since)
    return session.scalars(query.limit(200)).all()


def attendance_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(SupervisionTask.session_id, func.count(SupervisionTask.id))
        .where(SupervisionTask.session_id.is_not(None))
        .group_by(SupervisionTask.session_id)
    )
    return {int(s): int(c) for s, c in rows if s is not None}
