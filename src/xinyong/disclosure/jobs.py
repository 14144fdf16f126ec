"""Scheduled disclosure work: record, once a day, which records' publicity windows (公示期) have ended.

The public filter already hides a record the day after its last public day (query time, see
`xinyong.records.repository.public_filter`), so nothing is changed here: the job only writes down, in the
audit trail, how many windows ended since it last ran and why (per item, rule and severity; the first run
also counts the records repaired or revoked before it), and says the same on the command line and in the
log. The audit trail also keeps its progress (the `through` date of its latest entry), so no table of its
own is needed and a re-run is harmless.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import SYSTEM
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry, AuditHead
from xinyong.disclosure.rules import RuleSet, describe_window_rule
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


@dataclass(frozen=True, slots=True)
class EndedWindows:
    """Records of one item whose windows, set by one rule (and severity), ended in the period."""

    item_code: str
    rule: str
    severity: str | None
    count: int


@dataclass(frozen=True, slots=True)
class EndedPublicity:
    """What a run found: how many records left publicity since the previous run, and why.

    ``windows`` are the publicity windows that ended (by item, rule and severity, most first). On the first run
    (``since`` None) ``repaired`` and ``revoked`` also count, by item, the records that had a window but left
    publicity by decision — a repair (信用修复) or a revocation (撤销) — before the job ever ran; later runs
    leave these out, as the repair and objection workflows audit each decision themselves.
    """

    through: dt.date
    since: dt.date | None
    windows: tuple[EndedWindows, ...] = ()
    repaired: dict[str, int] = field(default_factory=dict)
    revoked: dict[str, int] = field(default_factory=dict)

    @property
    def ended(self) -> int:
        return sum(w.count for w in self.windows)

    def lines(self, item_names: dict[str, str], rule_sets: Sequence[RuleSet]) -> list[str]:
        """The explanation, one line per item and reason (for the command line and the log)."""
        out = []
        if self.since is None and (self.windows or self.repaired or self.revoked):
            out.append(f"first run: every record that left publicity before {self.through.isoformat()}")
        for w in self.windows:
            name = item_names.get(w.item_code, w.item_code)
            reason = describe_window_rule(w.rule, w.severity, rule_sets)
            out.append(f"{w.item_code} {name}: {w.count} — window ended: {reason}")
        for label, counts in (("repaired (信用修复)", self.repaired), ("revoked (撤销)", self.revoked)):
            for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                out.append(f"{code} {item_names.get(code, code)}: {count} — {label}")
        return out

    def details(self) -> dict[str, Any]:
        """The audit entry's details."""
        details: dict[str, Any] = {
            "ended": self.ended,
            "through": self.through.isoformat(),
            "reasons": [
                {"item": w.item_code, "rule": w.rule, "severity": w.severity, "count": w.count}
                for w in self.windows
            ],
        }
        if self.since is None:
            details |= {"repaired": self.repaired, "revoked": self.revoked}
        return details


def end_publicity(session: Session, today: dt.date) -> int:
    """Count the active records whose publicity ended since the last run and write one audit entry
    (`end_publicity_explained`, whose count this is)."""
    outcome = end_publicity_explained(session, today)
    return outcome.ended if outcome is not None else 0


def end_publicity_explained(session: Session, today: dt.date) -> EndedPublicity | None:
    """Find the active records whose publicity ended since the last run, and why; write one audit entry.

    A record is public through its `public_until` day, so its publicity has ended on `today` when
    `public_until < today`. Records whose last public day is on or after the previous run's date were still
    public then; those are the ones that ended since. The first run counts every window ended before
    `today`, and the records repaired or revoked before it. Idempotent: a run on a day already covered (the
    same day again, or an earlier one) returns None and writes nothing. Revoked records are not counted among
    the ended windows: their publicity ended with the revocation. The caller owns the transaction.
    """
    # Serialise concurrent runs on the audit chain head (the lock audit.record takes anyway) before reading
    # the last run, so two schedulers starting together cannot both count the same day.
    session.execute(select(AuditHead.id).with_for_update()).all()
    previous = last_run(session)
    if previous is not None and today <= previous:
        return None
    conditions = [
        Record.status == "active",
        Record.public_from.is_not(None),
        Record.public_until.is_not(None),
        Record.public_until < today,
    ]
    if previous is not None:
        conditions.append(Record.public_until >= previous)
    grouped = session.execute(
        select(Record.item_code, Record.disclosure_rule, Record.severity, func.count(Record.id))
        .where(*conditions)
        .group_by(Record.item_code, Record.disclosure_rule, Record.severity)
    ).all()
    windows = sorted(
        (EndedWindows(item, rule or "", severity, int(n)) for item, rule, severity, n in grouped),
        key=lambda w: (-w.count, w.item_code, w.rule, w.severity or ""),
    )
    by_decision: dict[str, dict[str, int]] = {"repaired": {}, "revoked": {}}
    if previous is None:
        for item, status, n in session.execute(
            select(Record.item_code, Record.status, func.count(Record.id))
            .where(Record.status.in_(tuple(by_decision)), Record.public_from.is_not(None))
            .group_by(Record.item_code, Record.status)
        ).all():
            by_decision[status][item] = int(n)
    outcome = EndedPublicity(
        through=today,
        since=previous,
        windows=tuple(windows),
        repaired=by_decision["repaired"],
        revoked=by_decision["revoked"],
    )
    audit.record(session, SYSTEM, ACTION, details=outcome.details())
    return outcome
