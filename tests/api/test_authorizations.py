"""Authorisations (授权): a verified subject lets a named organisation (agency, bank) read its non-public file
or obtain its credit report, for a purpose, until a day; revocable at once; every read under one audited and
shown in the subject's 查询记录. What an organisation sees without one, after revocation or expiry: the public."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.api.test_credit_file import company, load, subject_id
from tests.conftest import TODAY
from tests.helpers import PASSWORD, csrf, login, penalty, resident_id, uscc
from xinyong.accounts import auth
from xinyong.accounts.models import User
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.authorizations import rules
from xinyong.authorizations import service as authorizations
from xinyong.creditfile import service as credit_files
from xinyong.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyong.platform import Platform
from xinyong.reports import service as reports
from xinyong.subjects import service as subjects

OLD = "2019-03-01"  # a penalty decided then is past its publicity window: in the file, not public


def hidden_company(client: TestClient, session: Session, **overrides: Any) -> str:
    """A company with one public penalty and one past its publicity window (non-public); its USCC."""
    code = company(client, session, **overrides)
    load(client, session, "CF", [penalty(CF_XDR_SHXYM=code, CF_JDRQ=OLD, CF_WSH="川市监罚〔2019〕7号")])
    return code


def owner(session: Session, sid: int, *, verified: bool = True) -> Principal:
    user = auth.create_user(
        session,
        username=f"owner-{sid}-{verified}",
        password=PASSWORD,
        role="subject",
        subject_id=sid,
        display_name="主体用户",
    )
    if not verified:
        user.verified_at = None
    return auth.principal_for_user(user)


def organization_user(session: Session, org_id: int, role: str = "agency") -> Principal:
    user = auth.create_user(
        session, username=f"{role}-{org_id}", password=PASSWORD, role=role, subject_id=org_id
    )
    return auth.principal_for_user(user)


def grant(platform: Platform, session: Session, who: Principal, org: str, **overrides: Any) -> Any:
    args: dict[str, Any] = {
        "organization_uscc": org,
        "scopes": [rules.FILE_READ],
        "purpose_kind": "credit_approval",
        "purpose": "申请流动资金贷款",
        "valid_until": TODAY + dt.timedelta(days=90),
        **overrides,
    }
    return authorizations.grant(session, platform.context(who, TODAY), **args)


def switch(client: TestClient, username: str) -> str:
    """Log this browser in as an existing user; the form token of the new session."""
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf(client)


@pytest.fixture
def parties(client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A company with a non-public record and its verified account; an agency and a bank with accounts.
    Passwords are hashed once (argon2 is slow by design)."""
    monkeypatch.setattr(auth, "hash_password", functools.cache(auth.hash_password))
    code = hidden_company(client, session, CF_XDR_MC="成都授权测试有限公司")
    sid = subject_id(session, code)
    agency_code, bank_code = company(client, session), company(client, session)
    agency_id, bank_id = subject_id(session, agency_code), subject_id(session, bank_code)
    found = {
        "code": code,
        "sid": sid,
        "owner": owner(session, sid),
        "agency_code": agency_code,
        "bank_code": bank_code,
        "agency": organization_user(session, agency_id),
        "bank": organization_user(session, bank_id, "bank"),
    }
    session.commit()
    return found


