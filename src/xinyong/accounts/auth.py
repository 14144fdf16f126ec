"""Authentication use cases: passwords (argon2id), login throttling, server-side sessions, API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.models import ApiToken, LoginAttempt, User, WebSession
from xinyong.accounts.policy import ORGANIZATION_ROLES, ROLES, TOKEN_SCOPES, Principal
from xinyong.kit.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from xinyong.kit.identifiers import mask_embedded_ids, mask_ids

SESSION_DAYS = 1
TOKEN_BYTES = 32
THROTTLE_WINDOW = dt.timedelta(minutes=15)
FREE_FAILURES = 5  # per username and address, before the back-off starts
SPRAY_FAILURES = 50  # per username from all addresses, before addresses the owner has not used are slowed
KNOWN_ADDRESS_AGE = dt.timedelta(days=90)
SESSION_COOKIE = "xy_session"  # the cookie that carries a person's web session
LAST_USED_GRANULARITY = dt.timedelta(minutes=5)
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < 10 or password.isdigit() or password.isalpha():
        raise ValidationFailed("密码至少10位，且须同时包含字母和数字或符号", code="user.weak_password")


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    department_code: str | None = None,
    subject_id: int | None = None,
    is_department_admin: bool = False,
    is_demo: bool = False,
    password_hash: str | None = None,
    verification_method: str = "operator",
) -> User:
    """Create an account; government roles need a department, subject accounts a verified subject.

    A subject account is made here only once its subject is proven (`accounts.verification`), or by the
    credit office or the demo (`verification_method` "operator"). `password_hash` takes a password hashed
    earlier (a reviewed request keeps only the hash until it is decided).
    """
    username = username.strip()
    if not username or len(username) > 64:
        raise ValidationFailed("用户名不能为空且不超过64个字符", code="user.invalid")
    if mask_embedded_ids(username)[1]:  # a username is shown and logged everywhere: never an ID
        raise ValidationFailed("用户名不能包含公民身份号码", code="user.resident_id")
    if role not in ROLES:
        raise ValidationFailed(f"角色“{role}”不存在", code="user.unknown_role")
    if role in ("provider", "reviewer", "credit_office") and not department_code:
        raise ValidationFailed("部门用户必须属于一个部门", code="user.department_required")
    if role == "subject" and subject_id is None:
        raise ValidationFailed("主体账号须绑定已核验的信用主体", code="user.subject_required")
    if department_code:
        accounts.get_department(session, department_code)
    if not is_demo and password_hash is None:
        check_password_strength(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValidationFailed(f"用户名“{username}”已被使用", code="user.exists")
    user = User(
        username=username,
        display_name=mask_ids(display_name) if display_name else username,
        password_hash=password_hash or hash_password(password),
        role=role,
        department_code=department_code,
        subject_id=subject_id,
        is_department_admin=is_department_admin,
        is_demo=is_demo,
        verified_at=dt.datetime.now(dt.UTC) if subject_id else None,
        verification_method=verification_method if subject_id else None,
    )
    session.add(user)
    session.flush()
    return user


def throttle_delay(failures: int, free: int = FREE_FAILURES) -> dt.timedelta:
    """Back-off after repeated failures: free attempts, then 1, 2, 4 ... minutes, capped at an hour."""
    if failures < free:
        return dt.timedelta(0)
    return dt.timedelta(minutes=min(60, 2 ** (failures - free)))


def _same_address(ip: str | None) -> ColumnElement[bool]:
    return LoginAttempt.ip.is_(None) if ip is None else LoginAttempt.ip == ip


def _failures_since_success(
    session: Session, username: str, now: dt.datetime, ip: str | None, *, any_address: bool
) -> tuple[int, dt.datetime | None]:
    """Failed logins for the username in the throttle window after its last success (from this address, or
    from any when `any_address`): how many, and the latest."""
    scope = [LoginAttempt.username == username]
    if not any_address:
        scope.append(_same_address(ip))
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(*scope, LoginAttempt.success.is_(True))
    )
    if last_success is not None and last_success.tzinfo is None:
        last_success = last_success.replace(tzinfo=dt.UTC)
    since = max(now - THROTTLE_WINDOW, last_success) if last_success else now - THROTTLE_WINDOW
    count, latest = session.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.at)).where(
            *scope, LoginAttempt.success.is_(False), LoginAttempt.at > since
        )
    ).one()
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=dt.UTC)
    return int(count), latest


def _known_address(session: Session, username: str, ip: str | None, now: dt.datetime) -> bool:
    """Whether the account's owner logged in from this address lately (a spray from elsewhere spares it)."""
    return (
        session.scalar(
            select(LoginAttempt.id)
            .where(
                LoginAttempt.username == username,
                _same_address(ip),
                LoginAttempt.success.is_(True),
                LoginAttempt.at > now - KNOWN_ADDRESS_AGE,
            )
            .limit(1)
        )
        is not None
    )


