"""The app's one HTTP middleware, written as plain ASGI: body limits, input hygiene, CSRF cookie seed and
security headers.

Starlette's `@app.middleware("http")` (BaseHTTPMiddleware) wraps every request in a task group and memory
streams, and re-wraps `receive` for each layer; three such layers cost more CPU than a small API request's own
work (measured on the check benchmark, docs/benchmarks-checks.md). As one plain ASGI layer the same rules
cost a header scan and one wrapped `send`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.accounts.auth import SESSION_COOKIE
from xinyong.kit import hygiene
from xinyong.web import errors
from xinyong.web.csrf import CSRF_COOKIE, csrf_token_for, new_csrf_seed, usable_csrf_seed

# Bodies checked whole before the app sees them (they are parsed whole anyway): JSON and url-encoded forms.
_JSON_TYPES = (b"application/json",)
_FORM_TYPE = b"application/x-www-form-urlencoded"
_MULTIPART_TYPE = b"multipart/form-data"
# Responses that may carry personal data are never stored by a browser or a shared cache.
NO_STORE_PREFIXES = ("/account", "/console", "/api/")


def _too_large(limit_mb: int) -> tuple[str, str]:
    return "payload_too_large", f"请求体超过{limit_mb}MB上限"


def _headers(scope: Scope) -> tuple[bytes, bytes, bytes]:
    """The request's Content-Length, Cookie and media type (lower case, without parameters); b"" if absent."""
    length = cookie = content_type = b""
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = value
        elif name == b"cookie":
            cookie = value
        elif name == b"content-type":
            content_type = value.split(b";", 1)[0].strip().lower()
    return length, cookie, content_type


class BodyTooLarge(HTTPException):
    """Raised by the guarded `receive` once a body passes its limit; the guard answers 413 in its place."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class HttpGuard:
    """Caps every body; refuses text no store can hold; gives each browser a signed CSRF seed; sets headers.

    - Every request body is counted as it arrives, chunked or not: a body carrying files (multipart) may
      reach `max_upload_mb`, any other `max_body_mb`. A declared Content-Length over the limit is answered
      413 before anything is read; a body that passes it while arriving is answered 413 in place of whatever
      the app would have answered, and nothing more of it is read.
    - NUL characters and lone surrogates (`kit.hygiene`) in the path, the query string, a JSON body or a
      url-encoded form get a 422 `input.invalid_characters` before the app runs (multipart fields are
      checked with the form's CSRF token, `web.csrf.csrf_protect`).
    - `request.state.csrf_token` is HMAC(secret, seed) for the browser's seed cookie; a browser without one
      gets a new seed as an HttpOnly cookie on its next page (never on /api/ answers).
    - Every response gets the CSP, framing, sniffing and referrer headers (HSTS over TLS) unless the endpoint
      set its own; account, console and API responses get `Cache-Control: no-store`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret: str,
        max_upload_mb: int,
        cookie_secure: bool,
        max_body_mb: int = 32,
    ) -> None:
        self.app = app
        self.max_upload = max_upload_mb * 1024 * 1024
        self.max_body = max_body_mb * 1024 * 1024
        self.secret = secret
        self.max_upload_mb = max_upload_mb
        self.max_body_mb = max_body_mb
        self.cookie_secure = cookie_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, cookie, content_type = _headers(scope)
        multipart = content_type == _MULTIPART_TYPE
        limit, limit_mb = (
            (self.max_upload, self.max_upload_mb) if multipart else (self.max_body, self.max_body_mb)
        )
        if length.isdigit() and int(length) > limit:
            await self._refuse(scope, receive, send, 413, *_too_large(limit_mb))
            return
        if "\x00" in scope["path"] or hygiene.bad_urlencoded(scope.get("query_string", b"")):
            await self._refuse(scope, receive, send, 422, hygiene.CODE, hygiene.MESSAGE)
            return
        whole = content_type in _JSON_TYPES or content_type.endswith(b"+json") or content_type == _FORM_TYPE
        if whole:
            screened = await self._screened(scope, receive, send, content_type, limit, limit_mb)
            if screened is None:
                return
            receive = screened
        cookies = cookie_parser(cookie.decode("latin-1")) if cookie else {}
        seed = usable_csrf_seed(cookies.get(CSRF_COOKIE))
        new_seed = seed is None
        if seed is None:
            seed = new_csrf_seed()
        scope.setdefault("state", {})["csrf_token"] = csrf_token_for(
            seed, self.secret, cookies.get(SESSION_COOKIE, "")
        )
        https = scope.get("scheme") == "https"
        path: str = scope["path"]
        set_cookie = new_seed and not path.startswith("/api/")
        no_store = path.startswith(NO_STORE_PREFIXES)
        guarded = self._send(send, seed if set_cookie else None, https, no_store)
        if whole or length.isdigit():  # read already, or declared within the limit (a server reads no more)
            await self.app(scope, receive, guarded)
        else:  # chunked, or no length: counted as it arrives
            file_refusal = ("file.too_large", f"文件超过{limit_mb}MB上限") if multipart else None
            await self._streamed(scope, receive, send, limit, file_refusal or _too_large(limit_mb), guarded)

    async def _screened(
        self, scope: Scope, receive: Receive, send: Send, content_type: bytes, limit: int, limit_mb: int
    ) -> Receive | None:
        """A JSON or url-encoded body read whole and screened: its replay, or None once refused (413, 422)."""
        body = await self._read_whole(receive, limit)
        if body is None:
            await self._refuse(scope, receive, send, 413, *_too_large(limit_mb))
            return None
        bad = hygiene.bad_urlencoded(body) if content_type == _FORM_TYPE else hygiene.bad_json(body)
        if bad:
            await self._refuse(scope, receive, send, 422, hygiene.CODE, hygiene.MESSAGE)
            return None
        return _replay(body, receive)

    async def _streamed(
        self, scope: Scope, receive: Receive, send: Send, limit: int, refusal: tuple[str, str], guarded: Send
    ) -> None:
        """Run the app on a body counted as it arrives; past the limit, answer 413 instead of the app."""
        received = 0
        over = started = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLarge
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if over and not started:  # the app's answer to the refused body is replaced by the 413
                return
            started = started or message["type"] == "http.response.start"
            await guarded(message)

        with contextlib.suppress(BodyTooLarge):  # raised through the app by `counted`
            await self.app(scope, counted, sending)
        if over and not started:
            await self._refuse(scope, receive, send, 413, *refusal)

    @staticmethod
    async def _read_whole(receive: Receive, limit: int) -> bytes | None:
        """The whole body (None once it passes `limit`: the rest is not read)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: the app sees an empty body
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str
    ) -> None:
        request = Request(scope)
        response = errors.respond(request, status, code, message)
        errors.add_security_headers(request, response)
        if status == 413:
            response.headers["connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)

    def _send(self, send: Send, seed: str | None, https: bool, no_store: bool) -> Callable[[Message], Any]:
        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in errors.security_headers(https):
                    headers.setdefault(name, value)
                if no_store:
                    headers.setdefault("cache-control", "no-store")
                if seed is not None:
                    cookie = Response()
                    cookie.set_cookie(
                        CSRF_COOKIE, seed, httponly=True, samesite="lax", secure=self.cookie_secure or https
                    )
                    headers.append("set-cookie", cookie.headers["set-cookie"])
            await send(message)

        return guarded


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read as one message, then defers to the server's."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
