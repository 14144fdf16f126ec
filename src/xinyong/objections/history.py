"""The objection's history: one event per step in the shared workflow history (audited), naming its target."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.events import workflow
from xinyong.events.models import WorkflowEvent
from xinyong.objections.models import Objection


def log_event(
    session: Session,
    objection: Objection,
    event: str,
    before: str | None,
    after: str,
    today: dt.date,
    principal: Principal,
    note: str | None,
) -> None:
    objection.updated_at = dt.datetime.now(dt.UTC)
    workflow.log(
        session,
        principal,
        workflow.OBJECTION,
        objection.id,
        event,
        before,
        after,
        today=today,
        note=note,
        subject_id=objection.subject_id,
        details=(
            {"record_id": objection.record_id}
            if objection.record_id is not None
            else {
                "evaluation_result_id": objection.evaluation_result_id,
                "indicator": objection.indicator_code,
            }
        ),
    )


def events_of(session: Session, objection_id: int) -> Sequence[WorkflowEvent]:
    return workflow.history(session, workflow.OBJECTION, objection_id)
