"""One error hierarchy: each domain error carries an HTTP status and a stable code; messages are Chinese."""

from __future__ import annotations

from typing import Any


class XinyongError(Exception):
    """Base of every expected business error. Rendered as JSON for the API and as a page for HTML."""

    status_code: int = 400
    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return {"error": body}


class BadRequest(XinyongError):
    status_code = 400
    code = "bad_request"


class ValidationFailed(XinyongError):
    status_code = 422
    code = "validation_failed"


class NotFound(XinyongError):
    status_code = 404
    code = "not_found"


class Conflict(XinyongError):
    status_code = 409
    code = "conflict"


class Unauthorized(XinyongError):
    status_code = 401
    code = "unauthorized"


class Forbidden(XinyongError):
    status_code = 403
    code = "forbidden"


class PayloadTooLarge(XinyongError):
    status_code = 413
    code = "payload_too_large"
