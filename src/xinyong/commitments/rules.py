"""The commitment's states and their transitions (pure): signed → verifying (the verification task is
generated) → fulfilled | breached. Any other step is refused with a stable code (409)."""

from __future__ import annotations

import datetime as dt

from xinyong.kit.errors import Conflict
from xinyong.kit.identifiers import mask_person_name

SIGNED = "signed"
VERIFYING = "verifying"
FULFILLED = "fulfilled"
BREACHED = "breached"
STATES = (SIGNED, VERIFYING, FULFILLED, BREACHED)
OUTCOMES = (FULFILLED, BREACHED)
STATUS_LABELS = {SIGNED: "已承诺", VERIFYING: "核查中", FULFILLED: "已履约", BREACHED: "违诺"}

TRANSITIONS: dict[str, frozenset[str]] = {
    SIGNED: frozenset({VERIFYING}),
    VERIFYING: frozenset({FULFILLED, BREACHED}),
    FULFILLED: frozenset(),
    BREACHED: frozenset(),
}

# The console's queue of verification tasks.
QUEUES = {"due": "待核查", "overdue": "已逾期", "done": "已核查"}


# Subjects whose signer is their legal representative, whose name the registration publishes.
NAMED_SIGNER_KINDS = frozenset({"legal_person", "gov_body"})


def as_published(subject_kind: str, subject_name: str, signer_name: str, text: str) -> tuple[str, str]:
    """The signer and the text a published commitment shows: a legal person's or other organisation's as signed;
    an individual business's operator (a person whose name its registration does not publish) masked, in the text
    too, but not inside the business's registered name (public)."""
    if subject_kind in NAMED_SIGNER_KINDS or signer_name.strip() in ("", subject_name):
        return signer_name, text
    masked = mask_person_name(signer_name)
    keep = "\x00"
    shown = text.replace(subject_name, keep) if subject_name else text
    shown = shown.replace(signer_name.strip(), masked)
    return masked, shown.replace(keep, subject_name) if subject_name else shown


def check_transition(current: str, target: str) -> None:
    """Refuse a step the state machine does not allow (409 with a code naming why)."""
    if target in TRANSITIONS.get(current, frozenset()):
        return
    if current in OUTCOMES:
        raise Conflict(
            f"该承诺的核查结果已记录（{STATUS_LABELS[current]}），不能再变更",
            code="commitment.already_assessed",
        )
    if current == SIGNED:
        raise Conflict("该承诺尚未生成核查任务，不能记录核查结果", code="commitment.not_under_verification")
    raise Conflict(
        f"该承诺当前为“{STATUS_LABELS.get(current, current)}”，不能转为“{STATUS_LABELS.get(target, target)}”",
        code="commitment.illegal_transition",
    )


def queue_of(status: str, due: dt.date | None, today: dt.date) -> str | None:
    """Which queue a commitment is in on ``today``: due, overdue, done (None: no verification task yet)."""
    if status in OUTCOMES:
        return "done"
    if status == VERIFYING and due is not None:
        return "overdue" if due < today else "due"
    return None
