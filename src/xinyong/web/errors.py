"""One handler renders domain errors: JSON for /api, a Chinese page for HTML. No stack traces leak."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from xinyong.accounts.deps import get_principal
from xinyong.kit.errors import XinyongError
from xinyong.web.templating import render

log = logging.getLogger("xinyong.web")

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
)


_SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)
_HSTS = (("Strict-Transport-Security", "max-age=31536000"),)


def security_headers(https: bool) -> tuple[tuple[str, str], ...]:
    """CSP, framing, sniffing and referrer headers for every response (error pages included), HSTS over TLS."""
    return _SECURITY_HEADERS + _HSTS if https else _SECURITY_HEADERS


def add_security_headers(request: Request, response: Response) -> None:
    for name, value in security_headers(request.url.scheme == "https"):
        response.headers.setdefault(name, value)


HTTP_MESSAGES = {
    404: "页面不存在",
    405: "不支持的请求方法",
    413: "上传内容过大",
    429: "请求过于频繁，请稍后再试",
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


ROLE_HOMES = {
    "subject": ("/account", "返回我的信用"),
    "agency": ("/account/authorized", "返回获得的授权"),
    "bank": ("/account/authorized", "返回获得的授权"),
}
CONSOLE_HOME = ("/console", "返回管理后台")


def _same_site_referer(request: Request) -> str | None:
    """Where the person came from, as a path on this site (never another host), unless it is this very page."""
    referer = request.headers.get("referer", "")
    if not referer or len(referer) > 2000:
        return None
    parts = urlsplit(referer)
    if parts.scheme not in ("http", "https") or parts.netloc != request.url.netloc:
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    back = f"{path}?{parts.query}" if parts.query else path
    here = f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path
    return None if back == here and request.method == "GET" else back


async def _principal(request: Request) -> Any:
    """The viewer, if known: the request resolved it, or (a page the app has no route for) its session cookie."""
    known = getattr(request.state, "principal", None)
    if known is not None or _wants_json(request) or not request.cookies:
        return known

    try:
        return await get_principal(request)
    except Exception:  # an error page must render even when the viewer cannot be told
        return None


def way_back(request: Request, principal: Any) -> dict[str, Any]:
    """The links an error page offers: back where the person was (same site only) and their role's home."""
    signed_in = principal is not None and getattr(principal, "kind", None) == "user"
    home = ("/", "返回首页")
    if signed_in:
        home = ROLE_HOMES.get(principal.role, CONSOLE_HOME)
    login = None
    if not signed_in and request.method == "GET":
        here = f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path
        login = f"/login?next={quote(here, safe='/')}"
    return {"back": _same_site_referer(request), "home": home, "login": login, "signed_in": signed_in}


def respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: object = None,
    principal: Any = None,
) -> Response:
    if _wants_json(request):
        body: dict[str, object] = {"code": code, "message": message}
        if details is not None:
            body["details"] = details
        return JSONResponse({"error": body}, status_code=status)
    context = {"status": status, "code": code, "message": message}
    return render(request, "error.html", context | way_back(request, principal), status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(XinyongError)
    async def _domain(request: Request, exc: XinyongError) -> Response:
        principal = await _principal(request)
        return respond(request, exc.status_code, exc.code, exc.message, exc.details, principal)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        return respond(
            request, 422, "request.invalid", "请求参数不符合要求", details, await _principal(request)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = HTTP_MESSAGES.get(exc.status_code, "请求无法处理")
        principal = await _principal(request)
        return respond(request, exc.status_code, f"http.{exc.status_code}", message, None, principal)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = respond(
            request,
            500,
            "internal",
            "系统内部错误，请稍后再试",
            None,
            getattr(request.state, "principal", None),
        )
        add_security_headers(request, response)  # this handler runs outside the app's middleware
        return response
