"""Demo authorisations (授权): two organisations — a credit service agency and a bank — each bound to its demo
account (`agency`, `bank`), and the demo company (the `enterprise` account's subject) authorising them:
active, expired and revoked, so /account/authorizations and /account/authorized have something to show.
Idempotent: run by every `xinyong demo seed`, also when it skips seeding."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts import auth
from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.models import User
from xinyong.authorizations import rules
from xinyong.authorizations import service as authorizations
from xinyong.kit.identifiers import make_uscc
from xinyong.kit.names import normalize_name
from xinyong.subjects import service as subjects
from xinyong.subjects.rules import SubjectClaim

# username, organisation name, its USCC (synthetic, valid check digits), region
ORGANIZATIONS = (
    ("agency", "四川天府信用评估有限公司", make_uscc("9", "1", "510100", "MA6XY001"), "510100"),
    ("bank", "四川蜀信银行股份有限公司", make_uscc("9", "1", "510100", "MA6XY002"), "510100"),
)


def _organization(session: Session, ctx: UseCaseContext, name: str, uscc: str, region: str) -> int:
    found = subjects.find_by_uscc(session, uscc)
    if found is not None:
        return found.id
    norm = normalize_name(name)
    claim = SubjectClaim(kind="legal_person", name=name, name_norm=norm, region_code=region, uscc=uscc)
    (resolution,) = subjects.resolve(session, [claim], ctx.cipher)
    assert resolution.subject_id is not None
    return resolution.subject_id


def seed_authorizations(session: Session, ctx: UseCaseContext, password: str) -> int:
    """Bind the demo organisation accounts to their organisations and give them authorisations from the
    demo company; returns how many authorisations were made (none when they exist already)."""
    organizations: dict[str, int] = {}
    for username, name, uscc, region in ORGANIZATIONS:
        organization_id = _organization(session, ctx, name, uscc, region)
        organizations[username] = organization_id
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = auth.create_user(
                session,
                username=username,
                password=password,
                role=username,
                display_name=f"{name}用户",
                subject_id=organization_id,
                is_demo=True,
            )
        elif user.is_demo and user.subject_id is None:
            user.subject_id = organization_id
    enterprise = session.scalar(select(User).where(User.username == "enterprise", User.is_demo.is_(True)))
    if enterprise is None or enterprise.subject_id is None:
        return 0
    if authorizations.of_subject(session, enterprise.subject_id):
        return 0
    owner = auth.principal_for_user(enterprise)
    today = ctx.today
    made = 0
    plan = (
        # (organisation, scopes, purpose kind, purpose, granted days ago, lasting days, revoked)
        (
            "agency",
            [rules.FILE_READ, rules.REPORTS_ISSUE],
            "business_cooperation",
            "合作方资信评估",
            20,
            200,
            False,
        ),
        ("bank", [rules.FILE_READ, rules.REPORTS_ISSUE], "credit_approval", "申请流动资金贷款", 5, 90, False),
        ("agency", [rules.FILE_READ], "bidding", "参加政府采购项目投标资格审查", 200, 60, False),
        ("bank", [rules.FILE_READ], "leasing", "融资租赁业务审查", 60, 180, True),
    )
    for username, scopes, kind, purpose, ago, lasting, revoked in plan:
        granted_on = today - dt.timedelta(days=ago)
        context = dataclasses.replace(ctx, principal=owner, today=granted_on)
        organization = subjects.get(session, organizations[username])
        created = authorizations.grant(
            session,
            context,
            organization_uscc=organization.uscc or "",
            scopes=scopes,
            purpose_kind=kind,
            purpose=purpose,
            valid_until=granted_on + dt.timedelta(days=lasting),
        )
        if revoked:
            authorizations.revoke(session, dataclasses.replace(ctx, principal=owner), created.id)
        made += 1
    return made
