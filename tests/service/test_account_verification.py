"""Verifying subject accounts: codes to the registered contact, identity-platform logins, reviewed requests;
no identity oracles; unverified accounts see only the public view; login throttling without lock-out."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import PASSWORD, PDF_BYTES, department, penalty, resident_id, uscc
from tests.oidc_idp import CLIENT_ID, TestIdentityProvider
from xinyong.accounts import auth, messaging, oidc, review, verification
from xinyong.accounts.messaging import OutboxGateway
from xinyong.accounts.models import AccountVerification, OutboxMessage, User
from xinyong.accounts.policy import ANONYMOUS, SYSTEM, Principal, allows
from xinyong.config import Settings
from xinyong.files.service import Upload
from xinyong.kit.errors import XinyongError
from xinyong.platform import Platform
from xinyong.records import service as records
from xinyong.records.credit_file import credit_file
from xinyong.records.service import IngestContext
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject

NOW = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)
PHONE = "13812345678"


def enterprise(session: Session, ctx: IngestContext, *, phone: str | None = PHONE) -> Subject:
    """A company with a public penalty (and a non-public one), and the phone its register holds."""
    department(session)
    code = uscc()
    records.ingest_json(
        session,
        ctx,
        item_code="CF",
        provider_code="SCMR",
        records=[penalty(CF_XDR_SHXYM=code, CF_FRDB="张三")],
    )
    subject = subjects.get_by_uscc(session, code)
    if phone:
        messaging.set_contact(session, subject.id, "sms", phone, source="四川省市场监督管理局")
    return subject


def person(
    session: Session, ctx: IngestContext, name: str = "周八", *, phone: str | None = "13900001111"
) -> tuple[Subject, str]:
    department(session)
    rid = resident_id("510107", dt.date(1980, 3, 3))
    row = penalty(CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJHM=rid, CF_XDR_MC=name, severity="轻微")
    assert (
        records.ingest_json(session, ctx, item_code="CF", provider_code="SCMR", records=[row]).accepted == 1
    )
    subject = subjects.find_person(session, ctx.cipher.hash(rid))
    assert subject is not None
    if phone:
        messaging.set_contact(session, subject.id, "sms", phone, source="公安机关")
    return subject, rid


def sent_code(session: Session, address: str) -> str:
    (message,) = messaging.outbox(session, address=address, limit=1)
    match = re.search(r"验证码为 (\d{6})", message.body)
    assert match, message.body
    return match[1]


def claim_for(subject: Subject) -> verification.Claim:
    assert subject.uscc
    return verification.Claim(kind="enterprise", uscc=subject.uscc)


class TestActivationCode:
    def test_the_code_goes_to_the_registered_contact_and_opens_a_verified_account(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        subject = enterprise(session, ctx)
        started = verification.start_code(
            session, OutboxGateway(), platform.cipher, claim_for(subject), now=NOW
        )
        assert started.sent_to == "138****5678"
        code = sent_code(session, PHONE)
        row = started.verification
        assert row.secret_hash and code not in row.secret_hash and row.subject_id == subject.id
        proven = verification.check_code(session, platform.cipher, started.ticket, code, now=NOW)
        user = verification.complete(session, proven, username="ent-owner", password=PASSWORD, now=NOW)
        assert user.subject_id == subject.id and user.verified_at is not None
        assert user.verification_method == "code"
        assert auth.principal_for_user(user).subject_id == subject.id
        # single use: the ticket is spent
        with pytest.raises(XinyongError) as again:
            verification.check_code(session, platform.cipher, started.ticket, code, now=NOW)
        assert again.value.code == "verify.code_invalid"

    def test_five_wrong_codes_spend_the_ticket_even_for_the_right_one(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        subject = enterprise(session, ctx)
        started = verification.start_code(
            session, OutboxGateway(), platform.cipher, claim_for(subject), now=NOW
        )
        code = sent_code(session, PHONE)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(verification.CODE_ATTEMPTS):
            with pytest.raises(XinyongError):
                verification.check_code(session, platform.cipher, started.ticket, wrong, now=NOW)
        with pytest.raises(XinyongError) as info:
            verification.check_code(session, platform.cipher, started.ticket, code, now=NOW)
        assert info.value.code == "verify.code_invalid"
        assert session.scalar(select(func.count(User.id)).where(User.subject_id == subject.id)) == 0

    def test_an_expired_code_is_refused(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        subject = enterprise(session, ctx)
        started = verification.start_code(
            session, OutboxGateway(), platform.cipher, claim_for(subject), now=NOW
        )
        code = sent_code(session, PHONE)
        later = NOW + verification.CODE_TTL + dt.timedelta(seconds=1)
        with pytest.raises(XinyongError) as info:
            verification.check_code(session, platform.cipher, started.ticket, code, now=later)
        assert info.value.code == "verify.code_invalid"

    def test_codes_to_one_subject_are_limited_per_hour(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        subject = enterprise(session, ctx)
        for _ in range(verification.CODES_PER_SUBJECT_PER_HOUR):
            verification.start_code(session, OutboxGateway(), platform.cipher, claim_for(subject), now=NOW)
        with pytest.raises(XinyongError) as info:
            verification.start_code(session, OutboxGateway(), platform.cipher, claim_for(subject), now=NOW)
        assert info.value.code == "verify.too_many_codes"
        assert len(messaging.outbox(session, address=PHONE)) == verification.CODES_PER_SUBJECT_PER_HOUR

    def test_a_second_account_for_a_verified_subject_is_refused_after_the_proof(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        subject = enterprise(session, ctx)
        for username, expected in (("first", None), ("second", "register.exists")):
            started = verification.start_code(
                session, OutboxGateway(), platform.cipher, claim_for(subject), now=NOW
            )
            row = verification.check_code(
                session, platform.cipher, started.ticket, sent_code(session, PHONE), now=NOW
            )
            if expected is None:
                verification.complete(session, row, username=username, password=PASSWORD, now=NOW)
            else:
                with pytest.raises(XinyongError) as info:
                    verification.complete(session, row, username=username, password=PASSWORD, now=NOW)
                assert info.value.code == expected


class TestNoIdentityOracle:
    def test_a_person_gets_the_same_answer_whatever_the_id_and_no_subject_is_made(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        subject, rid = person(session, ctx)
        auth.create_user(
            session, username="has-account", password=PASSWORD, role="subject", subject_id=subject.id
        )
        unknown = resident_id("510104", dt.date(1990, 1, 1))
        _, no_contact_rid = person(session, ctx, "吴九", phone=None)
        subjects_before = session.scalar(select(func.count(Subject.id)))
        claims = {
            "unknown id": verification.Claim("person", resident_id=unknown, person_name="郑十"),
            "wrong name": verification.Claim("person", resident_id=rid, person_name="周九"),
            "no contact": verification.Claim("person", resident_id=no_contact_rid, person_name="吴九"),
            "already has an account": verification.Claim("person", resident_id=rid, person_name="周八"),
        }
        answers = {}
        for label, claim in claims.items():
            started = verification.start_code(session, OutboxGateway(), platform.cipher, claim, now=NOW)
            answers[label] = (started.sent_to, started.contact_missing, started.verification.status)
        assert set(answers.values()) == {(None, False, "pending")}, answers
        assert session.scalar(select(func.count(Subject.id))) == subjects_before
        # Only the true person with a contact got a message; the masked ID is all that is kept.
        assert [m.address for m in messaging.outbox(session)] == ["13900001111"]
        kept = session.scalars(select(AccountVerification.claimed_code)).all()
        assert rid not in kept and unknown not in kept and all("*" in c for c in kept if c)

    def test_an_unmatched_claim_fails_every_code(self, session: Session, platform: Platform) -> None:
        claim = verification.Claim("person", resident_id=resident_id(), person_name="郑十")
        started = verification.start_code(session, OutboxGateway(), platform.cipher, claim, now=NOW)
        for guess in ("000000", "123456", "999999"):
            with pytest.raises(XinyongError) as info:
                verification.check_code(session, platform.cipher, started.ticket, guess, now=NOW)
            assert info.value.code == "verify.code_invalid"


class TestUnverifiedAccountSeesWhatThePublicSees:
    def test_an_unverified_account_gets_the_public_view_and_no_owner_permission(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        subject = enterprise(session, ctx)
        records.ingest_json(
            session,
            ctx,
            item_code="CF",
            provider_code="SCMR",
            records=[penalty(CF_XDR_SHXYM=subject.uscc, severity="轻微")],
        )
        user = auth.create_user(
            session, username="old-way", password=PASSWORD, role="subject", subject_id=subject.id
        )
        user.verified_at = None  # as migration 0009 leaves accounts opened on public data
        principal = auth.principal_for_user(user)
        assert principal.subject_id is None
        assert not allows(principal, "account:own") and allows(principal, "account:verify")
        unverified_view, kind = credit_file(session, ctx.catalog, principal, subject.id, TODAY)
        public_view, _ = credit_file(session, ctx.catalog, ANONYMOUS, subject.id, TODAY)
        assert kind == "public" and [r.id for r in unverified_view] == [r.id for r in public_view]
        verified = auth.principal_for_user(
            auth.create_user(
                session, username="owner", password=PASSWORD, role="subject", subject_id=subject.id
            )
        )
        own_view, own_kind = credit_file(session, ctx.catalog, verified, subject.id, TODAY)
        assert own_kind == "own" and len(own_view) > len(public_view)  # the minor penalty is not public


def provider_for(idp: TestIdentityProvider, tmp_path: Path, **overrides: Any) -> oidc.Provider:
    settings = Settings(secret_key="x", **{**idp.settings(tmp_path), **overrides})
    return oidc.Provider(settings, post=lambda url, form: idp.token(form))


def _hs256(payload: dict[str, Any], secret: bytes) -> str:
    """A token signed with HMAC, the key being the platform's public key (algorithm confusion), made by hand:
    joserfc itself refuses to build one."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = part(b'{"alg":"HS256","typ":"JWT"}') + "." + part(json.dumps(payload).encode())
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + part(signature)


