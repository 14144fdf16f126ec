"""The real-time check respects the catalog's sharing classes.

A hit still reports the measure the law requires the checking department to apply, but the record that fires
it is shown only as far as that department may see it: 无条件共享 items to every department, 有条件共享 items
to departments granted them, 不予共享 items to their provider and the credit office; a department always sees
its own records. For a record it may not see it learns the item's name and the decision date, not the record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import department, ingest_rows, penalty, uscc
from xinyong.accounts import service as accounts
from xinyong.accounts.policy import Principal
from xinyong.catalog.schemas import Catalog, SharingClass
from xinyong.measures import check as measures
from xinyong.measures import rules as measure_rules
from xinyong.measures.models import Check
from xinyong.platform import Platform
from xinyong.records.service import IngestContext

FINANCE = Principal(kind="token", name="procurement-system", department_code="SCCZ")
HUMAN_RESOURCES = Principal(kind="token", name="hr-system", department_code="SCRS")
CREDIT_OFFICE = Principal(kind="user", name="office", role="credit_office", department_code="SCFGW")
WITHHELD_KEYS = {"type", "item", "item_name", "decision_date", "withheld"}


def arrears(code: str, **overrides: Any) -> dict[str, Any]:
    """A social-insurance arrears row (欠缴社会保险费, 有条件共享), as the human resources department sends it."""
    return {
        "subject_name": "成都欠缴社保测试有限公司",
        "subject_category": "法人及非法人组织",
        "uscc": code,
        "insurance_type": "养老保险",
        "arrears_period": "2026年第三季度",
        "arrears_wan": "3.2",
        "decision_date": "2026-10-09",
        "authority_name": "成都市社会保险事业管理局",
        **overrides,
    }


def load_arrears(session: Session, ctx: IngestContext, codes: list[str]) -> None:
    result = ingest_rows(
        session, ctx, [arrears(c) for c in codes], item="QJSB", provider="SCRS", provider_name="人社厅"
    )
    assert result.rejected == 0
    session.commit()


def run(
    session: Session,
    platform: Platform,
    principal: Principal,
    codes: list[str],
    *,
    catalog: Catalog | None = None,
) -> list[measures.StoredCheck]:
    department(session, principal.department_code or "SCFGW", "部门")
    orders = [
        measures.CheckOrder(
            principal, measures.SubjectRef(uscc=c), "government_procurement", "采购资格审查", TODAY
        )
        for c in codes
    ]
    outcomes = measures.run_checks(
        session,
        catalog=catalog or platform.catalog,
        signer=platform.signer,
        id_hash=platform.cipher.hash,
        orders=orders,
    )
    session.commit()
    assert all(isinstance(o, measures.StoredCheck) for o in outcomes)
    return outcomes  # type: ignore[return-value]


def record_triggers(check: measures.StoredCheck, item: str) -> list[dict[str, Any]]:
    return [h["trigger"] for h in check.result["hits"] if h["trigger"].get("item") == item]


def not_shared(catalog: Catalog, code: str) -> Catalog:
    items = [
        i.model_copy(update={"sharing_class": SharingClass.NOT_SHARED}) if i.code == code else i
        for i in catalog.items
    ]
    return catalog.model_copy(update={"items": items})


@contextmanager
def grant_reads(session: Session) -> Iterator[list[str]]:
    """The statements that read item grants while the block runs."""
    seen: list[str] = []
    engine = session.get_bind()

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "item_grants" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


class TestConditionallyShared:
    def test_without_a_grant_the_measure_applies_but_the_record_is_withheld(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        codes = [uscc() for _ in range(50)]
        load_arrears(session, ctx, codes)
        with grant_reads(session) as reads:
            checks = run(session, platform, FINANCE, codes)
        assert len(reads) == 1  # the department's grants, once for the whole batch
        for check in checks:
            (hit,) = [h for h in check.result["hits"] if h["measure"] == "P-QJSB-PROC-REVIEW"]
            assert hit["legal_basis"] and hit["action"] == "strict_review"
            assert set(hit["trigger"]) == WITHHELD_KEYS
            assert hit["trigger"]["item_name"] == "欠缴社会保险费"
            assert hit["trigger"]["decision_date"] == "2026-10-09"
        stored = session.get(Check, checks[0].id)
        assert stored is not None
        assert "arrears_period" not in str(stored.result) and "doc_no" not in str(stored.result["hits"])

    def test_with_a_grant_the_record_is_shown(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        code = uscc()
        load_arrears(session, ctx, [code])
        department(session, "SCCZ", "财政厅")
        accounts.grant_item(
            session,
            department_code="SCCZ",
            item_code="QJSB",
            purpose="政府采购供应商资格审查",
            legal_basis="《中华人民共和国政府采购法》第二十二条",
        )
        session.commit()
        (check,) = run(session, platform, FINANCE, [code])
        (trigger,) = record_triggers(check, "QJSB")
        assert trigger["provider"] == "SCRS" and trigger["id"] and "withheld" not in trigger

    def test_an_expired_grant_no_longer_shows_it(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        code = uscc()
        load_arrears(session, ctx, [code])
        department(session, "SCCZ", "财政厅")
        accounts.grant_item(
            session,
            department_code="SCCZ",
            item_code="QJSB",
            purpose="政府采购供应商资格审查",
            legal_basis="《中华人民共和国政府采购法》第二十二条",
            expires_on=TODAY - dt.timedelta(days=1),
        )
        session.commit()
        (check,) = run(session, platform, FINANCE, [code])
        assert [set(t) for t in record_triggers(check, "QJSB")] == [WITHHELD_KEYS]

    def test_the_provider_and_the_credit_office_see_the_record(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        code = uscc()
        load_arrears(session, ctx, [code])
        for principal in (HUMAN_RESOURCES, CREDIT_OFFICE):
            (check,) = run(session, platform, principal, [code])
            (trigger,) = record_triggers(check, "QJSB")
            assert trigger["provider"] == "SCRS" and "withheld" not in trigger


class TestUnconditionallyShared:
    def test_every_department_sees_the_record_and_no_grant_is_read(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        code = uscc()
        row = penalty(CF_XDR_SHXYM=code, severity="严重", CF_JDRQ="2026-05-01")
        assert ingest_rows(session, ctx, [row]).rejected == 0
        session.commit()
        with grant_reads(session) as reads:
            (check,) = run(session, platform, FINANCE, [code])
        assert reads == []
        (trigger,) = record_triggers(check, "CF")
        assert (
            trigger["doc_no"] == row["CF_WSH"] and trigger["severity"] == "严重" and "withheld" not in trigger
        )


class TestNotShared:
    def test_only_its_provider_and_the_credit_office_see_it_even_with_a_grant(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        code = uscc()
        load_arrears(session, ctx, [code])
        department(session, "SCCZ", "财政厅")
        accounts.grant_item(
            session,
            department_code="SCCZ",
            item_code="QJSB",
            purpose="政府采购供应商资格审查",
            legal_basis="《中华人民共和国政府采购法》第二十二条",
        )
        session.commit()
        catalog = not_shared(platform.catalog, "QJSB")
        (check,) = run(session, platform, FINANCE, [code], catalog=catalog)
        assert [set(t) for t in record_triggers(check, "QJSB")] == [WITHHELD_KEYS]
        assert check.result["hits"][0]["measure"] == "P-QJSB-PROC-REVIEW"
        for principal in (HUMAN_RESOURCES, CREDIT_OFFICE):
            (seen,) = run(session, platform, principal, [code], catalog=catalog)
            assert "withheld" not in record_triggers(seen, "QJSB")[0]


@pytest.mark.parametrize(
    ("sharing", "provider", "principal", "granted", "visible"),
    [
        (SharingClass.UNCONDITIONAL, "SCRS", FINANCE, set(), True),
        (SharingClass.CONDITIONAL, "SCRS", FINANCE, set(), False),
        (SharingClass.CONDITIONAL, "SCRS", FINANCE, {"QJSB"}, True),
        (SharingClass.CONDITIONAL, "SCCZ", FINANCE, set(), True),  # its own record
        (SharingClass.NOT_SHARED, "SCRS", FINANCE, {"QJSB"}, False),
        (SharingClass.NOT_SHARED, "SCRS", HUMAN_RESOURCES, set(), True),
        (SharingClass.NOT_SHARED, "SCRS", CREDIT_OFFICE, set(), True),
        (None, "SCRS", FINANCE, {"QJSB"}, False),  # an item the catalog no longer has
    ],
)
def test_who_may_see_a_triggering_record(
    sharing: SharingClass | None, provider: str, principal: Principal, granted: set[str], visible: bool
) -> None:
    assert measure_rules.record_visible(sharing, provider, principal, granted, "QJSB") is visible
