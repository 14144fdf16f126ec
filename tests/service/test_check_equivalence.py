"""The check's two paths give the same answers: on PostgreSQL, the statement path (`measures.check._read_pg` and
`_store_pg`: one statement reads, one stores) and the portable path (`_read`, a Core INSERT,
`audit.record_many`) run on the same data, order by order — the outcome, the subject, how it was asked, every
hit with its trigger in order, what a department may not see withheld — and both store and audit alike."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import department, ingest_rows, licence, penalty, resident_id, uscc
from tests.service.test_check_sharing import arrears
from tests.service.test_checks import listed, load
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.kit.errors import XinyongError
from xinyong.measures import check as checking
from xinyong.measures.models import Check
from xinyong.measures.repository import PublishedLists
from xinyong.platform import Platform
from xinyong.records.service import IngestContext

FINANCE = Principal(kind="token", name="procurement-system", department_code="SCCZ")
HUMAN_RESOURCES = Principal(kind="token", name="hr-system", department_code="SCRS")
OFFICE = Principal(kind="user", name="office", role="credit_office", department_code="SCFGW")
AT = dt.datetime(2026, 11, 20, 2, 30, tzinfo=dt.UTC)


@pytest.fixture
def postgresql(platform: Platform) -> None:
    if platform.sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("the statement path runs on PostgreSQL only (elsewhere both are the portable path)")


def comparable(outcome: checking.StoredCheck | XinyongError) -> dict[str, Any]:
    """An outcome without what differs by nature between two runs: the check's id and its signature."""
    if isinstance(outcome, XinyongError):
        return {"error": type(outcome).__name__, "code": outcome.code, "message": outcome.message} | {
            "details": outcome.details
        }
    fields = dataclasses.asdict(outcome)
    result = dict(fields.pop("result"))
    assert result.pop("check_id") == fields.pop("id")
    fields.pop("signature")
    return fields | {"result": result}


def audited(session: Session, outcomes: list[checking.StoredCheck | XinyongError]) -> list[tuple[Any, ...]]:
    """The audit entries of the stored checks, in the orders' order, without the check ids."""
    ids = [o.id for o in outcomes if isinstance(o, checking.StoredCheck)]
    entries = session.scalars(select(AuditEntry).where(AuditEntry.target.in_(ids))).all()
    by_target = {e.target: e for e in entries}
    assert len(by_target) == len(ids)
    return [
        (e.action, e.actor, e.department_code, e.subject_id, e.purpose, e.ip, e.details)
        for e in (by_target[i] for i in ids)
    ]


# One path's run: its outcomes (as `comparable`) and its audit entries (as `audited`).
Run = tuple[list[dict[str, Any]], list[tuple[Any, ...]]]


def both_paths(
    session: Session, platform: Platform, orders: list[checking.CheckOrder], lists: PublishedLists
) -> tuple[Run, Run]:
    """The orders run on each path in a transaction of its own; each run's outcomes and audit entries."""
    runs: list[Run] = []
    for portable in (False, True):
        outcomes = checking.run_checks(
            session,
            catalog=platform.catalog,
            signer=platform.signer,
            id_hash=platform.cipher.hash,
            orders=orders,
            lists=lists,
            portable=portable,
        )
        session.commit()
        assert len(outcomes) == len(orders)
        stored = [o for o in outcomes if isinstance(o, checking.StoredCheck)]
        found = session.scalars(select(Check).where(Check.id.in_([o.id for o in stored]))).all()
        assert {c.id: c.result for c in found} == {o.id: o.result for o in stored}
        runs.append(([comparable(o) for o in outcomes], audited(session, outcomes)))
    assert audit.verify(session) is None  # one chain, appended by both paths
    return runs[0], runs[1]


@pytest.fixture
def subjects(client: TestClient, session: Session, ctx: IngestContext) -> dict[str, str]:
    """Subjects for every kind of answer: clean, on a list, punished (a record), with a conditionally shared
    record (社保欠费, provided by human resources), two of one name, and one found by its name."""
    codes = {k: uscc() for k in ("clean", "listed", "punished", "both", "arrears", "named")}
    load(client, session, "XK", [licence(XK_XDR_SHXYM=codes[k]) for k in ("clean", "listed", "both")])
    load(client, session, "XK", [licence(XK_XDR_MC="成都等价核查建材有限公司", XK_XDR_SHXYM=codes["named"])])
    twins = [licence(XK_XDR_MC="成都重名建材有限公司", XK_XDR_SHXYM=uscc("510104")) for _ in range(2)]
    load(client, session, "XK", twins)
    punished = [
        penalty(CF_XDR_SHXYM=codes["punished"], severity="严重", CF_JDRQ="2026-05-01"),
        penalty(CF_XDR_SHXYM=codes["punished"], severity="一般", CF_JDRQ="2026-06-01"),
        penalty(CF_XDR_SHXYM=codes["both"], severity="严重", CF_JDRQ="2026-04-01"),
    ]
    load(client, session, "CF", punished)
    listed(session, codes["listed"])
    listed(session, codes["both"])
    listed(session, codes["both"], list_type="red")
    loaded = ingest_rows(
        session, ctx, [arrears(codes["arrears"])], item="QJSB", provider="SCRS", provider_name="人社厅"
    )
    assert loaded.rejected == 0
    for principal in (FINANCE, HUMAN_RESOURCES, OFFICE):
        assert principal.department_code is not None
        department(session, principal.department_code, "部门")
    session.commit()
    return codes