class TestIdentityPlatform:
    @pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
    def test_a_valid_id_token_binds_the_login_to_its_subject(
        self, session: Session, platform: Platform, ctx: IngestContext, tmp_path: Path, algorithm: str
    ) -> None:
        subject = enterprise(session, ctx, phone=None)
        idp = TestIdentityProvider(algorithm)
        provider = provider_for(idp, tmp_path)
        ticket, state, nonce = verification.start_oidc(session, now=NOW)
        idp.next_identity = {"uscc": subject.uscc}
        back = idp.authorize(provider.authorize_url(redirect_uri="http://x/cb", state=state, nonce=nonce))
        code = re.search(r"code=([^&]+)", back)[1]  # type: ignore[index]
        row = verification.oidc_login(session, ticket, state)
        identity = provider.identity(code, redirect_uri="http://x/cb", nonce=nonce)
        verification.finish_oidc(session, platform.cipher, row, identity, today=TODAY, now=NOW)
        user = verification.complete(session, row, username="via-idp", password=PASSWORD, now=NOW)
        assert user.subject_id == subject.id and user.verification_method == "oidc"

    def test_a_state_from_another_browser_is_refused(self, session: Session) -> None:
        mine, _, _ = verification.start_oidc(session, now=NOW)
        _, theirs, _ = verification.start_oidc(session, now=NOW)
        with pytest.raises(XinyongError) as info:
            verification.oidc_login(session, mine, theirs)
        assert info.value.code == "oidc.state"

    def test_forged_or_foreign_tokens_are_refused(self, tmp_path: Path) -> None:
        idp = TestIdentityProvider()
        provider = provider_for(idp, tmp_path)
        identity = {"uscc": uscc()}
        now = int(dt.datetime.now(dt.UTC).timestamp())
        other_key = RSAKey.generate_key(2048, parameters={"kid": "rs-1"}, private=True)
        forged = jwt.encode(
            {"alg": "RS256", "kid": "rs-1"},
            {"iss": idp.issuer, "aud": CLIENT_ID, "sub": "x", "exp": now + 300, "nonce": "n", **identity},
            other_key,
        )
        # HS256 with the public key as the secret (algorithm confusion), and an unsigned token
        public_pem = idp.key.as_pem(private=False)
        confused = _hs256(
            {"iss": idp.issuer, "aud": CLIENT_ID, "sub": "x", "exp": now + 300, "nonce": "n", **identity},
            public_pem,
        )
        _header, payload, _ = idp.id_token("n", identity).split(".")
        unsigned = "eyJhbGciOiJub25lIn0." + payload + "."
        bad = {
            "forged signature": forged,
            "algorithm confusion": confused,
            "alg none": unsigned,
            "other issuer": idp.id_token("n", identity, iss="https://evil.example"),
            "other audience": idp.id_token("n", identity, aud="someone-else"),
            "expired": idp.id_token("n", identity, exp=now - 3600),
            "other nonce": idp.id_token("m", identity),
            "no subject claim": idp.id_token("n", identity, sub=None),
            "garbage": "not.a.token",
        }
        for label, token in bad.items():
            with pytest.raises(XinyongError) as info:
                provider.validate(token, nonce="n")
            assert info.value.code == "oidc.invalid_token", label
        assert provider.validate(idp.id_token("n", identity), nonce="n").uscc == identity["uscc"]

    def test_a_person_is_found_by_the_hashed_id_and_a_stranger_is_not_made_a_subject(
        self, session: Session, platform: Platform, ctx: IngestContext, tmp_path: Path
    ) -> None:
        subject, rid = person(session, ctx)
        idp = TestIdentityProvider()
        provider = provider_for(idp, tmp_path)
        before = session.scalar(select(func.count(Subject.id)))
        for number, expected in ((rid, subject.id), (resident_id("510104", dt.date(1991, 2, 2)), None)):
            ticket, state, nonce = verification.start_oidc(session, now=NOW)
            row = verification.oidc_login(session, ticket, state)
            identity = provider.validate(
                idp.id_token(nonce, {"id_number": number, "name": "周八"}), nonce=nonce
            )
            if expected is None:
                with pytest.raises(XinyongError) as info:
                    verification.finish_oidc(session, platform.cipher, row, identity, today=TODAY, now=NOW)
                assert info.value.code == "oidc.no_subject"
            else:
                verification.finish_oidc(session, platform.cipher, row, identity, today=TODAY, now=NOW)
                assert row.subject_id == expected and row.claimed_code and number not in row.claimed_code
        assert session.scalar(select(func.count(Subject.id))) == before


