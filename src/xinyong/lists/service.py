"""List use cases: due process (propose, notify, statement, decide, drop, remove), queries for checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal, may_act_for_department
from xinyong.events import service as domain_events
from xinyong.events import workflow
from xinyong.events.models import WorkflowEvent
from xinyong.kit.dates import add_months
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.kit.identifiers import mask_ids, normalize_code
from xinyong.kit.names import normalize_name
from xinyong.lists import rules
from xinyong.lists.models import ListEntry
from xinyong.subjects.models import Subject

__all__ = ["ListEntry", "advance", "in_force", "propose", "public_entries"]


def in_force(today: dt.date | ColumnElement[dt.date]) -> ColumnElement[bool]:
    """The condition of a list entry that counts today: decided, not removed, inside its publicity period.
    `today` may be a bound parameter, for statements built once."""
    return and_(
        ListEntry.status == "listed",
        or_(ListEntry.public_from.is_(None), ListEntry.public_from <= today),
        or_(ListEntry.public_until.is_(None), ListEntry.public_until >= today),
    )


DEFAULT_PERIOD_MONTHS = {"serious_dishonesty": 36, "red": 36, "market_ban": 60}
STATEMENT_WORKDAYS = 5


def get_entry(session: Session, principal: Principal, entry_id: int) -> ListEntry:
    entry = session.get(ListEntry, entry_id)
    if entry is None:
        raise NotFound("未找到该名单记录", code="list.not_found")
    if not may_act_for_department(principal, entry.department_code):
        raise Forbidden("只能处理本部门认定的名单", code="list.other_department")
    return entry


def propose(
    session: Session,
    ctx: UseCaseContext,
    *,
    subject_id: int,
    list_type: str,
    legal_basis: str,
    facts: str,
    scope: str | None = None,
    permanent: bool = False,
    escalation_rule: str | None = None,
) -> ListEntry:
    """Propose a subject for a list (拟列入), as the context's department on its day. No list entry can be
    saved without its legal basis."""
    return propose_as(
        session,
        ctx.principal,
        ctx.today,
        subject_id=subject_id,
        list_type=list_type,
        legal_basis=legal_basis,
        facts=facts,
        scope=scope,
        permanent=permanent,
        escalation_rule=escalation_rule,
    )


def propose_as(
    session: Session,
    principal: Principal,
    today: dt.date,
    *,
    subject_id: int,
    list_type: str,
    legal_basis: str,
    facts: str,
    scope: str | None,
    permanent: bool,
    escalation_rule: str | None,
) -> ListEntry:
    """`propose` for the daily escalation job, which acts as the system on the day it is run for and has no
    person's context (`lists.jobs.propose_escalations`)."""
    if list_type not in rules.LIST_TYPE_LABELS:
        raise ValidationFailed(f"名单类型“{list_type}”不存在", code="list.unknown_type")
    if len(legal_basis.strip()) < 6:
        raise ValidationFailed("必须写明认定依据（法律法规及条款）", code="list.legal_basis_required")
    if not facts.strip():
        raise ValidationFailed("必须写明主要事实", code="list.facts_required")
    if list_type == rules.MARKET_BAN and not (scope or "").strip():
        raise ValidationFailed("市场禁入须写明禁入的行业或活动范围", code="list.scope_required")
    if not principal.department_code:
        raise Forbidden("须以认定部门身份提出", code="list.department_required")
    if subject_id is None or subject_id < 1:
        raise ValidationFailed("须指定主体", code="list.subject_required")
    entry = ListEntry(
        subject_id=subject_id,
        list_type=list_type,
        status="proposed",
        department_code=principal.department_code,
        legal_basis=legal_basis.strip(),
        facts=mask_ids(facts.strip()),  # published with the entry: IDs are never stored in clear
        scope=mask_ids((scope or "").strip()) or None,
        permanent=permanent,
        proposed_on=today,
        escalation_rule=escalation_rule,
    )
    session.add(entry)
    session.flush()
    _event(session, entry, "propose", None, "proposed", today, principal, None)
    return entry


