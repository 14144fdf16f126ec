"""Opening a subject account on the portal: public data never opens one; the code sent to the registered
contact, the identity platform and the credit office's review each do; the answers tell a stranger nothing."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.helpers import PASSWORD, PDF_BYTES, csrf, department, login, penalty, resident_id, uscc
from tests.oidc_idp import TestIdentityProvider
from xinyong.accounts import auth, messaging
from xinyong.accounts.models import AccountVerification, User
from xinyong.config import Settings
from xinyong.platform import Platform
from xinyong.records import service as records
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject

PHONE = "13812345678"
_CSRF_VALUE = re.compile(r'name="csrf_token" value="[^"]+"')


@pytest.fixture(scope="module")
def idp() -> Iterator[TestIdentityProvider]:
    provider = TestIdentityProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def settings(tmp_path: Path, idp: TestIdentityProvider) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url="sqlite://",
        secret_key="test-secret-key",
        rate_limit_login="100000/minute",
        **idp.settings(tmp_path),
    )


def company(session: Session, platform: Platform, *, phone: str | None = PHONE) -> tuple[Subject, str]:
    """A company with a public penalty and a minor one (not public); returns it and the minor one's number."""
    department(session)
    code = uscc()
    public, minor = penalty(CF_XDR_SHXYM=code, CF_FRDB="张三"), penalty(CF_XDR_SHXYM=code, severity="轻微")
    ctx = platform.ingest_context(dt.date(2026, 11, 28))
    records.ingest_json(session, ctx, item_code="CF", provider_code="SCMR", records=[public, minor])
    subject = subjects.get_by_uscc(session, code)
    if phone:
        messaging.set_contact(session, subject.id, "sms", phone, source="四川省市场监督管理局")
    session.commit()
    return subject, minor["CF_WSH"]


def code_sent_to(session: Session, address: str) -> str:
    (message,) = messaging.outbox(session, address=address, limit=1)
    found = re.search(r"验证码为 (\d{6})", message.body)
    assert found
    return found[1]


def subject_accounts(session: Session, subject_id: int) -> int:
    return int(session.scalar(select(func.count(User.id)).where(User.subject_id == subject_id)) or 0)


def log_in(client: TestClient, username: str) -> None:
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


class TestPublicDataOpensNothing:
    def test_every_combination_of_public_fields_is_refused(
        self, client: TestClient, session: Session, platform: Platform
    ) -> None:
        subject, _ = company(session, platform)
        page = client.get(f"/subjects/{subject.uscc}").text
        assert subject.name in page  # what anyone reads on the portal
        public = {
            "uscc": subject.uscc or "",
            "name": subject.name,
            "legal_rep": subject.legal_rep or "张三",
            "region_code": subject.region_code or "",
            "person_name": subject.legal_rep or "张三",
        }
        # Codes a stranger could make of public data: parts of the USCC, the region code, zeros.
        guesses = {(subject.uscc or "")[-6:], (subject.uscc or "")[2:8], public["region_code"], "000000"}
        token = csrf(client)
        for size in range(1, len(public) + 1):
            for fields in itertools.combinations(public, size):
                form = {field: public[field] for field in fields}
                client.cookies.delete("xy_opening")
                client.post(
                    "/register",
                    data={
                        "csrf_token": token,
                        "kind": "enterprise",
                        "username": "squatter",
                        "password": PASSWORD,
                        **form,
                    },
                    follow_redirects=False,
                )
                for guess in guesses:
                    response = client.post(
                        "/register/verify",
                        data={
                            "csrf_token": token,
                            "code": guess,
                            "username": "squatter",
                            "password": PASSWORD,
                        },
                        follow_redirects=False,
                    )
                    assert response.status_code != 303, (fields, guess)
        assert subject_accounts(session, subject.id) == 0
        assert session.scalar(select(func.count(User.id)).where(User.username == "squatter")) == 0
        code = code_sent_to(session, PHONE)
        assert code not in client.get("/register/verify").text


