"""Settings: the one place configuration comes from (environment variables with the XINYONG_ prefix)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET = "xinyong-demo-secret-not-for-production"  # noqa: S105 - demo-only default, refused when demo_mode is off
MIN_SECRET_LENGTH = 32  # outside demo mode; `xinyong keys init` writes 43 URL-safe characters (256 bits)


class InsecureSettings(RuntimeError):
    """Settings a production platform must not start with (a published or missing secret)."""


class Settings(BaseSettings):
    """Runtime configuration. Nothing reads the environment except this object."""

    model_config = SettingsConfigDict(env_prefix="XINYONG_", env_file=None, extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str | None = None
    secret_key: SecretStr = SecretStr(DEMO_SECRET)
    # Keys for personal identifiers. When unset they are derived from secret_key (HKDF), so one secret
    # suffices for a small deployment; a province sets them separately. pii_keys holds Fernet keys,
    # newest first, comma-separated: rotation adds a key in front and re-encrypts (see README).
    pii_keys: SecretStr | None = None
    id_hash_key: SecretStr | None = None
    # Ed25519 seed (32 bytes, base64) for signing check results; derived from secret_key when unset.
    signing_key: SecretStr | None = None
    # HMAC key of the audit chain (never stored in the database); derived from secret_key when unset.
    audit_key: SecretStr | None = None
    # A second file each audit checkpoint is appended to (a write-once mount, an external log's spool).
    audit_anchor_log: Path | None = None
    # A file of signing keys with ids (kit.crypto.Signer.from_key_file), rotated apart from the other keys:
    # its first private key signs, every key in it verifies. Takes precedence over signing_key.
    signing_key_file: Path | None = None
    demo_mode: bool = True
    credit_office_department: str = "SCFGW"  # the department hosting the credit office (信用办)
    log_level: str = "INFO"
    # Credit reports: the address printed in their QR codes (the portal's public origin), and the certificate
    # and private key (PEM) that sign their PDFs (PAdES); unset: a self-signed demo certificate is generated
    # into the data directory on first use (keys/report-signing.*, 0600).
    public_url: str = "http://127.0.0.1:8000"
    report_certificate: Path | None = None
    report_certificate_key: Path | None = None
    max_upload_mb: int = Field(default=200, ge=1)
    # Every other request body (JSON, forms without files), counted as it arrives, chunked or not.
    max_body_mb: int = Field(default=32, ge=1)
    ingest_chunk_size: int = Field(default=5000, ge=100)
    page_size: int = Field(default=20, ge=5, le=200)
    # Cookies carry the Secure flag when served over TLS, and always when this is set (production).
    cookie_secure: bool = False
    # Addresses or networks (comma-separated, e.g. "127.0.0.1,10.0.0.0/8") of reverse proxies whose
    # X-Forwarded-For is believed; from anyone else the header is ignored and the peer address counts.
    trusted_proxies: str = ""
    # The daily jobs (publicity ends, repair alerts and re-checks, objection escalation) run inside
    # `xinyong serve` at start-up and daily at this time (China time); off: run `xinyong jobs run` from cron.
    scheduler: bool = True
    jobs_at: dt.time = dt.time(1, 30)
    # API tokens are remembered this many seconds after a successful look-up: a revoked token keeps working
    # that long in a running server (0: look every token up on every request).
    token_cache_seconds: float = Field(default=15, ge=0, le=300)
    # Concurrent API checks are run together, one transaction per batch of at most this many (1: one by one).
    check_batch_max: int = Field(default=64, ge=1, le=1000)
    # The province's unified identity platform (OIDC, authorization code flow) for opening subject accounts;
    # off while oidc_issuer is unset. The ID token is checked against the key set in oidc_jwks_file (JWKS
    # JSON, kept locally: nothing is fetched at run time but the token itself).
    oidc_issuer: str | None = None
    oidc_client_id: str = "xinyong"
    oidc_client_secret: SecretStr | None = None
    oidc_authorize_url: str | None = None
    oidc_token_url: str | None = None
    oidc_jwks_file: Path | None = None
    oidc_redirect_url: str | None = None  # the callback registered at the platform; else this host's
    oidc_label: str = "四川省统一身份认证平台"
    oidc_uscc_claim: str = "uscc"
    oidc_resident_id_claim: str = "id_number"
    oidc_name_claim: str = "name"
    rate_limit_storage: str = "memory://"
    rate_limit_search: str = "60/minute"
    rate_limit_api: str = "1200/minute"
    rate_limit_login: str = "20/minute"

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'xinyong.db').resolve()}"

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # a ValueError names the bad entry
        return value

    @cached_property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in self.trusted_proxies.split(",")
            if part.strip()
        )

    def insecure_reasons(self) -> list[str]:
        """Why a production platform (demo mode off) must not start with these settings; empty when it may."""
        if self.demo_mode:
            return []
        secret = self.secret_key.get_secret_value()
        if not secret or secret == DEMO_SECRET:
            return ["XINYONG_SECRET_KEY 未设置或仍为公开的演示值"]
        if len(secret) < MIN_SECRET_LENGTH:
            return [f"XINYONG_SECRET_KEY 过短（至少{MIN_SECRET_LENGTH}个字符）"]
        return []

    def require_production_keys(self) -> None:
        """Refuse to go on with a published or missing secret outside demo mode (InsecureSettings)."""
        reasons = self.insecure_reasons()
        if reasons:
            raise InsecureSettings(
                "；".join(reasons)
                + "。非演示模式（XINYONG_DEMO_MODE=false）下拒绝启动：用 `xinyong keys init` 生成密钥"
            )

    def ensure_dirs(self) -> None:
        for sub in ("", "uploads", "reports"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)


def get_settings() -> Settings:
    """Build settings from the environment (called by the app factory and the CLI, never at import)."""
    return Settings()