def _event(
    session: Session,
    entry: ListEntry,
    event: str,
    before: str | None,
    after: str,
    today: dt.date,
    principal: Principal,
    note: str | None,
) -> None:
    entry.updated_at = dt.datetime.now(dt.UTC)
    workflow.log(
        session,
        principal,
        workflow.LIST_ENTRY,
        entry.id,
        event,
        before,
        after,
        today=today,
        note=note,
        subject_id=entry.subject_id,
        details={"list_type": entry.list_type},
    )


def history(session: Session, entry_id: int) -> Sequence[WorkflowEvent]:
    """An entry's due process, step by step."""
    return workflow.history(session, workflow.LIST_ENTRY, entry_id)


def advance(
    session: Session,
    ctx: UseCaseContext,
    entry: ListEntry,
    event: str,
    *,
    decision_no: str | None = None,
    period_months: int | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> ListEntry:
    """Move an entry through due process; illegal steps are refused (409) with the current state named. Who
    acts, on what day, and the working-day calendar (the statement deadline) come from the context.

    Every change of an entry's state goes through here (the repair workflow removes and reinstates with it),
    so each is checked by the state machine, kept in the entry's history and audited."""
    principal, today, calendar = ctx.principal, ctx.today, ctx.calendar
    before = entry.status
    if event == "statement":
        if before != "notified":
            raise Conflict("只有已告知的名单记录可以登记陈述申辩", code="list.illegal_transition")
        entry.statement_received_on = today
        _event(session, entry, "statement", before, before, today, principal, note)
        return entry
    try:
        after = rules.transition(
            entry.list_type,
            before,
            event,
            today=today,
            deadline=entry.statement_deadline,
            statement_received=entry.statement_received_on is not None,
            reason=reason,
            removal_reason=entry.removal_reason,
        )
    except rules.ListRuleError as exc:
        raise Conflict(exc.message, code=exc.code) from None
    if event == "notify":
        deadline = rules.statement_deadline(today, calendar, STATEMENT_WORKDAYS)
        entry.notified_on, entry.statement_deadline, entry.deadline_provisional = (
            today,
            deadline.due,
            deadline.provisional,
        )
    elif event == "decide":
        if not (decision_no or "").strip():
            raise ValidationFailed("列入须有认定文号", code="list.decision_no_required")
        entry.decision_no, entry.decided_on, entry.public_from = decision_no.strip(), today, today  # type: ignore[union-attr]
        months = period_months or DEFAULT_PERIOD_MONTHS[entry.list_type]
        entry.public_until = None if entry.permanent else add_months(today, months)
    elif event == "remove":
        entry.removed_on, entry.removal_reason = today, reason
    elif event == rules.REINSTATE:  # a removal for repair found wrong (错修): listed again as decided
        entry.removed_on, entry.removal_reason = None, None
    entry.status = after
    _event(session, entry, event, before, after, today, principal, note or reason)
    kind = _DOMAIN_EVENTS.get(event)
    if kind is not None:  # others react to an entry coming into force or leaving it
        domain_events.emit(
            session,
            kind,
            "list_entry",
            entry.id,
            subject_id=entry.subject_id,
            payload={"list_type": entry.list_type, "reason": reason},
        )
    return entry


_DOMAIN_EVENTS = {
    rules.DECIDE: domain_events.LIST_ENTRY_DECIDED,
    rules.REMOVE: domain_events.LIST_ENTRY_REMOVED,
    rules.REINSTATE: domain_events.LIST_ENTRY_REINSTATED,
}


# Registering the subject's statement (陈述申辩): a step of the record, not a transition of the machine.
STATEMENT = "statement"


def available_events(entry: ListEntry) -> tuple[str, ...]:
    """The steps the console offers for an entry: the transitions the state machine has from its state for its
    list type, and, while notified without a statement yet, registering the statement. Guards (the statement
    period, a removal reason) may still refuse one when it is taken."""
    events = rules.allowed_events(entry.list_type, entry.status)
    if entry.status == rules.NOTIFIED and entry.statement_received_on is None:
        return (STATEMENT, *events)
    return events


@dataclass(frozen=True, slots=True)
class ConsoleEntry:
    """A list entry as the deciding department's console shows it: with its subject and the steps it allows."""

    entry: ListEntry
    subject_name: str
    subject_uscc: str | None
    subject_id_masked: str | None
    events: tuple[str, ...]


def console_entries(
    session: Session, *, department_code: str | None = None, status: str | None = None, limit: int = 200
) -> list[ConsoleEntry]:
    """Entries with their subjects' names and codes (one query), newest first; a department's own only."""
    query = (
        select(ListEntry, Subject.name, Subject.uscc, Subject.id_masked)
        .join(Subject, Subject.id == ListEntry.subject_id)
        .order_by(ListEntry.id.desc())
        .limit(limit)
    )
    if department_code:
        query = query.where(ListEntry.department_code == department_code)
    if status:
        query = query.where(ListEntry.status == status)
    return [
        ConsoleEntry(entry, name, uscc, masked, available_events(entry))
        for entry, name, uscc, masked in session.execute(query)
    ]


def entries(
    session: Session, *, department_code: str | None = None, status: str | None = None, limit: int = 200
) -> Sequence[ListEntry]:
    query = select(ListEntry).order_by(ListEntry.id.desc()).limit(limit)
    if department_code:
        query = query.where(ListEntry.department_code == department_code)
    if status:
        query = query.where(ListEntry.status == status)
    return session.scalars(query).all()


def public_entries(
    session: Session, list_type: str, today: dt.date, *, query: str = "", page: int = 1, size: int = 20
) -> tuple[Sequence[tuple[ListEntry, Subject]], int]:
    """Listed entries the public may see today (inside their publicity period), with the subject."""
    from sqlalchemy import func

    conditions = [
        ListEntry.list_type == list_type,
        ListEntry.status == "listed",
        or_(ListEntry.public_from.is_(None), ListEntry.public_from <= today),
        or_(ListEntry.public_until.is_(None), ListEntry.public_until >= today),
        Subject.kind != "natural_person",
    ]
    if query.strip():  # the subject's name or USCC, or the decision's number (认定文号), exactly
        norm = normalize_name(query)
        conditions.append(
            or_(
                Subject.uscc == normalize_code(query),
                Subject.name_norm.contains(norm, autoescape=True),
                ListEntry.decision_no == query.strip(),
            )
        )
    base = select(ListEntry, Subject).join(Subject, Subject.id == ListEntry.subject_id).where(*conditions)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(ListEntry.decided_on.desc(), ListEntry.id.desc()).offset((page - 1) * size).limit(size)
    ).all()
    return [(r[0], r[1]) for r in rows], int(total)


def in_force_of_subject(
    session: Session, subject_id: int, today: dt.date, *, public_only: bool
) -> Sequence[ListEntry]:
    """A subject's list entries in force today (listed, inside their period), latest decision first.

    `public_only`: only what the law makes public, as on the list publicity pages (a natural person's
    entries are not published); the subject itself and government users with a purpose see them all.
    """
    query = select(ListEntry).where(ListEntry.subject_id == subject_id, in_force(today))
    if public_only:
        query = query.join(Subject, Subject.id == ListEntry.subject_id).where(
            Subject.kind != "natural_person"
        )
    return session.scalars(query.order_by(ListEntry.decided_on.desc(), ListEntry.id.desc())).all()


def not_in_force_of_subject(session: Session, subject_id: int, today: dt.date) -> Sequence[ListEntry]:
    """A subject's list entries that do not count today — in due process, dropped, removed or past their
    period — latest first; for the subject's own file and staff with a purpose, never as current."""
    return session.scalars(
        select(ListEntry)
        .where(ListEntry.subject_id == subject_id, ~in_force(today))
        .order_by(ListEntry.updated_at.desc(), ListEntry.id.desc())
    ).all()
