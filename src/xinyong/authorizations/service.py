"""Authorisation use cases (授权): a verified subject grants a named organisation (by its USCC) the reading of
its non-public file and/or the issuing of its credit reports, for a stated purpose, until a day; it revokes at
any time. Organisations' readers (`creditfile`, `reports`) ask `check` before they read or issue.

The service API other adapters build on (pages, the mobile API): `grant`, `revoke`, `of_subject` (mine),
`granted_to` (granted to my organisation), `check(session, principal, subject_id, scope, today)`."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.authorizations import rules
from xinyong.authorizations.models import Authorization
from xinyong.authorizations.schemas import PurposeKinds
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.kit.identifiers import IdentifierError, mask_ids, normalize_code, validate_uscc
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject

__all__ = [
    "Authorization",
    "AuthorizationView",
    "check",
    "grant",
    "granted_to",
    "of_subject",
    "purpose_kinds",
    "reading",
    "revoke",
    "views",
]


@functools.cache
def purpose_kinds() -> PurposeKinds:
    """The purpose kinds a subject chooses from (`authorizations/data/purposes.yaml`), validated."""
    text = (
        resources.files("xinyong.authorizations").joinpath("data/purposes.yaml").read_text(encoding="utf-8")
    )
    return PurposeKinds.model_validate(yaml.safe_load(text))


def state_of(authorization: Authorization, today: dt.date) -> str:
    return rules.state(
        revoked=authorization.revoked_at is not None, valid_until=authorization.valid_until, today=today
    )


def _granting_subject(principal: Principal) -> int:
    """Only a verified subject account grants, and only for its own subject (never on another's behalf)."""
    if principal.kind != "user" or principal.role != "subject" or principal.user_id is None:
        raise Forbidden("只有信用主体账号可以授权", code="authorizations.subjects_only")
    if principal.subject_id is None:
        raise Forbidden("账号完成身份核验后才能授权", code="authorizations.unverified")
    return principal.subject_id


def _organization(session: Session, code: str) -> Subject:
    try:
        uscc = validate_uscc(normalize_code(code)[:18])
    except IdentifierError as exc:
        raise ValidationFailed(
            f"机构统一社会信用代码有误：{exc.message}", code="authorizations.invalid_uscc"
        ) from None
    found = subjects.find_by_uscc(session, uscc)
    if found is None:
        raise ValidationFailed(
            f"平台上没有统一社会信用代码为 {uscc} 的机构，请核对后再试",
            code="authorizations.unknown_organization",
        )
    return found


def grant(
    session: Session,
    ctx: UseCaseContext,
    *,
    organization_uscc: str,
    scopes: Sequence[str],
    purpose_kind: str,
    purpose: str,
    valid_until: dt.date,
) -> Authorization:
    """The acting subject authorises an organisation; audited. Bad input is refused with its reason."""
    subject_id = _granting_subject(ctx.principal)
    problem = rules.grant_problem(
        scopes=scopes,
        purpose_kind=purpose_kind,
        known_kinds=[p.code for p in purpose_kinds().purposes],
        purpose=purpose,
        valid_until=valid_until,
        today=ctx.today,
    )
    if problem is not None:
        raise ValidationFailed(problem.message, code=problem.code)
    organization = _organization(session, organization_uscc)
    if organization.id == subject_id:
        raise ValidationFailed("不能授权给本主体自己", code="authorizations.own")
    subject = subjects.get(session, subject_id)
    if rules.REPORTS_ISSUE in scopes and subject.kind == "natural_person":
        raise ValidationFailed(
            "个人信用报告仅向本人出具，不能授权机构出具", code="authorizations.personal_report"
        )
    authorization = Authorization(
        subject_id=subject_id,
        organization_id=organization.id,
        scopes=[s for s in rules.SCOPES if s in scopes],
        purpose_kind=purpose_kind,
        purpose=mask_ids(purpose.strip()),
        valid_until=valid_until,
        granted_by=ctx.principal.user_id,
    )
    session.add(authorization)
    session.flush()
    audit.record(
        session,
        ctx.principal,
        "authorization.grant",
        subject_id=subject_id,
        target=organization.uscc,
        purpose=purpose_text(authorization),
        ip=ctx.ip,
        details={
            "authorization_id": authorization.id,
            "organization": organization.name,
            "scopes": authorization.scopes,
            "valid_until": valid_until.isoformat(),
        },
    )
    return authorization


def revoke(session: Session, ctx: UseCaseContext, authorization_id: int) -> Authorization:
    """The acting subject revokes one of its authorisations, at once; audited. Another's is not found."""
    subject_id = _granting_subject(ctx.principal)
    authorization = session.get(Authorization, authorization_id)
    if authorization is None or authorization.subject_id != subject_id:
        raise NotFound("授权不存在", code="authorizations.not_found")
    if authorization.revoked_at is not None:
        raise Conflict("该授权已撤销", code="authorizations.already_revoked")
    authorization.revoked_at = dt.datetime.now(dt.UTC)
    authorization.revoked_by = ctx.principal.user_id
    session.flush()
    audit.record(
        session,
        ctx.principal,
        "authorization.revoke",
        subject_id=subject_id,
        target=str(authorization.id),
        ip=ctx.ip,
        details={"authorization_id": authorization.id},
    )
    return authorization


def of_subject(session: Session, subject_id: int) -> Sequence[Authorization]:
    """A subject's authorisations, newest first (every state)."""
    return session.scalars(
        select(Authorization).where(Authorization.subject_id == subject_id).order_by(Authorization.id.desc())
    ).all()


def granted_to(session: Session, organization_id: int) -> Sequence[Authorization]:
    """The authorisations subjects gave an organisation, newest first (every state)."""
    return session.scalars(
        select(Authorization)
        .where(Authorization.organization_id == organization_id)
        .order_by(Authorization.id.desc())
    ).all()


def check(
    session: Session, principal: Principal, subject_id: int, scope: str, today: dt.date
) -> Authorization | None:
    """The authorisation that lets this organisation account do `scope` (file:read, reports:issue) with this
    subject's data today, or None: not revoked, not past its last day, naming the scope. The newest wins."""
    if principal.organization_id is None or principal.kind != "user" or scope not in rules.SCOPES:
        return None
    candidates = session.scalars(
        select(Authorization)
        .where(
            Authorization.organization_id == principal.organization_id,
            Authorization.subject_id == subject_id,
            Authorization.revoked_at.is_(None),
            Authorization.valid_until >= today,
        )
        .order_by(Authorization.id.desc())
    ).all()
    return next((a for a in candidates if scope in a.scopes), None)


def purpose_text(authorization: Authorization) -> str:
    """The purpose as the audit trail and the subject's 查询记录 show it: its kind, then its words."""
    label = purpose_kinds().label(authorization.purpose_kind) or authorization.purpose_kind
    return f"{label}：{authorization.purpose}"[: rules.MAX_PURPOSE]


def reading(session: Session, authorization: Authorization) -> dict[str, Any]:
    """What a read under an authorisation writes to the audit trail besides who read: the authorisation,
    the organisation (name and USCC, shown in the subject's 查询记录) and the purpose."""
    organization = subjects.get(session, authorization.organization_id)
    return {
        "authorization_id": authorization.id,
        "organization": organization.name,
        "organization_uscc": organization.uscc,
        "purpose": purpose_text(authorization),
    }


@dataclass(frozen=True, slots=True)
class AuthorizationView:
    """One authorisation as a page shows it, with the names of both sides."""

    id: int
    subject_name: str
    subject_uscc: str | None
    subject_id_masked: str | None  # a natural person's ID, masked: never in clear to an organisation
    organization_name: str
    organization_uscc: str | None
    scopes: tuple[str, ...]
    scope_labels: tuple[str, ...]
    purpose_kind_label: str
    purpose: str
    valid_until: dt.date
    granted_at: dt.datetime
    revoked_at: dt.datetime | None
    state: str
    state_label: str


def views(session: Session, found: Sequence[Authorization], today: dt.date) -> list[AuthorizationView]:
    names = subjects.get_many(session, {a.subject_id for a in found} | {a.organization_id for a in found})
    kinds = purpose_kinds()
    shown = []
    for a in found:
        subject, organization = names[a.subject_id], names[a.organization_id]
        current = state_of(a, today)
        shown.append(
            AuthorizationView(
                id=a.id,
                subject_name=subject.name,
                subject_uscc=subject.uscc,
                subject_id_masked=subject.id_masked,
                organization_name=organization.name,
                organization_uscc=organization.uscc,
                scopes=tuple(a.scopes),
                scope_labels=tuple(rules.SCOPE_LABELS.get(s, s) for s in a.scopes),
                purpose_kind_label=kinds.label(a.purpose_kind) or a.purpose_kind,
                purpose=a.purpose,
                valid_until=a.valid_until,
                granted_at=a.granted_at,
                revoked_at=a.revoked_at,
                state=current,
                state_label=rules.STATE_LABELS[current],
            )
        )
    return shown
