"""The mobile channel's sessions (移动端): short-lived bearer tokens for a phone app or mini-program, obtained
by a subject account's login (`POST /api/v1/me/login`) and accepted by the `/api/v1/me` routes only.

A mobile session is a server-side session row (`web_sessions`) like a browser's, with a short expiry
(`EXPIRES_IN`, 15 minutes) and no refresh: the app logs in again. Its kind is in how its key is made: the row's
id is the SHA-256 of the token under a label of its own (`mobile:`), so a mobile token presented as a session
cookie finds no session, and a cookie's value presented as a bearer token finds none either. The token carries
the prefix `xym_`, by which the request plumbing tells it from a department system's API token (`xy_`).
Logout deletes the row: the token is refused at once. Only the hash is stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from xinyong.accounts.auth import principal_for_user
from xinyong.accounts.models import User, WebSession
from xinyong.accounts.policy import Principal
from xinyong.kit.errors import Forbidden

TOKEN_PREFIX = "xym_"  # noqa: S105 - a prefix, not a secret
EXPIRES_IN = 15 * 60  # seconds a token lives; the app logs in again after
MAX_TOKEN_LENGTH = 200  # longer bearer values are refused without a look-up
_LABEL = "mobile:"


def session_id(token: str) -> str:
    """The key of a mobile token's session row: a hash under the channel's label (never a cookie's key)."""
    return hashlib.sha256((_LABEL + token).encode()).hexdigest()


def start(session: Session, user: User, *, ip: str | None, now: dt.datetime | None = None) -> str:
    """Open a mobile session for a subject account that has just authenticated; the token is returned once.

    Only subject accounts use the mobile channel (an unverified one too: it then sees what the public sees)."""
    if user.role != "subject":
        raise Forbidden("移动端仅供信用主体账号登录", code="me.subject_accounts_only")
    now = now or dt.datetime.now(dt.UTC)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id=session_id(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=EXPIRES_IN),
            ip=ip[:64] if ip else None,
        )
    )
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.flush()
    return token


def principal(session: Session, token: str, now: dt.datetime | None = None) -> Principal | None:
    """The account behind a mobile token, marked as the mobile channel's, or None when the token is unknown,
    expired or revoked, or its account disabled or no longer a subject account."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    now = now or dt.datetime.now(dt.UTC)
    found = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.id == session_id(token))
    ).first()
    if found is None:
        return None
    web, user = found
    if web.expires_at <= now or not user.is_active or user.role != "subject":
        return None
    return dataclasses.replace(principal_for_user(user), mobile=True)


def end(session: Session, token: str) -> bool:
    """Revoke a mobile token (logout): its session row is deleted. True when there was one."""
    result = session.execute(delete(WebSession).where(WebSession.id == session_id(token)))
    return bool(getattr(result, "rowcount", 0))
