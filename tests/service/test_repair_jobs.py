"""The repair workflow's batch work and its helpers on both stores: overdue alerts, the monthly re-check draw,
re-check confirmation and correction (漏修), signed commitments, evidence files and idempotent notices."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.helpers import PDF_BYTES, apply_for_repair, department, ingest_rows, penalty
from xinyong.accounts.policy import Principal
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.events import service as events
from xinyong.events.models import WorkflowEvent
from xinyong.files import service as files
from xinyong.files.service import Upload
from xinyong.jobs import run_daily
from xinyong.kit.errors import Conflict, Forbidden, PayloadTooLarge, ValidationFailed
from xinyong.notices import service as notices
from xinyong.notices.models import Notice
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.records.service import IngestContext
from xinyong.repair import notices as repair_notices
from xinyong.repair import rules
from xinyong.repair import service as repair
from xinyong.repair.models import RepairApplication
from xinyong.repair.policy import PolicyStore
from xinyong.subjects.models import Subject

D = dt.date
TODAY = D(2026, 11, 28)
REVIEWER = Principal(kind="user", name="审核员", role="reviewer", department_code="SCMR")
OFFICE = Principal(kind="user", name="信用办", role="credit_office", department_code="SCFGW")
PDF = Upload("罚款缴纳凭证.pdf", PDF_BYTES)


def published_penalties(session: Session, ctx: IngestContext, count: int) -> list[Record]:
    """Penalties decided 2026-06-15 (一般, 36号令): repairable from 2026-09-16, public until 2027-06-15."""
    rows = [penalty(CF_JDRQ="2026-06-15", severity="一般") for _ in range(count)]
    receipt = ingest_rows(session, ctx, rows)
    assert receipt.accepted == count
    return [session.scalars(select(Record).where(Record.doc_no == r["CF_WSH"])).one() for r in rows]


def applicant(record: Record) -> Principal:
    return Principal(kind="user", name="企业经办人", role="subject", subject_id=record.subject_id)


def apply(platform: Platform, session: Session, record: Record, day: dt.date) -> RepairApplication:
    return apply_for_repair(platform, session, applicant(record), record.id, day)  # type: ignore[no-any-return]


def step(
    platform: Platform,
    session: Session,
    application: RepairApplication,
    event: str,
    day: dt.date,
    principal: Principal = REVIEWER,
    **kw: Any,
) -> RepairApplication:
    return repair.advance(
        session,
        platform.context(principal, day),
        application,
        event,
        repair_policy=platform.repair_policy,
        **kw,
    )


def decided(
    platform: Platform, session: Session, record: Record, submitted: dt.date, rejected: dt.date
) -> RepairApplication:
    """An application not accepted: the quickest decided case."""
    application = apply(platform, session, record, submitted)
    return step(platform, session, application, "reject", rejected, note="处罚决定尚在复议期间")


def refused(platform: Platform, session: Session, record: Record) -> RepairApplication:
    application = apply(platform, session, record, D(2026, 10, 12))
    step(platform, session, application, "accept", D(2026, 10, 13))
    step(platform, session, application, "review", D(2026, 10, 13))
    return step(platform, session, application, "refuse", D(2026, 10, 16), note="罚款尚未缴清")


def overdue_notices(session: Session) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.kind == "repair_overdue").order_by(Notice.id)))


class TestOverdueAlerts:
    def test_one_notice_per_overdue_application_and_none_on_a_rerun(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        late_acceptance, late_decision, fresh, awaiting_material, rejected = published_penalties(
            session, ctx, 5
        )
        a = apply(platform, session, late_acceptance, D(2026, 10, 12))
        assert a.due_on == D(2026, 10, 15)
        b = apply(platform, session, late_decision, D(2026, 10, 12))
        step(platform, session, b, "accept", D(2026, 10, 13))
        assert b.due_on == D(2026, 10, 22)
        c = apply(platform, session, fresh, D(2026, 11, 27))
        assert c.due_on == D(2026, 12, 2)
        d = apply(platform, session, awaiting_material, D(2026, 10, 12))
        step(platform, session, d, "accept", D(2026, 10, 13))
        step(platform, session, d, "review", D(2026, 10, 13))
        step(platform, session, d, "request_material", D(2026, 10, 14), note="请补充整改报告")
        decided(platform, session, rejected, D(2026, 10, 12), D(2026, 10, 13))

        assert repair.alert_overdue(session, TODAY) == 2
        sent = overdue_notices(session)
        assert {n.ref for n in sent} == {
            f"repair:{a.id}:overdue:2026-10-15",
            f"repair:{b.id}:overdue:2026-10-22",
        }
        assert all(n.department_code == "SCMR" and n.subject_id is None for n in sent)
        assert {n.link for n in sent} == {f"/console/repairs/{a.id}", f"/console/repairs/{b.id}"}
        assert repair.alert_overdue(session, TODAY) == 0
        assert repair.alert_overdue(session, TODAY + dt.timedelta(days=1)) == 0
        assert len(overdue_notices(session)) == 2

    def test_the_due_day_is_in_time_and_a_new_deadline_missed_is_alerted_again(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        (record,) = published_penalties(session, ctx, 1)
        application = apply(platform, session, record, D(2026, 10, 12))
        assert repair.alert_overdue(session, D(2026, 10, 15)) == 0
        assert repair.alert_overdue(session, D(2026, 10, 16)) == 1
        step(platform, session, application, "accept", D(2026, 10, 19))
        assert application.due_on == D(2026, 10, 28)
        assert repair.alert_overdue(session, D(2026, 10, 28)) == 0
        assert repair.alert_overdue(session, D(2026, 10, 29)) == 1
        assert [n.ref.rsplit(":", 1)[1] for n in overdue_notices(session)] == ["2026-10-15", "2026-10-28"]

    def test_the_daily_run_alerts_once(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        (record,) = published_penalties(session, ctx, 1)
        apply(platform, session, record, D(2026, 10, 12))
        session.commit()

        def alerted(results: dict[str, int]) -> int:
            assert all(count >= 0 for count in results.values()), results
            return next(count for label, count in results.items() if "overdue applications" in label)

        assert alerted(run_daily(platform, TODAY)) == 1
        assert alerted(run_daily(platform, TODAY)) == 0


class TestRecheckDraw:
    def test_a_tenth_of_last_months_decided_cases_is_drawn_once(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        penalties = published_penalties(session, ctx, 19)
        october = [decided(platform, session, r, D(2026, 10, 12), D(2026, 10, 13)) for r in penalties[:16]]
        september = [decided(platform, session, r, D(2026, 9, 21), D(2026, 9, 22)) for r in penalties[16:18]]
        still_open = apply(platform, session, penalties[18], D(2026, 10, 20))

        drawn = repair.draw_recheck(session, platform.repair_policy, platform.calendar, D(2026, 11, 1))
        assert drawn == 2  # 10% of 16, rounded up
        sampled = session.scalars(
            select(RepairApplication).where(RepairApplication.recheck_status == "sampled")
        ).all()
        assert {a.id for a in sampled} <= {a.id for a in october}
        assert len(sampled) == 2
        # 1 November 2026 is a Sunday: ten working days are 2-6 and 9-13 November
        assert {(a.recheck_period, a.recheck_due) for a in sampled} == {("2026-10", D(2026, 11, 13))}
        assert all(a.recheck_status is None for a in september) and still_open.recheck_status is None

        assert repair.draw_recheck(session, platform.repair_policy, platform.calendar, D(2026, 11, 1)) == 0
        assert repair.draw_recheck(session, platform.repair_policy, platform.calendar, TODAY) == 0
        assert (
            session.scalar(
                select(func.count(RepairApplication.id)).where(RepairApplication.recheck_status == "sampled")
            )
            == 2
        )

    def test_a_small_month_still_has_one_case_drawn_and_the_draw_is_reproducible(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        for record in published_penalties(session, ctx, 3):
            decided(platform, session, record, D(2026, 10, 12), D(2026, 10, 14))

        def draw() -> set[int]:
            assert repair.draw_recheck(session, platform.repair_policy, platform.calendar, TODAY) == 1
            return set(
                session.scalars(
                    select(RepairApplication.id).where(RepairApplication.recheck_period == "2026-10")
                )
            )

        savepoint = session.begin_nested()
        first = draw()
        savepoint.rollback()
        recheck = select(func.count(RepairApplication.id)).where(
            RepairApplication.recheck_status.is_not(None)
        )
        assert session.scalar(recheck) == 0
        assert draw() == first

    def test_a_month_without_decisions_draws_nothing(self, platform: Platform, session: Session) -> None:
        assert repair.draw_recheck(session, platform.repair_policy, platform.calendar, TODAY) == 0


class TestRecheckOutcome:
    def test_the_credit_office_confirms_a_sampled_case_once(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        (record,) = published_penalties(session, ctx, 1)
        application = decided(platform, session, record, D(2026, 10, 12), D(2026, 10, 13))
        with pytest.raises(Conflict) as not_sampled:
            repair.confirm_recheck(session, OFFICE, application, note="复核无误", today=TODAY)
        assert not_sampled.value.code == "repair.not_sampled"
        assert repair.draw_recheck(session, platform.repair_policy, platform.calendar, TODAY) == 1
        with pytest.raises(Forbidden) as department_only:
            repair.confirm_recheck(session, REVIEWER, application, note="复核无误", today=TODAY)
        assert department_only.value.code == "repair.recheck_only"

        repair.confirm_recheck(session, OFFICE, application, note="  ", today=TODAY)
        assert (application.recheck_status, application.recheck_note) == ("confirmed", "复核无误")
        last = repair.events_of(session, application.id)[-1]
        assert (last.event, last.from_state, last.to_state, last.on) == (
            "recheck",
            rules.NOT_ACCEPTED,
            rules.NOT_ACCEPTED,
            TODAY,
        )
        with pytest.raises(Conflict):
            repair.confirm_recheck(session, OFFICE, application, note="再次复核", today=TODAY)

    @pytest.mark.parametrize("how", ["refused", "not_accepted"])
    def test_completing_a_missed_repair_repairs_the_record(
        self, platform: Platform, session: Session, ctx: IngestContext, how: str
    ) -> None:
        (record,) = published_penalties(session, ctx, 1)
        if how == "refused":
            application = refused(platform, session, record)
        else:
            application = decided(platform, session, record, D(2026, 10, 12), D(2026, 10, 13))
        assert record.status == "active"
        with pytest.raises(Forbidden):
            step(platform, session, application, "complete", TODAY, note="漏修")
        with pytest.raises(Conflict) as no_note:
            step(platform, session, application, "complete", TODAY, principal=OFFICE)
        assert no_note.value.code == rules.NOTE_MISSING

        step(platform, session, application, "complete", TODAY, principal=OFFICE, note="已缴清罚款，属漏修")
        assert (application.status, application.recheck_status, application.decided_on) == (
            rules.REPAIRED,
            "corrected",
            TODAY,
        )
        assert record.status == "repaired"
        assert (
            session.scalar(
                select(func.count(WorkflowEvent.id)).where(
                    WorkflowEvent.workflow == "repair",
                    WorkflowEvent.case_id == application.id,
                    WorkflowEvent.event == "complete",
                )
            )
            == 1
        )

    def test_completion_needs_the_record_still_in_force(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        (record,) = published_penalties(session, ctx, 1)
        application = refused(platform, session, record)
        with pytest.raises(Conflict) as caught:  # public until 2027-06-15
            step(platform, session, application, "complete", D(2027, 6, 16), principal=OFFICE, note="漏修")
        assert caught.value.code == rules.NOT_ELIGIBLE
        assert application.status == rules.REFUSED and record.status == "active"


class TestCommitments:
    def sign(self, platform: Platform, session: Session, record: Record, **kw: Any) -> Commitment:
        subject = session.get(Subject, record.subject_id)
        assert subject is not None
        args: dict[str, Any] = {
            "template_code": "credit_repair",
            "subject": subject,
            "target": "行政处罚 川市监罚〔2026〕1号",
            "signer_name": "张三",
            "today": D(2026, 10, 12),
        }
        args.update(kw)
        return commitments.sign(session, platform.context(applicant(record), args.pop("today")), **args)

    def test_a_signed_commitment_verifies_and_a_tampered_one_does_not(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        (record,) = published_penalties(session, ctx, 1)
        commitment = self.sign(platform, session, record)
        key = platform.signer.public_key_b64
        assert commitment.status == "signed" and commitment.public
        assert "张三" in commitment.text and "2026年10月12日" in commitment.text
        assert commitments.verify(commitment, key)

        original = commitment.text
        commitment.text = original.replace("不再发生同类失信行为", "")
        assert not commitments.verify(commitment, key)
        commitment.text = original
        commitment.signed_on = D(2026, 10, 13)  # the text is intact, the attestation no longer matches
        assert not commitments.verify(commitment, key)
        commitment.signed_on = D(2026, 10, 12)
        assert commitments.verify(commitment, key)

    def test_only_a_department_records_a_paper_commitment_and_nobody_signs_for_another_subject(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        first, second = published_penalties(session, ctx, 2)
        with pytest.raises(Forbidden):  # a subject account cannot record "paper" commitments
            self.sign(platform, session, first, channel="paper")
        other = session.get(Subject, second.subject_id)
        assert other is not None
        with pytest.raises(ValidationFailed):  # nor sign online for another subject
            commitments.sign(
                session,
                platform.context(applicant(first), D(2026, 10, 12)),
                template_code="credit_repair",
                subject=other,
                target="行政处罚",
                signer_name="张三",
            )
        paper = commitments.sign(
            session,
            platform.context(REVIEWER, D(2026, 10, 12)),
            template_code="credit_repair",
            subject=other,
            target="行政处罚",
            signer_name="王五",
            channel="paper",
            department_code="SCMR",
        )
        assert (paper.channel, paper.department_code, paper.user_id) == ("paper", "SCMR", None)

    def test_fulfilment_is_recorded_once_with_a_note(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        (record,) = published_penalties(session, ctx, 1)
        commitment = self.sign(platform, session, record)
        with pytest.raises(ValidationFailed) as no_note:
            commitments.record_fulfilment(
                session, REVIEWER, commitment, fulfilled=True, note=" ", today=TODAY
            )
        assert no_note.value.code == "commitment.note_required"
        commitments.record_fulfilment(
            session, REVIEWER, commitment, fulfilled=False, note="提供虚假缴款凭证", today=TODAY
        )
        assert (commitment.status, commitment.fulfilment_on) == ("breached", TODAY)
        (breach,) = events.events_of(session, "commitment", commitment.id)  # others react to a broken promise
        assert (breach.kind, breach.subject_id) == (events.COMMITMENT_BREACHED, record.subject_id)
        with pytest.raises(Conflict) as again:
            commitments.record_fulfilment(
                session, REVIEWER, commitment, fulfilled=True, note="已履约", today=TODAY
            )
        assert again.value.code == "commitment.already_assessed"

    def test_only_the_subject_signs_online_and_the_signer_is_named(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        mine, other = published_penalties(session, ctx, 2)
        subject = session.get(Subject, other.subject_id)
        assert subject is not None
        with pytest.raises(ValidationFailed) as not_own:
            self.sign(platform, session, mine, subject=subject)
        assert not_own.value.code == "commitment.not_own_subject"
        with pytest.raises(ValidationFailed) as unnamed:
            self.sign(platform, session, mine, signer_name="张")
        assert unnamed.value.code == "commitment.signer_required"
        paper = commitments.sign(
            session,
            platform.context(REVIEWER, TODAY),
            template_code="credit_repair",
            subject=subject,
            target="行政处罚",
            signer_name="李四",
            channel="paper",
        )
        assert paper.channel == "paper" and commitments.verify(paper, platform.signer.public_key_b64)


class TestEvidenceFiles:
    def store(
        self, platform: Platform, session: Session, name: str, content: bytes, owner: str = "repair:1"
    ) -> Any:
        return files.store(
            session, platform.settings.data_dir, REVIEWER, owner=owner, filename=name, content=content
        )

    @pytest.mark.parametrize(
        ("name", "content", "content_type"),
        [
            ("凭证.pdf", PDF.content, "application/pdf"),
            ("照片.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 16, "image/jpeg"),
            ("照片.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, "image/png"),
            ("决定书.ofd", b"PK\x03\x04" + b"\x00" * 16, "application/ofd"),
        ],
    )
    def test_allowed_types_are_stored_by_content(
        self, platform: Platform, session: Session, name: str, content: bytes, content_type: str
    ) -> None:
        attachment = self.store(platform, session, name, content)
        assert (attachment.content_type, attachment.size, attachment.filename) == (
            content_type,
            len(content),
            name,
        )
        assert files.read(platform.settings.data_dir, attachment) == content

    @pytest.mark.parametrize(
        ("name", "content"),
        [
            ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00"),
            ("凭证.pdf", b"<html><script>alert(1)</script></html>"),
            ("凭证.pdf", b"PK\x03\x04 a zip that is not an .ofd"),
            ("凭证.pdf", b"%PDF"),  # not even the signature
            ("说明.txt", "纯文本说明".encode()),
        ],
    )
    def test_other_types_are_refused_whatever_their_name(
        self, platform: Platform, session: Session, name: str, content: bytes
    ) -> None:
        with pytest.raises(ValidationFailed) as caught:
            self.store(platform, session, name, content)
        assert caught.value.code == "file.type_not_allowed"

    def test_an_empty_file_is_refused(self, platform: Platform, session: Session) -> None:
        with pytest.raises(ValidationFailed) as caught:
            self.store(platform, session, "空.pdf", b"")
        assert caught.value.code == "file.empty"

    def test_an_oversized_file_is_refused(self, platform: Platform, session: Session) -> None:
        with pytest.raises(PayloadTooLarge) as caught:
            self.store(platform, session, "大.pdf", b"%PDF-" + b"0" * files.MAX_FILE_BYTES)
        assert caught.value.code == "file.too_large"

    def test_at_most_ten_files_per_case_and_the_same_content_is_kept_once(
        self, platform: Platform, session: Session
    ) -> None:
        for n in range(files.MAX_FILES):
            self.store(platform, session, f"第{n + 1}页.pdf", PDF.content)
        with pytest.raises(ValidationFailed) as caught:
            self.store(platform, session, "第11页.pdf", PDF.content)
        assert caught.value.code == "file.too_many"
        assert self.store(platform, session, "另一件.pdf", PDF.content, owner="repair:2").sha256
        stored = list((Path(platform.settings.data_dir) / "uploads" / "evidence").rglob("*"))
        assert len([p for p in stored if p.is_file()]) == 1

    def test_an_application_with_a_refused_file_is_refused(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        (record,) = published_penalties(session, ctx, 1)
        with pytest.raises(ValidationFailed) as caught:
            apply_for_repair(
                platform,
                session,
                applicant(record),
                record.id,
                D(2026, 10, 12),
                statement="已缴清罚款。",
                evidence=[Upload("凭证.pdf", b"<html></html>")],
            )
        assert caught.value.code == "file.type_not_allowed"


class TestNotices:
    def test_a_notice_is_sent_once_per_kind_and_ref(self, session: Session) -> None:
        department(session)
        first = notices.send(
            session,
            kind="repair_overdue",
            ref="repair:9:overdue:2026-10-15",
            title="逾期",
            department_code="SCMR",
        )
        again = notices.send(
            session,
            kind="repair_overdue",
            ref="repair:9:overdue:2026-10-15",
            title="再次",
            department_code="SCMR",
        )
        other = notices.send(
            session,
            kind="repair_overdue",
            ref="repair:9:overdue:2026-10-28",
            title="逾期",
            department_code="SCMR",
        )
        assert again.id == first.id and again.title == "逾期"
        assert other.id != first.id
        assert notices.exists(session, "repair_overdue", "repair:9:overdue:2026-10-15")
        assert not notices.exists(session, "repair_update", "repair:9:overdue:2026-10-15")

    def test_repair_notices_are_issued_once(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        (record,) = published_penalties(session, ctx, 1)
        platform.events.run_in(session)  # the reaction to the published record (两书同达)
        platform.events.run_in(session, catch_up=True)  # looking again at the same events sends nothing
        issued = session.scalars(
            select(Notice).where(Notice.record_id == record.id, Notice.kind == repair_notices.REPAIR_NOTICE)
        ).all()
        assert [(n.subject_id, n.ref) for n in issued] == [(record.subject_id, f"record:{record.id}")]

    def test_issuing_repair_notices_reports_how_many_were_issued(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        assert len(published_penalties(session, ctx, 1)) == 1
        assert platform.events.run_in(session)[repair_notices.CONSUMER] == 1
        assert platform.events.run_in(session)[repair_notices.CONSUMER] == 0
        assert platform.events.run_in(session, catch_up=True)[repair_notices.CONSUMER] == 0


def test_the_platform_parses_the_repair_policy_once_per_version_of_its_file(tmp_path: Path) -> None:
    store = PolicyStore()
    shipped = store.get(tmp_path)
    assert store.get(tmp_path) is shipped and store.get(None) is shipped  # parsed once
    text = resources.files("xinyong.repair").joinpath("data/repair.yaml").read_text(encoding="utf-8")
    override = tmp_path / "repair.yaml"
    override.write_text(text.replace("source:", "source: 信用办修订版 #", 1), encoding="utf-8")
    corrected = store.get(tmp_path)
    assert corrected is not shipped and corrected.source.startswith("信用办修订版")
    assert store.get(tmp_path) is corrected
    override.write_text(text, encoding="utf-8")  # changed again: read again
    assert store.get(tmp_path) is not corrected and store.get(tmp_path).source == shipped.source
