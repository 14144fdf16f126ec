"""The app's one HTTP middleware, written as plain ASGI: body limit, CSRF cookie seed and security headers.

Starlette's `@app.middleware("http")` (BaseHTTPMiddleware) wraps every request in a task group and memory
streams, and re-wraps `receive` for each layer; three such layers cost more CPU than a small API request's own
work (measured on the check benchmark, docs/benchmarks-checks.md). As one plain ASGI layer the same rules
cost a header scan and one wrapped `send`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.accounts.deps import CSRF_COOKIE, csrf_token_for, new_csrf_seed, usable_csrf_seed
from xinyong.web import errors


class HttpGuard:
    """Refuses an oversized body up front; gives each browser a signed CSRF seed; sets security headers.

    - A declared Content-Length over `max_upload_mb` is answered 413 before anything is read (uploads are also
      checked after parsing, for bodies sent without a length).
    - `request.state.csrf_token` is HMAC(secret, seed) for the browser's seed cookie; a browser without one
      gets a new seed as an HttpOnly cookie on its next page (never on /api/ answers).
    - Every response gets the CSP, framing, sniffing and referrer headers (HSTS over TLS) unless the endpoint
      set its own.
    """

    def __init__(self, app: ASGIApp, *, secret: str, max_upload_mb: int, cookie_secure: bool) -> None:
        self.app = app
        self.max_body = max_upload_mb * 1024 * 1024
        self.secret = secret
        self.max_upload_mb = max_upload_mb
        self.cookie_secure = cookie_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = cookie = b""
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"cookie":
                cookie = value
        if length.isdigit() and int(length) > self.max_body:
            request = Request(scope)
            response = errors.respond(
                request, 413, "payload_too_large", f"请求体超过{self.max_upload_mb}MB上限"
            )
            errors.add_security_headers(request, response)
            await response(scope, receive, send)
            return
        seed = usable_csrf_seed(cookie_parser(cookie.decode("latin-1")).get(CSRF_COOKIE)) if cookie else None
        new_seed = seed is None
        if seed is None:
            seed = new_csrf_seed()
        scope.setdefault("state", {})["csrf_token"] = csrf_token_for(seed, self.secret)
        https = scope.get("scheme") == "https"
        set_cookie = new_seed and not scope["path"].startswith("/api/")
        await self.app(scope, receive, self._send(send, seed if set_cookie else None, https))

    def _send(self, send: Send, seed: str | None, https: bool) -> Callable[[Message], Any]:
        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in errors.security_headers(https):
                    headers.setdefault(name, value)
                if seed is not None:
                    cookie = Response()
                    cookie.set_cookie(
                        CSRF_COOKIE, seed, httponly=True, samesite="lax", secure=self.cookie_secure or https
                    )
                    headers.append("set-cookie", cookie.headers["set-cookie"])
            await send(message)

        return guarded
