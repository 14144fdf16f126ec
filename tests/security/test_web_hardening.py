"""Web hardening: CSRF, bearer tokens, login throttling, rate limits, error pages, uploads, and who sees what.

Each class is one thing a user (or an attacker) would try; the assertions are what they would notice:
the status, the stable error code, and whether data showed up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import PASSWORD, bearer, csrf, department, login, penalty, uscc
from xinyong.accounts import auth
from xinyong.accounts import service as accounts
from xinyong.accounts.models import ApiToken
from xinyong.app import create_app
from xinyong.audit import service as audit
from xinyong.config import Settings
from xinyong.platform import Platform
from xinyong.records.models import Batch
from xinyong.subjects import service as subjects
from xinyong.web.deps import get_today


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]  # type: ignore[no-any-return]


def browser(client: TestClient) -> TestClient:
    """A second browser on the same app: its own cookies, nobody logged in."""
    return TestClient(client.app, raise_server_exceptions=False)


def submit(
    client: TestClient, session: Session, item: str, rows: list[dict[str, Any]], provider: str = "SCMR"
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/records", json={"item": item, "records": rows}, headers=bearer(session, provider)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def csv_upload(size: int = 0) -> bytes:
    row = penalty()
    lines = [",".join(row), ",".join(str(v) for v in row.values())]
    data = "\r\n".join(lines).encode("utf-8")
    return data + b"\r\n" + b"#" * max(0, size - len(data) - 2)


@pytest.fixture
def app_client(platform: Platform, tmp_path: Path) -> Callable[..., TestClient]:
    """Build a client on an app with its own Settings (same database transaction as the test)."""

    def build(**overrides: Any) -> TestClient:
        settings = Settings(
            data_dir=tmp_path,
            database_url="sqlite://",
            secret_key="test-secret-key",
            **overrides,
        )
        custom = Platform(
            settings=settings, sessions=platform.sessions, cipher=platform.cipher, signer=platform.signer
        )
        app = create_app(platform=custom)
        app.dependency_overrides[get_today] = lambda: TODAY
        return TestClient(app, raise_server_exceptions=False)

    return build


class TestCsrf:
    def test_login_without_token_is_refused(self, client: TestClient, session: Session) -> None:
        department(session)
        auth.create_user(
            session, username="clerk-a", password=PASSWORD, role="provider", department_code="SCMR"
        )
        session.commit()
        csrf(client)  # the browser has its CSRF cookie, but the form does not carry the token
        response = client.post(
            "/login", data={"username": "clerk-a", "password": PASSWORD}, follow_redirects=False
        )
        assert response.status_code == 403 and "auth.csrf" in response.text
        assert "xy_session" not in response.cookies

    def test_login_with_a_token_from_another_browser_is_refused(
        self, client: TestClient, session: Session
    ) -> None:
        department(session)
        auth.create_user(
            session, username="clerk-b", password=PASSWORD, role="provider", department_code="SCMR"
        )
        session.commit()
        csrf(client)
        stolen = csrf(browser(client))
        response = client.post(
            "/login",
            data={"username": "clerk-b", "password": PASSWORD, "csrf_token": stolen},
            follow_redirects=False,
        )
        assert response.status_code == 403 and "auth.csrf" in response.text

    def test_logout_without_token_is_refused_and_the_user_stays_logged_in(
        self, client: TestClient, session: Session
    ) -> None:
        login(client, session, role="provider")
        response = client.post("/logout", follow_redirects=False)
        assert response.status_code == 403 and "auth.csrf" in response.text
        assert client.get("/console").status_code == 200

    def test_upload_without_token_is_refused_and_nothing_is_stored(
        self, client: TestClient, session: Session
    ) -> None:
        login(client, session, role="provider")
        response = client.post(
            "/console/ingest",
            data={"item": "CF", "provider": "SCMR"},
            files={"file": ("cf.csv", csv_upload(), "text/csv")},
            follow_redirects=False,
        )
        assert response.status_code == 403 and "auth.csrf" in response.text
        assert session.scalar(select(func.count(Batch.id))) == 0


class TestBearerTokens:
    def test_unknown_token_is_401_invalid_token(self, client: TestClient) -> None:
        response = client.post(
            "/api/v1/records",
            json={"item": "CF", "records": [penalty()]},
            headers={"Authorization": "Bearer xy_not-a-real-token"},
        )
        assert response.status_code == 401 and error_code(response) == "auth.invalid_token"

    def test_non_bearer_scheme_is_401(self, client: TestClient) -> None:
        response = client.get("/api/v1/batches/x", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert response.status_code == 401 and error_code(response) == "auth.bad_header"

    def test_revoked_token_stops_working_once_its_cache_entry_is_stale(
        self, client: TestClient, session: Session
    ) -> None:
        now = [1000.0]
        tokens = client.app.state.platform.tokens  # type: ignore[attr-defined]
        tokens.clock = lambda: now[0]
        department(session)
        token, secret = auth.create_token(session, department_code="SCMR", scopes=["records:write"])
        session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/v1/batches/nope", headers=headers).status_code == 404  # accepted, no batch
        auth.revoke_token(session, token.id)  # by the CLI: another process, the server's cache is not told
        session.commit()
        now[0] += tokens.ttl_s - 1
        assert client.get("/api/v1/batches/nope", headers=headers).status_code == 404  # the stated window
        now[0] += 1
        response = client.get("/api/v1/batches/nope", headers=headers)
        assert response.status_code == 401 and error_code(response) == "auth.invalid_token"

    def test_without_the_token_cache_a_revoked_token_stops_at_once(
        self, client: TestClient, session: Session
    ) -> None:
        client.app.state.platform.tokens.ttl_s = 0  # type: ignore[attr-defined]
        department(session)
        token, secret = auth.create_token(session, department_code="SCMR", scopes=["records:write"])
        session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/v1/batches/nope", headers=headers).status_code == 404
        auth.revoke_token(session, token.id)
        session.commit()
        response = client.get("/api/v1/batches/nope", headers=headers)
        assert response.status_code == 401 and error_code(response) == "auth.invalid_token"

    def test_expired_token_is_refused(self, client: TestClient, session: Session) -> None:
        department(session)
        token, secret = auth.create_token(session, department_code="SCMR", scopes=["records:write"])
        session.get(ApiToken, token.id).expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)  # type: ignore[union-attr]
        session.commit()
        response = client.post(
            "/api/v1/records",
            json={"item": "CF", "records": [penalty()]},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert response.status_code == 401 and error_code(response) == "auth.invalid_token"
        assert session.scalar(select(func.count(Batch.id))) == 0


class TestLoginThrottling:
    def test_sixth_attempt_is_throttled_even_with_the_right_password(
        self, client: TestClient, session: Session
    ) -> None:
        department(session)
        auth.create_user(
            session, username="target", password=PASSWORD, role="provider", department_code="SCMR"
        )
        auth.create_user(
            session, username="bystander", password=PASSWORD, role="provider", department_code="SCMR"
        )
        session.commit()
        token = csrf(client)
        for attempt in range(5):
            wrong = client.post(
                "/login",
                data={"username": "target", "password": f"guess-{attempt}-xyz", "csrf_token": token},
                follow_redirects=False,
            )
            assert wrong.status_code == 401 and "auth.invalid_credentials" in wrong.text
        right = client.post(
            "/login",
            data={"username": "target", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert right.status_code == 403 and "auth.throttled" in right.text
        assert client.get("/console").status_code == 401
        other = client.post(
            "/login",
            data={"username": "bystander", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert other.status_code == 303  # throttling is per account, not a lock-out of everyone

    def test_back_off_doubles_after_the_free_attempts(self) -> None:
        delays = [auth.throttle_delay(n) for n in range(4, 9)]
        assert delays == [dt.timedelta(0), *(dt.timedelta(minutes=m) for m in (1, 2, 4, 8))]
        assert auth.throttle_delay(50) == dt.timedelta(hours=1)


class TestRateLimit:
    def test_fourth_search_in_a_minute_is_429(self, app_client: Callable[..., TestClient]) -> None:
        client = app_client(rate_limit_search="3/minute")
        for _ in range(3):
            assert client.get("/api/v1/subjects", params={"q": "x"}).status_code == 200
        response = client.get("/api/v1/subjects", params={"q": "x"})
        assert response.status_code == 429 and error_code(response) == "rate_limited"

    def test_api_limit_is_counted_per_token(
        self, app_client: Callable[..., TestClient], session: Session
    ) -> None:
        # Two department systems calling from one address (a government network's gateway): each token has
        # its own budget, though the limit is declared on the router, whose dependencies run before the
        # route's authentication.
        client = app_client(rate_limit_api="2/minute")
        first = bearer(session, "SCMR", ("records:write",))
        second = bearer(session, "SCSW", ("records:write",))
        url = "/api/v1/batches/no-such-batch"
        assert [client.get(url, headers=first).status_code for _ in range(2)] == [404, 404]
        refused = client.get(url, headers=first)
        assert refused.status_code == 429 and error_code(refused) == "rate_limited"
        assert [client.get(url, headers=second).status_code for _ in range(2)] == [404, 404]
        assert client.get(url, headers=second).status_code == 429

    def test_a_bad_token_is_refused_before_it_is_counted(
        self, app_client: Callable[..., TestClient], session: Session
    ) -> None:
        client = app_client(rate_limit_api="1/minute")
        for _ in range(3):
            response = client.get("/api/v1/batches/x", headers={"Authorization": "Bearer nope"})
            assert response.status_code == 401 and error_code(response) == "auth.invalid_token"
        good = bearer(session, "SCMR", ("records:write",))
        assert client.get("/api/v1/batches/x", headers=good).status_code == 404


class TestErrorPages:
    def test_security_headers_on_a_404_page(self, client: TestClient) -> None:
        response = client.get("/no/such/page")
        assert response.status_code == 404
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"

    def test_security_headers_on_an_api_error(self, client: TestClient) -> None:
        response = client.get("/api/v1/subjects/914403001922038216")
        assert response.status_code == 404
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"

    @pytest.mark.parametrize(
        ("method", "url", "status"),
        [
            ("GET", "/no/such/page", 404),
            ("GET", "/catalog/NOPE", 404),
            ("POST", "/catalog", 405),
            ("GET", "/search?page=0", 422),
            ("GET", "/console", 401),
            ("GET", "/api/v1/subjects?size=1000", 422),
            ("GET", "/api/v1/batches/x", 401),
            ("POST", "/api/v1/records", 401),
        ],
    )
    def test_errors_are_short_and_never_show_a_traceback(
        self, client: TestClient, method: str, url: str, status: int
    ) -> None:
        response = client.request(method, url)
        assert response.status_code == status
        assert "Traceback" not in response.text and 'File "' not in response.text

    def test_a_crash_shows_a_plain_page_without_the_exception(self, client: TestClient) -> None:
        def crash() -> dt.date:
            raise RuntimeError("secret-internal-detail")

        client.app.dependency_overrides[get_today] = crash  # type: ignore[attr-defined]
        page = client.get("/")
        assert page.status_code == 500 and "internal" in page.text
        assert "Traceback" not in page.text and "secret-internal-detail" not in page.text
        api = client.get("/api/v1/subjects/914403001922038216")
        assert api.status_code == 500 and error_code(api) == "internal"
        assert "secret-internal-detail" not in api.text

    def test_security_headers_on_a_500_page(self, client: TestClient) -> None:
        def crash() -> dt.date:
            raise RuntimeError("boom")

        client.app.dependency_overrides[get_today] = crash  # type: ignore[attr-defined]
        response = client.get("/")
        assert response.status_code == 500
        assert response.headers.get("x-frame-options") == "DENY"
        assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", "")


class TestUploads:
    def test_file_over_the_limit_is_413_and_not_stored(
        self, app_client: Callable[..., TestClient], session: Session
    ) -> None:
        client = app_client(max_upload_mb=1)
        token = login(client, session, role="provider")
        response = client.post(
            "/console/ingest",
            data={"item": "CF", "provider": "SCMR", "csrf_token": token},
            files={"file": ("big.csv", csv_upload(2 * 1024 * 1024), "text/csv")},
            follow_redirects=False,
        )
        assert response.status_code == 413 and "1MB上限" in response.text
        assert session.scalar(select(func.count(Batch.id))) == 0

    def test_chunked_upload_without_content_length_is_still_413(
        self, app_client: Callable[..., TestClient], session: Session
    ) -> None:
        """No Content-Length header to check up front: the size of the parsed file decides."""
        client = app_client(max_upload_mb=1)
        token = login(client, session, role="provider")
        boundary = "xinyong-boundary"
        fields = {"item": "CF", "provider": "SCMR", "csrf_token": token}
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n".encode()
        )
        parts += [csv_upload(2 * 1024 * 1024), f"\r\n--{boundary}--\r\n".encode()]
        response = client.post(
            "/console/ingest",
            content=iter(parts),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            follow_redirects=False,
        )
        assert "content-length" not in response.request.headers
        assert response.status_code == 413 and "file.too_large" in response.text
        assert session.scalar(select(func.count(Batch.id))) == 0

    def test_file_under_the_limit_is_accepted(
        self, app_client: Callable[..., TestClient], session: Session
    ) -> None:
        client = app_client(max_upload_mb=1)
        token = login(client, session, role="provider")
        response = client.post(
            "/console/ingest",
            data={"item": "CF", "provider": "SCMR", "csrf_token": token},
            files={"file": ("small.csv", csv_upload(), "text/csv")},
            follow_redirects=False,
        )
        assert response.status_code == 303 and response.headers["location"].startswith("/console/batches/")


class TestDepartmentIsolation:
    def test_token_cannot_submit_for_another_department(self, client: TestClient, session: Session) -> None:
        department(session, "SCSTHJ", "四川省生态环境厅")
        response = client.post(
            "/api/v1/records",
            json={"item": "CF", "provider": "SCSTHJ", "records": [penalty()]},
            headers=bearer(session, "SCMR"),
        )
        assert response.status_code == 403 and error_code(response) == "records.other_department"
        assert session.scalar(select(func.count(Batch.id))) == 0

    def test_provider_cannot_upload_for_another_department(
        self, client: TestClient, session: Session
    ) -> None:
        department(session, "SCSTHJ", "四川省生态环境厅")
        token = login(client, session, role="provider", department_code="SCMR")
        response = client.post(
            "/console/ingest",
            data={"item": "CF", "provider": "SCSTHJ", "csrf_token": token},
            files={"file": ("cf.csv", csv_upload(), "text/csv")},
            follow_redirects=False,
        )
        assert response.status_code == 403 and "records.other_department" in response.text
        assert session.scalar(select(func.count(Batch.id))) == 0

    def test_provider_cannot_read_another_departments_batch(
        self, client: TestClient, session: Session
    ) -> None:
        batch_id = submit(client, session, "CF", [penalty(CF_JDRQ="bad date")], provider="SCSTHJ")["batch_id"]
        other = bearer(session, "SCMR")
        for url in (f"/api/v1/batches/{batch_id}", f"/api/v1/batches/{batch_id}/rejected.csv"):
            response = client.get(url, headers=other)
            assert response.status_code == 403 and error_code(response) == "batch.other_department", url
        login(client, session, role="provider", department_code="SCMR")
        page = client.get(f"/console/batches/{batch_id}")
        assert page.status_code == 403 and "batch.other_department" in page.text
        assert client.get(f"/api/v1/batches/{batch_id}", headers=bearer(session, "SCSTHJ")).status_code == 200

    def test_credit_office_reads_every_departments_batch(self, client: TestClient, session: Session) -> None:
        batch_id = submit(client, session, "CF", [penalty()], provider="SCSTHJ")["batch_id"]
        login(client, session, role="credit_office", department_code="SCFGW")
        assert client.get(f"/console/batches/{batch_id}").status_code == 200


class TestWhoSeesNonPublicRecords:
    """A 轻微 penalty is never public; the subject itself and departments stating a purpose may see it."""

    @pytest.fixture
    def file_of(self, client: TestClient, session: Session) -> tuple[str, int]:
        code = uscc()
        submit(
            client,
            session,
            "CF",
            [
                penalty(CF_XDR_SHXYM=code, CF_WSH="一般-公示", severity="一般"),
                penalty(CF_XDR_SHXYM=code, CF_WSH="轻微-不公示", severity="轻微"),
            ],
        )
        return code, subjects.get_by_uscc(session, code).id

    @staticmethod
    def doc_nos(response: Any) -> set[str]:
        assert response.status_code == 200, response.text
        return {r["doc_no"] for r in response.json()["records"]}

    def test_subject_sees_its_own_non_public_record_anonymous_does_not(
        self, client: TestClient, session: Session, file_of: tuple[str, int]
    ) -> None:
        code, subject_id = file_of
        anonymous = browser(client)
        assert self.doc_nos(anonymous.get(f"/api/v1/subjects/{code}")) == {"一般-公示"}
        login(client, session, role="subject", department_code=None, subject_id=subject_id)
        assert self.doc_nos(client.get(f"/api/v1/subjects/{code}")) == {"一般-公示", "轻微-不公示"}

    def test_another_subject_account_sees_only_public_records(
        self, client: TestClient, session: Session, file_of: tuple[str, int]
    ) -> None:
        code, _ = file_of
        other = uscc()
        submit(client, session, "CF", [penalty(CF_XDR_SHXYM=other)])
        login(
            client,
            session,
            role="subject",
            department_code=None,
            subject_id=subjects.get_by_uscc(session, other).id,
        )
        assert self.doc_nos(client.get(f"/api/v1/subjects/{code}")) == {"一般-公示"}

    def test_government_user_needs_a_purpose_and_the_read_is_audited(
        self, client: TestClient, session: Session, file_of: tuple[str, int]
    ) -> None:
        code, subject_id = file_of
        login(client, session, role="provider", department_code="SCSTHJ")
        assert self.doc_nos(client.get(f"/api/v1/subjects/{code}")) == {"一般-公示"}
        assert audit.search(session, action="subject.view") == []
        with_purpose = client.get(f"/api/v1/subjects/{code}", params={"purpose": "行政许可审查"})
        assert self.doc_nos(with_purpose) == {"一般-公示", "轻微-不公示"}
        [entry] = audit.search(session, action="subject.view")
        assert (entry.subject_id, entry.purpose, entry.department_code) == (
            subject_id,
            "行政许可审查",
            "SCSTHJ",
        )

    def test_subject_account_page_lists_who_looked_and_why(
        self, client: TestClient, session: Session, file_of: tuple[str, int]
    ) -> None:
        code, subject_id = file_of
        official = browser(client)
        login(official, session, role="reviewer", department_code="SCSTHJ")
        official.get(f"/api/v1/subjects/{code}", params={"purpose": "招投标资格审查"})
        login(client, session, role="subject", department_code=None, subject_id=subject_id)
        page = client.get("/account")
        assert page.status_code == 200
        assert "部门SCSTHJ" in page.text and "招投标资格审查" in page.text


class TestConditionallySharedItems:
    """QJSB (欠缴社会保险费) is shared with other departments only under a grant with a legal basis."""

    def test_visible_to_a_department_only_after_a_grant(self, client: TestClient, session: Session) -> None:
        code = uscc()
        row = {
            "subject_name": "成都欠费测试有限公司",
            "subject_category": "法人及非法人组织",
            "uscc": code,
            "insurance_type": "养老保险",
            "arrears_period": "2026年1-6月",
            "arrears_wan": "3.5",
            "decision_date": "2026-07-01",
            "authority_name": "成都市社会保险事务中心",
        }
        submit(client, session, "QJSB", [row], provider="SCRS")
        submit(client, session, "CF", [penalty(CF_XDR_SHXYM=code, CF_WSH="处罚-1")])
        login(client, session, role="provider", department_code="SCMR")
        url, params = f"/api/v1/subjects/{code}", {"purpose": "信用核查"}

        def items() -> set[str]:
            response = client.get(url, params=params)
            assert response.status_code == 200, response.text
            return {r["item"] for r in response.json()["records"]}

        assert items() == {"CF"}
        accounts.grant_item(
            session,
            department_code="SCMR",
            item_code="QJSB",
            purpose="市场主体信用风险分类",
            legal_basis="《中华人民共和国社会保险法》第八十六条",
        )
        session.commit()
        assert items() == {"CF", "QJSB"}
        public = browser(client).get(url).json()["records"]
        assert {r["item"] for r in public} == {"CF"}  # the grant does not make it public

    def test_the_providing_department_always_sees_its_own_item(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        row = {
            "subject_name": "成都欠费二号有限公司",
            "subject_category": "法人及非法人组织",
            "uscc": code,
            "insurance_type": "医疗保险",
            "arrears_period": "2026年3月",
            "arrears_wan": "1",
            "decision_date": "2026-07-01",
            "authority_name": "成都市社会保险事务中心",
        }
        submit(client, session, "QJSB", [row], provider="SCRS")
        login(client, session, role="reviewer", department_code="SCRS")
        response = client.get(f"/api/v1/subjects/{code}", params={"purpose": "欠费稽核"})
        assert [r["item"] for r in response.json()["records"]] == ["QJSB"]
