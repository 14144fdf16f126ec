"""One-time messages after a form post (flash): the outcome travels to the next page in a short-lived, signed
cookie, so a refused action returns to its page with the reason, and nobody can put words on a page by a link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from xinyong.kit.crypto import derive_key

COOKIE = "xy_flash"
MAX_MESSAGE = 600
LIFETIME_SECONDS = 120


@dataclass(frozen=True, slots=True)
class Flash:
    message: str
    ok: bool
    code: str | None = None


def _key(request: Request) -> bytes:
    secret: str = request.app.state.platform.settings.secret_key.get_secret_value()
    return derive_key(secret, "flash-message")


def _mac(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]


def redirect(
    request: Request, url: str, message: str, *, ok: bool, code: str | None = None
) -> RedirectResponse:
    """A 303 to `url` that shows `message` once there (`ok`: a success, else a refusal with its `code`)."""
    payload = {"m": message[:MAX_MESSAGE], "ok": ok, "c": code}
    body = base64.urlsafe_b64encode(json.dumps(payload, ensure_ascii=False).encode()).decode().rstrip("=")
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        COOKIE,
        f"{body}.{_mac(_key(request), body)}",
        max_age=LIFETIME_SECONDS,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def take(request: Request) -> Flash | None:
    """The message the previous response left for this page, if its signature holds (call `clear` after)."""
    raw = request.cookies.get(COOKIE, "")
    body, _, mac = raw.partition(".")
    if not body or len(raw) > 4000 or not hmac.compare_digest(mac, _mac(_key(request), body)):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return Flash(str(payload["m"])[:MAX_MESSAGE], bool(payload["ok"]), payload.get("c"))
    except (ValueError, KeyError, TypeError):
        return None


def clear(request: Request, response: Response) -> None:
    """Drop the message once shown, so a reload does not show it again."""
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
