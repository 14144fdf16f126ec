"""Cross-site request forgery: the per-browser seed cookie, the form token bound to it and to the session,
and the dependency every form post declares (`CsrfDep`). `web.middleware.HttpGuard` issues the seed and puts
the page's token on the request; `csrf_protect` checks what a form sends back."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request

from xinyong.accounts.auth import SESSION_COOKIE
from xinyong.kit import hygiene
from xinyong.kit.errors import Forbidden, ValidationFailed
from xinyong.web.deps import PlatformDep

CSRF_COOKIE = "xy_csrf"
CSRF_FIELD = "csrf_token"


def csrf_token_for(seed: str, secret: str, session: str = "") -> str:
    """The form token of a browser's seed cookie, bound to its session cookie (empty before login): a token
    read from one session, or a seed cookie planted from elsewhere, is worth nothing in another session."""
    return hmac.new(secret.encode(), f"{seed}\n{session}".encode(), hashlib.sha256).hexdigest()


def usable_csrf_seed(seed: str | None) -> str | None:
    """The browser's seed cookie if it is one this platform could have issued, else None."""
    return seed if seed and 20 <= len(seed) <= 100 else None


def new_csrf_seed() -> str:
    return secrets.token_urlsafe(24)


async def csrf_protect(request: Request, platform: PlatformDep) -> None:
    """Refuse a form post whose csrf_token does not match this browser's signed cookie and session; refuse
    text fields no store can hold (`kit.hygiene`: the middleware checks url-encoded forms, this multipart)."""
    seed = request.cookies.get(CSRF_COOKIE, "")
    form = await request.form()
    sent = str(form.get(CSRF_FIELD, ""))
    session = request.cookies.get(SESSION_COOKIE, "")
    expected = csrf_token_for(seed, platform.settings.secret_key.get_secret_value(), session) if seed else ""
    if not seed or not hmac.compare_digest(sent, expected):
        raise Forbidden("表单已过期或来源不明，请刷新页面后重试", code="auth.csrf")
    if any(
        hygiene.bad_text(value if isinstance(value, str) else value.filename or "")
        for _, value in form.multi_items()
    ):
        raise ValidationFailed(hygiene.MESSAGE, code=hygiene.CODE)


CsrfDep = Annotated[None, Depends(csrf_protect)]
