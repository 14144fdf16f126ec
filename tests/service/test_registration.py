"""Voluntary registration (自愿注册) through its use cases: who may declare, each step and the illegal ones,
the competent department's scope, a false declaration breaching its commitment, and what each reader of the
credit file sees of an entry."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import PDF_BYTES, department, ingest_rows, licence, uscc
from xinyong.accounts.policy import Principal
from xinyong.audit.models import AuditEntry
from xinyong.commitments.models import Commitment
from xinyong.events import service as events
from xinyong.files.models import Attachment
from xinyong.files.service import Upload
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.notices.models import Notice
from xinyong.platform import Platform
from xinyong.records.service import IngestContext
from xinyong.registration import service
from xinyong.registration.models import Registration
from xinyong.subjects import service as subjects

HONOUR = {
    "name": "四川省守合同重信用企业",
    "issuer_name": "四川省市场监督管理局",
    "document_no": "川市监〔2025〕88号",
    "awarded_on": "2025-06-30",
    "level": "省级",
}
FINANCIAL = {"year": "2025", "revenue": "12,345.6", "net_profit": "-20", "employees": "88"}
CONTACTS = {"contact_name": "王五", "phone": "028-86001234", "email": "ww@example.cn"}
REVIEWER = Principal(kind="user", name="审核员甲", role="reviewer", department_code="SCMR", user_id=None)
OTHER_REVIEWER = Principal(kind="user", name="审核员乙", role="reviewer", department_code="SCSW")
CREDIT_OFFICE = Principal(kind="user", name="信用办", role="credit_office", department_code="SCFGW")


def a_subject(session: Session, ctx: IngestContext) -> int:
    code = uscc()
    ingest_rows(
        session, ctx, [licence(XK_XDR_SHXYM=code, XK_XDR_MC=f"成都注册测试{code[-6:]}有限公司")], item="XK"
    )
    return subjects.get_by_uscc(session, code).id


def subject_principal(subject_id: int | None, name: str = "企业账户") -> Principal:
    return Principal(kind="user", name=name, role="subject", subject_id=subject_id)


@pytest.fixture
def owner(session: Session, ctx: IngestContext) -> Principal:
    department(session, "SCMR", "四川省市场监督管理局")
    department(session, "SCSW", "四川省商务厅")
    department(session, "SCFGW", "四川省发展和改革委员会")
    return subject_principal(a_subject(session, ctx))


def declare(platform: Platform, session: Session, principal: Principal, **overrides: Any) -> Registration:
    args: dict[str, Any] = {
        "kind_code": "honour",
        "fields": HONOUR,
        "signer_name": "张三",
        "department_code": "SCMR",
        "evidence": [Upload("荣誉证书.pdf", PDF_BYTES)],
        **overrides,
    }
    return service.declare(session, platform.context(principal, TODAY), **args)


def decide(
    platform: Platform, session: Session, principal: Principal, r: Registration, event: str, note: str = ""
) -> Registration:
    return service.decide(session, platform.context(principal, TODAY), r, event, note=note)


class TestDeclare:
    def test_a_verified_account_declares_with_commitment_evidence_history_and_notice(
        self, platform: Platform, session: Session, owner: Principal
    ) -> None:
        r = declare(platform, session, owner)
        assert (r.status, r.version, r.department_code, r.title) == ("declared", 1, "SCMR", HONOUR["name"])
        commitment = session.get(Commitment, r.commitment_id)
        assert commitment is not None and commitment.template_code == "registration_truth"
        assert commitment.ref == f"registration:{r.id}" and HONOUR["name"] in commitment.text
        assert [s.event for s in service.history(session, r.id)] == ["declare"]
        files = session.scalars(select(Attachment).where(Attachment.owner == f"registration:{r.id}")).all()
        assert [f.filename for f in files] == ["荣誉证书.pdf"]
        notice = session.scalars(select(Notice).where(Notice.kind == "registration_received")).one()
        assert notice.department_code == "SCMR" and notice.link == f"/console/registrations/{r.id}"
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"registration:{r.id}")
        ).all()
        assert "registration.declare" in audited

    def test_an_unverified_account_is_refused_with_its_reason(
        self, platform: Platform, session: Session, owner: Principal
    ) -> None:
        with pytest.raises(Forbidden) as refused:
            declare(platform, session, subject_principal(None))
        assert refused.value.code == "registration.unverified" and "核验" in refused.value.message
        with pytest.raises(Forbidden) as clerk:
            declare(platform, session, REVIEWER)
        assert clerk.value.code == "registration.not_subject_account"

    @pytest.mark.parametrize(
        ("kind", "fields", "code", "field"),
        [
            ("honour", {**HONOUR, "name": "荣" * 201}, "registration.invalid_fields", "name"),
            ("honour", {**HONOUR, "awarded_on": "2025-02-30"}, "registration.invalid_fields", "awarded_on"),
            ("honour", {**HONOUR, "awarded_on": "2027-01-01"}, "registration.invalid_fields", "awarded_on"),
            ("honour", {**HONOUR, "level": "宇宙级"}, "registration.invalid_fields", "level"),
            ("honour", {**HONOUR, "injected": "x"}, "registration.invalid_fields", "_"),
            ("financial_summary", {**FINANCIAL, "revenue": "很多"}, "registration.invalid_fields", "revenue"),
            ("financial_summary", {**FINANCIAL, "revenue": "nan"}, "registration.invalid_fields", "revenue"),
            (
                "qualification",
                {
                    "name": "ISO 9001",
                    "certificate_no": "Q1",
                    "issuer_name": "认证机构",
                    "valid_from": "2025-01-01",
                    "valid_until": "2024-12-31",
                },
                "registration.invalid_fields",
                "valid_until",
            ),
        ],
    )
    def test_bad_input_is_refused_by_field_and_nothing_is_kept(
        self,
        platform: Platform,
        session: Session,
        owner: Principal,
        kind: str,
        fields: dict[str, str],
        code: str,
        field: str,
    ) -> None:
        with pytest.raises(ValidationFailed) as refused, session.begin_nested():
            declare(platform, session, owner, kind_code=kind, fields=fields)
        assert refused.value.code == code and field in refused.value.details
        assert (
            session.scalars(select(Registration).where(Registration.subject_id == owner.subject_id)).all()
            == []
        )

    def test_an_unknown_kind_or_department_is_a_clear_error(
        self, platform: Platform, session: Session, owner: Principal
    ) -> None:
        with pytest.raises(ValidationFailed) as kind:
            declare(platform, session, owner, kind_code="gossip")
        assert kind.value.code == "registration.unknown_kind"
        with pytest.raises(ValidationFailed) as missing:
            declare(platform, session, owner, department_code=None)
        assert missing.value.code == "registration.department_required"
        with pytest.raises(ValidationFailed) as unknown:
            declare(platform, session, owner, department_code="NOPE")
        assert unknown.value.code == "registration.unknown_department"

    def test_a_resident_id_typed_into_free_text_is_masked(
        self, platform: Platform, session: Session, owner: Principal
    ) -> None:
        r = declare(
            platform, session, owner, fields={**HONOUR, "description": "获奖人身份证510104198505170011"}
        )
        assert "510104198505170011" not in str(r.fields) and "5101" in r.fields["description"]


class TestSteps:
    def test_amend_makes_a_new_version_and_keeps_the_old_one(
        self, platform: Platform, session: Session, owner: Principal
    ) -> None:
        r = declare(platform, session, owner)
        first_commitment = r.commitment_id
        service.amend(
            session,
            platform.context(owner, TODAY),
            r,
            fields={**HONOUR, "name": "四川省诚信示范企业"},
            signer_name="张三",
            department_code="SCMR",
        )
        assert (r.version, r.status, r.title) == (2, "declared", "四川省诚信示范企业")
        assert r.commitment_id != first_commitment
        steps = service.history(session, r.id)
        assert [(s.event, s.version, s.title) for s in steps] == [
            ("declare", 1, HONOUR["name"]),
            ("amend", 2, "四川省诚信示范企业"),
        ]

    def test_the_department_confirms_with_who_and_when_and_the_subject_is_told(
        self, platform: Platform, session: Session, owner: Principal
    ) -> None:
        r = declare(platform, session, owner)
        decide(platform, session, REVIEWER, r, "confirm")
        assert (r.status, r.decided_on, r.decided_by, r.decided_department) == (
            "confirmed",
            TODAY,
            "审核员甲",
            "四川省市场监督管理局",
        )
        notice = session.scalars(select(Notice).where(Notice.kind == "registration_decision")).one()
        assert notice.subject_id == owner.subject_id and "已核实" in notice.title

    def test_rejection_needs_a_reason_and_a_rejected_entry_may_be_amended(
        self, platform: Platform, session: Session, owner: Principal
    ) -> None:
        r = declare(platform, session, owner)
        with pytest.raises(ValidationFailed) as missing:
            decide(platform, session, REVIEWER, r, "reject", "  ")
        assert missing.value.code == "registration.note_required"
        decide(platform, session, REVIEWER, r, "reject", "授予文号与本部门记录不符")
        assert r.status == "rejected" and r.decision_note == "授予文号与本部门记录不符"
        amended = service.amend(
            session,
            platform.context(owner, TODAY),
            r,
            fields=HONOUR,
            signer_name="张三",
            department_code="SCMR",
        )
        assert (amended.status, amended.version, amended.decision_note) == ("declared", 2, None)

    @pytest.mark.parametrize(
        ("setup", "event"),
        [
            ([], "find_false"),
            (["confirm"], "confirm"),
            (["confirm"], "reject"),
            (["reject"], "confirm"),
            (["confirm", "find_false"], "find_false"),
        ],
    )
    def test_illegal_department_steps_are_conflicts(
        self, platform: Platform, session: Session, owner: Principal, setup: list[str], event: str
    ) -> None:
        r = declare(platform, session, owner)
        for step in setup:
            decide(platform, session, REVIEWER, r, step, "理由")
        with pytest.raises(Conflict) as refused:
            decide(platform, session, REVIEWER, r, event, "理由")
        assert refused.value.code == "registration.illegal_transition"

    def test_the_subject_cannot_amend_or_withdraw_a_confirmed_entry(
        self, platform: Platform, session: Session, owner: Principal
    ) -> None:
        r = declare(platform, session, owner)
        decide(platform, session, REVIEWER, r, "confirm")
        context = platform.context(owner, TODAY)
        with pytest.raises(Conflict):
            service.amend(session, context, r, fields=HONOUR, signer_name="张三", department_code="SCMR")
        with pytest.raises(Conflict):
            service.withdraw(session, context, r)
        declared = declare(platform, session, owner)
        service.withdraw(session, context, declared)
        assert declared.status == "withdrawn"
        with pytest.raises(Conflict):
            service.withdraw(session, context, declared)


class TestScope:
    def test_another_subject_can_neither_read_nor_change_an_entry(
        self, platform: Platform, session: Session, ctx: IngestContext, owner: Principal
    ) -> None:
        r = declare(platform, session, owner)
        stranger = subject_principal(a_subject(session, ctx), "另一企业")
        with pytest.raises(NotFound):
            service.get_own(session, stranger, r.id)
        context = platform.context(stranger, TODAY)
        with pytest.raises(NotFound):
            service.amend(session, context, r, fields=HONOUR, signer_name="李四", department_code="SCMR")
        with pytest.raises(NotFound):
            service.withdraw(session, context, r)
        with pytest.raises(NotFound):
            decide(platform, session, stranger, r, "confirm")
        assert (r.status, r.version) == ("declared", 1)

    def test_a_department_handles_only_the_entries_assigned_to_it(
        self, platform: Platform, session: Session, owner: Principal
    ) -> None:
        honour = declare(platform, session, owner)
        finance = declare(platform, session, owner, kind_code="financial_summary", fields=FINANCIAL)
        assert finance.department_code is None  # the credit office confirms financial summaries
        assert [r.id for r in service.queue(session, REVIEWER)] == [honour.id]
        assert service.queue(session, OTHER_REVIEWER) == []
        with pytest.raises(NotFound):
            service.get_for_department(session, OTHER_REVIEWER, honour.id)
        with pytest.raises(NotFound):
            decide(platform, session, OTHER_REVIEWER, honour, "confirm")
        with pytest.raises(NotFound):
            decide(platform, session, REVIEWER, finance, "confirm")
        assert {r.id for r in service.queue(session, CREDIT_OFFICE)} >= {honour.id, finance.id}
        decide(platform, session, CREDIT_OFFICE, finance, "confirm")
        assert finance.status == "confirmed" and finance.decided_department == "四川省发展和改革委员会"


class TestFalseDeclaration:
    def test_a_confirmed_entry_found_false_breaches_its_commitment(
        self, platform: Platform, session: Session, owner: Principal
    ) -> None:
        r = declare(platform, session, owner)
        decide(platform, session, REVIEWER, r, "confirm")
        with pytest.raises(ValidationFailed):
            decide(platform, session, REVIEWER, r, "find_false", "")
        decide(platform, session, REVIEWER, r, "find_false", "经核查，本部门未授予该荣誉")
        assert r.status == "false"
        commitment = session.get(Commitment, r.commitment_id)
        assert commitment is not None and commitment.status == "breached"
        breached = [e.kind for e in events.events_of(session, "commitment", commitment.id)]
        assert events.COMMITMENT_BREACHED in breached
        assert service.for_file(session, r.subject_id, "public") == []


class TestVisibility:
    def test_what_each_reader_of_the_file_sees(
        self, platform: Platform, session: Session, owner: Principal
    ) -> None:
        assert owner.subject_id is not None
        honour = declare(platform, session, owner)
        finance = declare(platform, session, owner, kind_code="financial_summary", fields=FINANCIAL)
        hidden = declare(platform, session, owner, kind_code="contacts", fields=CONTACTS, publish=False)
        shown = declare(
            platform,
            session,
            owner,
            kind_code="contacts",
            fields={**CONTACTS, "contact_name": "赵六"},
            publish=True,
        )
        rejected = declare(platform, session, owner, fields={**HONOUR, "name": "国家级荣誉"})
        decide(platform, session, REVIEWER, rejected, "reject", "无此荣誉")
        withdrawn = declare(platform, session, owner, fields={**HONOUR, "name": "撤回的荣誉"})
        service.withdraw(session, platform.context(owner, TODAY), withdrawn)
        decide(platform, session, REVIEWER, honour, "confirm")

        def seen(view: str) -> set[int]:
            return {e["id"] for e in service.for_file(session, owner.subject_id or 0, view)}

        assert seen("public") == {honour.id, shown.id}
        assert seen("government") == {honour.id, finance.id, hidden.id, shown.id}
        assert seen("own") == {honour.id, finance.id, hidden.id, shown.id, rejected.id, withdrawn.id}
        public = {e["id"]: e for e in service.for_file(session, owner.subject_id, "public")}
        assert public[honour.id]["status_label"] == "已核实"
        assert public[honour.id]["confirmed_by"] == "四川省市场监督管理局"
        assert public[shown.id]["status_label"] == "自主申报" and public[shown.id]["confirmed_on"] is None
        own = {e["id"]: e for e in service.for_file(session, owner.subject_id, "own")}
        assert own[rejected.id]["reason"] == "无此荣誉"

    def test_a_natural_persons_entries_are_never_public(
        self, platform: Platform, session: Session, owner: Principal
    ) -> None:
        from xinyong.subjects.models import Subject

        r = declare(platform, session, owner)
        subject = session.get(Subject, r.subject_id)
        assert subject is not None
        subject.kind = "natural_person"
        session.flush()
        assert service.for_file(session, r.subject_id, "public") == []
        assert [e["id"] for e in service.for_file(session, r.subject_id, "own")] == [r.id]


def test_the_kinds_load_with_their_sources() -> None:
    kinds = service.kind_set()
    assert {k.code for k in kinds.kinds} == {
        "honour",
        "qualification",
        "social_responsibility",
        "contacts",
        "financial_summary",
    }
    assert all("546号" in k.source for k in kinds.kinds)
    assert kinds.get("financial_summary").public == "never"  # type: ignore[union-attr]


def test_the_standard_report_lists_standing_public_entries_only(
    platform: Platform, session: Session, owner: Principal
) -> None:
    from xinyong.reports.content import _registration_items

    assert owner.subject_id is not None
    honour = declare(platform, session, owner)
    decide(platform, session, REVIEWER, honour, "confirm")
    declare(platform, session, owner, kind_code="financial_summary", fields=FINANCIAL)
    rejected = declare(platform, session, owner, fields={**HONOUR, "name": "被拒的荣誉"})
    decide(platform, session, REVIEWER, rejected, "reject", "无此荣誉")
    items = _registration_items(service.for_file(session, owner.subject_id, "own"))
    assert [(i["title"], i["department"]) for i in items] == [(HONOUR["name"], "四川省市场监督管理局")]
    assert ["状态", "已核实"] in items[0]["lines"]
