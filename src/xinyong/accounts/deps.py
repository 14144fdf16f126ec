"""Request authentication and the permission each route declares.

Every route depends on `require(permission)`; the authorisation matrix test reads these declarations from
the route table, so a route without one fails the suite.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from xinyong.accounts import auth, mobile
from xinyong.accounts.policy import ANONYMOUS, Principal, allows
from xinyong.kit.errors import Forbidden, Unauthorized


async def get_principal(request: Request) -> Principal:
    """Bearer token (department systems; a subject's mobile channel token, `accounts.mobile`), else the
    session cookie (people), else anonymous.

    A token seen in the last few seconds is answered from the platform's token cache on the event loop;
    anything else is looked up in the thread pool, in a short transaction of its own, so a request that
    needs no database of its own (the real-time check) opens no session for its caller.
    """
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    platform = request.app.state.platform
    principal: Principal | None = None
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            raise Unauthorized("Authorization 头应为 Bearer 令牌", code="auth.bad_header")
        if secret.startswith(mobile.TOKEN_PREFIX):  # a subject account's mobile channel token
            principal = await run_in_threadpool(_mobile_principal, platform.sessions, secret)
        else:
            principal = platform.tokens.get(secret) or await run_in_threadpool(
                _token_principal, platform.sessions, secret, platform.tokens
            )
        if principal is None:
            raise Unauthorized("令牌无效、已过期或已吊销", code="auth.invalid_token")
    elif cookie := request.cookies.get(auth.SESSION_COOKIE):
        principal = await run_in_threadpool(_session_principal, platform.sessions, cookie)
    request.state.principal = principal or ANONYMOUS
    return request.state.principal  # type: ignore[no-any-return]


def _token_principal(
    sessions: sessionmaker[Session], secret: str, cache: auth.TokenCache
) -> Principal | None:
    """A token's principal, read in a transaction of its own; its use, when the noted one is stale, noted in
    another, which writes first."""
    with sessions() as session:
        principal = auth.token_principal(session, secret, cache)
        token_id = principal.token_id if principal is not None else None
        stale = token_id is not None and auth.token_use_is_stale(session, token_id)
    if stale and token_id is not None:
        with sessions() as session:
            auth.note_token_use(session, token_id)
            session.commit()
    return principal


def _mobile_principal(sessions: sessionmaker[Session], secret: str) -> Principal | None:
    with sessions() as session:
        return mobile.principal(session, secret)


def _session_principal(sessions: sessionmaker[Session], cookie: str) -> Principal | None:
    with sessions() as session:
        return auth.session_principal(session, cookie)


class Requirement:
    """A route's declared permission, usable as a dependency (and readable from the route table)."""

    def __init__(self, permission: str) -> None:
        self.permission = permission

    async def __call__(self, request: Request) -> Principal:
        # `get_principal` called, not declared as a sub-dependency: FastAPI's resolution of a dependency
        # costs more than the call, and the principal is kept on the request once known.
        principal = await get_principal(request)
        if not allows(principal, self.permission):
            if principal.is_anonymous:
                raise Unauthorized("请先登录", code="auth.required")
            raise Forbidden("当前账号无权执行此操作", code="auth.forbidden")
        return principal

    def __repr__(self) -> str:
        return f"require({self.permission!r})"


def require(permission: str) -> Any:
    """Declare the permission a route needs: `principal: Annotated[Principal, require("records:write")]`."""
    return Depends(Requirement(permission))


PrincipalDep = Annotated[Principal, Depends(get_principal)]
