"""The real-time check (信用核查) API, feedback, the published measure list and case statistics."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, model_validator

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.kit.errors import ValidationFailed
from xinyong.measures import check as checking
from xinyong.measures import repository, service
from xinyong.web.deps import PlatformDep, SessionDep, TodayDep, client_ip
from xinyong.web.ratelimit import rate_limited

router = APIRouter(tags=["checks"], dependencies=[rate_limited("api")])


class SubjectQuery(BaseModel):
    uscc: str | None = Field(default=None, max_length=40)
    resident_id: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=6)

    @model_validator(mode="after")
    def _one_way(self) -> SubjectQuery:
        if not (self.uscc or self.resident_id or (self.name and self.region)):
            raise ValueError("give uscc, resident_id, or name with region")
        return self

    def ref(self) -> checking.SubjectRef:
        return checking.SubjectRef(
            uscc=self.uscc, resident_id=self.resident_id, name=self.name, region=self.region
        )


class CheckRequest(BaseModel):
    subject: SubjectQuery
    scenario: str = Field(max_length=48)
    purpose: str = Field(min_length=1, max_length=200)


class BatchCheckRequest(BaseModel):
    subjects: list[SubjectQuery] = Field(min_length=1, max_length=checking.MAX_BATCH)
    scenario: str = Field(max_length=48)
    purpose: str = Field(min_length=1, max_length=200)


class CheckRead(BaseModel):
    check_id: str
    checked_at: str
    subject: dict[str, Any]
    scenario: str
    hits: list[dict[str, Any]]
    result: dict[str, Any]
    signature: str
    public_key: str
    key_id: str | None = Field(default=None, description="Id of the platform key that made the signature")


class FeedbackItem(BaseModel):
    measure: str = Field(max_length=48)
    outcome: Literal["applied", "not_applicable"]
    reason: str | None = Field(default=None, max_length=1000)


class FeedbackRequest(BaseModel):
    items: list[FeedbackItem] = Field(min_length=1, max_length=200)


def _read(check: Any, public_key: str, key_id: str | None) -> dict[str, Any]:
    """A stored check as the API answers it (`CheckRead`)."""
    result = check.result
    return {
        "check_id": check.id,
        "checked_at": result["checked_at"],
        "subject": result["subject"],
        "scenario": check.scenario,
        "hits": result["hits"],
        "result": result,
        "signature": check.signature,
        "public_key": public_key,
        "key_id": key_id,
    }


def _answer(check: Any, public_key: str, key_id: str | None) -> Response:
    """The check as JSON bytes, serialised once: what the handler built is not validated again against the
    response model (that model documents the answer)."""
    return Response(orjson.dumps(_read(check, public_key, key_id)), media_type="application/json")


@router.post("/checks", response_model=CheckRead)
async def run_check(
    body: CheckRequest,
    request: Request,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("checks:run")],
) -> Response:
    """Check a subject before approving, awarding or contracting: which measures apply, why, under which law.

    Concurrent checks are run together (`Platform.checks`): each is signed, stored and audited on its own,
    in a transaction shared with the checks that arrived with it, committed before the answer is sent. The
    request itself holds no database session.
    """
    order = checking.CheckOrder(
        principal, body.subject.ref(), body.scenario, body.purpose, today, client_ip(request)
    )
    check = await platform.checks.submit(order)  # a check's own error is raised here
    return _answer(check, platform.signer.public_key_b64, platform.signer.key_id)


@router.post("/checks/batch")
def run_batch(
    body: BatchCheckRequest,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    today: TodayDep,
    principal: Annotated[Principal, require("checks:run")],
) -> dict[str, Any]:
    """Check up to 1,000 subjects at once (e.g. every bidder of a tender); each row succeeds or fails alone."""
    batch_id, rows = checking.run_batch(
        session,
        catalog=platform.catalog,
        signer=platform.signer,
        id_hash=platform.cipher.hash,
        principal=principal,
        refs=[(n, s.ref()) for n, s in enumerate(body.subjects, start=1)],
        scenario=body.scenario,
        purpose=body.purpose,
        today=today,
        ip=client_ip(request),
        lists=platform.measure_lists,
    )
    results = [
        {
            "row": r.row,
            "check_id": r.check.id,
            "subject": r.check.result["subject"],
            "hits": r.check.result["hits"],
        }
        if r.check is not None
        else {"row": r.row, "error": {"code": r.error.code, "message": r.error.message} if r.error else None}
        for r in rows
    ]
    return {"batch_id": batch_id, "count": len(results), "results": results}


@router.get("/checks/public-key")
def public_key(platform: PlatformDep, principal: Annotated[Principal, require("public")]) -> dict[str, Any]:
    """The platform's Ed25519 public keys for verifying check results: the signing key (raw base64, PEM, id)
    and in `keys` every key that verifies, retired ones included, each with its id."""
    return {
        "algorithm": "Ed25519",
        "key_id": platform.signer.key_id,
        "public_key": platform.signer.public_key_b64,
        "pem": platform.signer.public_key_pem,
        "keys": platform.signer.public_keys(),
    }


@router.get("/checks/{check_id}", response_model=CheckRead)
def get_check(
    check_id: str,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("checks:run")],
) -> Response:
    """Fetch a stored check result with its signature (own department only)."""
    check = service.get_check(session, principal, check_id)
    key_id = platform.signer.signed_by(check.result, check.signature)
    keys = {k["key_id"]: k["public_key"] for k in platform.signer.public_keys()}
    return _answer(check, str(keys.get(key_id, platform.signer.public_key_b64)), key_id)


@router.post("/checks/verify")
def verify(
    body: dict[str, Any], platform: PlatformDep, principal: Annotated[Principal, require("public")]
) -> dict[str, Any]:
    """Verify a check result and its signature, e.g. a receipt kept in a department's files: by the signing
    key or a retired one (`key_id`, when given, names the key)."""
    result, signature, key = body.get("result"), body.get("signature"), body.get("key_id")
    if not isinstance(result, dict) or not isinstance(signature, str) or not isinstance(key, str | None):
        raise ValidationFailed("须提供 result 和 signature", code="check.verify_input")
    key_id = platform.signer.signed_by(result, signature, key)
    return {"valid": key_id is not None, "key_id": key_id}


@router.post("/checks/{check_id}/feedback")
def feedback(
    check_id: str,
    body: FeedbackRequest,
    session: SessionDep,
    today: TodayDep,
    principal: Annotated[Principal, require("checks:run")],
) -> dict[str, Any]:
    """Report, for each hit, whether the measure was applied (a case) or not applicable (with reason)."""
    check = service.get_check(session, principal, check_id)
    rows = service.record_feedback(session, principal, check, [i.model_dump() for i in body.items], today)
    return {
        "check_id": check.id,
        "recorded": len(rows),
        "cases": sum(1 for r in rows if r.outcome == "applied"),
    }


@router.get("/measures")
def measure_list(
    session: SessionDep, platform: PlatformDep, principal: Annotated[Principal, require("public")]
) -> dict[str, Any]:
    """The published measure list (措施清单), each measure with its legal basis."""
    return repository.published(session, platform.catalog, platform.measure_lists).model_dump(mode="json")


@router.get("/measures/stats")
def statistics(
    session: SessionDep,
    principal: Annotated[Principal, require("public")],
    group: Annotated[str, Query(pattern="^(department|measure|scenario|month)$")] = "month",
) -> dict[str, Any]:
    """Checks, hits and joint reward/punishment cases by department, measure, scenario or month."""
    return {"group": group, "rows": service.statistics(session, group)}