class TestActivationCode:
    def test_an_enterprise_opens_its_account_with_the_code_sent_to_its_registered_phone(
        self, client: TestClient, session: Session, platform: Platform
    ) -> None:
        subject, minor = company(session, platform)
        token = csrf(client)
        sent = client.post(
            "/register",
            data={"csrf_token": token, "kind": "enterprise", "uscc": (subject.uscc or "").lower()},
            follow_redirects=False,
        )
        assert sent.status_code == 303 and sent.headers["location"] == "/register/verify"
        cookie = sent.headers["set-cookie"]
        assert "xy_opening=" in cookie and "HttpOnly" in cookie
        page = client.get("/register/verify").text
        assert "138****5678" in page and PHONE not in page
        opened = client.post(
            "/register/verify",
            data={
                "csrf_token": token,
                "code": code_sent_to(session, PHONE),
                "username": "ent-a",
                "password": PASSWORD,
            },
            follow_redirects=False,
        )
        assert opened.status_code == 303, opened.text
        log_in(client, "ent-a")
        assert subject.name in client.get("/account").text
        assert minor in client.get(f"/subjects/{subject.uscc}").text  # its own whole file

    def test_a_wrong_code_counts_and_the_username_question_waits_for_the_proof(
        self, client: TestClient, session: Session, platform: Platform
    ) -> None:
        subject, _ = company(session, platform)
        auth.create_user(session, username="gov-clerk", password=PASSWORD, role="auditor")
        session.commit()
        token = csrf(client)
        client.post(
            "/register",
            data={"csrf_token": token, "kind": "enterprise", "uscc": subject.uscc},
            follow_redirects=False,
        )
        code = code_sent_to(session, PHONE)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        answers = set()
        for username in ("gov-clerk", "free-name-1"):
            response = client.post(
                "/register/verify",
                data={"csrf_token": token, "code": wrong, "username": username, "password": PASSWORD},
                follow_redirects=False,
            )
            assert response.status_code == 422 and "verify.code_invalid" in response.text
            answers.add(
                re.sub(r"还可尝试\d次", "", _CSRF_VALUE.sub("", response.text)).replace(username, "U")
            )
        assert len(answers) == 1  # an existing username and a free one get the same answer
        row = session.scalars(select(AccountVerification).order_by(AccountVerification.id.desc())).first()
        assert row is not None and row.attempts == 2
        taken = client.post(
            "/register/verify",
            data={"csrf_token": token, "code": code, "username": "gov-clerk", "password": PASSWORD},
            follow_redirects=False,
        )
        assert "user.exists" in taken.text  # told only once the code proved the subject
        chosen = client.post(
            "/register/verify",
            data={"csrf_token": token, "username": "ent-b", "password": PASSWORD},
            follow_redirects=False,
        )
        assert chosen.status_code == 303 and subject_accounts(session, subject.id) == 1


class TestNaturalPersons:
    def test_registration_answers_alike_whatever_the_ids_status_and_never_echoes_it(
        self, client: TestClient, session: Session, platform: Platform
    ) -> None:
        department(session)
        ctx = platform.ingest_context(dt.date(2026, 11, 28))
        rid = resident_id("510107", dt.date(1980, 3, 3))
        row = penalty(CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJHM=rid, CF_XDR_MC="周八", severity="轻微")
        records.ingest_json(session, ctx, item_code="CF", provider_code="SCMR", records=[row])
        person = subjects.find_person(session, platform.cipher.hash(rid))
        assert person is not None
        messaging.set_contact(session, person.id, "sms", "13900001111", source="公安机关")
        with_account_rid = resident_id("510107", dt.date(1975, 1, 2))
        records.ingest_json(
            session,
            ctx,
            item_code="CF",
            provider_code="SCMR",
            records=[
                {
                    **row,
                    "CF_WSH": "川市监罚〔2026〕9001号",
                    "CF_XDR_ZJHM": with_account_rid,
                    "CF_XDR_MC": "吴九",
                }
            ],
        )
        other = subjects.find_person(session, platform.cipher.hash(with_account_rid))
        assert other is not None
        auth.create_user(session, username="wu9", password=PASSWORD, role="subject", subject_id=other.id)
        session.commit()
        subjects_before = session.scalar(select(func.count(Subject.id)))
        cases = {
            "true person with a contact": (rid, "周八"),
            "wrong name": (rid, "周九"),
            "unknown id": (resident_id("510104", dt.date(1992, 4, 4)), "郑十"),
            "already has an account": (with_account_rid, "吴九"),
        }
        token = csrf(client)
        pages = {}
        for label, (number, name) in cases.items():
            client.cookies.delete("xy_opening")
            sent = client.post(
                "/register",
                data={"csrf_token": token, "kind": "person", "resident_id": number, "person_name": name},
                follow_redirects=False,
            )
            assert sent.status_code == 303, label
            page = client.get("/register/verify").text
            assert number not in page and number not in sent.text
            pages[label] = _CSRF_VALUE.sub("", page)
        assert len(set(pages.values())) == 1, "the answer differs with the ID's status"
        assert (
            session.scalar(select(func.count(Subject.id))) == subjects_before
        )  # registration made no subject
        assert [m.address for m in messaging.outbox(session)] == ["13900001111"]