def api_file(client: TestClient, code: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/subjects/{code}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


class TestGrantAndRevoke:
    def test_states_are_computed_from_the_day_and_revocation(
        self, platform: Platform, session: Session, parties: dict[str, Any]
    ) -> None:
        made = grant(platform, session, parties["owner"], parties["agency_code"])
        assert authorizations.state_of(made, TODAY) == rules.ACTIVE
        assert authorizations.state_of(made, made.valid_until) == rules.ACTIVE  # its last day still counts
        assert authorizations.state_of(made, made.valid_until + dt.timedelta(days=1)) == rules.EXPIRED
        agency = parties["agency"]
        assert authorizations.check(session, agency, parties["sid"], rules.FILE_READ, TODAY) == made
        later = made.valid_until + dt.timedelta(days=1)  # no job ran: an expired one grants nothing
        assert authorizations.check(session, agency, parties["sid"], rules.FILE_READ, later) is None
        authorizations.revoke(session, platform.context(parties["owner"], TODAY), made.id)
        assert authorizations.state_of(made, TODAY) == rules.REVOKED
        assert authorizations.check(session, agency, parties["sid"], rules.FILE_READ, TODAY) is None
        with pytest.raises(Conflict):
            authorizations.revoke(session, platform.context(parties["owner"], TODAY), made.id)
        actions = [
            e.action
            for e in session.scalars(select(AuditEntry).where(AuditEntry.subject_id == parties["sid"]))
        ]
        assert "authorization.grant" in actions and "authorization.revoke" in actions

    def test_scope_limits_what_an_authorisation_allows(
        self, platform: Platform, session: Session, parties: dict[str, Any]
    ) -> None:
        grant(platform, session, parties["owner"], parties["agency_code"], scopes=[rules.FILE_READ])
        grant(platform, session, parties["owner"], parties["bank_code"], scopes=[rules.REPORTS_ISSUE])
        sid = parties["sid"]
        assert authorizations.check(session, parties["agency"], sid, rules.REPORTS_ISSUE, TODAY) is None
        assert authorizations.check(session, parties["bank"], sid, rules.FILE_READ, TODAY) is None
        assert authorizations.check(session, parties["bank"], sid, rules.REPORTS_ISSUE, TODAY) is not None
        # The bank reads the file as the public does (a report needs reports:issue, a read file:read).
        file = credit_files.credit_file(session, platform.catalog, parties["bank"], sid, TODAY)
        assert file.view == "public" and len(file.records) == 1
        context = reports.report_context(platform.settings, platform.catalog, platform.signer)
        with pytest.raises(Forbidden):  # file:read is no licence to obtain a report
            reports.issue(session, context, parties["agency"], subject_id=sid, kind="standard", today=TODAY)

    def test_bad_input_is_refused_with_its_reason(
        self, platform: Platform, session: Session, parties: dict[str, Any]
    ) -> None:
        who, org = parties["owner"], parties["agency_code"]
        cases: dict[str, dict[str, Any]] = {
            "authorizations.past_date": {"valid_until": TODAY - dt.timedelta(days=1)},
            "authorizations.too_long": {"valid_until": TODAY + dt.timedelta(days=400)},
            "authorizations.unknown_organization": {"organization_uscc": uscc()},
            "authorizations.invalid_uscc": {"organization_uscc": "91510100MA000000XX"},
            "authorizations.own": {"organization_uscc": parties["code"]},
            "authorizations.purpose_too_long": {"purpose": "贷" * 201},
            "authorizations.purpose_required": {"purpose": "  "},
            "authorizations.unknown_purpose_kind": {"purpose_kind": "gambling"},
            "authorizations.scopes_required": {"scopes": []},
            "authorizations.unknown_scope": {"scopes": ["records:write"]},
        }
        for code, overrides in cases.items():
            with pytest.raises(ValidationFailed) as refused:
                grant(platform, session, who, org, **overrides)
            assert refused.value.code == code, code
        assert authorizations.of_subject(session, parties["sid"]) == []  # nothing half-made

    def test_only_a_verified_subject_grants_and_only_for_itself(
        self, platform: Platform, session: Session, parties: dict[str, Any]
    ) -> None:
        unverified = owner(session, parties["sid"], verified=False)
        with pytest.raises(Forbidden) as refused:
            grant(platform, session, unverified, parties["agency_code"])
        assert refused.value.code == "authorizations.unverified"
        with pytest.raises(Forbidden):
            grant(platform, session, parties["agency"], parties["bank_code"])  # an organisation cannot
        made = grant(platform, session, parties["owner"], parties["agency_code"])
        other = owner(session, subject_id(session, parties["bank_code"]))
        with pytest.raises(NotFound):  # another subject's authorisation does not exist for it
            authorizations.revoke(session, platform.context(other, TODAY), made.id)
        assert made.revoked_at is None
        # What another subject grants is its own: the agency gets nothing of the first company from it.
        grant(platform, session, other, parties["agency_code"])
        assert (
            authorizations.check(session, parties["agency"], parties["sid"], rules.FILE_READ, TODAY) == made
        )

    def test_a_natural_person_may_not_authorise_reports(
        self, client: TestClient, platform: Platform, session: Session, parties: dict[str, Any]
    ) -> None:
        rid = resident_id()
        load(client, session, "CF", [penalty(CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJHM=rid)])
        person = subjects.find_person(session, platform.cipher.hash(rid))
        assert person is not None
        who = owner(session, person.id)
        with pytest.raises(ValidationFailed) as refused:
            grant(platform, session, who, parties["agency_code"], scopes=[rules.REPORTS_ISSUE])
        assert refused.value.code == "authorizations.personal_report"
        made = grant(platform, session, who, parties["agency_code"])
        (shown,) = authorizations.views(session, [made], TODAY)
        assert shown.subject_id_masked and rid not in repr(shown)  # an organisation sees the ID masked
        assert shown.subject_id_masked[:4] == rid[:4]


class TestReadingUnderAnAuthorisation:
    def test_the_agency_reads_the_whole_file_audited_and_nothing_after_revocation(
        self, client: TestClient, platform: Platform, session: Session, parties: dict[str, Any]
    ) -> None:
        code, sid = parties["code"], parties["sid"]
        made = grant(platform, session, parties["owner"], parties["agency_code"])
        session.commit()
        switch(client, parties["agency"].name)
        assert len(api_file(client, code)["records"]) == 2  # the public one and the one past its window
        page = client.get(f"/subjects/{code}").text
        assert 'id="authorized-view"' in page and "川市监罚〔2019〕7号" in page
        (entry,) = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "subject.view_authorized", AuditEntry.subject_id == sid
            )
        ).all()[:1]
        assert entry.actor == parties["agency"].name
        assert entry.details and entry.details["authorization_id"] == made.id
        assert entry.details["organization_uscc"] == parties["agency_code"]
        assert entry.purpose == "信贷审批：申请流动资金贷款"
        assert "subject.view_authorized" in [e.action for e in audit.views_of_subject(session, sid)]
        # The subject sees the organisation's name and the purpose in its 查询记录.
        switch(client, parties["owner"].name)
        account = client.get("/account").text
        organization = subjects.get_by_uscc(session, parties["agency_code"]).name
        assert organization in account and "申请流动资金贷款" in account
        token = csrf(client)
        revoked = client.post(
            f"/account/authorizations/{made.id}/revoke", data={"csrf_token": token}, follow_redirects=False
        )
        assert revoked.status_code == 303
        switch(client, parties["agency"].name)
        assert len(api_file(client, code)["records"]) == 1  # the public one only
        page = client.get(f"/subjects/{code}").text
        assert 'id="authorized-view"' not in page and "川市监罚〔2019〕7号" not in page
        assert client.post("/api/v1/reports", json={"subject": {"uscc": code}}).status_code == 403

    def test_an_organisation_without_an_authorisation_sees_only_public_data(
        self, client: TestClient, platform: Platform, session: Session, parties: dict[str, Any]
    ) -> None:
        grant(platform, session, parties["owner"], parties["agency_code"])
        session.commit()
        switch(client, parties["bank"].name)
        assert len(api_file(client, parties["code"])["records"]) == 1
        assert "川市监罚〔2019〕7号" not in client.get(f"/subjects/{parties['code']}").text
        assert client.post("/api/v1/reports", json={"subject": {"uscc": parties["code"]}}).status_code == 403
        assert "成都授权测试有限公司" not in client.get("/account/authorized").text

    def test_an_expired_authorisation_gives_nothing(
        self, client: TestClient, platform: Platform, session: Session, parties: dict[str, Any]
    ) -> None:
        earlier = platform.context(parties["owner"], TODAY - dt.timedelta(days=40))
        authorizations.grant(
            session,
            earlier,
            organization_uscc=parties["agency_code"],
            scopes=[rules.FILE_READ, rules.REPORTS_ISSUE],
            purpose_kind="leasing",
            purpose="设备租赁",
            valid_until=TODAY - dt.timedelta(days=1),
        )
        session.commit()
        switch(client, parties["agency"].name)
        assert len(api_file(client, parties["code"])["records"]) == 1
        assert client.post("/api/v1/reports", json={"subject": {"uscc": parties["code"]}}).status_code == 403
        page = client.get("/account/authorized").text
        assert "已过期" in page and "出具信用报告</button>" not in page

    def test_the_bank_issues_a_report_under_its_authorisation_shown_to_the_subject(
        self, client: TestClient, platform: Platform, session: Session, parties: dict[str, Any]
    ) -> None:
        made = grant(platform, session, parties["owner"], parties["bank_code"], scopes=[rules.REPORTS_ISSUE])
        session.commit()
        token = switch(client, parties["bank"].name)
        page = client.get("/account/authorized").text
        assert "成都授权测试有限公司" in page and f"/account/authorized/{made.id}/report" in page
        assert f'href="/subjects/{parties["code"]}"' not in page  # no file:read, no link to the file
        issued = client.post(
            f"/account/authorized/{made.id}/report", data={"csrf_token": token}, follow_redirects=False
        )
        assert issued.status_code == 303, issued.text
        pdf = client.get(issued.headers["location"])
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        number = issued.headers["location"].rsplit("/", 1)[1].removesuffix(".pdf")
        assert client.get(f"/api/v1/reports/{number}.pdf").content == pdf.content  # the API too, meanwhile
        logged = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "report.issue", AuditEntry.subject_id == parties["sid"]
            )
        ).one()
        assert logged.purpose == "信贷审批：申请流动资金贷款" and logged.details
        assert logged.details["authorization_id"] == made.id
        authorizations.revoke(session, platform.context(parties["owner"], TODAY), made.id)
        session.commit()
        assert client.get(issued.headers["location"]).status_code == 404  # nothing after revocation
        number = issued.headers["location"].rsplit("/", 1)[1].removesuffix(".pdf")
        assert client.get(f"/api/v1/reports/{number}.pdf").status_code == 404
        assert client.get(f"/api/v1/reports/{number}").status_code == 404
        again = client.post(
            f"/account/authorized/{made.id}/report", data={"csrf_token": token}, follow_redirects=False
        )
        assert again.status_code == 303 and again.headers["location"] == "/account/authorized"

    def test_a_natural_persons_file_reaches_the_agency_with_the_id_masked_and_not_after_revocation(
        self, client: TestClient, platform: Platform, session: Session, parties: dict[str, Any]
    ) -> None:
        rid = resident_id()
        person_row = {"CF_XDR_LB": "自然人", "CF_XDR_SHXYM": "", "CF_XDR_ZJHM": rid, "CF_XDR_MC": "钱七"}
        load(client, session, "CF", [penalty(**person_row, CF_JDRQ=OLD, CF_WSH="川市监罚〔2019〕8号")])
        person = subjects.find_person(session, platform.cipher.hash(rid))
        assert person is not None
        who = owner(session, person.id)
        made = grant(platform, session, who, parties["agency_code"])
        session.commit()
        switch(client, parties["agency"].name)
        link = f"/account/authorized/{made.id}/file"
        listing = client.get("/account/authorized").text
        assert link in listing and rid not in listing and f"公民身份号码 {person.id_masked}" in listing
        page = client.get(link)
        assert page.status_code == 200 and 'id="authorized-view"' in page.text
        assert "川市监罚〔2019〕8号" in page.text and "钱七" in page.text
        assert rid not in page.text and person.id_masked and person.id_masked in page.text
        logged = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "subject.view_authorized", AuditEntry.subject_id == person.id
            )
        ).all()
        assert len(logged) == 1 and logged[0].details and logged[0].details["authorization_id"] == made.id
        authorizations.revoke(session, platform.context(who, TODAY), made.id)
        session.commit()
        assert client.get(link).status_code == 404
        other = client.get(f"/account/authorized/{made.id + 1000}/file")
        assert other.status_code == 404


