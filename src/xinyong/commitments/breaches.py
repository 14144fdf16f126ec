"""A commitment's verification outcome has consequences, by law: the credit records it becomes.

A breach (违诺) becomes a record of the catalog item 违背信用承诺 (`WN`), and the commitment's record of 信用承诺及履约
(`CN`), when there is one, says 违诺; a fulfilled commitment becomes (or updates) its `CN` record with 已履约. The
records are written through ingestion (`records.service.ingest_json`, the door of `POST /api/v1/records`), the
accepting department as provider, so that publicity windows, repair notices (两书同达), the evaluation's
incremental events and the raw digests apply as to any department's record; each batch is audited like the API's.

The reaction consumes `commitment.breached` and `commitment.fulfilled` events (`xinyong.events`). What it writes
is read from the commitment row itself, the payload only filling in what the row does not hold. Idempotent: the
natural key is the commitment number, and a commitment whose records already say what its outcome says is not
sent again (a re-run and the daily catch-up write nothing, not even an empty batch).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.events import service as events
from xinyong.events.models import DomainEvent
from xinyong.events.service import Consumer, EventRange
from xinyong.kit.errors import NotFound
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.records.service import IngestContext
from xinyong.subjects.models import Subject

log = logging.getLogger(__name__)

CONSUMER = "commitments.breaches"
BREACHED = events.COMMITMENT_BREACHED
FULFILLED = events.COMMITMENT_FULFILLED
BREACH_ITEM = "WN"  # 违背信用承诺
COMMITMENT_ITEM = "CN"  # 信用承诺及履约
FULFILMENT_LABELS = {FULFILLED: "已履约", BREACHED: "违诺"}
# The catalog's words for a commitment kind (the items' enum also accepts these codes as aliases).
KIND_LABELS = {
    "approval": "审批替代型",
    "voluntary": "主动公示型",
    "industry": "行业自律型",
    "repair": "信用修复型",
}
SUBJECT_CATEGORIES = {
    "legal_person": "法人及非法人组织",
    "individual_business": "个体工商户",
    "natural_person": "自然人",
}
MAX_TEXT = 4000


def commitment_number(commitment: Commitment) -> str:
    """The number a commitment's records carry (承诺书编号): their natural key, stable for the commitment."""
    return f"XYCN-{commitment.id:08d}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """A verification outcome to record: the commitment, whether it was breached, and the event's payload."""

    commitment: Commitment
    kind: str  # BREACHED or FULFILLED
    payload: Mapping[str, Any]

    @property
    def breached(self) -> bool:
        return self.kind == BREACHED

    def value(self, key: str, from_row: Any) -> Any:
        """The row's value, else the payload's (an older event carries fewer keys; the row is the truth)."""
        return from_row if from_row not in (None, "") else self.payload.get(key)


def outcomes(session: Session, span: EventRange) -> list[Outcome]:
    """The commitments whose outcome events fall in `span` (the last event of each), in event order."""
    rows = session.execute(
        select(DomainEvent.aggregate_id, DomainEvent.kind, DomainEvent.payload)
        .where(
            DomainEvent.kind.in_((BREACHED, FULFILLED)),
            DomainEvent.aggregate == "commitment",
            DomainEvent.id > span.after,
            DomainEvent.id <= span.upto,
        )
        .order_by(DomainEvent.id)
    ).all()
    latest: dict[int, tuple[str, Mapping[str, Any]]] = {}
    for commitment_id, kind, payload in rows:
        latest.pop(commitment_id, None)  # re-inserted: the dict keeps the order of the last events
        latest[commitment_id] = (kind, payload or {})
    if not latest:
        return []
    found = {c.id: c for c in session.scalars(select(Commitment).where(Commitment.id.in_(sorted(latest))))}
    return [Outcome(found[cid], kind, payload) for cid, (kind, payload) in latest.items() if cid in found]


def _subject_fields(subject: Subject, ctx: IngestContext) -> dict[str, Any]:
    """The subject columns of a row: its USCC, or a person's resident ID (decrypted for ingestion, which
    encrypts it again and never stores or shows it in clear)."""
    fields: dict[str, Any] = {"subject_name": subject.name, "region_code": subject.region_code}
    category = SUBJECT_CATEGORIES.get(subject.kind)
    if category:
        fields["subject_category"] = category
    if subject.uscc:
        fields["uscc"] = subject.uscc
    elif subject.id_cipher:
        fields["id_type"] = "居民身份证"
        fields["id_no"] = ctx.cipher.decrypt(subject.id_cipher)
    return fields


def _kind_label(outcome: Outcome) -> str:
    commitment = outcome.commitment
    kind = outcome.value("kind", commitment.kind)
    if not kind:
        try:
            kind = commitments.template(commitment.template_code).kind
        except NotFound:
            kind = ""
    return KIND_LABELS.get(str(kind), str(kind))


def _decided_on(outcome: Outcome) -> str:
    decided = outcome.value("decided_on", outcome.commitment.fulfilment_on)
    return decided.isoformat() if hasattr(decided, "isoformat") else str(decided or "")


