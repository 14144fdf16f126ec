"""The repair workflow's history (one event per step, audited, in the shared workflow history) and the free
text it keeps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.events import workflow
from xinyong.events.models import WorkflowEvent
from xinyong.kit.identifiers import mask_embedded_ids
from xinyong.repair.models import RepairApplication


def free_text(text: str) -> str:
    """Free text as kept: trimmed, with any resident ID typed into it masked (IDs are never stored in clear)."""
    return mask_embedded_ids(text.strip())[0]


def log_event(
    session: Session,
    application: RepairApplication,
    event: str,
    before: str | None,
    after: str,
    today: dt.date,
    principal: Principal,
    note: str | None,
) -> None:
    application.updated_at = dt.datetime.now(dt.UTC)
    workflow.log(
        session,
        principal,
        workflow.REPAIR,
        application.id,
        event,
        before,
        after,
        today=today,
        note=note,
        subject_id=application.subject_id,
    )


def history(session: Session, application_id: int) -> Sequence[WorkflowEvent]:
    return workflow.history(session, workflow.REPAIR, application_id)
