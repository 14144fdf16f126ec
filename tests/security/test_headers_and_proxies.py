"""Smaller hardening items: the CSRF token bound to the session, `Cache-Control: no-store` on answers that may
carry personal data, and forwarded addresses believed only from the configured proxies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import Headers

from tests.helpers import PASSWORD, bearer, csrf, department, login
from tests.served import served as serve_app
from xinyong.accounts import auth
from xinyong.accounts.policy import ANONYMOUS
from xinyong.config import Settings
from xinyong.web.csrf import CSRF_COOKIE
from xinyong.web.deps import client_ip
from xinyong.web.ratelimit import client_key


def browser(client: TestClient) -> TestClient:
    return TestClient(client.app, raise_server_exceptions=False)


class TestCsrfBoundToTheSession:
    def test_a_token_from_another_session_is_refused_even_with_the_same_seed(
        self, client: TestClient, session: Session
    ) -> None:
        victim_token = login(client, session, role="provider")
        # An attacker who planted the victim's seed cookie in a browser of their own, logged in as themselves:
        # the victim's token (or their own pre-login one) is worth nothing there, and theirs nothing here.
        attacker = browser(client)
        attacker.cookies.set(CSRF_COOKIE, client.cookies[CSRF_COOKIE])
        attacker_token = login(attacker, session, role="provider")
        assert attacker_token != victim_token
        refused = attacker.post("/logout", data={"csrf_token": victim_token}, follow_redirects=False)
        assert refused.status_code == 403 and "auth.csrf" in refused.text
        assert client.post("/logout", data={"csrf_token": attacker_token}).status_code == 403
        assert client.get("/console").status_code == 200  # the victim is still logged in
        assert (
            client.post("/logout", data={"csrf_token": victim_token}, follow_redirects=False).status_code
            == 303
        )

    def test_the_token_changes_when_a_session_opens(self, client: TestClient, session: Session) -> None:
        before = csrf(client)
        after = login(client, session, role="provider")
        assert before != after
        refused = client.post("/logout", data={"csrf_token": before}, follow_redirects=False)
        assert refused.status_code == 403


class TestNoStore:
    def test_account_console_and_api_answers_are_not_stored(
        self, client: TestClient, session: Session
    ) -> None:
        login(client, session, role="provider")
        for path in ("/account", "/console", "/api/v1/catalog"):
            response = client.get(path)
            assert response.status_code in (200, 403), path  # a clerk has no subject account
            assert response.headers["cache-control"] == "no-store", path
        api = client.get(
            "/api/v1/subjects", params={"q": "成都"}, headers=bearer(session, "SCMR", ("subjects:read",))
        )
        assert api.headers["cache-control"] == "no-store"
        assert browser(client).get("/api/v1/checks/no-such-check").headers["cache-control"] == "no-store"

    def test_public_pages_may_still_be_cached(self, client: TestClient) -> None:
        assert "no-store" not in client.get("/").headers.get("cache-control", "")


def request_from(peer: str, forwarded: list[str], trusted: str) -> Request:
    settings = Settings(data_dir=Path("/nonexistent"), database_url="sqlite://", trusted_proxies=trusted)

    class _Platform:
        pass

    platform = _Platform()
    platform.settings = settings  # type: ignore[attr-defined]

    class _State:
        pass

    state = _State()
    state.platform = platform  # type: ignore[attr-defined]

    class _App:
        pass

    app = _App()
    app.state = state  # type: ignore[attr-defined]
    headers = Headers(raw=[(b"x-forwarded-for", v.encode()) for v in forwarded])
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": headers.raw,
        "client": (peer, 40000),
        "app": app,
    }
    return Request(scope)


class TestTrustedProxies:
    def test_the_header_is_ignored_from_anyone_not_configured(self) -> None:
        assert client_ip(request_from("203.0.113.9", ["6.6.6.6"], "")) == "203.0.113.9"
        assert client_ip(request_from("203.0.113.9", ["6.6.6.6"], "10.0.0.0/8")) == "203.0.113.9"

    def test_from_a_trusted_proxy_the_nearest_untrusted_hop_counts(self) -> None:
        assert client_ip(request_from("10.0.0.2", ["198.51.100.7"], "10.0.0.0/8")) == "198.51.100.7"
        # The client wrote the first hop itself: only what the trusted proxies appended is believed.
        chain = ["6.6.6.6, 198.51.100.7, 10.0.0.3"]
        assert client_ip(request_from("10.0.0.2", chain, "10.0.0.0/8")) == "198.51.100.7"
        assert (
            client_ip(request_from("10.0.0.2", ["6.6.6.6", "198.51.100.7"], "10.0.0.0/8")) == "198.51.100.7"
        )
        assert client_ip(request_from("::1", ["2001:db8::5"], "::1, 10.0.0.0/8")) == "2001:db8::5"

    def test_nonsense_or_only_proxies_leave_the_peer(self) -> None:
        assert client_ip(request_from("10.0.0.2", ["not-an-address"], "10.0.0.0/8")) == "10.0.0.2"
        assert client_ip(request_from("10.0.0.2", [], "10.0.0.0/8")) == "10.0.0.2"
        assert client_ip(request_from("10.0.0.2", ["10.0.0.9"], "10.0.0.0/8")) == "10.0.0.2"

    def test_a_proxy_setting_that_is_no_address_stops_the_start(self) -> None:
        with pytest.raises(ValidationError, match="bogus"):
            Settings(trusted_proxies="10.0.0.1, bogus")

    def test_rate_limits_count_the_same_address(self) -> None:
        request = request_from("10.0.0.2", ["6.6.6.6, 198.51.100.7"], "10.0.0.2")
        assert client_key(ANONYMOUS, request) == "ip:198.51.100.7"
        assert client_key(ANONYMOUS, request_from("203.0.113.9", ["6.6.6.6"], "10.0.0.2")) == "ip:203.0.113.9"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Any]]:
    """`xinyong serve`'s uvicorn configuration, no proxy configured; the platform, to read the audit trail."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'xinyong.db'}",
        secret_key="test-secret-key",
        scheduler=False,
    )
    with serve_app(settings) as port_and_platform:
        yield port_and_platform


def test_a_local_process_cannot_name_another_address_to_the_server(served: tuple[int, Any]) -> None:
    """By default uvicorn believes X-Forwarded-For from 127.0.0.1; `serve` does not: a failed login from this
    machine is audited from 127.0.0.1, whatever the header says."""
    import httpx

    from xinyong.audit.models import AuditEntry

    port, platform = served
    with platform.sessions() as session:
        department(session, "SCMR", "四川省市场监督管理局")
        auth.create_user(
            session, username="clerk-x", password=PASSWORD, role="provider", department_code="SCMR"
        )
        session.commit()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        page = http.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        http.post(
            "/login",
            data={"username": "clerk-x", "password": "wrong", "csrf_token": token},
            headers={"X-Forwarded-For": "6.6.6.6"},
        )
    with platform.sessions() as session:
        from sqlalchemy import select

        ips = session.scalars(select(AuditEntry.ip).where(AuditEntry.action.like("auth.%"))).all()
    assert ips and set(ips) == {"127.0.0.1"}