def breach_row(
    outcome: Outcome, subject: Subject, department_name: str, ctx: IngestContext
) -> dict[str, Any]:
    """The `WN` record of a breached commitment."""
    commitment = outcome.commitment
    matter = outcome.value("matter", commitment.matter) or commitment.title
    facts = outcome.value("facts", commitment.fulfilment_note) or "经核查，承诺人未履行信用承诺。"
    return {
        "commitment_no": commitment_number(commitment),
        **_subject_fields(subject, ctx),
        "commitment_type": _kind_label(outcome),
        "matter": str(matter)[:500],
        "signed_on": commitment.signed_on.isoformat(),
        "facts": str(facts)[:MAX_TEXT],
        "decision_date": _decided_on(outcome),
        "severity": "一般",
        "accepting_body": department_name,
    }


def commitment_row(
    outcome: Outcome, subject: Subject, department_name: str, ctx: IngestContext, current: Record | None
) -> dict[str, Any]:
    """The `CN` record saying the outcome: the current one updated, or a new one from the commitment."""
    fulfilment = {
        "fulfilment": FULFILMENT_LABELS[outcome.kind],
        "fulfilment_checked_on": _decided_on(outcome),
    }
    if current is not None:  # as stored, with the subject named as on its first ingestion (a person by ID)
        return {**current.fields, **_subject_fields(subject, ctx), **fulfilment}
    commitment = outcome.commitment
    matter = outcome.value("matter", commitment.matter) or commitment.title
    return {
        "commitment_no": commitment_number(commitment),
        **_subject_fields(subject, ctx),
        "commitment_type": _kind_label(outcome),
        "matter": str(matter)[:500],
        "content": commitment.text[:MAX_TEXT],
        "decision_date": commitment.signed_on.isoformat(),
        "accepting_body": department_name,
        **fulfilment,
    }


def _current(session: Session, item: str, numbers: Iterable[str]) -> dict[tuple[str, int], Record]:
    """The records of an item with these numbers (by number and subject), whatever their status: a record
    revoked on an objection or repaired stays so (sending its row again would revive it)."""
    wanted = sorted(set(numbers))
    if not wanted:
        return {}
    rows = session.scalars(select(Record).where(Record.item_code == item, Record.doc_no.in_(wanted)))
    return {(r.doc_no or "", r.subject_id): r for r in rows}


def record_outcomes(session: Session, ctx: IngestContext, found: list[Outcome]) -> int:
    """Send the records the outcomes call for through ingestion, one batch per item and provider; returns how
    many records were stored or changed. Outcomes whose records already say so are not sent again."""
    numbers = [commitment_number(o.commitment) for o in found]
    breaches, cn_rows = _current(session, BREACH_ITEM, numbers), _current(session, COMMITMENT_ITEM, numbers)
    batches: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for outcome in found:
        commitment = outcome.commitment
        provider = commitment.department_code or outcome.payload.get("department_code")
        if not provider:
            log.warning(
                "commitment %s has no accepting department: its outcome is not recorded", commitment.id
            )
            continue
        subject = session.get(Subject, commitment.subject_id)
        if subject is None:
            continue
        department_name = accounts.get_department(session, provider).name
        key = (commitment_number(commitment), commitment.subject_id)
        if outcome.breached and key not in breaches:
            batches.setdefault((BREACH_ITEM, provider), []).append(
                breach_row(outcome, subject, department_name, ctx)
            )
        current = cn_rows.get(key)
        if current is None and outcome.breached:
            continue  # a breach updates the commitment's record where one exists; it does not make one
        if current is not None and (
            current.status == "revoked" or current.fields.get("fulfilment") == FULFILMENT_LABELS[outcome.kind]
        ):
            continue
        cn_provider = current.provider_code if current is not None else provider
        batches.setdefault((COMMITMENT_ITEM, cn_provider), []).append(
            commitment_row(outcome, subject, department_name, ctx, current)
        )
    stored = 0
    system = Principal(kind="system", name=CONSUMER, role="credit_office")
    for (item, provider), rows in batches.items():
        receipt = records.ingest_json(session, ctx, item_code=item, provider_code=provider, records=rows)
        audit.record(
            session,
            system,
            "records.ingest",
            target=receipt.batch_id,
            details={
                "item": item,
                "provider": provider,
                "accepted": receipt.accepted,
                "updated": receipt.updated,
                "unchanged": receipt.unchanged,
                "rejected": receipt.rejected,
                "queued": receipt.queued,
                "source": CONSUMER,
            },
        )
        if receipt.rejected or receipt.queued:
            log.warning(
                "commitment outcomes: %s of %s rows of %s from %s rejected or queued (batch %s)",
                receipt.rejected + receipt.queued,
                len(rows),
                item,
                provider,
                receipt.batch_id,
            )
        stored += receipt.accepted + receipt.updated
    return stored


def consumer(context: Callable[[], IngestContext]) -> Consumer:
    """The reaction that records commitment outcomes, with the ingest context of the day it runs."""

    def handle(session: Session, span: EventRange) -> int:
        found = outcomes(session, span)
        return record_outcomes(session, context(), found) if found else 0

    return Consumer(CONSUMER, frozenset({BREACHED, FULFILLED}), handle)
