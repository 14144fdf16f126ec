"""Accounts on the portal: login and logout, demo accounts, user management (opening subject accounts:
test_account_opening.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.helpers import PASSWORD, csrf, department
from xinyong.accounts import auth
from xinyong.kit.errors import XinyongError


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
        client.post("/logout", data={"csrf_token": csrf(client)})  # the token of the session just opened
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
        token = csrf(client)  # the form token is bound to the session the login opened
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