class TestIdentityPlatform:
    def test_an_enterprise_opens_its_account_through_the_identity_platform(
        self, client: TestClient, session: Session, platform: Platform, idp: TestIdentityProvider
    ) -> None:
        subject, _ = company(session, platform, phone=None)
        idp.next_identity = {"uscc": subject.uscc}
        start = client.get("/register/oidc", follow_redirects=False)
        assert start.status_code == 303 and start.headers["location"].startswith(idp.issuer)
        back = client.get(idp.authorize(start.headers["location"]), follow_redirects=False)
        assert back.status_code == 303 and back.headers["location"] == "/register/verify", back.text
        token = csrf(client)
        opened = client.post(
            "/register/verify",
            data={"csrf_token": token, "username": "idp-ent", "password": PASSWORD},
            follow_redirects=False,
        )
        assert opened.status_code == 303
        user = session.scalars(select(User).where(User.username == "idp-ent")).one()
        assert user.subject_id == subject.id and user.verification_method == "oidc"

    def test_a_login_begun_in_another_browser_is_refused(
        self, client: TestClient, session: Session, platform: Platform, idp: TestIdentityProvider
    ) -> None:
        subject, _ = company(session, platform, phone=None)
        idp.next_identity = {"uscc": subject.uscc}
        start = client.get("/register/oidc", follow_redirects=False)
        callback = idp.authorize(start.headers["location"])
        client.cookies.delete("xy_opening")  # the victim's browser has no ticket of this login
        client.get("/register/oidc", follow_redirects=False)  # ... or one of its own
        refused = client.get(callback, follow_redirects=False)
        assert refused.status_code == 403 and "oidc.state" in refused.text
        assert "核验已失效" in client.get("/register/verify").text  # its own login is unfinished: no form
        assert subject_accounts(session, subject.id) == 0


class TestCreditOfficeReview:
    def test_a_request_with_documents_is_approved_and_the_account_opens(
        self, client: TestClient, session: Session, platform: Platform
    ) -> None:
        subject, _ = company(session, platform, phone=None)
        token = csrf(client)
        filed = client.post(
            "/register/review",
            data={
                "csrf_token": token,
                "kind": "enterprise",
                "uscc": subject.uscc,
                "applicant": "王五",
                "username": "rev-ent",
                "password": PASSWORD,
            },
            files={
                "licence": ("营业执照.pdf", PDF_BYTES, "application/pdf"),
                "letter": ("授权委托书.pdf", PDF_BYTES, "application/pdf"),
            },
            follow_redirects=False,
        )
        assert filed.status_code == 303, filed.text
        assert "待处理" in client.get("/register/review/status").text
        applicant_cookie = client.cookies.get("xy_opening")
        token = login(client, session, role="credit_office", department_code="SCFGW")
        queue = client.get("/console/account-requests").text
        assert subject.uscc in queue and "营业执照.pdf" in queue
        request_id = session.scalars(
            select(AccountVerification.id).where(AccountVerification.method == "review")
        ).one()
        decided = client.post(
            f"/console/account-requests/{request_id}",
            data={"csrf_token": token, "decision": "approve"},
            follow_redirects=False,
        )
        assert decided.status_code == 303
        client.cookies.set("xy_opening", applicant_cookie or "")
        assert "已通过" in client.get("/register/review/status").text
        user = session.scalars(select(User).where(User.username == "rev-ent")).one()
        assert user.subject_id == subject.id and user.verified_at is not None

    def test_the_desk_and_the_outbox_are_the_credit_offices(
        self, client: TestClient, session: Session, platform: Platform
    ) -> None:
        assert client.get("/console/account-requests").status_code == 401
        login(client, session, role="provider")
        assert client.get("/console/messages").status_code == 403
        subject, _ = company(session, platform)
        login(client, session, role="credit_office", department_code="SCFGW")
        client.post(
            "/register",
            data={"csrf_token": csrf(client), "kind": "enterprise", "uscc": subject.uscc},
            follow_redirects=False,
        )
        assert code_sent_to(session, PHONE) in client.get("/console/messages").text


