"""Scheduled list work: propose listings from escalation rules (idempotent, never a final listing)."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.lists import rules, service
from xinyong.lists.models import ListEntry
from xinyong.records.models import Record

OVERRIDE_NAME = "escalation.yaml"


def load_rules(data_dir: Path | None = None) -> list[rules.EscalationRule]:
    path = data_dir / OVERRIDE_NAME if data_dir is not None else None
    if path is not None and path.is_file():
        text = path.read_text(encoding="utf-8")
    else:
        text = resources.files("xinyong.lists").joinpath("data/escalation.yaml").read_text(encoding="utf-8")
    return [rules.EscalationRule(**entry) for entry in yaml.safe_load(text)["rules"]]


def propose_escalations(
    session: Session, escalation_rules: list[rules.EscalationRule], *, today: dt.date, credit_office: str
) -> int:
    """Propose (拟列入) each subject the rules select, unless it already has an open or listed entry.

    Idempotent: a second run the same day proposes nothing new.
    """
    items = {r.item_code for r in escalation_rules}
    longest = max((r.within_months for r in escalation_rules), default=0)
    since = today - dt.timedelta(days=31 * longest + 1)
    rows = session.execute(
        select(Record.subject_id, Record.decision_date, Record.severity, Record.item_code).where(
            Record.item_code.in_(items),
            Record.status == "active",
            Record.decision_date >= since,
            Record.severity.is_not(None),
        )
    ).all()
    penalties = [(r[0], r[1], r[2], r[3]) for r in rows if r[1] is not None and r[2] is not None]
    proposals = rules.escalations(escalation_rules, penalties, today)
    open_states = ("proposed", "notified", "listed")
    taken: set[tuple[int, str]] = {
        (subject_id, list_type)
        for subject_id, list_type in session.execute(
            select(ListEntry.subject_id, ListEntry.list_type).where(ListEntry.status.in_(open_states))
        )
    }
    system = Principal(
        kind="system", name="escalation-job", role="credit_office", department_code=credit_office
    )
    created = 0
    for proposal in proposals:
        if (proposal.subject_id, proposal.list_type) in taken:
            continue
        dates = "、".join(d.isoformat() for d in proposal.record_dates)
        service.propose_as(
            session,
            system,
            today,
            subject_id=proposal.subject_id,
            list_type=proposal.list_type,
            legal_basis=proposal.rule.legal_basis,
            scope=None,
            permanent=False,
            escalation_rule=proposal.rule.id,
            facts=f"按规则 {proposal.rule.id}：{proposal.rule.within_months}个月内{len(proposal.record_dates)}次"
            f"{proposal.rule.severity}失信行政处罚（决定日期：{dates}），提请认定。",
        )
        taken.add((proposal.subject_id, proposal.list_type))
        created += 1
    return created