class TestReviewedRequest:
    def test_the_credit_office_approves_a_request_and_the_account_logs_in_verified(
        self, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        subject = enterprise(session, ctx, phone=None)
        public = Principal(kind="anonymous", name="anonymous")
        ticket, row = review.submit_review(
            session,
            platform.context(public, NOW.date()),
            claim_for(subject),
            applicant="王五",
            licence=Upload("营业执照.pdf", PDF_BYTES),
            letter=Upload("授权委托书.pdf", PDF_BYTES),
            username="reviewed-ent",
            password=PASSWORD,
            now=NOW,
        )
        assert row.status == "pending" and row.subject_id == subject.id and row.password_hash
        assert PASSWORD not in (row.password_hash or "")
        assert verification.by_ticket(session, ticket, "review").id == row.id
        with pytest.raises(XinyongError) as info:
            review.decide_review(session, SYSTEM, row.id, approve=False)
        assert info.value.code == "review.reason"
        review.decide_review(session, SYSTEM, row.id, approve=True, now=NOW)
        assert row.status == "done" and row.password_hash is None
        user = auth.authenticate(session, "reviewed-ent", PASSWORD, ip=None, demo_mode=True)
        assert user.subject_id == subject.id and user.verification_method == "review"

    def test_documents_are_required_and_a_request_for_no_subject_cannot_be_approved(
        self, session: Session, platform: Platform
    ) -> None:
        claim = verification.Claim("enterprise", uscc=uscc())
        public = Principal(kind="anonymous", name="anonymous")
        args: dict[str, Any] = {"applicant": "王五", "username": "ghost", "password": PASSWORD, "now": NOW}
        with pytest.raises(XinyongError) as missing:
            review.submit_review(
                session,
                platform.context(public, NOW.date()),
                claim,
                licence=Upload("营业执照.pdf", PDF_BYTES),
                letter=None,
                **args,
            )
        assert missing.value.code == "review.documents"
        with pytest.raises(XinyongError) as html:
            review.submit_review(
                session,
                platform.context(public, NOW.date()),
                claim,
                licence=Upload("营业执照.pdf", PDF_BYTES),
                letter=Upload("x.pdf", b"<html><script>"),
                **args,
            )
        assert html.value.code == "file.type_not_allowed"
        _, row = review.submit_review(
            session,
            platform.context(public, NOW.date()),
            claim,
            licence=Upload("营业执照.pdf", PDF_BYTES),
            letter=Upload("授权委托书.pdf", PDF_BYTES),
            **args,
        )
        with pytest.raises(XinyongError) as info:
            review.decide_review(session, SYSTEM, row.id, approve=True, now=NOW)
        assert info.value.code == "review.no_subject"
        review.decide_review(session, SYSTEM, row.id, approve=False, reason="未找到该主体", now=NOW)
        assert row.status == "refused"
        assert session.scalar(select(func.count(User.id)).where(User.username == "ghost")) == 0


class TestLoginThrottling:
    def test_a_guesser_elsewhere_does_not_lock_the_owner_out(self, session: Session) -> None:
        auth.create_user(session, username="owner-1", password=PASSWORD, role="auditor")
        for n in range(auth.FREE_FAILURES + 3):
            with pytest.raises(XinyongError):
                auth.authenticate(session, "owner-1", f"guess-{n}", ip="203.0.113.9", demo_mode=True, now=NOW)
        with pytest.raises(XinyongError) as info:
            auth.authenticate(session, "owner-1", PASSWORD, ip="203.0.113.9", demo_mode=True, now=NOW)
        assert info.value.code == "auth.throttled"
        owner = auth.authenticate(session, "owner-1", PASSWORD, ip="198.51.100.7", demo_mode=True, now=NOW)
        assert owner.username == "owner-1"

    def test_guesses_spread_over_many_addresses_slow_new_addresses_but_not_the_owners(
        self, session: Session
    ) -> None:
        auth.create_user(session, username="owner-2", password=PASSWORD, role="auditor")
        auth.authenticate(
            session, "owner-2", PASSWORD, ip="198.51.100.7", demo_mode=True, now=NOW - dt.timedelta(days=3)
        )
        later = NOW
        for n in range(auth.SPRAY_FAILURES + 2):
            with pytest.raises(XinyongError) as guess:
                auth.authenticate(
                    session,
                    "owner-2",
                    f"guess-{n}",
                    ip=f"10.0.{n // 200}.{n % 200}",
                    demo_mode=True,
                    now=later,
                )
            assert guess.value.code == "auth.invalid_credentials" or n >= auth.SPRAY_FAILURES
        with pytest.raises(XinyongError) as fresh:
            auth.authenticate(session, "owner-2", PASSWORD, ip="192.0.2.50", demo_mode=True, now=later)
        assert fresh.value.code == "auth.throttled"
        assert auth.authenticate(session, "owner-2", PASSWORD, ip="198.51.100.7", demo_mode=True, now=later)

    def test_back_off_per_address_doubles(self) -> None:
        delays = [auth.throttle_delay(n) for n in range(auth.FREE_FAILURES, auth.FREE_FAILURES + 4)]
        assert delays == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]


