"""The commitments API for a department's approval system (token scope `commitments:write`): register a
commitment signed at its counter or in its own system, record the verification's outcome (核查), and read one."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.commitments import service
from xinyong.commitments.models import Commitment
from xinyong.kit.dates import CHINA
from xinyong.kit.errors import NotFound, ValidationFailed
from xinyong.subjects import service as subjects
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited

router = APIRouter(tags=["commitments"], dependencies=[rate_limited("api")])


class SubjectByUscc(BaseModel):
    """The subject, by its unified social credit code only (a natural person cannot be named here)."""

    model_config = ConfigDict(extra="forbid")
    uscc: str = Field(min_length=18, max_length=18)


class CounterCommitment(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": {"uscc": "91510100MA61234567"},
                    "template": "notify_commit",
                    "matter": "SCMR-P-001",
                    "signed_at": "2026-12-07T10:30:00+08:00",
                    "document_sha256": "0" * 64,
                    "verify_by": "2026-12-31",
                }
            ]
        },
    )
    subject: SubjectByUscc
    template: str = Field(min_length=1, max_length=32)
    matter: str = Field(min_length=1, max_length=200, description="a matter of the catalogue (code or name)")
    signed_at: str = Field(max_length=40, description="ISO date or date-time (China time when no offset)")
    document_sha256: str = Field(max_length=64)
    verify_by: str | None = Field(default=None, max_length=10, description="ISO date (YYYY-MM-DD)")


class CommitmentRegistered(BaseModel):
    commitment_id: int
    public_url: str | None  # null when the template keeps the commitment out of publicity


class VerificationOutcome(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"outcome": "breached", "facts": "现场核查发现经营场所与承诺不符", "decided_on": "2026-12-20"}
            ]
        },
    )
    outcome: str = Field(max_length=16, description="fulfilled | breached")
    facts: str | None = Field(default=None, max_length=2000)
    decided_on: str | None = Field(default=None, max_length=10, description="ISO date; today when absent")


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"{field} 须为 YYYY-MM-DD 格式的日期", code=f"commitment.bad_{field}"
        ) from None


def _signed_on(value: str) -> dt.date:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "signed_at 须为 ISO 格式的日期或时间", code="commitment.bad_signed_at"
        ) from None
    if len(value) <= 10:
        return moment.date()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    return moment.astimezone(CHINA).date()


def public_url(session: Session, commitment: Commitment) -> str | None:
    return f"/commitments/{commitment.id}" if service.is_public(session, commitment) else None


@router.post("/commitments", status_code=201, response_model=CommitmentRegistered)
def register(
    body: CounterCommitment,
    request: Request,
    response: Response,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("commitments:write")],
) -> CommitmentRegistered:
    """Register a commitment signed at the department's counter (告知承诺): the accepting department is the
    token's. 201 when registered; the same request again (same department and `document_sha256`) returns the
    same commitment with 200, and the same document with other facts is a 409."""
    subject = subjects.get_by_uscc(session, body.subject.uscc.upper())
    commitment, created = service.register_counter_signing(
        session,
        platform.context(principal, today, ip=client_ip(request)),
        subject=subject,
        template_code=body.template,
        matter=body.matter,
        signed_on=_signed_on(body.signed_at),
        document_sha256=body.document_sha256,
        verify_by=_date(body.verify_by, "verify_by") if body.verify_by else None,
    )
    if not created:
        response.status_code = 200
    return CommitmentRegistered(commitment_id=commitment.id, public_url=public_url(session, commitment))


@router.post("/commitments/{commitment_id}/verification")
def record_verification(
    commitment_id: int,
    body: VerificationOutcome,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("commitments:write")],
) -> dict[str, Any]:
    """Record the verification's outcome (核查结果): `fulfilled`, or `breached` (违诺) with the facts. Only the
    accepting department may; a commitment already decided, or not yet under verification, is a 409."""
    commitment = service.get_for_department(session, principal, commitment_id)
    service.record_verification(
        session,
        platform.context(principal, today, ip=client_ip(request)),
        commitment,
        outcome=body.outcome,
        facts=body.facts,
        decided_on=_date(body.decided_on, "decided_on") if body.decided_on else None,
    )
    return _read(session, commitment)


@router.get("/commitments/{commitment_id}")
def read(
    commitment_id: int,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require("public")],
) -> dict[str, Any]:
    """One commitment: a published one to anyone; one kept out of publicity only to its accepting department
    (or the credit office), and that read is audited."""
    try:
        return _read(session, service.get_public(session, commitment_id))
    except NotFound:
        if principal.is_anonymous or not principal.is_government:
            raise
    commitment = service.get_for_department(session, principal, commitment_id)
    audit.record(
        session,
        principal,
        "commitment.read",
        subject_id=commitment.subject_id,
        target=f"commitment:{commitment.id}",
        ip=client_ip(request),
    )
    return _read(session, commitment)


def _read(session: Session, commitment: Commitment) -> dict[str, Any]:
    return {
        "commitment_id": commitment.id,
        "template": commitment.template_code,
        "kind": commitment.kind,
        "matter": commitment.matter,
        "subject_name": commitment.subject_name,
        "department_code": commitment.department_code,
        "channel": commitment.channel,
        "signed_on": commitment.signed_on.isoformat(),
        "status": commitment.status,
        "verification_due": commitment.verification_due.isoformat() if commitment.verification_due else None,
        "decided_on": commitment.fulfilment_on.isoformat() if commitment.fulfilment_on else None,
        "facts": commitment.fulfilment_note,
        "public_url": public_url(session, commitment),
    }
