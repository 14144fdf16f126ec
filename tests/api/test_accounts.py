"""Accounts on the portal: verified registration of subjects, login and logout, demo accounts."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.helpers import PASSWORD, bearer, csrf, department, penalty, resident_id, uscc
from xinyong.accounts import auth
from xinyong.accounts.models import User
from xinyong.kit.errors import XinyongError


def submit(client: TestClient, session: Session, item: str, rows: list[dict]) -> dict:  # type: ignore[type-arg]
    return client.post(
        "/api/v1/records", json={"item": item, "records": rows}, headers=bearer(session)
    ).json()  # type: ignore[no-any-return]


def register(client: TestClient, **form: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/register", data={"csrf_token": csrf(client), "password": PASSWORD, **form}, follow_redirects=False
    )


class TestRegistration:
    def test_enterprise_with_matching_legal_rep_is_bound_to_its_subject(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        submit(client, session, "CF", [penalty(CF_XDR_SHXYM=code, CF_FRDB="张三")])
        wrong = register(client, username="ent1", kind="enterprise", uscc=code, legal_rep="李四")
        assert wrong.status_code == 422 and "register.unverified" in wrong.text
        ok = register(client, username="ent1", kind="enterprise", uscc=code.lower(), legal_rep="张 三")
        assert ok.status_code == 303
        user = session.scalars(select(User).where(User.username == "ent1")).one()
        assert user.role == "subject" and user.subject_id is not None and user.verified_at is not None
        again = register(client, username="ent2", kind="enterprise", uscc=code, legal_rep="张三")
        assert again.status_code == 422 and "register.exists" in again.text

    def test_person_registers_with_a_valid_id_and_sees_own_minor_penalty(
        self, client: TestClient, session: Session
    ) -> None:
        rid = resident_id("510107", dt.date(1980, 3, 3))
        row = penalty(CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJHM=rid, CF_XDR_MC="周八", severity="轻微")
        assert submit(client, session, "CF", [row])["accepted"] == 1
        bad = register(
            client,
            username="p1",
            kind="person",
            resident_id=rid[:-1] + ("1" if rid[-1] == "0" else "0"),
            person_name="周八",
        )
        assert bad.status_code == 422
        wrong_name = register(client, username="p1", kind="person", resident_id=rid, person_name="周九")
        assert "register.unverified" in wrong_name.text
        assert (
            register(client, username="p1", kind="person", resident_id=rid, person_name="周八").status_code
            == 303
        )
        token = csrf(client)
        client.post("/login", data={"username": "p1", "password": PASSWORD, "csrf_token": token})
        page = client.get("/account")
        assert page.status_code == 200 and "周八" in page.text and rid not in page.text


class TestLogin:
    def test_login_sets_an_httponly_session_and_logout_ends_it(
        self, client: TestClient, session: Session
    ) -> None:
        auth.create_user(session, username="clerk", password=PASSWORD, role="auditor", department_code=None)
        session.commit()
        token = csrf(client)
        response = client.post(
            "/login",
            data={"username": "clerk", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "xy_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert client.get("/console/audit").status_code == 200
        client.post("/logout", data={"csrf_token": token})
        assert client.get("/console/audit").status_code == 401

    def test_wrong_password_is_refused_and_audited(self, client: TestClient, session: Session) -> None:
        response = client.post(
            "/login", data={"username": "nobody", "password": "x", "csrf_token": csrf(client)}
        )
        assert response.status_code == 401 and "auth.invalid_credentials" in response.text

    def test_demo_accounts_are_refused_outside_demo_mode(self, session: Session) -> None:
        auth.create_user(session, username="demo-x", password="short", role="auditor", is_demo=True)
        with pytest.raises(XinyongError) as info:
            auth.authenticate(session, "demo-x", "short", ip=None, demo_mode=False)
        assert info.value.code == "auth.demo_account"
        assert auth.authenticate(session, "demo-x", "short", ip=None, demo_mode=True).username == "demo-x"

    def test_weak_passwords_are_refused(self, session: Session) -> None:
        for weak in ("short1", "onlyletterslong", "12345678901"):
            with pytest.raises(XinyongError) as info:
                auth.create_user(session, username=f"u-{weak}", password=weak, role="auditor")
            assert info.value.code == "user.weak_password"


class TestUserManagement:
    def test_a_department_admin_disables_a_clerk_of_its_own_department_only(
        self, client: TestClient, session: Session
    ) -> None:
        department(session, "SCMR")
        department(session, "SCFGW", "四川省发展和改革委员会")
        clerk = auth.create_user(
            session, username="clerk-a", password=PASSWORD, role="provider", department_code="SCMR"
        )
        other = auth.create_user(
            session, username="clerk-b", password=PASSWORD, role="provider", department_code="SCFGW"
        )
        auth.create_user(
            session,
            username="admin-a",
            password=PASSWORD,
            role="reviewer",
            department_code="SCMR",
            is_department_admin=True,
        )
        session.commit()
        token = csrf(client)
        client.post("/login", data={"username": "admin-a", "password": PASSWORD, "csrf_token": token})
        done = client.post(f"/console/users/{clerk.id}/active", data={"active": "false", "csrf_token": token})
        assert done.status_code == 200
        session.refresh(clerk)
        assert clerk.is_active is False
        with pytest.raises(XinyongError) as info:
            auth.authenticate(session, "clerk-a", PASSWORD, ip=None, demo_mode=True)
        assert info.value.code == "auth.invalid_credentials"
        refused = client.post(
            f"/console/users/{other.id}/active", data={"active": "false", "csrf_token": token}
        )
        assert refused.status_code == 404
        session.refresh(other)
        assert other.is_active is True
