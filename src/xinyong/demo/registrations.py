"""Demo voluntary registration (自愿注册): information subjects registered about themselves, pending, confirmed,
rejected and one found false, made through the same use cases subject accounts and departments use, each step
on a past day. The demo ``enterprise`` account gets entries of every kind of its own."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.accounts.models import User
from xinyong.accounts.policy import Principal
from xinyong.demo.evidence import evidence_pdf
from xinyong.files.service import Upload
from xinyong.registration import service
from xinyong.registration.models import Registration
from xinyong.subjects.models import Subject, SubjectKind

if TYPE_CHECKING:
    from xinyong.platform import Platform

REVIEWER = Principal(kind="user", name="市场监管局审核员", role="reviewer", department_code="SCMR")
TAX_REVIEWER = Principal(kind="user", name="税务局审核员", role="reviewer", department_code="SCTAX")
CREDIT_OFFICE = Principal(kind="user", name="信用办管理员", role="credit_office", department_code="SCFGW")
OTHERS = 10  # subjects besides the demo enterprise that registered something

# (kind, fields, department, publish, days ago declared, then (principal, event, note, days ago) steps)
Step = tuple[Principal, str, str, int]
ENTERPRISE: tuple[tuple[str, dict[str, str], str | None, bool, int, tuple[Step, ...]], ...] = (
    (
        "honour",
        {
            "name": "四川省守合同重信用企业",
            "issuer_name": "四川省市场监督管理局",
            "document_no": "川市监〔2025〕61号",
            "awarded_on": "2025-09-12",
            "level": "省级",
            "description": "连续三年合同履约率100%。",
        },
        "SCMR",
        False,
        60,
        ((REVIEWER, "confirm", "", 52),),
    ),
    (
        "qualification",
        {
            "name": "质量管理体系认证（ISO 9001）",
            "certificate_no": "00125Q31234R1M",
            "issuer_name": "中国质量认证中心",
            "valid_from": "2025-03-01",
            "valid_until": "2028-02-28",
            "scope": "食品的生产和销售",
        },
        "SCMR",
        False,
        9,
        (),
    ),
    (
        "social_responsibility",
        {
            "category": "纳税",
            "title": "2025年度纳税信用A级",
            "year": "2025",
            "description": "2025年度依法纳税，纳税信用评价为A级。",
        },
        "SCTAX",
        False,
        40,
        ((TAX_REVIEWER, "reject", "本局2025年度纳税信用评价结果尚未发布，无法核实，请发布后重新申报。", 33),),
    ),
    (
        "contacts",
        {"contact_name": "刘经理", "phone": "028-86112233", "email": "service@example.cn"},
        None,
        True,
        30,
        ((CREDIT_OFFICE, "confirm", "", 28),),
    ),
    (
        "financial_summary",
        {
            "year": "2025",
            "revenue": "12850.6",
            "net_profit": "936.2",
            "total_assets": "20417",
            "employees": "186",
        },
        None,
        False,
        5,
        (),
    ),
)


def _subject_principal(subject: Subject, user: User | None) -> Principal:
    return Principal(
        kind="user",
        name=user.display_name if user else f"{subject.name}（主体账户）",
        role="subject",
        subject_id=subject.id,
        user_id=user.id if user else None,
    )


def _other_entry(n: int) -> tuple[str, dict[str, str], str | None, bool]:
    if n % 3 == 0:
        return (
            "honour",
            {
                "name": f"{2020 + n % 5}年度成都市诚信经营示范单位",
                "issuer_name": "成都市市场监督管理局",
                "awarded_on": f"{2020 + n % 5}-12-1{n % 9}",
                "level": "市级",
            },
            "SCMR",
            False,
        )
    if n % 3 == 1:
        return (
            "social_responsibility",
            {
                "category": "公益慈善",
                "title": "向甘孜州捐赠助学物资",
                "year": "2025",
                "amount": f"{5 + n}",
                "description": "向甘孜州中小学捐赠助学物资。",
            },
            "SCMR",
            False,
        )
    return ("contacts", {"contact_name": "客服部", "phone": f"028-8{n:03d}0000"}, None, True)


def _declare(
    session: Session,
    platform: Platform,
    principal: Principal,
    day: dt.date,
    entry: tuple[str, dict[str, str], str | None, bool],
) -> Registration:
    kind, fields, department, publish = entry
    return service.declare(
        session,
        platform.context(principal, day),
        kind_code=kind,
        fields=fields,
        signer_name="张明",
        department_code=department,
        publish=publish,
        evidence=[Upload("证明材料.pdf", evidence_pdf("Supporting document", [kind, day.isoformat()]))],
    )


def seed_registrations(session: Session, platform: Platform, today: dt.date) -> dict[str, int]:
    """Registered information of the demo enterprise and of a few other companies, in every state.

    Idempotent: does nothing when any registration exists.
    """
    if session.scalar(select(func.count(Registration.id))):
        return {"entries": 0}
    made = 0
    user = session.scalar(select(User).where(User.username == "enterprise", User.is_demo.is_(True)))
    enterprise = session.get(Subject, user.subject_id) if user is not None and user.subject_id else None
    if enterprise is not None:
        principal = _subject_principal(enterprise, user)
        for kind, fields, department, publish, ago, steps in ENTERPRISE:
            r = _declare(
                session,
                platform,
                principal,
                today - dt.timedelta(days=ago),
                (kind, fields, department, publish),
            )
            for actor, event, note, when in steps:
                service.decide(
                    session, platform.context(actor, today - dt.timedelta(days=when)), r, event, note=note
                )
            made += 1
    others = session.scalars(
        select(Subject)
        .where(Subject.kind == SubjectKind.LEGAL_PERSON, Subject.uscc.is_not(None))
        .where(Subject.id != (enterprise.id if enterprise else 0))
        .order_by(Subject.id)
        .limit(OTHERS)
    ).all()
    for n, subject in enumerate(others):
        entry = _other_entry(n)
        r = _declare(
            session, platform, _subject_principal(subject, None), today - dt.timedelta(days=90 - n), entry
        )
        made += 1
        decider = REVIEWER if entry[2] == "SCMR" else CREDIT_OFFICE
        if n % 4 in (1, 2):
            service.decide(
                session, platform.context(decider, today - dt.timedelta(days=80 - n)), r, "confirm"
            )
        if n == 1:  # confirmed, then found false on a later check: its commitment is breached
            service.decide(
                session,
                platform.context(decider, today - dt.timedelta(days=20)),
                r,
                "find_false",
                note="回访受赠学校，未收到所申报的捐赠物资，申报内容不实。",
            )
        if n % 4 == 3:
            service.decide(
                session,
                platform.context(decider, today - dt.timedelta(days=75 - n)),
                r,
                "reject",
                note="所附证明材料不能证明申报内容，请补充授予文件后重新申报。",
            )
    session.flush()
    return {"entries": made}
