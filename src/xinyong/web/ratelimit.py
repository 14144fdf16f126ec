"""Per-client rate limits (the `limits` library, moving window, in-process memory).

A multi-process deployment points `limits` at Redis (`redis://...`) through XINYONG_RATE_LIMIT_STORAGE.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from xinyong.kit.errors import XinyongError


class TooManyRequests(XinyongError):
    status_code = 429
    code = "rate_limited"


class RateLimits:
    def __init__(self, storage_uri: str, rules: dict[str, str]) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.rules = {name: parse(rule) for name, rule in rules.items()}

    def hit(self, name: str, key: str) -> bool:
        return self.limiter.hit(self.rules[name], name, key)


def client_key(request: Request) -> str:
    principal = getattr(request.state, "principal", None)
    if principal is not None and principal.kind == "token":
        return f"token:{principal.token_id}"
    return f"ip:{request.client.host if request.client else 'unknown'}"


def rate_limited(name: str) -> Any:
    async def check(request: Request) -> None:  # no I/O: stays on the event loop, no thread hop
        limits: RateLimits = request.app.state.rate_limits
        if not limits.hit(name, client_key(request)):
            raise TooManyRequests("请求过于频繁，请稍后再试")

    return Depends(check)
