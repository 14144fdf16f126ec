"""Voluntary registration (自愿注册) through its pages and the credit file: the account's form with the
commitment, illegal steps answered 409 with their code, another subject and another department refused, and
what the public, the subject and a department with a purpose see on `/subjects/{uscc}` and in the API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.helpers import PDF_BYTES, department, ingest_rows, licence, login, uscc
from xinyong.accounts.models import User
from xinyong.audit.models import AuditEntry
from xinyong.records.service import IngestContext
from xinyong.registration.models import Registration
from xinyong.subjects import service as subjects

HONOUR = {
    "f_name": "四川省守合同重信用企业",
    "f_issuer_name": "四川省市场监督管理局",
    "f_awarded_on": "2025-06-30",
    "f_level": "省级",
}
FINANCIAL = {"f_year": "2025", "f_revenue": "98765.4", "f_employees": "120"}
CONTACTS = {"f_contact_name": "钱七", "f_phone": "028-87776666"}
SCMR = "四川省市场监督管理局"  # the department as its ingestion registered it


def a_subject(session: Session, ctx: IngestContext) -> str:
    """A company known from a licence its department sent; returns its USCC."""
    code = uscc()
    row = licence(XK_XDR_SHXYM=code, XK_XDR_MC=f"成都申报测试{code[-6:]}有限公司")
    assert ingest_rows(session, ctx, [row], "XK").accepted == 1
    department(session, "SCSW", "四川省商务厅")
    session.commit()
    return code


def as_subject(client: TestClient, session: Session, code: str) -> str:
    client.cookies.clear()
    subject = subjects.get_by_uscc(session, code)
    return login(client, session, role="subject", department_code=None, subject_id=subject.id)


def declare(client: TestClient, token: str, kind: str, fields: dict[str, str], **extra: Any) -> Any:
    data = {"csrf_token": token, "kind": kind, "signer_name": "张三", "agree": "true", **fields, **extra}
    if kind == "honour":
        data.setdefault("department_code", "SCMR")
    return client.post(
        "/account/registrations",
        data=data,
        files=[("evidence", ("证书.pdf", PDF_BYTES, "application/pdf"))],
        follow_redirects=False,
    )


def declared_id(response: Any) -> int:
    assert response.status_code == 303, response.text[:2000]
    match = re.fullmatch(r"/account/registrations/(\d+)", response.headers["location"])
    assert match
    return int(match[1])


@pytest.fixture
def company(session: Session, ctx: IngestContext) -> str:
    return a_subject(session, ctx)


class TestAccount:
    def test_register_amend_withdraw_and_the_illegal_steps(
        self, client: TestClient, session: Session, company: str
    ) -> None:
        token = as_subject(client, session, company)
        listing = client.get("/account/registrations")
        assert listing.status_code == 200 and 'href="/account/registrations/new?kind=honour"' in listing.text
        form = client.get("/account/registrations/new", params={"kind": "honour"})
        assert form.status_code == 200 and "自愿注册信息真实性承诺书" in form.text and "546号" in form.text
        assert 'name="csrf_token"' in form.text and '<option value="SCMR">' in form.text
        registration_id = declared_id(declare(client, token, "honour", HONOUR))
        page = client.get(f"/account/registrations/{registration_id}")
        assert page.status_code == 200 and "自主申报" in page.text and "2025年6月30日" in page.text
        assert "证书.pdf" in page.text and "撤回" in page.text
        link = re.search(r'href="(/account/registrations/\d+/files/\d+)"', page.text)
        assert link is not None
        download = client.get(link[1])
        assert download.status_code == 200 and download.content == PDF_BYTES

        # Amending makes a new version; the entry keeps what the first said.
        form = client.get(f"/account/registrations/{registration_id}/amend")
        assert form.status_code == 200 and HONOUR["f_name"] in form.text and "第 2 版" in form.text
        amend = {
            "csrf_token": token,
            "signer_name": "张三",
            "agree": "true",
            "department_code": "SCMR",
            **HONOUR,
        }
        amended = client.post(
            f"/account/registrations/{registration_id}/amend",
            data={**amend, "f_name": "成都市诚信企业"},
            follow_redirects=False,
        )
        assert amended.status_code == 303
        page = client.get(f"/account/registrations/{registration_id}")
        assert "成都市诚信企业" in page.text and "第 2 版" in page.text and HONOUR["f_name"] in page.text

        # Withdrawn, it can be neither withdrawn again nor amended: 409 with the code.
        withdrawn = client.post(
            f"/account/registrations/{registration_id}/withdraw",
            data={"csrf_token": token},
            follow_redirects=False,
        )
        assert withdrawn.status_code == 303
        again = client.post(f"/account/registrations/{registration_id}/withdraw", data={"csrf_token": token})
        assert again.status_code == 409 and "registration.illegal_transition" in again.text
        refused = client.post(f"/account/registrations/{registration_id}/amend", data=amend)
        assert refused.status_code == 409 and "registration.illegal_transition" in refused.text
        assert client.get(f"/account/registrations/{registration_id}/amend").status_code == 409

    def test_bad_input_and_an_unverified_account_are_refused_and_nothing_is_kept(
        self, client: TestClient, session: Session, company: str
    ) -> None:
        token = as_subject(client, session, company)
        for fields, code in (
            ({**HONOUR, "f_awarded_on": "2025-13-40"}, "registration.invalid_fields"),
            ({**HONOUR, "f_name": "荣" * 300}, "registration.invalid_fields"),
        ):
            refused = declare(client, token, "honour", fields)
            assert refused.status_code == 422 and code in refused.text
            assert "自愿注册信息真实性承诺书" in refused.text  # the form again, with what was typed
        unknown = declare(client, token, "rumours", HONOUR)
        assert unknown.status_code == 422 and "registration.unknown_kind" in unknown.text
        unsigned = declare(client, token, "honour", HONOUR, agree="")
        assert unsigned.status_code == 422 and "registration.commitment_not_agreed" in unsigned.text
        html = client.post(
            "/account/registrations",
            data={
                "csrf_token": token,
                "kind": "honour",
                "signer_name": "张三",
                "agree": "true",
                "department_code": "SCMR",
                **HONOUR,
            },
            files=[("evidence", ("证书.pdf", b"<html><script>alert(1)</script>", "application/pdf"))],
        )
        assert html.status_code == 422 and "file.type_not_allowed" in html.text
        assert declare(client, "forged", "honour", HONOUR).status_code == 403
        subject = subjects.get_by_uscc(session, company)
        assert session.scalars(select(Registration).where(Registration.subject_id == subject.id)).all() == []

        # The same account, no longer verified: told why, and refused.
        session.execute(update(User).where(User.subject_id == subject.id).values(verified_at=None))
        session.commit()
        listing = client.get("/account/registrations")
        assert listing.status_code == 200 and "尚未完成身份核验" in listing.text
        assert "/account/registrations/new" not in listing.text
        unverified = declare(client, token, "honour", HONOUR)
        assert unverified.status_code == 403 and "registration.unverified" in unverified.text
        assert client.get("/account/registrations/new", params={"kind": "honour"}).status_code == 403


class TestOthers:
    def test_another_subject_cannot_read_or_amend(
        self, client: TestClient, session: Session, ctx: IngestContext, company: str
    ) -> None:
        token = as_subject(client, session, company)
        registration_id = declared_id(declare(client, token, "financial_summary", FINANCIAL))
        other = a_subject(session, ctx)
        other_token = as_subject(client, session, other)
        assert client.get(f"/account/registrations/{registration_id}").status_code == 404
        assert client.get(f"/account/registrations/{registration_id}/amend").status_code == 404
        assert client.get(f"/account/registrations/{registration_id}/files/1").status_code == 404
        for action in ("withdraw", "amend"):
            response = client.post(
                f"/account/registrations/{registration_id}/{action}",
                data={"csrf_token": other_token, "signer_name": "李四", "agree": "true", **FINANCIAL},
            )
            assert response.status_code == 404
        assert "98765.4" not in client.get("/account/registrations").text
        assert session.get(Registration, registration_id).status == "declared"  # type: ignore[union-attr]

    def test_a_department_confirms_only_its_own_entries(
        self, client: TestClient, session: Session, company: str
    ) -> None:
        token = as_subject(client, session, company)
        honour_id = declared_id(declare(client, token, "honour", HONOUR))
        finance_id = declared_id(declare(client, token, "financial_summary", FINANCIAL))
        client.cookies.clear()
        other = login(client, session, role="reviewer", department_code="SCSW")
        assert f"/console/registrations/{honour_id}" not in client.get("/console/registrations").text
        assert client.get(f"/console/registrations/{honour_id}").status_code == 404
        refused = client.post(
            f"/console/registrations/{honour_id}/decision", data={"csrf_token": other, "event": "confirm"}
        )
        assert refused.status_code == 404
        client.cookies.clear()
        mine = login(client, session, role="reviewer", department_code="SCMR")
        queue = client.get("/console/registrations").text
        assert (
            f"/console/registrations/{honour_id}" in queue
            and f"/console/registrations/{finance_id}" not in queue
        )
        detail = client.get(f"/console/registrations/{honour_id}")
        assert detail.status_code == 200 and "核实无误" in detail.text
        assert session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "registration.view", AuditEntry.target == f"registration:{honour_id}"
            )
        ).first()
        confirmed = client.post(
            f"/console/registrations/{honour_id}/decision",
            data={"csrf_token": mine, "event": "confirm"},
            follow_redirects=False,
        )
        assert confirmed.status_code == 303
        twice = client.post(
            f"/console/registrations/{honour_id}/decision", data={"csrf_token": mine, "event": "confirm"}
        )
        assert twice.status_code == 409 and "registration.illegal_transition" in twice.text
        no_reason = client.post(
            f"/console/registrations/{honour_id}/decision", data={"csrf_token": mine, "event": "find_false"}
        )
        assert no_reason.status_code == 422 and "registration.note_required" in no_reason.text
        long_reason = "经向授予单位函询，该荣誉未见于其公布的名单。" * 100  # over 2000 characters
        too_long = client.post(
            f"/console/registrations/{honour_id}/decision",
            data={"csrf_token": mine, "event": "find_false", "note": long_reason},
        )
        assert too_long.status_code == 422 and "registration.note_too_long" in too_long.text
        assert f">{long_reason}</textarea>" in too_long.text  # what the reviewer typed is not lost
        assert client.get(f"/console/registrations/{finance_id}").status_code == 404
        client.cookies.clear()
        login(client, session, role="provider", department_code="SCMR")
        assert client.get("/console/registrations").status_code == 403


class TestCreditFile:
    def test_public_subject_and_department_views(
        self, client: TestClient, session: Session, company: str
    ) -> None:
        token = as_subject(client, session, company)
        honour_id = declared_id(declare(client, token, "honour", HONOUR))
        finance_id = declared_id(declare(client, token, "financial_summary", FINANCIAL))
        hidden_id = declared_id(declare(client, token, "contacts", CONTACTS))
        shown_id = declared_id(
            declare(client, token, "contacts", {**CONTACTS, "f_contact_name": "孙八"}, publish="true")
        )
        own = client.get(f"/subjects/{company}").text
        assert all(f'data-registration="{i}"' in own for i in (honour_id, finance_id, hidden_id, shown_id))
        client.cookies.clear()
        reviewer = login(client, session, role="reviewer", department_code="SCMR")
        client.post(
            f"/console/registrations/{honour_id}/decision", data={"csrf_token": reviewer, "event": "confirm"}
        )
        client.cookies.clear()
        public = client.get(f"/subjects/{company}").text
        assert "自主申报信息" in public and f'data-registration="{honour_id}"' in public
        assert "已核实" in public and SCMR in public
        assert f'data-registration="{shown_id}"' in public and "孙八" in public
        assert "98765.4" not in public and "028-87776666" in public.replace(
            "孙八", ""
        )  # the chosen contact only
        assert (
            f'data-registration="{finance_id}"' not in public
            and f'data-registration="{hidden_id}"' not in public
        )
        api = client.get(f"/api/v1/subjects/{company}").json()
        assert {r["id"] for r in api["registrations"]} == {honour_id, shown_id}
        confirmed = next(r for r in api["registrations"] if r["id"] == honour_id)
        assert confirmed["status_label"] == "已核实" and confirmed["confirmed_by"] == SCMR
        pending = next(r for r in api["registrations"] if r["id"] == shown_id)
        assert pending["status_label"] == "自主申报" and pending["confirmed_on"] is None
        assert next(s for s in api["sections"] if s["code"] == "registrations")["count"] == 2
        login(client, session, role="reviewer", department_code="SCSW")
        without = client.get(f"/api/v1/subjects/{company}").json()
        assert finance_id not in {r["id"] for r in without["registrations"]}
        with_purpose = client.get(f"/api/v1/subjects/{company}", params={"purpose": "信用贷款审核"}).json()
        assert finance_id in {r["id"] for r in with_purpose["registrations"]}
        assert session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "subject.view", AuditEntry.purpose == "信用贷款审核"
            )
        ).first()
