"""The app's HTTP middleware (`web.middleware.HttpGuard`): CSRF seed cookie, security headers, body limit."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from xinyong.app import create_app
from xinyong.platform import Platform
from xinyong.web.csrf import CSRF_COOKIE, csrf_token_for


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def test_a_new_browser_gets_a_seed_cookie_and_forms_carry_its_token(client: TestClient) -> None:
    first = client.get("/login")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP, XINYONG_COOKIE_SECURE off
    seed = client.cookies[CSRF_COOKIE]
    assert form_token(first.text) == csrf_token_for(seed, "test-secret-key")
    again = client.get("/login")  # the browser sends its seed back: no new cookie, the same token
    assert "set-cookie" not in again.headers
    assert form_token(again.text) == form_token(first.text)


def test_a_malformed_seed_is_replaced(client: TestClient) -> None:
    client.cookies.set(CSRF_COOKIE, "short")
    response = client.get("/login")
    assert f"{CSRF_COOKIE}=" in response.headers["set-cookie"]


def test_api_answers_set_no_cookie_but_carry_the_security_headers(client: TestClient) -> None:
    response = client.get("/api/v1/catalog")
    assert response.status_code == 200 and "set-cookie" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers


def test_over_tls_hsts_is_sent_and_the_cookie_is_secure(platform: Platform) -> None:
    with TestClient(create_app(platform=platform), base_url="https://testserver") as client:
        response = client.get("/login")
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert "Secure" in response.headers["set-cookie"]


def test_a_declared_oversized_body_is_refused_before_it_is_read(client: TestClient) -> None:
    limit = 200 * 1024 * 1024  # XINYONG_MAX_UPLOAD_MB's default
    response = client.post(
        "/api/v1/records",
        content=b"{}",
        headers={"Content-Length": str(limit + 1), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert response.headers["x-frame-options"] == "DENY"
