"""The commitments API and pages: a department's system registers a counter signing (scope commitments:write)
and records the verification; the public search; the console form; online signing from the account; and the
attacker's view (another department, a stranger, a natural person's commitment)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import PDF_BYTES, bearer, department, login, uscc
from xinyong.accounts.policy import Principal
from xinyong.audit.models import AuditEntry
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.events import service as events
from xinyong.platform import Platform
from xinyong.subjects.models import Subject

WRITE = ("commitments:write",)


def make_subject(
    session: Session, *, kind: str = "legal_person", name: str = "成都守诺商贸有限公司"
) -> Subject:
    subject = Subject(kind=kind, uscc=uscc(), name=name, name_norm=name, core_name=name)
    session.add(subject)
    session.commit()
    return subject


def body(who: Subject, **overrides: Any) -> dict[str, Any]:
    return {
        "subject": {"uscc": who.uscc},
        "template": "notify_commit",
        "matter": "SCMR-P-001",
        "signed_at": f"{(TODAY - dt.timedelta(days=2)).isoformat()}T10:30:00+08:00",
        "document_sha256": "ab" * 32,
        "verify_by": (TODAY + dt.timedelta(days=10)).isoformat(),
        **overrides,
    }


def count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count(Commitment.id))) or 0)


def test_registering_a_counter_signing_is_idempotent_and_published(
    client: TestClient, session: Session
) -> None:
    subject = make_subject(session)
    department(session, "SCMR", "四川省市场监督管理局")
    headers = bearer(session, "SCMR", WRITE)
    created = client.post("/api/v1/commitments", json=body(subject), headers=headers)
    assert created.status_code == 201, created.text
    answer = created.json()
    assert set(answer) == {"commitment_id", "public_url"}
    assert answer["public_url"] == f"/commitments/{answer['commitment_id']}"
    again = client.post("/api/v1/commitments", json=body(subject), headers=headers)
    assert (again.status_code, again.json()) == (200, answer) and count(session) == 1
    other = client.post("/api/v1/commitments", json=body(subject, matter="SCMR-P-002"), headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "commitment.document_conflict"
    commitment = session.get(Commitment, answer["commitment_id"])
    assert commitment is not None and commitment.status == "verifying"
    assert commitment.verification_due == TODAY + dt.timedelta(days=10) and commitment.channel == "counter"
    page = client.get(answer["public_url"]).text
    for shown in ("审批替代型", "食品经营许可申请中的经营场所合法使用证明", "四川省市场监督管理局", "核查中"):
        assert shown in page
    assert "SCMR</" not in page  # the department by name, not its code


def test_the_api_needs_the_scope(client: TestClient, session: Session) -> None:
    subject = make_subject(session)
    assert client.post("/api/v1/commitments", json=body(subject)).status_code == 401
    wrong = client.post(
        "/api/v1/commitments", json=body(subject), headers=bearer(session, "SCMR", ("checks:run",))
    )
    assert wrong.status_code == 403 and count(session) == 0
    for path in ("/commitments/99999999999999", "/api/v1/commitments/99999999999999"):
        assert client.get(path).status_code == 404  # beyond any id: not found, not a database error


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"template": "no_such"}, 404, "commitment.unknown_template"),
        ({"matter": "SCJT-L-001"}, 422, "commitment.matter_not_in_catalogue"),  # another department's matter
        ({"matter": "随便写的事项"}, 422, "commitment.matter_not_in_catalogue"),
        ({"signed_at": (TODAY + dt.timedelta(days=1)).isoformat()}, 422, "commitment.signed_in_future"),
        ({"signed_at": "昨天"}, 422, "commitment.bad_signed_at"),
        ({"document_sha256": "xyz"}, 422, "commitment.bad_document_sha256"),
        (
            {"verify_by": (TODAY - dt.timedelta(days=5)).isoformat()},
            422,
            "commitment.verify_by_before_signing",
        ),
        ({"verify_by": "2026-13-01"}, 422, "commitment.bad_verify_by"),
        ({"subject": {"uscc": "91510100MA0000000X"}}, 404, "subject.not_found"),
        ({"subject": {"resident_id": "510104198505170011"}}, 422, "request.invalid"),
    ],
)
def test_bad_input_is_refused_with_a_code_and_stores_nothing(
    client: TestClient, session: Session, change: dict[str, Any], status: int, code: str
) -> None:
    subject = make_subject(session)
    response = client.post(
        "/api/v1/commitments", json=body(subject, **change), headers=bearer(session, "SCMR", WRITE)
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and re.search(r"[\u4e00-\u9fff]", error["message"])
    assert count(session) == 0


def test_a_natural_person_is_not_registered_by_uscc(client: TestClient, session: Session) -> None:
    person = make_subject(session, kind="natural_person", name="王五")
    response = client.post("/api/v1/commitments", json=body(person), headers=bearer(session, "SCMR", WRITE))
    assert response.status_code == 422 and response.json()["error"]["code"] == "commitment.natural_person"


def test_only_the_accepting_department_records_the_verification(client: TestClient, session: Session) -> None:
    subject = make_subject(session)
    mine = bearer(session, "SCMR", WRITE)
    commitment_id = client.post("/api/v1/commitments", json=body(subject), headers=mine).json()[
        "commitment_id"
    ]
    url = f"/api/v1/commitments/{commitment_id}/verification"
    outcome = {
        "outcome": "breached",
        "facts": "现场核查发现经营场所与承诺不符",
        "decided_on": TODAY.isoformat(),
    }
    stranger = client.post(url, json=outcome, headers=bearer(session, "SCJT", WRITE))
    assert stranger.status_code == 404 and stranger.json()["error"]["code"] == "commitment.not_found"
    no_facts = client.post(url, json={"outcome": "breached"}, headers=mine)
    assert no_facts.status_code == 422 and no_facts.json()["error"]["code"] == "commitment.facts_required"
    done = client.post(url, json=outcome, headers=mine)
    assert done.status_code == 200 and done.json()["status"] == "breached"
    again = client.post(url, json={"outcome": "fulfilled"}, headers=mine)
    assert again.status_code == 409 and again.json()["error"]["code"] == "commitment.already_assessed"
    (event,) = events.events_of(session, "commitment", commitment_id)
    assert event.kind == "commitment.breached" and event.payload is not None
    assert event.payload["facts"] == outcome["facts"] and event.payload["department_code"] == "SCMR"
    page = client.get(f"/commitments/{commitment_id}").text
    assert "违诺" in page and outcome["facts"] in page


def signed_by_subject(
    platform: Platform, session: Session, subject: Subject, template: str, **kw: Any
) -> Commitment:
    owner = Principal(kind="user", name="主体用户", role="subject", subject_id=subject.id)
    commitment = commitments.sign(
        session,
        platform.context(owner, TODAY),
        template_code=template,
        subject=subject,
        target="依法诚信经营",
        signer_name="赵六",
        **kw,
    )
    session.commit()
    return commitment


def test_a_non_public_commitment_is_seen_only_by_its_department(
    client: TestClient, session: Session, platform: Platform
) -> None:
    subject = make_subject(session, name="成都不公示科技有限公司")
    department(session, "SCMR")
    hidden = signed_by_subject(platform, session, subject, "registration_truth", department_code="SCMR")
    assert not hidden.public
    assert client.get(f"/commitments/{hidden.id}").status_code == 404
    assert "成都不公示科技有限公司" not in client.get("/commitments", params={"q": subject.uscc}).text
    assert client.get(f"/api/v1/commitments/{hidden.id}").status_code == 404
    assert (
        client.get(f"/api/v1/commitments/{hidden.id}", headers=bearer(session, "SCJT", WRITE)).status_code
        == 404
    )
    read = client.get(f"/api/v1/commitments/{hidden.id}", headers=bearer(session, "SCMR", WRITE))
    assert read.status_code == 200 and read.json()["public_url"] is None
    session.expire_all()
    assert session.scalar(
        select(func.count()).where(
            AuditEntry.action == "commitment.read", AuditEntry.target == f"commitment:{hidden.id}"
        )
    )


def test_a_natural_persons_commitment_never_shows_publicly(
    client: TestClient, session: Session, platform: Platform
) -> None:
    person = make_subject(session, kind="natural_person", name="钱七")
    signed = signed_by_subject(platform, session, person, "voluntary_commit", matter="依法诚信经营")
    assert signed.public  # the template is public: the person is what keeps it off the portal
    assert client.get(f"/commitments/{signed.id}").status_code == 404
    assert "钱七" not in client.get("/commitments").text
    assert f'/commitments/{signed.id}"' not in client.get("/commitments", params={"q": "钱七"}).text
    assert commitments.public_of_subject(session, person.id) == []


def test_the_public_search_by_subject_kind_department_and_matter(
    client: TestClient, session: Session, platform: Platform
) -> None:
    department(session, "SCMR", "四川省市场监督管理局")
    department(session, "SCJT", "四川省交通运输厅")
    shop = make_subject(session, name="成都检索食品有限公司")
    haulier = make_subject(session, name="绵阳检索运输有限公司")
    client.post("/api/v1/commitments", json=body(shop), headers=bearer(session, "SCMR", WRITE))
    client.post(
        "/api/v1/commitments",
        json=body(
            haulier, template="licence_commit", matter="道路货物运输经营许可", document_sha256="cd" * 32
        ),
        headers=bearer(session, "SCJT", WRITE),
    )
    signed_by_subject(platform, session, shop, "industry_commit", matter="食品经营行业诚信经营")

    def found(**params: str) -> set[str]:
        text = client.get("/commitments", params=params).text
        return {name for name in ("成都检索食品有限公司", "绵阳检索运输有限公司") if name in text}

    assert found(q=haulier.uscc or "") == {"绵阳检索运输有限公司"}
    assert found(q="检索食品") == {"成都检索食品有限公司"}
    assert found(department="SCJT") == {"绵阳检索运输有限公司"}
    assert found(kind="industry") == {"成都检索食品有限公司"}
    assert found(matter="道路货物") == {"绵阳检索运输有限公司"}
    assert found(kind="voluntary") == set()


def test_the_console_form_records_a_breach_with_evidence(
    client: TestClient, session: Session, platform: Platform
) -> None:
    subject = make_subject(session)
    commitment_id = client.post(
        "/api/v1/commitments", json=body(subject), headers=bearer(session, "SCMR", WRITE)
    ).json()["commitment_id"]
    token = login(client, session, role="reviewer", department_code="SCJT")
    assert client.get(f"/console/commitments/{commitment_id}").status_code == 404
    refused = client.post(
        f"/console/commitments/{commitment_id}/verification",
        data={"csrf_token": token, "outcome": "fulfilled"},
    )
    assert refused.status_code == 404
    client.cookies.clear()
    token = login(client, session, role="credit_office", department_code="SCFGW")
    seen = client.get(f"/console/commitments/{commitment_id}")
    assert (
        seen.status_code == 200 and "记录核查结果" not in seen.text
    )  # the credit office sees, never decides
    client.cookies.clear()
    token = login(client, session, role="reviewer", department_code="SCMR")
    queue = client.get("/console/commitments", params={"view": "due"}).text
    assert f'href="/console/commitments/{commitment_id}"' in queue
    detail = client.get(f"/console/commitments/{commitment_id}").text
    assert "记录核查结果" in detail
    bad = client.post(
        f"/console/commitments/{commitment_id}/verification",
        data={"csrf_token": token, "outcome": "breached", "facts": "无证经营"},
        files={"evidence": ("说明.exe", b"MZ\x90\x00", "application/octet-stream")},
    )
    assert bad.status_code == 422 and "不是允许的格式" in bad.text
    done = client.post(
        f"/console/commitments/{commitment_id}/verification",
        data={
            "csrf_token": token,
            "outcome": "breached",
            "facts": "无证经营",
            "decided_on": TODAY.isoformat(),
        },
        files={"evidence": ("现场核查记录.pdf", PDF_BYTES, "application/pdf")},
        follow_redirects=False,
    )
    assert done.status_code == 303
    detail = client.get(f"/console/commitments/{commitment_id}").text
    link = re.search(rf"/console/commitments/{commitment_id}/files/\d+", detail)
    assert link and "现场核查记录.pdf" in detail and client.get(link[0]).content == PDF_BYTES
    assert f'href="/console/commitments/{commitment_id}"' in client.get("/console/commitments?view=done").text


def test_a_verified_account_signs_online_and_sees_its_commitments(
    client: TestClient, session: Session
) -> None:
    subject = make_subject(session, name="成都在线签署有限公司")
    department(session, "SCMR")
    token = login(client, session, role="subject", department_code=None, subject_id=subject.id)
    form = client.get("/account/commitments/new", params={"template": "licence_commit"})
    assert form.status_code == 200 and "国发〔2021〕7号" in form.text
    refused = client.post(
        "/account/commitments",
        data={
            "csrf_token": token,
            "template": "licence_commit",
            "matter": "不在目录的事项",
            "signer_name": "孙八",
            "agree": "true",
        },
    )
    assert refused.status_code == 422 and "不在" in refused.text and count(session) == 0
    assert client.get("/account/commitments/new", params={"template": "credit_repair"}).status_code == 422
    signed = client.post(
        "/account/commitments",
        data={
            "csrf_token": token,
            "template": "licence_commit",
            "matter": "食品经营许可（仅销售预包装食品除外的低风险经营项目）",
            "signer_name": "孙八",
            "agree": "true",
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303
    session.expire_all()
    (commitment,) = session.scalars(select(Commitment).where(Commitment.subject_id == subject.id)).all()
    assert (commitment.kind, commitment.department_code, commitment.status) == (
        "approval",
        "SCMR",
        "verifying",
    )
    assert commitment.channel == "online" and "孙八" in commitment.text
    mine = client.get("/account/commitments").text
    assert "涉企经营许可事项告知承诺书" in mine and "核查中" in mine


def test_statistics_count_overdue_verifications_per_department(client: TestClient, session: Session) -> None:
    department(session, "SCMR", "四川省市场监督管理局")
    subject = make_subject(session)
    late = body(subject, signed_at="2026-10-01", verify_by="2026-10-20")
    assert (
        client.post("/api/v1/commitments", json=late, headers=bearer(session, "SCMR", WRITE)).status_code
        == 201
    )
    page = client.get("/statistics/commitments")
    assert page.status_code == 200
    row = re.search(r"<td>四川省市场监督管理局</td>(.*?)</tr>", page.text, re.S)
    assert row and '<span class="tag serious">1</span>' in row[1]
