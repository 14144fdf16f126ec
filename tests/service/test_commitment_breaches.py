"""A commitment's outcome has consequences: breach → WN record (through ingestion) → check hit → evaluation;
fulfilment → CN record 已履约; the reaction is idempotent; escalation only proposes; a person's breach stays
out of public view."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import bearer, department, ingest_rows, resident_id, uscc
from xinyong.accounts.policy import ANONYMOUS, Principal
from xinyong.audit.models import AuditEntry
from xinyong.commitments import breaches
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.evaluation import service as evaluation
from xinyong.evaluation.models import EvaluationResult
from xinyong.events import service as events
from xinyong.kit.dates import CHINA
from xinyong.kit.names import normalize_name
from xinyong.lists import jobs as list_jobs
from xinyong.lists import service as lists
from xinyong.notices.models import Notice
from xinyong.platform import Platform
from xinyong.records import lifecycle
from xinyong.records import repository as records_repository
from xinyong.records.models import Batch, Record
from xinyong.records.service import IngestContext
from xinyong.subjects import service as subjects
from xinyong.subjects.rules import SubjectClaim

SIGNED = dt.date(2026, 9, 1)
DECIDED = dt.date(2026, 11, 20)
MATTER = "食品经营许可申请中的经营场所合法使用证明"


def a_subject(session: Session, ctx: IngestContext, *, person: bool = False) -> int:
    name = "王五" if person else "成都守诺测试有限公司"
    claim = SubjectClaim(
        kind="natural_person" if person else "legal_person",
        name=name,
        name_norm=normalize_name(name),
        region_code="510104",
        uscc=None if person else uscc(),
        resident_id=resident_id() if person else None,
    )
    (resolution,) = subjects.resolve(session, [claim], ctx.cipher)
    assert resolution.subject_id is not None
    return resolution.subject_id


def decided(
    session: Session,
    subject_id: int,
    outcome: str,
    *,
    department_code: str | None = "SCMR",
    payload: str = "full",
    on: dt.date = DECIDED,
) -> Commitment:
    """A 告知承诺 commitment verified with `outcome`, and the event its verification writes (`payload`: the
    keys the verification writes, or the short one the older `record_fulfilment` wrote)."""
    if department_code:
        department(session, department_code)
    subject = subjects.get(session, subject_id)
    text = f"本主体{subject.name}就{MATTER}郑重承诺：所填写的信息和提交的材料真实、准确、完整。"
    commitment = Commitment(
        template_code="notify_commit",
        template_version="2026.1",
        kind="approval",
        matter=MATTER,
        subject_id=subject_id,
        subject_name=subject.name,
        signer_name="张三",
        channel="paper",
        department_code=department_code,
        title="证明事项告知承诺书",
        text=text,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(),
        signature="test",
        status=outcome,
        signed_on=SIGNED,
        fulfilment_on=on,
        fulfilment_note="经现场核查，申请人承诺的经营场所不存在，承诺不实。"
        if outcome == "breached"
        else "已核实",
    )
    session.add(commitment)
    session.flush()
    kind = events.COMMITMENT_BREACHED if outcome == "breached" else breaches.FULFILLED
    body: dict[str, Any] = (
        {
            "template": "notify_commit",
            "kind": "approval",
            "matter": MATTER,
            "department_code": department_code,
            "signed_on": SIGNED.isoformat(),
            "decided_on": on.isoformat(),
            "facts": commitment.fulfilment_note,
            "ref": None,
        }
        if payload == "full"
        else {"ref": None}
    )
    events.emit(session, kind, "commitment", commitment.id, subject_id=subject_id, payload=body)
    return commitment


def react(platform: Platform, session: Session, ctx: IngestContext, **options: Any) -> dict[str, int]:
    """Run the reactions as the platform registers them, on the test's day."""
    consumer = breaches.consumer(lambda: ctx)
    produced = {consumer.name: events.consume(session, consumer, **options)}
    # the other reactions (repair notices) after it, as the platform orders them
    for other in platform.events.consumers:
        if other.name != consumer.name:
            produced[other.name] = events.consume(session, other, **options)
    return produced


def records_of(session: Session, subject_id: int, item: str) -> list[Record]:
    return list(
        session.scalars(
            select(Record)
            .where(Record.subject_id == subject_id, Record.item_code == item)
            .order_by(Record.id)
        )
    )


