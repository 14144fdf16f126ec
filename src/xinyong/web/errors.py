"""One handler renders domain errors: JSON for /api, a Chinese page for HTML. No stack traces leak."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

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


def respond(request: Request, status: int, code: str, message: str, details: object = None) -> Response:
    if _wants_json(request):
        body: dict[str, object] = {"code": code, "message": message}
        if details is not None:
            body["details"] = details
        return JSONResponse({"error": body}, status_code=status)
    return render(
        request, "error.html", {"status": status, "code": code, "message": message}, status_code=status
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(XinyongError)
    async def _domain(request: Request, exc: XinyongError) -> Response:
        return respond(request, exc.status_code, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        return respond(request, 422, "request.invalid", "请求参数不符合要求", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = HTTP_MESSAGES.get(exc.status_code, "请求无法处理")
        return respond(request, exc.status_code, f"http.{exc.status_code}", message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = respond(request, 500, "internal", "系统内部错误，请稍后再试")
        add_security_headers(request, response)  # this handler runs outside the app's middleware
        return response
