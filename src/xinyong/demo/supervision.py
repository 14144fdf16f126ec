"""Demo history for joint rewards and punishments: list entries in every state, checks and feedback.

Deterministic (seeded), and made through the same services departments use, so every entry went through
due process and every check is signed and audited.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal
from xinyong.lists import service as lists
from xinyong.lists.models import ListEntry
from xinyong.measures import check as checking
from xinyong.measures import service as measures
from xinyong.measures.repository import PublishedLists
from xinyong.records.models import Record
from xinyong.subjects.models import Subject

BASIS = {
    "serious_dishonesty": "《失信行为纠正后的信用信息修复管理办法（试行）》；《市场监督管理严重违法失信名单管理办法》第二条、第十条",
    "market_ban": "《中华人民共和国安全生产法》第九十四条；《中华人民共和国食品安全法》第一百三十五条",
    "red": "《国务院关于建立完善守信联合激励和失信联合惩戒制度加快推进社会诚信建设的指导意见》（国发〔2016〕33号）",
}
FACTS = {
    "serious_dishonesty": "因严重违法行为受到较重行政处罚，且拒不履行法定义务，社会影响恶劣。",
    "market_ban": "发生重大生产安全责任事故，被依法决定禁止从事相关行业经营活动。",
    "red": "连续三年纳税信用A级，无不良信用记录，积极履行社会责任。",
}
SCENARIOS = (
    "administrative_approval",
    "government_procurement",
    "public_bidding",
    "fiscal_funding",
    "honours",
    "public_service",
    "credit_loans",
)
CHECKING = ("SCCZ", "SCZJ", "SCJT", "SCMR", "SCFGW", "SCWJ")


def seed_supervision(session: Session, ctx: UseCaseContext, *, scale: float = 1.0) -> dict[str, int]:
    """Idempotent: does nothing when list entries already exist. The context's day is the demo's today, its
    signer signs the checks; the entries are the work of a reviewer of SCMR on days before it."""
    if session.scalar(select(func.count(ListEntry.id))):
        return {"entries": 0, "checks": 0}
    rng = random.Random(546)
    today = ctx.today
    reviewer = Principal(kind="user", name="demo-reviewer", role="reviewer", department_code="SCMR")

    def on(day: dt.date) -> UseCaseContext:
        return replace(ctx, principal=reviewer, today=day)

    serious = list(
        session.scalars(
            select(Record.subject_id)
            .join(Subject, Subject.id == Record.subject_id)
            .where(
                Record.item_code.in_(("CF", "SXBZX")),
                Record.severity.in_(("严重",)) | (Record.item_code == "SXBZX"),
                Subject.kind.in_(("legal_person", "individual_business")),
            )
            .distinct()
            .order_by(Record.subject_id)
        )
    )
    clean = list(
        session.scalars(
            select(Subject.id).where(Subject.kind == "legal_person").order_by(Subject.id).limit(2000)
        )
    )
    rng.shuffle(serious)
    rng.shuffle(clean)
    n = max(1, int(40 * scale))
    plan: list[tuple[str, str, int]] = []  # (list type, final state, subject)
    for i, subject_id in enumerate(serious[: n + 12]):
        state = "listed" if i < n else ("proposed", "notified", "dropped", "removed")[i % 4]
        plan.append(("market_ban" if i % 9 == 4 else "serious_dishonesty", state, subject_id))
    for subject_id in clean[: max(1, int(15 * scale))]:
        plan.append(("red", "listed", subject_id))
    entries = 0
    for list_type, state, subject_id in plan:
        proposed = today - dt.timedelta(days=rng.randint(30, 700))
        entry = lists.propose(
            session,
            on(proposed),
            subject_id=subject_id,
            list_type=list_type,
            legal_basis=BASIS[list_type],
            facts=FACTS[list_type],
            scope="危险化学品生产经营" if list_type == "market_ban" else None,
        )
        entries += 1
        if state == "proposed":
            continue
        day = proposed + dt.timedelta(days=rng.randint(1, 5))
        if list_type != "red":
            lists.advance(session, on(day), entry, "notify")
            if state == "notified":
                if rng.random() < 0.5:
                    lists.advance(
                        session,
                        on(day + dt.timedelta(days=2)),
                        entry,
                        "statement",
                        note="当事人提交陈述申辩材料",
                    )
                continue
            assert entry.statement_deadline is not None
            day = entry.statement_deadline + dt.timedelta(days=rng.randint(1, 10))
        if state == "dropped":
            lists.advance(session, on(day), entry, "drop", note="申辩理由成立")
            continue
        year = day.year
        lists.advance(
            session,
            on(day),
            entry,
            "decide",
            decision_no=f"川信认〔{year}〕{entries}号",
        )
        if state == "removed":
            lists.advance(
                session,
                on(min(today, day + dt.timedelta(days=rng.randint(30, 200)))),
                entry,
                "remove",
                reason=rng.choice(("repaired", "authority_decision")),
            )
    checks = _seed_checks(session, ctx, rng, [s for _, st, s in plan if st == "listed"], clean, scale)
    return {"entries": entries, "checks": checks}


def _seed_checks(
    session: Session,
    ctx: UseCaseContext,
    rng: random.Random,
    listed: list[int],
    clean: list[int],
    scale: float,
) -> int:
    usccs = dict(
        session.execute(select(Subject.id, Subject.uscc).where(Subject.id.in_(listed + clean[:300]))).all()
    )
    flagged = [s for s in listed if usccs.get(s)]
    others = [s for s in clean[:300] if usccs.get(s)]
    count = 0
    lists = PublishedLists()  # the list in force is read and validated once for the whole history
    for _ in range(max(10, int(400 * scale))):
        subject_id = rng.choice(flagged if flagged and rng.random() < 0.5 else others)
        department = rng.choice(CHECKING)
        clerk = Principal(
            kind="user", name=f"demo-{department.lower()}", role="reviewer", department_code=department
        )
        when = dt.datetime.combine(
            ctx.today - dt.timedelta(days=rng.randint(0, 360)), dt.time(9, rng.randint(0, 59)), tzinfo=dt.UTC
        )
        check = checking.run_check(
            session,
            catalog=ctx.catalog,
            signer=ctx.signer,
            id_hash=ctx.cipher.hash,
            order=checking.CheckOrder(
                clerk,
                checking.SubjectRef(uscc=usccs[subject_id]),
                rng.choice(SCENARIOS),
                rng.choice(
                    (
                        "项目招标资格审查",
                        "行政许可审查",
                        "财政补助资金申报审核",
                        "评优评先资格审查",
                        "政府采购供应商审查",
                    )
                ),
                when.date(),
                at=when,
            ),
            lists=lists,
        )
        count += 1
        hits = check.result["hits"]
        if hits and rng.random() < 0.85:
            items = []
            for code in dict.fromkeys(h["measure"] for h in hits):
                applied = rng.random() < 0.8
                items.append(
                    {
                        "measure": code,
                        "outcome": "applied" if applied else "not_applicable",
                        "reason": "" if applied else "该事项不属于措施适用范围",
                    }
                )
            measures.record_feedback(session, clerk, check, items, when.date())
    return count
