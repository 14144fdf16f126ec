"""The mobile channel (`/api/v1/me`): a subject account's short-lived bearer token obtained by login, its expiry
and revocation, who may not use the routes (a department system's token, the subject's own browser session),
own data only, the actions through the same services and audit as the pages, bad input that loses nothing, a
natural person's ID never in clear, and the OpenAPI documentation with examples."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tests.api.test_authorizations import grant, hidden_company
from tests.api.test_credit_file import company, load, subject_id
from tests.conftest import TODAY
from tests.helpers import PASSWORD, bearer, csrf, department, penalty, resident_id
from xinyong.accounts import auth, mobile
from xinyong.accounts.models import LoginAttempt, User, WebSession
from xinyong.app import create_app
from xinyong.audit.models import AuditEntry
from xinyong.commitments.models import Commitment
from xinyong.config import Settings
from xinyong.notices import service as notices
from xinyong.platform import Platform
from xinyong.registration.models import Registration
from xinyong.subjects import service as subjects

ME = "/api/v1/me"


def account(session: Session, username: str, sid: int | None, *, verified: bool = True, **kw: Any) -> User:
    user = auth.create_user(
        session,
        username=username,
        password=PASSWORD,
        role=kw.pop("role", "subject"),
        subject_id=sid,
        display_name=kw.pop("display_name", "主体用户"),
        **kw,
    )
    if not verified:
        user.verified_at = None
    return user


def mobile_login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post(f"{ME}/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]  # type: ignore[no-any-return]


def audits(session: Session, action: str, **where: Any) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == action)
    for name, value in where.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return list(session.scalars(query.order_by(AuditEntry.id)).all())


@pytest.fixture
def world(client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Company A (a public penalty and one past its window) with a verified account, company B with its own,
    an unverified account bound to A, and an agency organisation. Passwords are hashed and checked with the
    same argon2id at its smallest cost (the cost is argon2's, not what these tests are about)."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    department(session, "SCMR", "四川省市场监督管理局")
    code_a = hidden_company(client, session, CF_XDR_MC="成都移动测试有限公司")
    code_b = company(client, session, CF_XDR_MC="成都他人测试有限公司")
    agency = company(client, session, CF_XDR_MC="四川移动测试信用评估有限公司")
    sid_a, sid_b = subject_id(session, code_a), subject_id(session, code_b)
    account(session, "mobile-a", sid_a)
    account(session, "mobile-b", sid_b)
    account(session, "mobile-unverified", sid_a, verified=False)
    session.commit()
    return {"a": code_a, "b": code_b, "sid_a": sid_a, "sid_b": sid_b, "agency": agency}


class TestLogin:
    def test_login_gives_a_short_lived_bearer_token_and_is_audited(
        self, client: TestClient, session: Session, world: dict[str, Any]
    ) -> None:
        response = client.post(f"{ME}/login", json={"username": "mobile-a", "password": PASSWORD})
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in"}
        assert body["token_type"] == "bearer" and body["expires_in"] == 900
        assert body["access_token"].startswith("xym_")
        assert "set-cookie" not in response.headers  # a bearer token, not a cookie
        row = session.get(WebSession, mobile.session_id(body["access_token"]))
        assert row is not None and row.expires_at - row.created_at == dt.timedelta(minutes=15)
        assert session.get(WebSession, auth._sha256(body["access_token"])) is None
        me = client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"}).json()
        assert me["verified"] is True and me["role"] == "subject"
        assert me["subject"]["uscc"] == world["a"] and me["subject"]["name"] == "成都移动测试有限公司"
        (entry,) = audits(session, "auth.login", actor="mobile-a")
        assert entry.outcome == "ok" and entry.details == {"channel": "mobile"}

    def test_an_unverified_account_gets_a_token_and_sees_only_what_the_public_sees(
        self, client: TestClient, world: dict[str, Any]
    ) -> None:
        headers = mobile_login(client, "mobile-unverified")
        me = client.get(ME, headers=headers).json()
        assert me["verified"] is False and me["subject"] is None
        for path in ("/file", "/viewers", "/notices", "/commitments", "/registrations", "/authorizations"):
            refused = client.get(ME + path, headers=headers)
            assert (refused.status_code, error_code(refused)) == (403, "auth.forbidden"), path
        public = client.get(f"/api/v1/subjects/{world['a']}", headers=headers).json()
        assert len(public["records"]) == 1  # the penalty past its window stays hidden

    def test_bad_passwords_are_audited_and_throttled_like_the_web_login(
        self, client: TestClient, session: Session, world: dict[str, Any]
    ) -> None:
        for _ in range(auth.FREE_FAILURES):
            wrong = client.post(f"{ME}/login", json={"username": "mobile-a", "password": "wrong-guess-1"})
            assert (wrong.status_code, error_code(wrong)) == (401, "auth.invalid_credentials")
            assert "access_token" not in wrong.text
        blocked = client.post(f"{ME}/login", json={"username": "mobile-a", "password": PASSWORD})
        assert (blocked.status_code, error_code(blocked)) == (403, "auth.throttled")
        failed = audits(session, "auth.login", actor="mobile-a", outcome="failed")
        assert [e.details["code"] for e in failed if e.details] == ["auth.invalid_credentials"] * 5 + [
            "auth.throttled"
        ]
        assert all(e.details and e.details["channel"] == "mobile" for e in failed)
        attempts = session.scalar(
            select(func.count(LoginAttempt.id)).where(
                LoginAttempt.username == "mobile-a", LoginAttempt.success.is_(False)
            )
        )
        assert attempts == auth.FREE_FAILURES  # kept although each request failed

    def test_only_subject_accounts_and_no_demo_account_outside_demo_mode(
        self,
        client: TestClient,
        session: Session,
        platform: Platform,
        world: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        account(session, "mobile-clerk", None, role="provider", department_code="SCMR")
        account(session, "mobile-agency", subject_id(session, world["agency"]), role="agency")
        account(session, "mobile-demo", world["sid_b"], is_demo=True)
        session.commit()
        for name in ("mobile-clerk", "mobile-agency"):
            refused = client.post(f"{ME}/login", json={"username": name, "password": PASSWORD})
            assert (refused.status_code, error_code(refused)) == (403, "me.subject_accounts_only")
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0
        mobile_login(client, "mobile-demo")  # demo mode (the default) lets a demo account in
        monkeypatch.setattr(platform.settings, "demo_mode", False)
        refused = client.post(f"{ME}/login", json={"username": "mobile-demo", "password": PASSWORD})
        assert (refused.status_code, error_code(refused)) == (403, "auth.demo_account")

    def test_malformed_login_bodies_are_refused_clearly(self, client: TestClient) -> None:
        for body in ({}, {"username": "x"}, {"username": "x", "password": "y", "extra": 1}, [1]):
            refused = client.post(f"{ME}/login", json=body)
            assert (refused.status_code, error_code(refused)) == (422, "request.invalid")


class TestTokenLifetime:
    def test_an_expired_token_is_refused(
        self, client: TestClient, session: Session, world: dict[str, Any]
    ) -> None:
        headers = mobile_login(client, "mobile-a")
        token = headers["Authorization"].removeprefix("Bearer ")
        assert client.get(ME, headers=headers).status_code == 200
        session.execute(
            update(WebSession)
            .where(WebSession.id == mobile.session_id(token))
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        session.commit()
        expired = client.get(ME, headers=headers)
        assert (expired.status_code, error_code(expired)) == (401, "auth.invalid_token")

    def test_logout_revokes_the_token_at_once_and_is_audited(
        self, client: TestClient, session: Session, world: dict[str, Any]
    ) -> None:
        headers = mobile_login(client, "mobile-a")
        other = mobile_login(client, "mobile-a")  # a second device keeps its own token
        assert client.post(f"{ME}/logout", headers=headers).status_code == 204
        for response in (client.get(ME, headers=headers), client.post(f"{ME}/logout", headers=headers)):
            assert (response.status_code, error_code(response)) == (401, "auth.invalid_token")
        assert client.get(ME, headers=other).status_code == 200
        (entry,) = audits(session, "auth.logout", actor="mobile-a")
        assert entry.details == {"channel": "mobile"}

    def test_a_disabled_account_loses_its_tokens(
        self, client: TestClient, session: Session, world: dict[str, Any]
    ) -> None:
        headers = mobile_login(client, "mobile-b")
        user = session.scalars(select(User).where(User.username == "mobile-b")).one()
        auth.set_active(session, user.id, False, department_code=None)
        session.commit()
        assert client.get(ME, headers=headers).status_code == 401


class TestWhoMayUseTheMobileRoutes:
    def test_a_department_token_cannot_use_them(
        self, client: TestClient, session: Session, world: dict[str, Any]
    ) -> None:
        headers = bearer(session, "SCMR", ("subjects:read", "commitments:write"))
        for method, path in (("GET", ""), ("GET", "/file"), ("POST", "/commitments"), ("POST", "/logout")):
            refused = client.request(method, ME + path, headers=headers, json={})
            assert (refused.status_code, error_code(refused)) == (403, "auth.forbidden"), path

    def test_the_subjects_browser_session_cannot_use_them_even_with_its_csrf_token(
        self, client: TestClient, world: dict[str, Any]
    ) -> None:
        client.post("/login", data={"username": "mobile-a", "password": PASSWORD, "csrf_token": csrf(client)})
        token = csrf(client)
        assert client.get("/account").status_code == 200  # the cookie session is a real one
        for method, path in (("GET", ""), ("GET", "/file"), ("POST", "/authorizations")):
            refused = client.request(
                method, ME + path, json={"csrf_token": token}, headers={"X-CSRF-Token": token}
            )
            assert (refused.status_code, error_code(refused)) == (403, "auth.forbidden"), path

    def test_a_mobile_token_opens_no_other_route_and_is_no_cookie(
        self, client: TestClient, world: dict[str, Any]
    ) -> None:
        headers = mobile_login(client, "mobile-a")
        assert client.get("/account", headers=headers).status_code == 403
        assert client.get("/account/commitments", headers=headers).status_code == 403
        assert client.get("/api/v1/subjects", headers=headers).status_code == 200  # public routes stay open
        client.cookies.set(auth.SESSION_COOKIE, headers["Authorization"].removeprefix("Bearer "))
        response = client.get("/account", follow_redirects=False)
        assert response.status_code in (302, 303, 401)  # anonymous: the token is no session cookie
        client.cookies.clear()
        forged = {"Authorization": "Bearer xym_" + "A" * 43}
        assert error_code(client.get(ME, headers=forged)) == "auth.invalid_token"


class TestOwnDataOnly:
    def test_my_file_is_my_whole_file_in_the_subject_apis_shape_and_audited(
        self, client: TestClient, session: Session, world: dict[str, Any]
    ) -> None:
        headers = mobile_login(client, "mobile-a")
        mine = client.get(f"{ME}/file", headers=headers)
        assert mine.status_code == 200, mine.text
        body = mine.json()
        assert body["uscc"] == world["a"] and len(body["records"]) == 2
        public = client.get(f"/api/v1/subjects/{world['a']}").json()
        assert set(body) == set(public) and len(public["records"]) == 1
        (entry,) = audits(session, "subject.view_own", actor="mobile-a")
        assert entry.subject_id == world["sid_a"]

    def test_a_token_reaches_no_other_subjects_data(
        self, client: TestClient, session: Session, platform: Platform, world: dict[str, Any]
    ) -> None:
        b_user = session.scalars(select(User).where(User.username == "mobile-b")).one()
        b_principal = auth.principal_for_user(b_user)
        theirs = grant(platform, session, b_principal, world["agency"])
        session.commit()
        headers = mobile_login(client, "mobile-a")
        assert client.get(f"{ME}/authorizations", headers=headers).json() == []
        refused = client.post(f"{ME}/authorizations/{theirs.id}/revoke", headers=headers)
        assert (refused.status_code, error_code(refused)) == (404, "authorizations.not_found")
        session.refresh(theirs)
        assert theirs.revoked_at is None
        assert client.get(f"{ME}/file", headers=headers).json()["uscc"] == world["a"]
        b_headers = mobile_login(client, "mobile-b")
        (shown,) = client.get(f"{ME}/authorizations", headers=b_headers).json()
        assert shown["id"] == theirs.id and shown["state"] == "active"


class TestActions:
    def test_sign_a_commitment_and_bad_input_loses_nothing(
        self, client: TestClient, session: Session, world: dict[str, Any]
    ) -> None:
        headers = mobile_login(client, "mobile-a")
        offered = {t["code"]: t for t in client.get(f"{ME}/commitments/templates", headers=headers).json()}
        assert set(offered) == {"notify_commit", "licence_commit", "voluntary_commit", "industry_commit"}
        notify = offered["notify_commit"]
        assert (
            notify["legal_basis"]
            and "成都移动测试有限公司" in notify["text"]
            and world["a"] in notify["text"]
        )
        assert {"department": "SCMR", "name": "食品经营许可申请中的经营场所合法使用证明"} in notify["matters"]
        body = {"template": "notify_commit", "matter": "SCMR-P-001", "signer_name": "张三", "agree": True}
        signed = client.post(f"{ME}/commitments", headers=headers, json=body)
        assert signed.status_code == 201, signed.text
        made = signed.json()
        assert made["matter"] == "食品经营许可申请中的经营场所合法使用证明"
        assert made["department_code"] == "SCMR" and made["status"] == "verifying"
        assert made["public_url"] == f"/commitments/{made['commitment_id']}" and "张三" in made["text"]
        assert [c["commitment_id"] for c in client.get(f"{ME}/commitments", headers=headers).json()] == [
            made["commitment_id"]
        ]
        (entry,) = audits(session, "commitment.sign", actor="mobile-a")
        assert entry.subject_id == world["sid_a"]
        bad = {
            "commitment.not_agreed": body | {"agree": False},
            "commitment.unknown_template": body | {"template": "nope"},
            "commitment.not_online_template": body | {"template": "registration_truth"},
            "commitment.matter_not_in_catalogue": body | {"matter": "不在目录中的事项"},
            "commitment.signer_required": body | {"signer_name": " "},
            "commitment.unknown_department": body | {"template": "voluntary_commit", "department": "NOPE"},
        }
        for code, payload in bad.items():
            refused = client.post(f"{ME}/commitments", headers=headers, json=payload)
            assert refused.status_code in (404, 422) and error_code(refused) == code, refused.text
        count = select(func.count(Commitment.id)).where(Commitment.subject_id == world["sid_a"])
        assert session.scalar(count) == 1

    def test_register_information_and_bad_input_loses_nothing(
        self, client: TestClient, session: Session, world: dict[str, Any]
    ) -> None:
        headers = mobile_login(client, "mobile-a")
        kinds = {k["code"]: k for k in client.get(f"{ME}/registrations/kinds", headers=headers).json()}
        assert kinds["honour"]["confirmer"] == "issuer" and kinds["honour"]["source"]
        assert "awarded_on" in [f["name"] for f in kinds["honour"]["fields"]]
        body = {
            "kind": "honour",
            "fields": {
                "name": "四川省守合同重信用企业",
                "issuer_name": "四川省市场监督管理局",
                "awarded_on": "2026-03-15",
                "level": "省级",
            },
            "department_code": "SCMR",
            "signer_name": "张三",
            "agree": True,
        }
        declared = client.post(f"{ME}/registrations", headers=headers, json=body)
        assert declared.status_code == 201, declared.text
        assert (
            declared.json()["status"] == "declared" and declared.json()["title"] == "四川省守合同重信用企业"
        )
        (listed,) = client.get(f"{ME}/registrations", headers=headers).json()
        assert listed["id"] == declared.json()["id"]
        assert audits(session, "registration.declare", actor="mobile-a")
        for code, payload in {
            "registration.unknown_kind": body | {"kind": "award"},
            "registration.commitment_not_agreed": body | {"agree": False},
            "registration.department_required": body | {"department_code": ""},
        }.items():
            refused = client.post(f"{ME}/registrations", headers=headers, json=payload)
            assert (refused.status_code, error_code(refused)) == (422, code), refused.text
        missing = client.post(
            f"{ME}/registrations", headers=headers, json=body | {"fields": {"level": "省级"}}
        )
        assert missing.status_code == 422
        count = select(func.count(Registration.id)).where(Registration.subject_id == world["sid_a"])
        assert session.scalar(count) == 1

    def test_authorise_and_revoke(self, client: TestClient, session: Session, world: dict[str, Any]) -> None:
        headers = mobile_login(client, "mobile-a")
        body = {
            "organization_uscc": world["agency"],
            "scopes": ["file:read"],
            "purpose_kind": "credit_approval",
            "purpose": "申请流动资金贷款",
            "valid_until": (TODAY + dt.timedelta(days=60)).isoformat(),
        }
        made = client.post(f"{ME}/authorizations", headers=headers, json=body)
        assert made.status_code == 201, made.text
        assert made.json()["state"] == "active" and made.json()["organization_uscc"] == world["agency"]
        found = audits(session, "authorization.grant", actor="mobile-a")
        assert found and found[0].subject_id == world["sid_a"]
        refused = client.post(
            f"{ME}/authorizations", headers=headers, json=body | {"organization_uscc": "123"}
        )
        assert (refused.status_code, error_code(refused)) == (422, "authorizations.invalid_uscc")
        too_long = body | {"valid_until": (TODAY + dt.timedelta(days=400)).isoformat()}
        assert client.post(f"{ME}/authorizations", headers=headers, json=too_long).status_code == 422
        assert len(client.get(f"{ME}/authorizations", headers=headers).json()) == 1
        path = f"{ME}/authorizations/{made.json()['id']}/revoke"
        revoked = client.post(path, headers=headers)
        assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
        again = client.post(path, headers=headers)
        assert (again.status_code, error_code(again)) == (409, "authorizations.already_revoked")
        assert audits(session, "authorization.revoke", actor="mobile-a")

    def test_who_viewed_my_file_and_my_notices(
        self, client: TestClient, session: Session, world: dict[str, Any]
    ) -> None:
        read = client.get(
            f"/api/v1/subjects/{world['a']}",
            params={"purpose": "食品经营许可审查"},
            headers=bearer(session, "SCMR", ("subjects:read",)),
        )
        assert read.status_code == 200
        notices.send(session, kind="test_notice", ref="mobile:1", title="测试通知", subject_id=world["sid_a"])
        notices.send(session, kind="test_notice", ref="mobile:2", title="他人通知", subject_id=world["sid_b"])
        session.commit()
        headers = mobile_login(client, "mobile-a")
        (viewer,) = client.get(f"{ME}/viewers", headers=headers).json()
        assert viewer["department_name"] == "四川省市场监督管理局"
        assert viewer["purpose"] == "食品经营许可审查" and viewer["action_label"]
        inbox = client.get(f"{ME}/notices", headers=headers).json()
        titles = [n["title"] for n in inbox["items"]]  # the repair notices of its penalties too
        assert "测试通知" in titles and "他人通知" not in titles
        assert inbox["unread"] == sum(n["read_at"] is None for n in inbox["items"]) >= 1
        assert client.get(ME, headers=headers).json()["unread_notices"] == inbox["unread"]


class TestMasking:
    def test_a_natural_persons_id_is_never_in_clear_in_any_me_answer(
        self, client: TestClient, session: Session, platform: Platform, world: dict[str, Any]
    ) -> None:
        rid = resident_id()
        load(client, session, "CF", [penalty(CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJHM=rid)])
        person = subjects.find_person(session, platform.cipher.hash(rid))
        assert person is not None
        account(session, "mobile-person", person.id)
        session.commit()
        headers = mobile_login(client, "mobile-person")
        signed = client.post(
            f"{ME}/commitments",
            headers=headers,
            json={"template": "voluntary_commit", "matter": "诚信经营", "signer_name": "赵六", "agree": True},
        )
        assert signed.status_code == 201, signed.text
        granted = client.post(
            f"{ME}/authorizations",
            headers=headers,
            json={
                "organization_uscc": world["agency"],
                "scopes": ["file:read"],
                "purpose_kind": "other",
                "purpose": f"核对身份 {rid}",
                "valid_until": (TODAY + dt.timedelta(days=30)).isoformat(),
            },
        )
        assert granted.status_code == 201, granted.text
        answers = [signed.text, granted.text]
        for path in (
            "",
            "/file",
            "/viewers",
            "/notices",
            "/commitments",
            "/commitments/templates",
            "/registrations",
            "/authorizations",
        ):
            response = client.get(ME + path, headers=headers)
            assert response.status_code == 200, (path, response.text)
            answers.append(response.text)
        me = client.get(ME, headers=headers).json()
        assert me["subject"]["id_masked"] and me["subject"]["id_masked"][:4] == rid[:4]
        assert len(client.get(f"{ME}/file", headers=headers).json()["records"]) == 1
        for text in answers:
            assert rid not in text


class TestDocumentation:
    def test_every_me_route_is_documented_under_me_with_examples(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path, database_url="sqlite://", secret_key="test-secret-key")
        client = TestClient(create_app(settings))
        spec = client.get("/openapi.json").json()
        operations = [
            (path, method, op)
            for path, item in spec["paths"].items()
            if path == ME or path.startswith(ME + "/")
            for method, op in item.items()
        ]
        assert len(operations) == 15
        schemas = spec["components"]["schemas"]
        for path, method, op in operations:
            assert op["tags"] == ["me"], path
            answered = [
                r
                for r in op["responses"].values()
                if "example" in r.get("content", {}).get("application/json", {})
            ]
            assert answered or path.endswith("/logout"), (method, path)
            if "requestBody" in op:
                ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                assert schemas[ref].get("examples"), (method, path)
        assert client.get("/docs").status_code == 200