class TestPages:
    def test_the_subject_grants_and_revokes_on_its_page(
        self, client: TestClient, session: Session, parties: dict[str, Any]
    ) -> None:
        token = switch(client, parties["owner"].name)
        page = client.get("/account/authorizations").text
        assert "授权管理" in page and "信贷审批" in page
        form = {
            "csrf_token": token,
            "organization": parties["agency_code"].lower(),
            "scopes": [rules.FILE_READ, rules.REPORTS_ISSUE],
            "purpose_kind": "bidding",
            "purpose": "参加招标资格审查",
            "valid_until": (TODAY + dt.timedelta(days=30)).isoformat(),
        }
        done = client.post("/account/authorizations", data=form)
        assert done.status_code == 200 and "已授权" in done.text and "参加招标资格审查" in done.text
        (made,) = authorizations.of_subject(session, parties["sid"])
        assert made.scopes == [rules.FILE_READ, rules.REPORTS_ISSUE]
        refused = client.post("/account/authorizations", data={**form, "valid_until": "2020-01-01"})
        assert "授权截止日期不能早于今天" in refused.text and "authorizations.past_date" in refused.text
        no_csrf = client.post(f"/account/authorizations/{made.id}/revoke", data={}, follow_redirects=False)
        assert no_csrf.status_code == 403 and made.revoked_at is None
        client.post(f"/account/authorizations/{made.id}/revoke", data={"csrf_token": token})
        session.expire_all()
        assert authorizations.of_subject(session, parties["sid"])[0].revoked_at is not None
        assert re.search(r"已撤销</span>", client.get("/account/authorizations").text)

    def test_an_organisation_may_not_open_the_subject_page_nor_a_subject_the_organisation_page(
        self, client: TestClient, session: Session, parties: dict[str, Any]
    ) -> None:
        switch(client, parties["agency"].name)
        assert client.get("/account/authorizations", follow_redirects=False).status_code == 403
        assert client.get("/account/authorized").status_code == 200
        switch(client, parties["owner"].name)
        assert client.get("/account/authorized", follow_redirects=False).status_code == 403
        unbound = login(client, session, role="bank", department_code=None)
        assert unbound and 'id="unbound"' in client.get("/account/authorized").text


class TestOrganisationAccounts:
    def test_the_credit_office_opens_a_bank_account_bound_to_its_organisation(
        self, client: TestClient, platform: Platform, session: Session, parties: dict[str, Any]
    ) -> None:
        token = login(client, session, role="credit_office", department_code="SCFGW")
        form = {
            "csrf_token": token,
            "username": "bank-clerk",
            "display_name": "银行用户",
            "password": PASSWORD,
            "role": "bank",
        }
        refused = client.post("/console/users", data=form, follow_redirects=False)
        assert refused.status_code == 422 and "user.organization_required" in refused.text
        made = client.post(
            "/console/users", data={**form, "organization": parties["bank_code"]}, follow_redirects=False
        )
        assert made.status_code == 303, made.text
        user = session.scalars(select(User).where(User.username == "bank-clerk")).one()
        principal = auth.principal_for_user(user)
        assert principal.organization_id == subject_id(session, parties["bank_code"])
        assert principal.subject_id is None  # it reads no file as its own, not even its organisation's
        file = credit_files.credit_file(
            session, platform.catalog, principal, principal.organization_id, TODAY
        )
        assert file.view == "public"