def login_wait(session: Session, username: str, ip: str | None, now: dt.datetime) -> dt.timedelta:
    """How long this address must wait before trying this username again (zero: it may try now).

    Failures count per username and address, so a guesser elsewhere does not lock the owner out (a lock-out
    anyone can trigger is a denial of service). Against guesses spread over many addresses, the username's
    failures from all addresses together slow down every address the owner has not logged in from lately.
    """
    waits = [dt.timedelta(0)]
    count, latest = _failures_since_success(session, username, now, ip, any_address=False)
    if latest is not None and (delay := throttle_delay(count)):
        waits.append(latest + delay - now)
    count, latest = _failures_since_success(session, username, now, ip, any_address=True)
    if (
        latest is not None
        and (delay := throttle_delay(count, SPRAY_FAILURES))
        and not _known_address(session, username, ip, now)
    ):
        waits.append(latest + delay - now)
    return max(waits)


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    ip: str | None,
    demo_mode: bool,
    now: dt.datetime | None = None,
) -> User:
    """Check a password with throttling. Failures are recorded; the caller commits even when this raises."""
    now = now or dt.datetime.now(dt.UTC)
    username = username.strip()[:64]
    ip = ip[:64] if ip else None
    wait = login_wait(session, username, ip, now)
    if wait > dt.timedelta(0):
        minutes = int(wait.total_seconds() // 60) + 1
        raise Forbidden(f"登录失败次数过多，请{minutes}分钟后再试", code="auth.throttled")
    user = session.scalar(select(User).where(User.username == username))
    ok = False
    if user is not None and user.is_active:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        _hasher.hash(password)  # spend the same time whether or not the user exists
    session.add(LoginAttempt(username=username, ip=ip, success=ok, at=now))
    session.flush()
    if not ok or user is None:
        raise Unauthorized("用户名或密码错误", code="auth.invalid_credentials")
    if user.is_demo and not demo_mode:
        raise Forbidden("演示账号仅可在演示模式下使用", code="auth.demo_account")
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(session: Session, user: User, *, ip: str | None) -> str:
    """Create a server-side session and return the cookie value (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    session.add(
        WebSession(
            id=_sha256(token), user_id=user.id, expires_at=now + dt.timedelta(days=SESSION_DAYS), ip=ip
        )
    )
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.flush()
    return token


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _sha256(token)))


def principal_for_user(user: User) -> Principal:
    """The user as a caller. A subject account not yet verified carries no subject: it sees what the public
    sees until one of `accounts.verification`'s methods binds it. An organisation account (agency, bank)
    carries its organisation as `organization_id`, never as its subject: it reads no file as its own."""
    return Principal(
        kind="user",
        name=user.username,
        role=user.role,
        department_code=user.department_code,
        subject_id=None
        if user.role in ORGANIZATION_ROLES or (user.role == "subject" and user.verified_at is None)
        else user.subject_id,
        user_id=user.id,
        is_department_admin=user.is_department_admin,
        organization_id=user.subject_id if user.role in ORGANIZATION_ROLES else None,
    )


def session_principal(session: Session, token: str) -> Principal | None:
    web = session.get(WebSession, _sha256(token))
    if web is None or web.expires_at < dt.datetime.now(dt.UTC):
        return None
    user = session.get(User, web.user_id)
    if user is None or not user.is_active:
        return None
    return principal_for_user(user)


def create_token(
    session: Session, *, department_code: str, scopes: Sequence[str], name: str = "", days: int = 365
) -> tuple[ApiToken, str]:
    """Create an API token; the secret is returned once and only its hash is kept."""
    accounts.get_department(session, department_code)
    unknown = sorted(set(scopes) - set(TOKEN_SCOPES))
    if unknown or not scopes:
        raise ValidationFailed(f"未知或缺少的权限范围：{', '.join(unknown) or '（空）'}", code="token.scopes")
    if not 1 <= days <= 730:
        raise ValidationFailed("令牌有效期须在1至730天之间", code="token.days")
    secret = "xy_" + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(
        prefix=secret[:10],
        token_hash=_sha256(secret),
        name=name or f"{department_code} token",
        department_code=department_code,
        scopes=sorted(set(scopes)),
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=days),
    )
    session.add(token)
    session.flush()
    return token, secret


class TokenCache:
    """API tokens authenticated in the last few seconds, so a busy department system is not looked up (and
    its transaction not opened) on every request.

    The price is stated: a token revoked (by `xinyong tokens revoke`, another process) keeps working for at
    most `ttl_s` seconds in a running server; expiry is checked on every hit. `ttl_s` 0 turns caching off.
    """

    def __init__(
        self, ttl_s: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, tuple[Principal, float, dt.datetime]] = {}
        self._lock = threading.Lock()

    def get(self, secret: str) -> Principal | None:
        if self.ttl_s <= 0:
            return None
        found = self._entries.get(_sha256(secret))
        if found is None:
            return None
        principal, fresh_until, expires_at = found
        if self.clock() >= fresh_until or dt.datetime.now(dt.UTC) >= expires_at:
            return None
        return principal

    def put(self, secret: str, principal: Principal, expires_at: dt.datetime) -> None:
        if self.ttl_s <= 0:
            return
        now = self.clock()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
            self._entries[_sha256(secret)] = (principal, now + self.ttl_s, expires_at)


def token_principal(session: Session, secret: str, cache: TokenCache | None = None) -> Principal | None:
    """The principal of a bearer token, or None when it is unknown, revoked or expired. Reads only: the
    token's use is noted apart, by `note_token_use` in a transaction of its own."""
    if cache is not None and (hit := cache.get(secret)) is not None:
        return hit
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(secret)))
    now = dt.datetime.now(dt.UTC)
    if token is None or token.revoked_at is not None or token.expires_at < now:
        return None
    principal = Principal(
        kind="token",
        name=token.prefix,
        department_code=token.department_code,
        scopes=frozenset(token.scopes),
        token_id=token.id,
    )
    if cache is not None:
        cache.put(secret, principal, token.expires_at)
    return principal