def order(principal: Principal, ref: checking.SubjectRef, **kwargs: Any) -> checking.CheckOrder:
    fields: dict[str, Any] = {
        "principal": principal,
        "ref": ref,
        "scenario": "government_procurement",
        "purpose": "政府采购供应商资格审查",
        "today": TODAY,
        "ip": "10.0.0.7",
        "at": AT,
    }
    return checking.CheckOrder(**(fields | kwargs))


@pytest.mark.usefixtures("postgresql")
class TestStatementAndPortablePaths:
    def test_a_mixed_batch_gets_the_same_answers_on_both_paths(
        self, session: Session, platform: Platform, subjects: dict[str, str]
    ) -> None:
        by_uscc = [checking.SubjectRef(uscc=code) for code in subjects.values()]
        orders = [
            *(order(FINANCE, ref) for ref in by_uscc),
            *(order(HUMAN_RESOURCES, ref, scenario="public_bidding") for ref in by_uscc),
            *(order(OFFICE, ref, scenario="administrative_approval") for ref in by_uscc),
            order(FINANCE, checking.SubjectRef(uscc=subjects["both"])),  # the same subject twice
            order(FINANCE, checking.SubjectRef(uscc="91510104MA6CXXXXX")),  # bad check digit
            order(FINANCE, checking.SubjectRef(uscc=uscc())),  # valid, unknown
            order(FINANCE, checking.SubjectRef(uscc=subjects["clean"]), scenario="no_such_scenario"),
            order(FINANCE, checking.SubjectRef(uscc=subjects["clean"]), purpose="   "),
            order(
                Principal(kind="user", name="u", role="public"), checking.SubjectRef(uscc=subjects["clean"])
            ),
        ]
        (statement, statement_audit), (portable, portable_audit) = both_paths(
            session, platform, orders, PublishedLists()
        )
        assert statement == portable
        assert statement_audit == portable_audit
        hits = [o["result"]["hits"] for o in statement if "result" in o]
        assert any(h["trigger"]["type"] == "list_entry" for hs in hits for h in hs)
        assert any(
            h["trigger"]["type"] == "record" and "withheld" not in h["trigger"] for hs in hits for h in hs
        )
        assert any(h["trigger"].get("withheld") for hs in hits for h in hs)  # 有条件共享, to finance
        assert sum(1 for o in statement if "error" in o) == 4

    def test_subjects_asked_by_name_or_resident_id_and_each_slot_size_answer_alike(
        self, session: Session, platform: Platform, subjects: dict[str, str]
    ) -> None:
        lists = PublishedLists()
        named = checking.SubjectRef(name="成都等价核查建材有限公司", region="510104")
        ambiguous = checking.SubjectRef(name="成都重名建材有限公司", region="510104")
        person = checking.SubjectRef(resident_id=resident_id())
        codes = [checking.SubjectRef(uscc=c) for c in subjects.values()]
        batches = [
            [order(FINANCE, codes[1])],  # one USCC slot
            [order(FINANCE, ref) for ref in codes[:3]],  # four slots
            [order(FINANCE, ref) for ref in codes * 3],  # sixteen slots
            [order(FINANCE, ref) for ref in codes * 12],  # sixty-four slots
            [order(FINANCE, checking.SubjectRef(uscc=uscc())) for _ in range(70)],  # past the slots: arrays
            [
                order(FINANCE, named),
                order(FINANCE, ambiguous),
                order(FINANCE, person),
                order(OFFICE, codes[2]),
            ],
        ]
        for orders in batches:
            statement, portable = both_paths(session, platform, orders, lists)
            assert statement == portable

    def test_a_batch_straddling_midnight_reads_each_day_alike(
        self, session: Session, platform: Platform, subjects: dict[str, str]
    ) -> None:
        """Two days in one batch, the second when the punished subject's window is over and the list entries
        have expired: the statement path reads the first day in its one statement and the other apart."""
        later = TODAY + dt.timedelta(days=3 * 366)
        refs = [checking.SubjectRef(uscc=c) for c in subjects.values()]
        orders = [order(OFFICE, ref, today=day) for day in (TODAY, later) for ref in refs]
        (statement, _), (portable, _) = both_paths(session, platform, orders, platform.measure_lists)
        assert statement == portable
        now = [len(o["result"]["hits"]) for o in statement[: len(refs)]]
        then = [len(o["result"]["hits"]) for o in statement[len(refs) :]]
        assert sum(now) > sum(then)  # the days differ, and each path saw it