class TestBreach:
    def test_a_breach_becomes_a_public_record_of_the_accepting_department_with_its_window(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        subject_id = a_subject(session, ctx)
        commitment = decided(session, subject_id, "breached")
        produced = react(platform, session, ctx)
        assert produced[breaches.CONSUMER] == 1
        (record,) = records_of(session, subject_id, "WN")
        assert record.provider_code == "SCMR" and record.status == "active"
        assert record.doc_no == breaches.commitment_number(commitment)
        assert record.decision_date == DECIDED and record.severity == "一般"
        assert (record.public_from, record.public_until) == (DECIDED, dt.date(2027, 11, 20))
        assert record.fields["facts"] == commitment.fulfilment_note
        assert record.fields["commitment_type"] == "审批替代型" and record.fields["matter"] == MATTER
        assert record.fields["accepting_body"] == "四川省市场监督管理局"
        visible = records_repository.visible_filter(ANONYMOUS, ctx.catalog, TODAY, set())
        assert session.scalar(select(Record.id).where(Record.id == record.id, visible)) == record.id
        # through ingestion: a batch from the department, audited, and the repair notice (两书同达)
        batch = session.get(Batch, record.batch_id)
        assert batch is not None and (batch.provider_code, batch.item_code) == ("SCMR", "WN")
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "records.ingest", AuditEntry.target == batch.id)
        ).all()
        assert len(audited) == 1
        assert produced["repair.notices"] == 1
        assert session.scalar(select(Notice.id).where(Notice.record_id == record.id)) is not None
        assert records_of(session, subject_id, "CN") == []  # none existed: a breach makes none

    def test_the_commitments_record_says_breached_when_one_exists(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        subject_id = a_subject(session, ctx)
        commitment = decided(session, subject_id, "breached", payload="short")
        code = subjects.get(session, subject_id).uscc
        row = {
            "commitment_no": breaches.commitment_number(commitment),
            "subject_name": "成都守诺测试有限公司",
            "uscc": code,
            "commitment_type": "审批替代型",
            "matter": MATTER,
            "content": commitment.text,
            "decision_date": SIGNED.isoformat(),
            "accepting_body": "四川省市场监督管理局",
        }
        ingest_rows(session, ctx, [row], item="CN")
        react(platform, session, ctx)
        (cn,) = records_of(session, subject_id, "CN")
        assert cn.fields["fulfilment"] == "违诺" and cn.version == 2
        assert cn.fields["fulfilment_checked_on"] == DECIDED.isoformat()
        (wn,) = records_of(session, subject_id, "WN")  # the short payload: read from the commitment row
        assert wn.fields["matter"] == MATTER and wn.fields["facts"] == commitment.fulfilment_note

    def test_the_check_for_an_approval_returns_the_measure_with_the_breach_as_trigger(
        self, platform: Platform, client: TestClient, session: Session, ctx: IngestContext
    ) -> None:
        subject_id = a_subject(session, ctx)
        decided(session, subject_id, "breached")
        react(platform, session, ctx)
        (record,) = records_of(session, subject_id, "WN")
        session.commit()
        body = {
            "subject": {"uscc": subjects.get(session, subject_id).uscc},
            "scenario": "administrative_approval",
            "purpose": "食品经营许可告知承诺审批",
        }
        # another department asks: WN is shared without condition
        headers = bearer(session, "SCZJ", ("checks:run",))
        response = client.post("/api/v1/checks", json=body, headers=headers)
        assert response.status_code == 200, response.text
        hits = {h["measure"]: h for h in response.json()["hits"]}
        hit = hits["P-WN-NO-NOTIFY-COMMIT"]
        assert hit["action"] == "restrict" and "国办发〔2020〕42号" in hit["legal_basis"]
        trigger = hit["trigger"]
        assert (trigger["type"], trigger["id"], trigger["item"]) == ("record", record.id, "WN")
        assert trigger["provider"] == "SCMR" and trigger["decision_date"] == DECIDED.isoformat()
        assert "P-WN-KEY-SUPERVISION" in hits
        procurement = client.post(
            "/api/v1/checks", json={**body, "scenario": "government_procurement"}, headers=headers
        )
        assert not [h for h in procurement.json()["hits"] if h["trigger"].get("item") == "WN"]

    def test_a_breach_lowers_and_a_fulfilment_raises_the_comprehensive_score(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        breached_id, fulfilled_id, clean_id = (a_subject(session, ctx) for _ in range(3))
        decided(session, breached_id, "breached")
        kept = decided(session, fulfilled_id, "fulfilled")
        react(platform, session, ctx)
        (cn,) = records_of(session, fulfilled_id, "CN")
        assert cn.fields["fulfilment"] == "已履约" and cn.doc_no == breaches.commitment_number(kept)
        assert cn.decision_date == SIGNED and records_of(session, fulfilled_id, "WN") == []
        model = evaluation.load_models(session, ctx.catalog.item_codes, None)["public_comprehensive"]
        receipt = evaluation.run(session, model, as_of=TODAY)
        found = {
            r.subject_id: r
            for r in session.scalars(
                select(EvaluationResult).where(EvaluationResult.run_id == receipt.run_id)
            )
        }
        items = {sid: found[sid].indicators["items"] for sid in (breached_id, fulfilled_id, clean_id)}
        assert items[breached_id]["commitments_breached_3y"] == [1, -10]
        assert items[fulfilled_id]["commitments_fulfilled_3y"] == [1, 2]
        assert items[clean_id]["commitments_breached_3y"] == [0, 0]
        assert found[breached_id].score == found[clean_id].score - 10
        assert found[fulfilled_id].score == min(100, found[clean_id].score + 2)


class TestWhoSeesIt:
    def test_the_public_file_shows_a_companys_breach_under_commitments(
        self, platform: Platform, client: TestClient, session: Session, ctx: IngestContext
    ) -> None:
        subject_id = a_subject(session, ctx)
        commitment = decided(session, subject_id, "breached")
        react(platform, session, ctx)
        session.commit()
        page = client.get(f"/subjects/{subjects.get(session, subject_id).uscc}")
        assert page.status_code == 200
        assert "违背信用承诺" in page.text and commitment.fulfilment_note in page.text
        assert breaches.commitment_number(commitment) in page.text

    def test_an_event_of_a_commitment_that_does_not_exist_is_passed_over(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        events.emit(session, events.COMMITMENT_BREACHED, "commitment", 987654321, payload={"ref": None})
        assert react(platform, session, ctx)[breaches.CONSUMER] == 0
        assert session.scalar(select(func.count(Record.id)).where(Record.item_code == "WN")) == 0


class TestThroughTheVerification:
    def test_the_accepting_departments_verification_outcome_becomes_the_record(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        subject_id = a_subject(session, ctx)
        department(session)
        clerk = Principal(kind="user", name="clerk", role="reviewer", department_code="SCMR")
        use_case = platform.context(clerk, TODAY)
        commitment = commitments.sign(
            session,
            use_case,
            template_code="notify_commit",
            subject=subjects.get(session, subject_id),
            target=MATTER,
            matter=MATTER,
            signer_name="张三",
            channel="paper",
            department_code="SCMR",
            signed_on=SIGNED,
        )
        commitments.record_verification(
            session,
            use_case,
            commitment,
            outcome="breached",
            facts="承诺的经营场所不存在",
            decided_on=DECIDED,
        )
        assert react(platform, session, ctx)[breaches.CONSUMER] == 1
        (record,) = records_of(session, subject_id, "WN")
        assert record.doc_no == breaches.commitment_number(commitment) and record.provider_code == "SCMR"
        assert record.fields["facts"] == "承诺的经营场所不存在" and record.decision_date == DECIDED


class TestIdempotent:
    def test_a_rerun_and_the_daily_catch_up_change_nothing(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        subject_id = a_subject(session, ctx)
        decided(session, subject_id, "breached")
        decided(session, subject_id, "fulfilled")
        assert react(platform, session, ctx)[breaches.CONSUMER] == 2
        batches = session.scalar(select(func.count(Batch.id)))
        assert react(platform, session, ctx)[breaches.CONSUMER] == 0
        assert react(platform, session, ctx, since=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)) == {
            breaches.CONSUMER: 0,
            "repair.notices": 0,
        }
        # the consumer reached from the start again (its cursor lost): nothing twice, no empty batch
        assert (
            breaches.record_outcomes(session, ctx, breaches.outcomes(session, events.EventRange(0, 10**9)))
            == 0
        )
        assert session.scalar(select(func.count(Batch.id))) == batches
        assert len(records_of(session, subject_id, "WN")) == len(records_of(session, subject_id, "CN")) == 1

    def test_a_breach_revoked_on_an_objection_stays_revoked_when_the_events_are_read_again(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        subject_id = a_subject(session, ctx)
        decided(session, subject_id, "breached")
        react(platform, session, ctx)
        (record,) = records_of(session, subject_id, "WN")
        lifecycle.revoke(
            session,
            record,
            catalog=ctx.catalog,
            rule_sets=ctx.rule_sets,
            cipher=ctx.cipher,
            ref="objection:1",
        )
        session.flush()
        batches = session.scalar(select(func.count(Batch.id)))
        everything = breaches.outcomes(session, events.EventRange(0, 10**9))
        assert breaches.record_outcomes(session, ctx, everything) == 0
        session.refresh(record)
        assert record.status == "revoked"
        assert session.scalar(select(func.count(Batch.id))) == batches  # not even sent again

    def test_the_platform_runs_it_after_commit_and_daily(self, platform: Platform, session: Session) -> None:
        assert [c.name for c in platform.events.consumers][:2] == [breaches.CONSUMER, "repair.notices"]
        ctx = platform.ingest_context(dt.datetime.now(CHINA).date())
        subject_id = a_subject(session, ctx)
        decided(session, subject_id, "breached")
        assert platform.events.run_in(session)[breaches.CONSUMER] == 1
        assert platform.events.run_in(session, catch_up=True)[breaches.CONSUMER] == 0

    def test_a_commitment_without_an_accepting_department_records_nothing(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        subject_id = a_subject(session, ctx)
        decided(session, subject_id, "breached", department_code=None)
        assert react(platform, session, ctx)[breaches.CONSUMER] == 0
        assert records_of(session, subject_id, "WN") == []


class TestPerson:
    def test_a_persons_breach_is_shared_but_never_public_and_keeps_the_id_out_of_clear(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        subject_id = a_subject(session, ctx, person=True)
        decided(session, subject_id, "breached")
        react(platform, session, ctx)
        (record,) = records_of(session, subject_id, "WN")
        assert record.subject_kind == "natural_person"
        clear = ctx.cipher.decrypt(subjects.get(session, subject_id).id_cipher or "")
        assert clear not in str(record.fields) and record.sensitive
        public = records_repository.visible_filter(ANONYMOUS, ctx.catalog, TODAY, set())
        assert session.scalar(select(Record.id).where(Record.id == record.id, public)) is None
        other = Principal(kind="user", name="clerk", role="reviewer", department_code="SCZJ")
        shared = records_repository.visible_filter(other, ctx.catalog, TODAY, set())
        assert session.scalar(select(Record.id).where(Record.id == record.id, shared)) == record.id


class TestEscalation:
    def test_shipped_rules_propose_nothing_for_breaches(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        assert all(rule.item_code != "WN" for rule in list_jobs.load_rules())

    def test_a_rule_the_credit_office_adds_only_proposes(
        self, platform: Platform, session: Session, ctx: IngestContext, tmp_path: Path
    ) -> None:
        (tmp_path / "escalation.yaml").write_text(
            "rules:\n"
            "  - {id: WN-SERIOUS-2-24, list_type: serious_dishonesty, item_code: WN, severity: 严重, count: 2,"
            " within_months: 24, legal_basis: 某领域严重失信主体名单管理办法第五条}\n",
            encoding="utf-8",
        )
        code = uscc()
        rows = [
            {
                "commitment_no": f"XYCN-T-{n}",
                "subject_name": "成都两次违诺有限公司",
                "uscc": code,
                "commitment_type": "审批替代型",
                "matter": MATTER,
                "facts": "承诺不实",
                "decision_date": day,
                "severity": "严重",
                "accepting_body": "四川省市场监督管理局",
            }
            for n, day in enumerate(["2025-03-01", "2026-06-01"])
        ]
        assert ingest_rows(session, ctx, rows, item="WN").accepted == 2
        department(session, "SCFGW", "四川省发展和改革委员会")
        rules = list_jobs.load_rules(tmp_path)
        assert list_jobs.propose_escalations(session, rules, today=TODAY, credit_office="SCFGW") == 1
        assert list_jobs.propose_escalations(session, rules, today=TODAY, credit_office="SCFGW") == 0
        (entry,) = lists.entries(session, department_code="SCFGW")
        assert entry.status == "proposed" and entry.escalation_rule == "WN-SERIOUS-2-24"
        assert subjects.get(session, entry.subject_id).uscc == code


class TestDemo:
    def test_the_demo_seeds_one_breach_with_its_record_and_check_hit_once(
        self, platform: Platform, session: Session, ctx: IngestContext
    ) -> None:
        from xinyong.demo.breaches import seed_breach
        from xinyong.measures.models import Check

        for _ in range(13):
            a_subject(session, ctx)
        department(session)
        today = dt.datetime.now(CHINA).date()
        assert seed_breach(session, platform, today) == {"commitments": 1, "records": 1, "checks": 1}
        check = session.scalars(select(Check).order_by(Check.id.desc())).first()
        assert check is not None and check.scenario == "administrative_approval"
        hits = check.result["hits"]
        assert "P-WN-NO-NOTIFY-COMMIT" in {h["measure"] for h in hits}
        assert {h["trigger"]["item"] for h in hits if h["trigger"]["type"] == "record"} == {"WN"}
        assert seed_breach(session, platform, today) == {"commitments": 0, "records": 0, "checks": 0}