def token_use_is_stale(session: Session, token_id: int, now: dt.datetime | None = None) -> bool:
    """Whether the token's noted last use is old enough to note again (read from the row `token_principal`
    loaded into this session: no query)."""
    token = session.get(ApiToken, token_id)
    now = now or dt.datetime.now(dt.UTC)
    return token is not None and (
        token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY
    )


def note_token_use(session: Session, token_id: int, now: dt.datetime | None = None) -> None:
    """Note that a token was used, at most every few minutes: one UPDATE that matches nothing while the
    noted time is fresh, so a busy system's token row is no point of lock contention.

    Run it first in its transaction: on SQLite a transaction that has read cannot write once another
    transaction has written (SQLITE_BUSY_SNAPSHOT, no waiting), which is what concurrent first requests
    of a new token did when the look-up itself wrote.
    """
    now = now or dt.datetime.now(dt.UTC)
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_GRANULARITY),
        )
        .values(last_used_at=now)
    )


def revoke_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("未找到该令牌", code="token.not_found")
    token.revoked_at = token.revoked_at or dt.datetime.now(dt.UTC)
    return token


def list_tokens(session: Session) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).order_by(ApiToken.id)).all()


def list_users(session: Session, department_code: str | None = None) -> Sequence[User]:
    query = select(User).order_by(User.username)
    if department_code:
        query = query.where(User.department_code == department_code)
    return session.scalars(query).all()


def set_active(session: Session, user_id: int, active: bool, *, department_code: str | None) -> User:
    """Disable or re-enable an account (a disabled user's sessions and logins stop at once).

    `department_code` limits the change to that department's users (None: the credit office, any user).
    """
    user = session.get(User, user_id)
    if user is None or (department_code is not None and user.department_code != department_code):
        raise NotFound("未找到该用户", code="user.not_found")
    user.is_active = active
    session.flush()
    return user
