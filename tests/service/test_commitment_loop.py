"""Commitments as a closed loop (信用承诺): templates and catalogues as data, the verification task, each state
transition and the illegal ones, the outcome's event (a contract others consume), and the overdue job."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import department, uscc
from xinyong.accounts.policy import SYSTEM, Principal
from xinyong.commitments import rules
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.commitments.schemas import TemplateFile
from xinyong.events import service as events
from xinyong.kit.errors import Conflict, Forbidden, ValidationFailed
from xinyong.notices.models import Notice
from xinyong.platform import Platform
from xinyong.subjects.models import Subject

CLERK = Principal(
    kind="token", name="审批系统", department_code="SCMR", scopes=frozenset({"commitments:write"})
)
OTHER = Principal(kind="user", name="交通审核员", role="reviewer", department_code="SCJT")
OFFICE = Principal(kind="user", name="信用办", role="credit_office", department_code="SCFGW")


def make_subject(
    session: Session, *, kind: str = "legal_person", name: str = "成都守诺科技有限公司"
) -> Subject:
    subject = Subject(kind=kind, uscc=uscc(), name=name, name_norm=name, core_name=name)
    session.add(subject)
    session.flush()
    return subject


def counter(platform: Platform, session: Session, subject: Subject, **overrides: Any) -> Commitment:
    department(session, "SCMR")
    args: dict[str, Any] = {
        "subject": subject,
        "template_code": "notify_commit",
        "matter": "SCMR-P-001",
        "signed_on": TODAY - dt.timedelta(days=3),
        "document_sha256": "a" * 64,
        "verify_by": None,
        **overrides,
    }
    commitment, created = commitments.register_counter_signing(
        session, platform.context(CLERK, TODAY), **args
    )
    assert created
    return commitment


def test_the_shipped_templates_load_with_their_basis_and_verification() -> None:
    loaded = commitments.templates()
    assert {"notify_commit", "licence_commit", "voluntary_commit", "industry_commit", "credit_repair"} <= set(
        loaded
    )
    assert {t.kind for t in loaded.values()} == {"approval", "voluntary", "industry", "repair"}
    assert "国发〔2021〕7号" in loaded["licence_commit"].legal_basis
    assert "GB/T 46277-2025" in loaded["voluntary_commit"].legal_basis
    assert "GB/T 46277-2025" in loaded["industry_commit"].legal_basis
    assert commitments.catalogues()["licences"].legal_basis == "国发〔2021〕7号"
    assert ("SCMR", "企业登记中的住所（经营场所）使用证明") in commitments.matters_of(loaded["notify_commit"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.pop("legal_basis"), "legal_basis"),
        (lambda t: t.pop("verification"), "verification"),
        (lambda t: t.update(catalogue="nowhere"), "unknown catalogue"),
        (lambda t: t.update(kind="other"), "kind"),
    ],
)
def test_a_template_without_its_basis_or_check_is_refused_on_load(change: Any, message: str) -> None:
    from importlib import resources

    data = yaml.safe_load(
        resources.files("xinyong.commitments").joinpath("data/templates.yaml").read_text(encoding="utf-8")
    )
    change(next(t for t in data["templates"] if t["code"] == "notify_commit"))
    with pytest.raises(ValidationError, match=message):
        TemplateFile.model_validate(data)


def test_signing_at_the_counter_opens_a_verification_task_in_working_days(
    platform: Platform, session: Session
) -> None:
    commitment = counter(platform, session, make_subject(session))
    assert (commitment.kind, commitment.matter, commitment.department_code) == (
        "approval",
        "食品经营许可申请中的经营场所合法使用证明",
        "SCMR",
    )
    assert commitment.status == rules.VERIFYING and commitment.verification_opened_on == TODAY
    expected = platform.calendar.add_workdays(commitment.signed_on, 20).due
    assert commitment.verification_due == expected and expected > commitment.signed_on + dt.timedelta(days=20)
    assert commitments.verify(commitment, platform.signer)
    dated = counter(platform, session, make_subject(session), document_sha256="b" * 64, verify_by=TODAY)
    assert dated.verification_due == TODAY


def test_the_outcome_emits_its_event_with_the_contracted_payload(
    platform: Platform, session: Session
) -> None:
    subject = make_subject(session)
    kept = counter(platform, session, subject)
    broken = counter(platform, session, subject, document_sha256="c" * 64, matter="SCMR-P-002")
    commitments.record_verification(
        session, platform.context(CLERK, TODAY), kept, outcome="fulfilled", facts=None
    )
    commitments.record_verification(
        session,
        platform.context(CLERK, TODAY),
        broken,
        outcome="breached",
        facts="现场核查发现住所与承诺不符",
        decided_on=TODAY - dt.timedelta(days=1),
    )
    (fulfilled,) = events.events_of(session, "commitment", kept.id)
    (breached,) = events.events_of(session, "commitment", broken.id)
    assert (fulfilled.kind, fulfilled.subject_id) == (events.COMMITMENT_FULFILLED, subject.id)
    assert fulfilled.kind == "commitment.fulfilled" and breached.kind == events.COMMITMENT_BREACHED
    assert breached.payload == {
        "template": "notify_commit",
        "kind": "approval",
        "matter": "企业登记中的住所（经营场所）使用证明",
        "department_code": "SCMR",
        "signed_on": (TODAY - dt.timedelta(days=3)).isoformat(),
        "decided_on": (TODAY - dt.timedelta(days=1)).isoformat(),
        "facts": "现场核查发现住所与承诺不符",
        "ref": None,
    }
    assert fulfilled.payload is not None and fulfilled.payload["facts"] is None
    assert set(fulfilled.payload) == set(breached.payload)


def test_illegal_transitions_are_conflicts_with_codes(platform: Platform, session: Session) -> None:
    subject = make_subject(session)
    ctx = platform.context(SYSTEM, TODAY)
    unassigned = commitments.sign(
        session,
        platform.context(Principal(kind="user", name="企业", role="subject", subject_id=subject.id), TODAY),
        template_code="voluntary_commit",
        subject=subject,
        target="依法诚信经营",
        signer_name="张三",
        matter="依法诚信经营",
    )
    assert (
        unassigned.status == rules.SIGNED and unassigned.verification_due is None
    )  # no accepting department
    with pytest.raises(Conflict) as early:
        commitments.record_verification(session, ctx, unassigned, outcome="fulfilled", facts=None)
    assert early.value.code == "commitment.not_under_verification"
    commitment = counter(platform, session, subject)
    with pytest.raises(Conflict) as again:
        commitments.open_verification(session, commitment, platform.calendar, today=TODAY)
    assert again.value.code == "commitment.illegal_transition"
    commitments.record_verification(session, ctx, commitment, outcome="fulfilled", facts="材料属实")
    for outcome in ("breached", "fulfilled"):
        with pytest.raises(Conflict) as decided:
            commitments.record_verification(session, ctx, commitment, outcome=outcome, facts="改判")
        assert decided.value.code == "commitment.already_assessed"
    assert commitment.status == rules.FULFILLED and commitment.fulfilment_note == "材料属实"


def test_only_the_accepting_department_decides_and_bad_outcomes_are_refused(
    platform: Platform, session: Session
) -> None:
    commitment = counter(platform, session, make_subject(session))
    for who in (OTHER, OFFICE):
        with pytest.raises(Forbidden) as refused:
            commitments.record_verification(
                session, platform.context(who, TODAY), commitment, outcome="fulfilled", facts=None
            )
        assert refused.value.code == "commitment.not_accepting_department"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"outcome": "breached", "facts": "  "}, "commitment.facts_required"),
        ({"outcome": "kept", "facts": None}, "commitment.bad_outcome"),
        (
            {"outcome": "fulfilled", "facts": None, "decided_on": TODAY + dt.timedelta(days=1)},
            "commitment.decided_in_future",
        ),
        (
            {"outcome": "fulfilled", "facts": None, "decided_on": TODAY - dt.timedelta(days=30)},
            "commitment.decided_before_signing",
        ),
    ]
    for args, code in cases:
        with pytest.raises(ValidationFailed) as bad:
            commitments.record_verification(session, platform.context(CLERK, TODAY), commitment, **args)
        assert bad.value.code == code
    assert (
        commitment.status == rules.VERIFYING and events.events_of(session, "commitment", commitment.id) == []
    )


def test_overdue_verifications_alert_the_department_once(platform: Platform, session: Session) -> None:
    subject = make_subject(session)
    late = counter(
        platform,
        session,
        subject,
        verify_by=TODAY - dt.timedelta(days=1),
        signed_on=TODAY - dt.timedelta(days=5),
    )
    counter(platform, session, subject, document_sha256="d" * 64)  # due later: no alert
    assert commitments.alert_overdue(session, TODAY) == 1
    assert commitments.alert_overdue(session, TODAY) == 0
    (notice,) = session.scalars(select(Notice).where(Notice.kind == "commitment_overdue")).all()
    assert notice.department_code == "SCMR" and notice.link == f"/console/commitments/{late.id}"
    stats = commitments.statistics(session, TODAY)
    (row,) = stats["departments"]
    assert (row["department_code"], row["verifying"], row["overdue"]) == ("SCMR", 2, 1)
    commitments.record_verification(
        session, platform.context(CLERK, TODAY), late, outcome="fulfilled", facts=None
    )
    assert commitments.alert_overdue(session, TODAY) == 0
    assert commitments.statistics(session, TODAY)["departments"][0]["overdue"] == 0


def test_the_daily_job_generates_missing_tasks_once(platform: Platform, session: Session) -> None:
    subject = make_subject(session)
    commitment = commitments.sign(
        session,
        platform.context(Principal(kind="user", name="企业", role="subject", subject_id=subject.id), TODAY),
        template_code="voluntary_commit",
        subject=subject,
        target="依法诚信经营",
        signer_name="张三",
    )
    department(session, "SCMR")
    commitment.department_code = "SCMR"  # assigned later (or signed before tasks existed)
    session.flush()
    assert commitments.open_pending_verifications(session, platform.calendar, TODAY) == 1
    assert commitments.open_pending_verifications(session, platform.calendar, TODAY) == 0
    assert commitment.status == rules.VERIFYING
    assert commitment.verification_due == platform.calendar.add_workdays(TODAY, 60).due
