"""Seeding the demo Sichuan through the same ingestion path as real departments."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.demo import generator
from xinyong.kit.errors import Conflict
from xinyong.kit.tabular import Row
from xinyong.records import service as records
from xinyong.records.credit_file import credit_file
from xinyong.records.models import Batch, Record
from xinyong.records.schemas import Receipt


def is_seeded(session: Session) -> bool:
    return bool(session.scalar(select(func.count(Record.id))))


def seed_departments(session: Session) -> int:
    """Register the demo departments that are not there yet (idempotent)."""
    added = 0
    for d in generator.departments():
        try:
            accounts.get_department(session, d.code)
        except Exception:
            try:
                accounts.add_department(
                    session,
                    code=d.code,
                    name=d.name,
                    uscc=d.uscc,
                    region_code=d.region_code,
                    parent_code=d.parent_code,
                )
                added += 1
            except Conflict:
                continue
    return added


def seed(
    session: Session,
    ctx: records.IngestContext,
    *,
    scale: float,
    on_batch: Callable[[generator.DemoBatch, Receipt], None] | None = None,
    on_plan: Callable[[str, int], None] | None = None,
) -> list[Receipt]:
    """Load the synthetic data set batch by batch through ingestion (idempotent: a re-run changes nothing).

    For progress: ``on_plan(part, rows)`` is told the rows of each part (registrations, then the other
    records) before its first batch, ``on_batch`` each batch once ingested.
    """
    seed_departments(session)
    receipts = []
    for batch in generator.batches(scale, today=ctx.today, on_plan=on_plan):
        rows = (Row(number, values) for number, values in enumerate(batch.rows, start=2))
        receipt = records.ingest(
            session,
            ctx,
            item_code=batch.item_code,
            provider_code=batch.provider_code,
            rows=rows,
            source="demo",
            filename=batch.filename,
            chunk_size=len(batch.rows) + 1,
        )
        receipts.append(receipt)
        if on_batch is not None:
            on_batch(batch, receipt)
    return receipts


def demo_batches(session: Session) -> int:
    return int(session.scalar(select(func.count(Batch.id)).where(Batch.source == "demo")) or 0)


DEMO_PASSWORD = "xinyong-demo-2026"  # noqa: S105 - documented demo-only password, refused outside demo mode
DEMO_USERS = (
    # username, role, department, display name, department admin
    ("admin", "credit_office", "SCFGW", "信用办管理员", True),
    ("provider", "provider", "SCMR", "市场监管局数据报送员", False),
    ("reviewer", "reviewer", "SCMR", "市场监管局审核员", True),
    ("auditor", "auditor", "SCFGW", "审计员", False),
    ("agency", "agency", None, "信用服务机构用户", False),
    ("enterprise", "subject", None, "演示企业", False),
)
DEMO_GRANTS = (
    ("SCMR", "QJSB", "市场主体信用风险分类", "《社会保险法》第八十六条；川发改信用规〔2019〕546号"),
    ("SCFGW", "QZ", "公共信用综合评价", "川发改信用规〔2019〕546号"),
)


def seed_accounts(session: Session, ctx: records.IngestContext) -> list[str]:
    """One demo user per role (demo-only password), item grants, and a few audited file views."""
    from xinyong.accounts import auth
    from xinyong.accounts.models import User
    from xinyong.subjects.models import Subject

    created = []
    showcase = session.scalar(
        select(Record.subject_id)
        .join(Subject, Subject.id == Record.subject_id)
        .where(Record.item_code == "CF", Record.severity == "严重", Subject.kind == "legal_person")
        .order_by(Record.id)
        .limit(1)
    )
    for username, role, department, display_name, admin in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            continue
        auth.create_user(
            session,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            display_name=display_name,
            department_code=department,
            subject_id=showcase if role == "subject" else None,
            is_department_admin=admin,
            is_demo=True,
        )
        created.append(username)
    refresh_accounts(session)
    for department, item, purpose, basis in DEMO_GRANTS:
        if item not in accounts.granted_items(session, department, ctx.today):
            accounts.grant_item(
                session, department_code=department, item_code=item, purpose=purpose, legal_basis=basis
            )
    if showcase is not None and created:
        from xinyong.accounts.policy import Principal

        for department, purpose in (
            ("SCMR", "行政许可审查"),
            ("SCZJ", "招标投标资格审查"),
            ("SCCZ", "财政资金项目申报审核"),
        ):
            viewer = Principal(
                kind="user", name=f"demo-{department.lower()}", role="reviewer", department_code=department
            )
            credit_file(session, ctx.catalog, viewer, showcase, ctx.today, purpose=purpose)
    return created


def demo_usernames(session: Session) -> list[str]:
    """Every demo account in the database, in the order it was made (the roles here, then agency and bank)."""
    from xinyong.accounts.models import User

    return list(session.scalars(select(User.username).where(User.is_demo.is_(True)).order_by(User.id)))


def refresh_accounts(session: Session) -> None:
    """What a demo database seeded before migration 0009 lacks: its `enterprise` account verified, registered
    contacts for its subjects. Idempotent; run by every `xinyong demo seed`, also when it skips seeding."""
    _verify_demo_enterprise(session)
    seed_contacts(session)


def _verify_demo_enterprise(session: Session) -> None:
    """The demo `enterprise` account stays verified (a database migrated past 0009 had it marked unverified)."""
    import datetime as dt

    from xinyong.accounts.models import User

    user = session.scalar(select(User).where(User.username == "enterprise", User.is_demo.is_(True)))
    if user is not None and user.subject_id is not None and user.verified_at is None:
        user.verified_at = dt.datetime.now(dt.UTC)
        user.verification_method = "operator"


def demo_phone(subject_id: int) -> str:
    """The synthetic mobile number the demo registration authority holds for a subject (138 + 8 digits)."""
    return f"138{subject_id % 100_000_000:08d}"


def seed_contacts(session: Session) -> int:
    """Give every demo subject without one a registered contact (a synthetic mobile number), where activation
    codes go: with the outbox gateway they are read with `xinyong messages list` or on /console/messages.
    Idempotent."""
    from sqlalchemy import insert

    from xinyong.accounts.models import SubjectContact
    from xinyong.subjects.models import Subject

    missing = session.scalars(
        select(Subject.id)
        .where(~select(SubjectContact.subject_id).where(SubjectContact.subject_id == Subject.id).exists())
        .order_by(Subject.id)
    ).all()
    rows = [
        {"subject_id": sid, "channel": "sms", "address": demo_phone(sid), "source": "演示登记机关"}
        for sid in missing
    ]
    for start in range(0, len(rows), 5000):
        session.execute(insert(SubjectContact), rows[start : start + 5000])
    return len(rows)