class TestUnverifiedAccounts:
    def test_an_account_opened_the_old_way_sees_only_the_public_file_until_it_verifies(
        self, client: TestClient, session: Session, platform: Platform
    ) -> None:
        subject, minor = company(session, platform)
        user = auth.create_user(
            session, username="old-way", password=PASSWORD, role="subject", subject_id=subject.id
        )
        user.verified_at = None  # as migration 0009 leaves it
        session.commit()
        anonymous_file = client.get(f"/subjects/{subject.uscc}").text
        log_in(client, "old-way")
        account = client.get("/account")
        assert (
            account.status_code == 200 and "账号尚未核验" in account.text and subject.name not in account.text
        )
        for own_page in ("/account/notices", "/account/repairs", "/account/objections"):
            assert client.get(own_page).status_code == 403, own_page
        seen = client.get(f"/subjects/{subject.uscc}").text
        assert minor not in seen and minor not in anonymous_file
        # it verifies itself with the code; no new username is asked
        token = csrf(client)
        client.post(
            "/register",
            data={"csrf_token": token, "kind": "enterprise", "uscc": subject.uscc},
            follow_redirects=False,
        )
        assert 'name="username"' not in client.get("/register/verify").text
        done = client.post(
            "/register/verify",
            data={"csrf_token": token, "code": code_sent_to(session, PHONE)},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"] == "/account"
        assert subject.name in client.get("/account").text
        assert minor in client.get(f"/subjects/{subject.uscc}").text


class TestMalformedInput:
    def test_odd_tickets_codes_and_files_get_clean_refusals(
        self, client: TestClient, session: Session
    ) -> None:
        token = csrf(client)
        client.cookies.set("xy_opening", "x" * 5000)
        assert "核验已失效" in client.get("/register/verify").text
        for code in ("", "abcdef", "1" * 12, "' OR 1=1 --"):
            refused = client.post(
                "/register/verify", data={"csrf_token": token, "code": code}, follow_redirects=False
            )
            assert refused.status_code in (404, 422), (code, refused.status_code)
        callback = client.get("/register/oidc/callback", params={"state": "s" * 3000, "code": "c" * 3000})
        assert callback.status_code == 404 and "verify.ticket" in callback.text
        kind = client.post("/register", data={"csrf_token": token, "kind": "<script>alert(1)</script>"})
        assert kind.status_code == 422 and "<script>alert(1)" not in kind.text
        bad_id = resident_id()[:-1] + "Z"
        wrong = client.post(
            "/register",
            data={"csrf_token": token, "kind": "person", "resident_id": bad_id, "person_name": "周八"},
        )
        assert wrong.status_code == 422 and bad_id not in wrong.text
        form = {
            "csrf_token": token,
            "kind": "enterprise",
            "uscc": uscc(),
            "applicant": "王五",
            "username": "u-odd",
            "password": PASSWORD,
        }
        for name, content in (("空.pdf", b""), ("程序.exe", b"MZ\x90\x00"), ("页面.pdf", b"<html><script>")):
            response = client.post(
                "/register/review",
                data=form,
                files={
                    "licence": (name, content, "application/pdf"),
                    "letter": ("授权委托书.pdf", PDF_BYTES, "application/pdf"),
                },
                follow_redirects=False,
            )
            assert response.status_code == 422, (name, response.status_code)
        assert session.scalar(select(func.count(AccountVerification.id))) == 0


def test_every_owner_route_refuses_an_unverified_account(
    client: TestClient, session: Session, platform: Platform
) -> None:
    """Every route declared `account:own` (its file, notices, repairs, objections...) is refused to a
    subject account not yet verified, as it is to a stranger's account."""
    from tests.security.test_authorization_matrix import api_routes, concrete_path, requirements

    subject, _ = company(session, platform)
    user = auth.create_user(
        session, username="unverified", password=PASSWORD, role="subject", subject_id=subject.id
    )
    user.verified_at = None
    session.commit()
    log_in(client, "unverified")
    token = csrf(client)
    owner_routes = [
        (method, route.path)
        for route in api_routes(client.app)  # type: ignore[arg-type]
        for method in route.methods
        if any(r.permission == "account:own" for r in requirements(route.dependant))
    ]
    assert len(owner_routes) >= 5
    for method, path in owner_routes:
        data = {"csrf_token": token} if method == "POST" else None
        response = client.request(method, concrete_path(path), data=data, follow_redirects=False)
        assert response.status_code == 403 and "auth.forbidden" in response.text, (method, path)
    assert client.get("/account").status_code == 200
