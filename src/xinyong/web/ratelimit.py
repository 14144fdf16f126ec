"""Per-client rate limits (the `limits` library, moving window, in-process memory).

A multi-process deployment points `limits` at Redis (`redis://...`) through XINYONG_RATE_LIMIT_STORAGE.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from xinyong.accounts.deps import get_principal
from xinyong.accounts.policy import Principal
from xinyong.kit.errors import XinyongError
from xinyong.web.deps import client_ip


class TooManyRequests(XinyongError):
    status_code = 429
    code = "rate_limited"


class RateLimits:
    def __init__(self, storage_uri: str, rules: dict[str, str]) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.rules = {name: parse(rule) for name, rule in rules.items()}

    def hit(self, name: str, key: str) -> bool:
        return self.limiter.hit(self.rules[name], name, key)


def client_key(principal: Principal, request: Request) -> str:
    """Whose budget a request spends: a department system's token, else the caller's address."""
    if principal.kind == "token":
        return f"token:{principal.token_id}"
    return f"ip:{client_ip(request) or 'unknown'}"


def rate_limited(name: str) -> Any:
    """A route's (or router's) rate limit, counted per token for department systems, per address otherwise.

    The caller is authenticated first (`get_principal`, which keeps the principal on the request for the
    route's own `require`): a router's dependencies run before its routes', so a limit that looked only at
    what was already known would count every token by the address it calls from."""

    async def check(request: Request) -> None:  # a cached token needs no I/O: stays on the event loop
        principal = await get_principal(request)
        limits: RateLimits = request.app.state.rate_limits
        if not limits.hit(name, client_key(principal, request)):
            raise TooManyRequests("请求过于频繁，请稍后再试")

    return Depends(check)


def rate_limited_search(name: str = "search", param: str = "q") -> Any:
    """`rate_limited(name)` for the requests of a listing page that carry a keyword (query parameter `param`):
    a keyword search costs what the portal's search costs and shares its budget; browsing does not count."""

    async def check(request: Request) -> None:
        if not request.query_params.get(param, "").strip():
            return
        principal = await get_principal(request)
        limits: RateLimits = request.app.state.rate_limits
        if not limits.hit(name, client_key(principal, request)):
            raise TooManyRequests("请求过于频繁，请稍后再试")

    return Depends(check)
