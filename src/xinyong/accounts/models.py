"""Departments (a tree from province to county), users, API tokens, sessions and item grants."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db.base import Base, JSONType, UTCDateTime, utcnow


class Department(Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class User(Base):
    """A console or portal account. Subject accounts are bound to their subject after verification."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    role: Mapped[str] = mapped_column(String(24), index=True)
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    is_department_admin: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    # A subject account sees its own file only once verified (verified_at set) by one of the methods of
    # `accounts.verification`: code, oidc, review, or operator (made by the credit office or the demo).
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    verification_method: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A department system's API token: stored as a hash, scoped, expiring and revocable."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)  # shown in lists and logs, not secret
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A server-side login session; the cookie carries a random token whose hash is the key."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(64))


class LoginAttempt(Base):
    """Login attempts, for throttling with back-off."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(default=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ItemGrant(Base):
    """A department's entitlement to a conditionally shared item (有条件共享), for a stated purpose."""

    __tablename__ = "item_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    item_code: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(String(500))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)


class SubjectContact(Base):
    """The contact the registration authority holds for a subject (登记联系方式): a mobile number or an
    e-mail address where activation codes are sent. Never public: shown to its owner only masked."""

    __tablename__ = "subject_contacts"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # sms, email
    address: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(100))  # the authority whose register it comes from
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class OutboxMessage(Base):
    """A text message or e-mail handed to the message gateway; with the outbox gateway (demo, tests) the
    message stays here for the operator to read (`xinyong messages list`, `/console/messages`)."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(200), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class AccountVerification(Base):
    """One attempt to prove who is behind a subject account: an activation code sent to the registered
    contact (code), a login at the province's identity platform (oidc), or a request with documents that the
    credit office reviews (review). The browser holds a random ticket; only its hash is kept here."""

    __tablename__ = "account_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_hash: Mapped[str] = mapped_column(String(64), unique=True)
    method: Mapped[str] = mapped_column(String(12), index=True)
    subject_kind: Mapped[str] = mapped_column(String(12))  # enterprise, person
    # The subject the claim matched (None when it matched nothing: the attempt then fails like a wrong code).
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # an account verifying
    claimed_code: Mapped[str | None] = mapped_column(String(18))  # USCC, or a resident ID masked
    claimed_name: Mapped[str | None] = mapped_column(String(200))
    secret_hash: Mapped[str | None] = mapped_column(String(64))  # the code's keyed hash, or the OIDC state's
    nonce: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), index=True)  # pending, proven, done, refused
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    proven_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    username: Mapped[str | None] = mapped_column(String(64))  # asked for by a reviewed request
    password_hash: Mapped[str | None] = mapped_column(String(200))
    applicant: Mapped[str | None] = mapped_column(String(100))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(500))
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