class TestMigration:
    def test_0009_marks_subject_accounts_opened_before_unverified(self, tmp_path: Path) -> None:
        from sqlalchemy import text

        from xinyong.db import migrate
        from xinyong.db.engine import make_engine

        engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
        migrate.upgrade(engine, "0008")
        stamp = "2026-01-01 00:00:00.000000"
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO subjects (id, kind, name, name_norm, core_name, created_at, updated_at) "
                    "VALUES (1, 'legal_person', 'A', 'a', 'a', :t, :t)"
                ),
                {"t": stamp},
            )
            for n, role, subject in ((1, "subject", 1), (2, "auditor", None)):
                conn.execute(
                    text(
                        "INSERT INTO users (id, username, display_name, password_hash, role, subject_id, "
                        "is_department_admin, is_active, is_demo, verified_at, created_at) "
                        "VALUES (:id, :u, :u, 'x', :role, :s, false, true, false, :t, :t)"
                    ),
                    {"id": n, "u": f"u{n}", "role": role, "s": subject, "t": stamp},
                )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            rows: dict[str, Any] = dict(conn.execute(text("SELECT role, verified_at FROM users")).all())
        engine.dispose()
        assert rows["subject"] is None and rows["auditor"] is not None


def test_outbox_gateway_keeps_the_message_in_the_caller_transaction(session: Session) -> None:
    OutboxGateway().send(session, messaging.Message("email", "a@example.com", "test", "正文"))
    assert (
        session.scalar(select(OutboxMessage.body).where(OutboxMessage.address == "a@example.com")) == "正文"
    )
    assert messaging.mask_contact("email", "zhang@example.com") == "z***@example.com"
    with pytest.raises(XinyongError):
        messaging.normalize_contact("sms", "12345")


