"""Objections (异议) end to end on both stores: filing by the subject and by the public, the department's answers
(a field-level correction makes a new version, a revocation takes the record off the portal, maintaining needs
reasons), illegal steps, escalation of overdue objections and the 异议处理中 marking on the portal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import PASSWORD, bearer, department, penalty, uscc
from xinyong.accounts import auth
from xinyong.accounts.policy import ANONYMOUS, SYSTEM, Principal
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.notices.models import Notice
from xinyong.objections import rules
from xinyong.objections import service as objections
from xinyong.objections.models import Objection
from xinyong.platform import Platform
from xinyong.records.models import Batch, Record, RecordVersion
from xinyong.subjects import service as subjects

REVIEWER = Principal(kind="user", name="审核员", role="reviewer", department_code="SCMR")
OTHER_REVIEWER = Principal(kind="user", name="他部门审核员", role="reviewer", department_code="SCSW")
PDF = Upload("处罚决定书复印件.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
REASONS = "处罚决定书载明的罚款金额为三万元，公示为五万元，与原决定书不符。"


def ingest(client: TestClient, session: Session, rows: list[dict[str, Any]]) -> None:
    body = client.post(
        "/api/v1/records", json={"item": "CF", "records": rows}, headers=bearer(session)
    ).json()
    assert body["rejected"] == 0, body


def record_of(session: Session, code: str) -> Record:
    subject = subjects.get_by_uscc(session, code)
    return session.scalars(select(Record).where(Record.subject_id == subject.id)).one()


def subject_account(session: Session, code: str) -> Principal:
    """A real subject account (objections remember who filed them by user id)."""
    subject = subjects.get_by_uscc(session, code)
    user = auth.create_user(
        session, username=f"ent-{code}", password=PASSWORD, role="subject", subject_id=subject.id
    )
    return auth.principal_for_user(user)


def file(platform: Platform, session: Session, principal: Principal, record: Record, **kw: Any) -> Objection:
    args: dict[str, Any] = {
        "answer_workdays": platform.repair_policy.objection_workdays,
        "record_id": record.id,
        "reasons": REASONS,
        "filer_name": "王五",
        "filer_contact": "13800000000",
        "evidence": [PDF],
        "today": TODAY,
    }
    args.update(kw)
    return objections.file(session, platform.context(principal, args.pop("today")), **args)


def answer(
    platform: Platform, session: Session, principal: Principal, objection: Objection, event: str, **kw: Any
) -> Objection:
    return objections.answer(
        session,
        platform.context(principal, kw.pop("today", TODAY)),
        objection,
        event,
        rule_sets=platform.rule_sets,
        reason=kw.pop("reason", "经核查原处罚决定书，情况属实。"),
        **kw,
    )


def portal(client: TestClient, code: str) -> str:
    response = client.get(f"/subjects/{code}")
    assert response.status_code == 200
    page: str = response.text
    return page


class TestFileObjection:
    def test_subject_objects_to_its_own_unpublished_record_without_a_contact(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, severity="轻微")])  # 轻微: not published
        record = record_of(session, code)
        assert record.public_from is None
        objection = file(platform, session, subject_account(session, code), record, filer_contact=None)
        assert objection.filer_kind == "subject" and objection.status == rules.OPEN
        assert objection.department_code == "SCMR" and objection.record_version == record.version
        assert objection.due_on == platform.calendar.add_workdays(TODAY, 7).due
        assert objection.due_provisional is False
        stored = files.attachments_of(session, f"objection:{objection.id}")
        assert [(a.filename, a.content_type) for a in stored] == [("处罚决定书复印件.pdf", "application/pdf")]
        notice = session.scalars(select(Notice).where(Notice.ref == f"objection:{objection.id}")).one()
        assert notice.department_code == "SCMR" and notice.link == f"/console/objections/{objection.id}"

    def test_anyone_objects_to_a_public_record_but_must_leave_a_contact(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        record = record_of(session, code)
        with pytest.raises(ValidationFailed) as caught:
            file(platform, session, ANONYMOUS, record, filer_contact="  ")
        assert caught.value.code == "objection.contact_required"
        objection = file(platform, session, ANONYMOUS, record)
        assert objection.filer_kind == "public" and objection.filed_by is None
        assert objection.filer_contact == "13800000000"

    def test_the_public_cannot_object_to_a_record_that_is_not_public(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, severity="轻微")])
        with pytest.raises(NotFound) as caught:
            file(platform, session, ANONYMOUS, record_of(session, code))
        assert caught.value.status_code == 404 and caught.value.code == "objection.record_not_found"

    def test_a_second_open_objection_by_the_same_filer_is_refused(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        record = record_of(session, code)
        owner = subject_account(session, code)
        file(platform, session, owner, record)
        file(platform, session, ANONYMOUS, record, filer_contact="wang@example.cn")  # someone else may
        for filer, contact in ((owner, "13800000000"), (ANONYMOUS, "wang@example.cn")):
            with pytest.raises(Conflict) as caught:
                file(platform, session, filer, record, filer_contact=contact)
            assert caught.value.code == "objection.duplicate"

    @pytest.mark.parametrize(
        ("changes", "code"),
        [
            ({"reasons": "不对"}, "objection.reasons_required"),
            ({"reasons": "理" * 4001}, "objection.reasons_too_long"),
            ({"filer_name": " "}, "objection.filer_required"),
            ({"evidence": [Upload("说明.exe", b"MZ\x90\x00")]}, "file.type_not_allowed"),
            ({"evidence": [Upload("伪装.pdf", b"<html><script>alert(1)</script>")]}, "file.type_not_allowed"),
        ],
    )
    def test_bad_input_is_refused_with_its_code(
        self,
        platform: Platform,
        client: TestClient,
        session: Session,
        changes: dict[str, Any],
        code: str,
    ) -> None:
        subject_code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=subject_code)])
        with pytest.raises(ValidationFailed) as caught:
            file(platform, session, ANONYMOUS, record_of(session, subject_code), **changes)
        assert caught.value.code == code

    def test_a_deadline_in_a_year_without_an_official_schedule_is_provisional(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        objection = file(platform, session, ANONYMOUS, record_of(session, code), today=dt.date(2026, 12, 28))
        assert objection.due_on.year == 2027 and objection.due_provisional is True


class TestAnswerObjection:
    def test_correction_makes_a_new_version_field_by_field_and_recomputes_the_window(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, CF_NR_FK="5", CF_JDRQ="2026-06-15")])
        record = record_of(session, code)
        old_fields, old_until = dict(record.fields), record.public_until
        objection = file(platform, session, ANONYMOUS, record)
        answer(
            platform,
            session,
            REVIEWER,
            objection,
            "correct",
            corrections={"fine_wan": "3", "decision_date": "2026-05-10", "facts": old_fields["facts"]},
        )
        session.commit()
        assert objection.status == rules.CORRECTED and objection.answered_on == TODAY
        assert record.version == 2 and objection.new_version == 2
        assert record.fields["fine_wan"] == "3" and record.fields["decision_date"] == "2026-05-10"
        assert record.decision_date == dt.date(2026, 5, 10) and record.public_from == dt.date(2026, 5, 10)
        assert record.public_until != old_until
        kept = session.scalars(select(RecordVersion).where(RecordVersion.record_id == record.id)).one()
        assert kept.version == 1 and kept.fields == old_fields
        assert session.get(Batch, record.batch_id).source == "correction"  # type: ignore[union-attr]
        # Only the changed fields are listed, with their labels and values before and after.
        assert objection.changes == [
            {"field": "fine_wan", "label": "罚款金额", "before": "5", "after": "3"},
            {
                "field": "decision_date",
                "label": "处罚决定日期",
                "before": "2026-06-15",
                "after": "2026-05-10",
            },
        ]
        notice = session.scalars(select(Notice).where(Notice.kind == "objection_answer")).all()
        assert any(n.subject_id == record.subject_id and "已更正" in n.title for n in notice)

    @pytest.mark.parametrize("field", ["doc_no", "uscc", "subject_name"])
    def test_identity_and_natural_key_fields_cannot_be_corrected(
        self, platform: Platform, client: TestClient, session: Session, field: str
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        record = record_of(session, code)
        objection = file(platform, session, ANONYMOUS, record)
        with pytest.raises(ValidationFailed) as caught:
            answer(
                platform, session, REVIEWER, objection, "correct", corrections={field: "川市监罚〔2026〕1号"}
            )
        assert caught.value.code == "objection.field_not_correctable"
        assert objection.status == rules.OPEN and record.version == 1

    def test_a_correction_that_changes_nothing_is_refused(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code, CF_NR_FK="5")])
        objection = file(platform, session, ANONYMOUS, record_of(session, code))
        with pytest.raises(Conflict) as caught:
            answer(platform, session, REVIEWER, objection, "correct", corrections={"fine_wan": "5"})
        assert caught.value.code == "objection.no_changes"

    def test_revocation_revokes_the_record_and_takes_it_off_the_portal(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        row = penalty(CF_XDR_SHXYM=code)
        ingest(client, session, [row])
        record = record_of(session, code)
        assert row["CF_WSH"] in portal(client, code)
        objection = file(platform, session, ANONYMOUS, record)
        answer(platform, session, REVIEWER, objection, "revoke", reason="原处罚决定已被行政复议撤销。")
        session.commit()
        assert objection.status == rules.REVOKED and record.status == "revoked" and record.version == 2
        assert row["CF_WSH"] not in portal(client, code)
        assert row["CF_WSH"] not in client.get(f"/api/v1/subjects/{code}").text

    def test_maintaining_the_record_requires_reasons(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        record = record_of(session, code)
        objection = file(platform, session, ANONYMOUS, record)
        with pytest.raises(Conflict) as caught:
            answer(platform, session, REVIEWER, objection, "maintain", reason="  ")
        assert caught.value.code == "objection.reason_required"
        answer(platform, session, REVIEWER, objection, "maintain", reason="经核查，原记录与处罚决定书一致。")
        assert objection.status == rules.MAINTAINED and record.version == 1 and record.status == "active"
        assert objection.answer == "经核查，原记录与处罚决定书一致。"

    def test_answering_twice_is_an_illegal_transition(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        objection = file(platform, session, ANONYMOUS, record_of(session, code))
        answer(platform, session, REVIEWER, objection, "maintain")
        for event in ("maintain", "revoke"):
            with pytest.raises(Conflict) as caught:
                answer(platform, session, REVIEWER, objection, event)
            assert caught.value.status_code == 409 and caught.value.code == rules.ILLEGAL_TRANSITION
        assert objection.status == rules.MAINTAINED

    def test_only_the_provider_department_answers(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        objection = file(platform, session, ANONYMOUS, record_of(session, code))
        with pytest.raises(Forbidden):
            answer(platform, session, OTHER_REVIEWER, objection, "maintain")
        with pytest.raises(NotFound):
            objections.get_objection(session, OTHER_REVIEWER, objection.id)
        assert objection.status == rules.OPEN

    def test_the_filer_withdraws_and_no_one_else_can(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        record = record_of(session, code)
        owner = subject_account(session, code)
        objection = file(platform, session, ANONYMOUS, record)
        with pytest.raises(Forbidden):  # the subject did not file this one: the public did
            objections.withdraw(session, owner, objection, today=TODAY)
        own = file(platform, session, owner, record)
        objections.withdraw(session, owner, own, today=TODAY)
        assert own.status == rules.WITHDRAWN
        with pytest.raises(Conflict) as caught:
            answer(platform, session, REVIEWER, own, "maintain")
        assert caught.value.code == rules.ILLEGAL_TRANSITION


class TestEscalation:
    def test_an_overdue_objection_is_escalated_once_to_the_credit_office(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        department(session, "SCFGW", "四川省发展和改革委员会")
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code)])
        objection = file(platform, session, ANONYMOUS, record_of(session, code))
        answered = file(platform, session, ANONYMOUS, record_of(session, code), filer_contact="028-1234567")
        answer(platform, session, REVIEWER, answered, "maintain")
        due = objection.due_on

        def escalate(day: dt.date) -> int:
            return objections.escalate_overdue(session, day, credit_office="SCFGW", principal=SYSTEM)

        assert escalate(due) == 0  # the last day to answer is not yet overdue
        assert escalate(due + dt.timedelta(days=1)) == 1
        assert escalate(due + dt.timedelta(days=2)) == 0  # idempotent
        assert objection.escalated_on == due + dt.timedelta(days=1) and objection.status == rules.OPEN
        assert answered.escalated_on is None
        escalations = session.scalars(select(Notice).where(Notice.kind == "objection_escalated")).all()
        assert [(n.department_code, n.ref) for n in escalations] == [("SCFGW", f"objection:{objection.id}")]
        queue = objections.queue(session, REVIEWER, due + dt.timedelta(days=2), escalated_only=True)
        assert [o.id for o in queue] == [objection.id]
        events = [e.event for e in objections.events_of(session, objection.id)]
        assert events == ["file", "escalate"]


class TestPortalMarking:
    def test_the_portal_marks_a_record_while_its_objection_is_open(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code), penalty(CF_XDR_SHXYM=code)])
        subject = subjects.get_by_uscc(session, code)
        first, second = session.scalars(
            select(Record).where(Record.subject_id == subject.id).order_by(Record.id)
        ).all()
        assert "异议处理中" not in portal(client, code)
        objection = file(platform, session, ANONYMOUS, first)
        session.commit()
        assert objections.open_record_ids(session, [first.id, second.id]) == {first.id}
        page = portal(client, code)
        assert page.count("异议处理中") == 1 and f"/objections/new?record={second.id}" in page
        answer(platform, session, REVIEWER, objection, "maintain")
        session.commit()
        assert "异议处理中" not in portal(client, code)
        assert objections.open_record_ids(session, [first.id, second.id]) == set()


class TestStatistics:
    def test_objections_are_counted_by_department_and_outcome_with_working_days(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        ingest(client, session, [penalty(CF_XDR_SHXYM=code), penalty(CF_XDR_SHXYM=code)])
        subject = subjects.get_by_uscc(session, code)
        first, second = session.scalars(select(Record).where(Record.subject_id == subject.id)).all()
        filed_on = dt.date(2026, 11, 2)  # a Monday
        done = file(platform, session, ANONYMOUS, first, today=filed_on)
        file(platform, session, ANONYMOUS, second, today=filed_on)
        answer(platform, session, REVIEWER, done, "maintain", today=dt.date(2026, 11, 6))  # that Friday
        stats = objections.statistics(session, platform.calendar)
        row = next(d for d in stats["departments"] if d["department"] == "SCMR")
        assert (row["total"], row["maintained"], row["open"]) == (2, 1, 1)
        outcomes = {o["status"]: o for o in stats["outcomes"]}
        assert outcomes[rules.MAINTAINED]["label"] == "维持原记录"
        expected = platform.calendar.workdays_between(filed_on, dt.date(2026, 11, 6))
        assert row["avg_workdays"] == expected == 4
