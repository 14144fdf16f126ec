"""Login at the province's unified identity platform (OpenID Connect, authorization code flow).

The platform sends the browser back with a code; the code is exchanged at the token endpoint for an ID token,
whose signature (RS256 or ES256, against the configured key set), issuer, audience, expiry and nonce are
checked with joserfc before any claim is read. The claim names are configuration: an enterprise's token
carries its USCC, a person's the resident ID (used only through its keyed hash, never stored in clear).
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from xinyong.config import Settings
from xinyong.kit.errors import NotFound, ValidationFailed

ALGORITHMS = ["RS256", "ES256"]
LEEWAY_S = 60
Post = Callable[[str, dict[str, str]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Identity:
    """What a validated ID token says: the subject's USCC, or a person's resident ID and name."""

    uscc: str | None
    resident_id: str | None
    name: str | None
    issuer_subject: str


def _post_form(url: str, form: dict[str, str]) -> dict[str, Any]:
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(  # noqa: S310 - the configured token endpoint (http(s) checked below)
        url,
        data=data,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        body = response.read(1_000_000)
    result = json.loads(body)
    if not isinstance(result, dict):
        raise ValueError("token endpoint answered no JSON object")
    return result


class Provider:
    """One identity platform, from settings. `post` sends a form to the token endpoint (injectable)."""

    def __init__(self, settings: Settings, post: Post = _post_form) -> None:
        if not (
            settings.oidc_issuer
            and settings.oidc_authorize_url
            and settings.oidc_token_url
            and settings.oidc_jwks_file
        ):
            raise NotFound("未配置统一身份认证平台", code="oidc.not_configured")
        for url in (settings.oidc_authorize_url, settings.oidc_token_url):
            if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise ValueError(f"OIDC endpoint is not an http(s) URL: {url}")
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self.client_secret = (
            settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else ""
        )
        self.authorize_endpoint = settings.oidc_authorize_url
        self.token_endpoint = settings.oidc_token_url
        self.keys = load_keys(settings.oidc_jwks_file)
        self.redirect_url = settings.oidc_redirect_url
        self.label = settings.oidc_label
        self.claims = (settings.oidc_uscc_claim, settings.oidc_resident_id_claim, settings.oidc_name_claim)
        self.post = post

    def authorize_url(self, *, redirect_uri: str, state: str, nonce: str) -> str:
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid",
                "state": state,
                "nonce": nonce,
            }
        )
        separator = "&" if "?" in self.authorize_endpoint else "?"
        return f"{self.authorize_endpoint}{separator}{query}"

    def identity(self, code: str, *, redirect_uri: str, nonce: str, now: int | None = None) -> Identity:
        """Exchange the code and validate the ID token; refuse (no detail to the browser) anything amiss."""
        try:
            answer = self.post(
                self.token_endpoint,
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                },
            )
        except (OSError, ValueError):
            raise ValidationFailed(
                "统一身份认证平台暂时无法访问，请稍后再试", code="oidc.unavailable"
            ) from None
        token = answer.get("id_token")
        if not isinstance(token, str) or len(token) > 20_000:
            raise ValidationFailed("统一身份认证平台未返回有效的身份令牌", code="oidc.invalid_token")
        return self.validate(token, nonce=nonce, now=now)

    def validate(self, token: str, *, nonce: str, now: int | None = None) -> Identity:
        registry = jwt.JWTClaimsRegistry(
            now=now if now is not None else int(time.time()),
            leeway=LEEWAY_S,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            exp={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            decoded = jwt.decode(token, self.keys, algorithms=ALGORITHMS)
            registry.validate(decoded.claims)
        except (JoseError, ValueError, TypeError):
            raise ValidationFailed("身份令牌无效或已过期", code="oidc.invalid_token") from None
        claims = decoded.claims
        uscc_claim, id_claim, name_claim = self.claims

        def text(name: str) -> str | None:
            value = claims.get(name)
            return value.strip()[:200] if isinstance(value, str) and value.strip() else None

        identity = Identity(
            uscc=text(uscc_claim),
            resident_id=text(id_claim),
            name=text(name_claim),
            issuer_subject=str(claims["sub"])[:200],
        )
        if identity.uscc is None and identity.resident_id is None:
            raise ValidationFailed("身份令牌中没有统一社会信用代码或公民身份号码", code="oidc.no_identifier")
        return identity


def load_keys(path: Path) -> KeySet:
    """The identity platform's public keys (a JWKS document kept on disk)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return KeySet.import_key_set(data)