def test_a_demo_seeded_before_0009_gets_its_enterprise_verified_and_contacts_registered(
    session: Session, ctx: IngestContext
) -> None:
    from xinyong.demo import service as demo

    subject = enterprise(session, ctx, phone=None)
    user = auth.create_user(
        session, username="enterprise", password="x", role="subject", subject_id=subject.id, is_demo=True
    )
    user.verified_at = None
    demo.refresh_accounts(session)
    demo.refresh_accounts(session)  # idempotent
    contact = messaging.contact_of(session, subject.id)
    assert user.verified_at is not None and contact is not None
    assert contact.address == demo.demo_phone(subject.id)
    assert auth.principal_for_user(user).subject_id == subject.id


def test_the_daily_prune_removes_unproven_attempts_and_old_messages_but_keeps_proofs(
    session: Session, platform: Platform, ctx: IngestContext
) -> None:
    subject = enterprise(session, ctx)
    stranger = verification.start_code(
        session, OutboxGateway(), platform.cipher, verification.Claim("enterprise", uscc=uscc()), now=NOW
    )
    owner = verification.start_code(session, OutboxGateway(), platform.cipher, claim_for(subject), now=NOW)
    proven = verification.check_code(
        session, platform.cipher, owner.ticket, sent_code(session, PHONE), now=NOW
    )
    verification.complete(session, proven, username="kept", password=PASSWORD, now=NOW)
    for message in messaging.outbox(session):
        message.created_at = NOW
    later = NOW + dt.timedelta(days=31)
    assert verification.prune(session, later) == 2  # the stranger's attempt and the code message
    assert verification.prune(session, later) == 0
    remaining = session.scalars(select(AccountVerification.id)).all()
    assert stranger.verification.id not in remaining and proven.id in remaining
