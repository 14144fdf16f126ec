"""Credit repair end to end on both stores: notice on ingest, application, decision, the record leaving the
portal, the API and checks at once, and coming back after a wrong repair (错修) is reverted on re-check."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import apply_for_repair, bearer, department, penalty, uscc
from xinyong.accounts.policy import Principal
from xinyong.audit.models import AuditEntry
from xinyong.events import service as events
from xinyong.kit.errors import Conflict, Forbidden, ValidationFailed
from xinyong.notices.models import Notice
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.repair import rules
from xinyong.repair import service as repair
from xinyong.subjects import service as subjects

REVIEWER = Principal(kind="user", name="审核员", role="reviewer", department_code="SCMR")
OTHER_REVIEWER = Principal(kind="user", name="他部门", role="reviewer", department_code="SCSW")
OFFICE = Principal(kind="user", name="信用办", role="credit_office", department_code="SCFGW")


def ingest(client: TestClient, session: Session, rows: list[dict[str, Any]]) -> None:
    body = client.post(
        "/api/v1/records", json={"item": "CF", "records": rows}, headers=bearer(session)
    ).json()
    assert body["rejected"] == 0, body


def subject_principal(session: Session, code: str) -> Principal:
    subject = subjects.get_by_uscc(session, code)
    return Principal(kind="user", name="企业经办人", role="subject", subject_id=subject.id)


def record_of(session: Session, code: str) -> Record:
    subject = subjects.get_by_uscc(session, code)
    return session.scalars(select(Record).where(Record.subject_id == subject.id)).one()


def submit(platform: Platform, session: Session, principal: Principal, record: Record, **kw: Any) -> Any:
    kw.setdefault("statement", "已全额缴纳罚款并完成整改，建立了食品安全自查制度。")
    return apply_for_repair(platform, session, principal, record.id, kw.pop("today", TODAY), **kw)


def step(
    platform: Platform, session: Session, principal: Principal, application: Any, event: str, **kw: Any
) -> Any:
    return repair.advance(
        session,
        platform.context(principal, kw.pop("today", TODAY)),
        application,
        event,
        repair_policy=platform.repair_policy,
        **kw,
    )


def check_hits(client: TestClient, session: Session, code: str) -> list[dict[str, Any]]:
    headers = bearer(session, "SCCZ", ("checks:run",))
    body = {"subject": {"uscc": code}, "scenario": "government_procurement", "purpose": "采购资格审查"}
    response = client.post("/api/v1/checks", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return [h for h in response.json()["hits"] if h["trigger"]["type"] == "record"]


def on_portal(client: TestClient, code: str, doc_no: str) -> bool:
    """Whether the public sees the record, asserting that the portal page and the API agree."""
    page = client.get(f"/subjects/{code}")
    api = client.get(f"/api/v1/subjects/{code}")
    assert page.status_code == api.status_code == 200
    assert (doc_no in page.text) == (doc_no in api.text)
    return doc_no in api.text


class TestRepairNotice:
    def test_published_penalty_gets_one_notice_and_a_reingest_adds_none(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        row = penalty(CF_XDR_SHXYM=code, severity="一般", CF_JDRQ="2026-06-15")
        ingest(client, session, [row])
        ingest(client, session, [row])
        record = record_of(session, code)
        notices = session.scalars(select(Notice).where(Notice.record_id == record.id)).all()
        assert [n.kind for n in notices] == ["repair_notice"]
        assert notices[0].subject_id == record.subject_id

    def test_unpublished_minor_penalty_gets_no_notice(self, client: TestClient, session: Session) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, severity="轻微", CF_JDRQ="2026-06-15")])
        record = record_of(session, code)
        assert record.public_from is None
        assert session.scalars(select(Notice).where(Notice.record_id == record.id)).all() == []

    def test_notice_states_window_and_earliest_application(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, severity="严重", CF_JDRQ="2026-06-15")])
        view = repair.notice_view(
            platform.repair_policy, repair.target_of_record(platform.catalog, record_of(session, code), TODAY)
        )
        assert view["public_from"] == dt.date(2026, 6, 15)
        assert view["public_until"] == dt.date(2029, 6, 15)  # 36号令: 严重 at most 3 years
        assert view["earliest"] == dt.date(2027, 6, 16)  # at least 1 year, then the next day


class TestRepairWorkflow:
    def test_repair_removes_record_from_portal_api_and_checks_and_error_repair_brings_it_back(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        department(session)
        code = uscc()
        # 严重 under 58号令 (decided before 2026-04-01): at least 3 months, at most 3 years; it triggers
        # procurement measures.
        row = penalty(CF_XDR_SHXYM=code, severity="严重", CF_JDRQ="2025-06-10")
        ingest(client, session, [row])
        record = record_of(session, code)
        assert on_portal(client, code, row["CF_WSH"]) and check_hits(client, session, code)

        applicant = subject_principal(session, code)
        application = submit(platform, session, applicant, record)
        assert application.status == rules.SUBMITTED and application.department_code == record.provider_code
        assert application.due_on == platform.calendar.add_workdays(TODAY, 3).due
        step(platform, session, REVIEWER, application, "accept")
        step(platform, session, REVIEWER, application, "review")
        step(
            platform,
            session,
            REVIEWER,
            application,
            "approve",
            decision_no="川市监修〔2026〕8号",
            note="材料齐全",
        )
        session.commit()
        assert application.status == rules.REPAIRED and record.status == "repaired"
        assert not on_portal(client, code, row["CF_WSH"])
        assert check_hits(client, session, code) == []

        step(platform, session, OFFICE, application, "revert", note="罚款缴纳凭证系伪造")
        session.commit()
        assert application.status == rules.REVERTED and record.status == "active"
        assert on_portal(client, code, row["CF_WSH"]) and check_hits(client, session, code)
        actions = set(
            session.scalars(select(AuditEntry.action).where(AuditEntry.target == f"repair:{application.id}"))
        )
        assert {"repair.submit", "repair.approve", "repair.revert"} <= actions

    def test_ineligible_before_minimum_period_explains_why(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, severity="严重", CF_JDRQ="2026-06-15")])
        with pytest.raises(ValidationFailed) as caught:
            submit(platform, session, subject_principal(session, code), record_of(session, code))
        assert caught.value.code == rules.NOT_ELIGIBLE
        unmet = {c["code"] for c in caught.value.details["conditions"] if not c["met"]}
        assert unmet == {"min_period"}
        assert "2027年6月16日" in caught.value.message

    def test_other_department_cannot_decide_and_illegal_step_is_refused(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        department(session)
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, CF_JDRQ="2026-06-15")])
        application = submit(platform, session, subject_principal(session, code), record_of(session, code))
        with pytest.raises(Forbidden):
            step(platform, session, OTHER_REVIEWER, application, "accept")
        with pytest.raises(Conflict) as caught:
            step(platform, session, REVIEWER, application, "approve", decision_no="x")
        assert caught.value.code == rules.ILLEGAL_TRANSITION
        assert application.status == rules.SUBMITTED

    def test_second_application_for_same_record_is_refused(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, CF_JDRQ="2026-06-15")])
        principal = subject_principal(session, code)
        submit(platform, session, principal, record_of(session, code))
        with pytest.raises(ValidationFailed) as caught:
            submit(platform, session, principal, record_of(session, code))
        assert {c["code"] for c in caught.value.details["conditions"] if not c["met"]} == {"no_pending"}


def government_view(client: TestClient, session: Session, code: str, department_code: str) -> list[int]:
    headers = bearer(session, department_code, ("subjects:read",))
    response = client.get(f"/api/v1/subjects/{code}", params={"purpose": "行政许可审查"}, headers=headers)
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["records"]]


class TestArchiveAndSharing:
    def test_repaired_record_stops_being_shared_but_stays_with_its_provider(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        department(session)
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, severity="严重", CF_JDRQ="2025-06-10")])
        record = record_of(session, code)
        assert record.id in government_view(client, session, code, "SCSW")
        application = submit(platform, session, subject_principal(session, code), record)
        for event in ("accept", "review"):
            step(platform, session, REVIEWER, application, event)
        step(platform, session, REVIEWER, application, "approve", decision_no="川市监修〔2026〕9号")
        session.commit()
        assert record.id not in government_view(client, session, code, "SCSW")  # 停止共享
        assert record.id in government_view(client, session, code, "SCMR")  # the archive of its provider
        assert application.decision_no == "川市监修〔2026〕9号" and application.decided_on == TODAY


class TestListEntryRepair:
    def test_repaired_list_entry_is_removed_and_stops_triggering(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        from xinyong.lists import service as lists

        department(session)
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, severity="一般", CF_JDRQ="2026-06-15")])
        subject = subjects.get_by_uscc(session, code)
        entry = lists.propose(
            session,
            platform.context(REVIEWER, dt.date(2025, 9, 1)),
            subject_id=subject.id,
            list_type="serious_dishonesty",
            legal_basis="《严重失信主体名单管理办法》第七条",
            facts="拒不履行法定义务",
        )
        lists.advance(session, platform.context(REVIEWER, dt.date(2025, 9, 2)), entry, "notify")
        lists.advance(
            session,
            platform.context(REVIEWER, dt.date(2025, 10, 9)),
            entry,
            "decide",
            decision_no="川市监认〔2025〕3号",
        )
        session.commit()
        application = submit(
            platform,
            session,
            subject_principal(session, code),
            record_of(session, code),
            target_kind="list_entry",
            target_id=entry.id,
        )
        assert application.department_code == "SCMR" and application.target_kind == "list_entry"
        for event in ("accept", "review"):
            step(platform, session, REVIEWER, application, event)
        step(platform, session, REVIEWER, application, "approve", decision_no="川市监修〔2026〕10号")
        session.commit()
        assert (entry.status, entry.removal_reason, entry.removed_on) == ("removed", "repaired", TODAY)
        headers = bearer(session, "SCCZ", ("checks:run",))
        body = {"subject": {"uscc": code}, "scenario": "government_procurement", "purpose": "采购资格审查"}
        hits = client.post("/api/v1/checks", json=body, headers=headers).json()["hits"]
        assert not [h for h in hits if h["trigger"]["type"] == "list_entry"]

        # A wrong repair (错修) found on re-check: the entry is reinstated through the lists state machine,
        # audited and kept in its history like every other step, and listed again.
        step(platform, session, OFFICE, application, "revert", note="履行证明系伪造")
        session.commit()
        assert (entry.status, entry.removal_reason, entry.removed_on) == ("listed", None, None)
        steps = [(s.event, s.from_state, s.to_state) for s in lists.history(session, entry.id)]
        assert steps[-2:] == [("remove", "listed", "removed"), ("reinstate", "removed", "listed")]
        assert "错修纠正" in (lists.history(session, entry.id)[-1].note or "")
        actions = set(
            session.scalars(select(AuditEntry.action).where(AuditEntry.target == f"list_entry:{entry.id}"))
        )
        assert {"list.decide", "list.remove", "list.reinstate"} <= actions
        kinds = [e.kind for e in events.events_of(session, "list_entry", entry.id)]
        assert kinds == [events.LIST_ENTRY_DECIDED, events.LIST_ENTRY_REMOVED, events.LIST_ENTRY_REINSTATED]
        hits = client.post("/api/v1/checks", json=body, headers=headers).json()["hits"]
        assert [h for h in hits if h["trigger"]["type"] == "list_entry"]  # it triggers measures again

    def test_list_entry_before_twelve_months_is_not_yet_repairable(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        from xinyong.lists import service as lists

        department(session)
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, severity="一般", CF_JDRQ="2026-06-15")])
        subject = subjects.get_by_uscc(session, code)
        entry = lists.propose(
            session,
            platform.context(REVIEWER, dt.date(2026, 5, 1)),
            subject_id=subject.id,
            list_type="serious_dishonesty",
            legal_basis="《严重失信主体名单管理办法》第七条",
            facts="拒不履行法定义务",
        )
        lists.advance(session, platform.context(REVIEWER, dt.date(2026, 5, 6)), entry, "notify")
        lists.advance(
            session, platform.context(REVIEWER, dt.date(2026, 6, 1)), entry, "decide", decision_no="x号"
        )
        with pytest.raises(ValidationFailed) as caught:
            submit(
                platform,
                session,
                subject_principal(session, code),
                record_of(session, code),
                target_kind="list_entry",
                target_id=entry.id,
            )
        assert "2027年6月2日" in caught.value.message


class TestObjectionFlagInApi:
    def test_open_objection_is_flagged_in_the_public_api(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        from xinyong.objections import service as objections

        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, severity="严重", CF_JDRQ="2025-06-10")])
        record = record_of(session, code)
        objections.file(
            session,
            platform.context(subject_principal(session, code), TODAY),
            answer_workdays=platform.repair_policy.objection_workdays,
            record_id=record.id,
            reasons="处罚决定书文号录入错误，应为另一文号。",
            filer_name="成都测试科技有限公司",
            filer_contact=None,
            evidence=[],
        )
        session.commit()
        [read] = client.get(f"/api/v1/subjects/{code}").json()["records"]
        assert read["id"] == record.id and read["under_objection"] is True


class TestOneOpenApplication:
    def test_the_index_condition_names_exactly_the_open_states(self) -> None:
        from xinyong.repair.models import OPEN_STATES_SQL

        assert set(re.findall(r"'([a-z_]+)'", OPEN_STATES_SQL)) == set(rules.OPEN_STATES)

    def test_the_store_refuses_a_second_open_application_for_a_record(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        from sqlalchemy.exc import IntegrityError

        from xinyong.repair.models import RepairApplication

        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, CF_JDRQ="2026-06-15")])
        first = submit(platform, session, subject_principal(session, code), record_of(session, code))
        session.commit()
        twin = RepairApplication(
            **{
                c.key: getattr(first, c.key)
                for c in RepairApplication.__table__.columns
                if c.key not in ("id", "commitment_id")
            }
        )

        def insert_twin() -> None:
            with session.begin_nested():
                session.add(twin)
                session.flush()

        with pytest.raises(IntegrityError):
            insert_twin()
        step(platform, session, subject_principal(session, code), first, "withdraw")
        again = submit(platform, session, subject_principal(session, code), record_of(session, code))
        assert again.status == rules.SUBMITTED  # a closed application does not block a new one
