"""The one helper that keeps a case workflow's history: a `WorkflowEvent` row and its audit entry.

List entries (`list`), repair applications (`repair`) and objections (`objection`) all record their steps here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.events.models import WorkflowEvent
from xinyong.kit.identifiers import mask_ids

LIST_ENTRY = "list_entry"
REPAIR = "repair"
OBJECTION = "objection"

# The audit action's prefix and the audit target's, by workflow (stable: the audit console filters on them).
_AUDIT = {
    LIST_ENTRY: ("list", "list_entry"),
    REPAIR: ("repair", "repair"),
    OBJECTION: ("objection", "objection"),
}


def log(
    session: Session,
    principal: Principal,
    workflow: str,
    case_id: int,
    event: str,
    before: str | None,
    after: str,
    *,
    today: dt.date,
    note: str | None,
    subject_id: int | None,
    details: dict[str, Any] | None = None,
) -> WorkflowEvent:
    """Keep one step of a case (its note with any resident ID masked) and audit it as ``<workflow>.<event>``."""
    action, target = _AUDIT[workflow]
    step = WorkflowEvent(
        workflow=workflow,
        case_id=case_id,
        event=event,
        from_state=before,
        to_state=after,
        on=today,
        actor=principal.name,
        note=mask_ids(note) if note else note,
    )
    session.add(step)
    audit.record(
        session,
        principal,
        f"{action}.{event}",
        subject_id=subject_id,
        target=f"{target}:{case_id}",
        details={**(details or {}), "from": before, "to": after},
    )
    session.flush()
    return step


def history(session: Session, workflow: str, case_id: int) -> Sequence[WorkflowEvent]:
    """A case's steps, in the order they were taken."""
    return session.scalars(
        select(WorkflowEvent)
        .where(WorkflowEvent.workflow == workflow, WorkflowEvent.case_id == case_id)
        .order_by(WorkflowEvent.id)
    ).all()
