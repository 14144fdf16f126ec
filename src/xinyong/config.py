"""Settings: the one place configuration comes from (environment variables with the XINYONG_ prefix)."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET = "xinyong-demo-secret-not-for-production"  # noqa: S105 - demo-only default, refused when demo_mode is off


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
    demo_mode: bool = True
    credit_office_department: str = "SCFGW"  # the department hosting the credit office (信用办)
    log_level: str = "INFO"
    max_upload_mb: int = Field(default=200, ge=1)
    ingest_chunk_size: int = Field(default=5000, ge=100)
    page_size: int = Field(default=20, ge=5, le=200)
    # Cookies carry the Secure flag when served over TLS, and always when this is set (production).
    cookie_secure: bool = False
    # The daily jobs (publicity ends, repair alerts and re-checks, objection escalation) run inside
    # `xinyong serve` at start-up and daily at this time (China time); off: run `xinyong jobs run` from cron.
    scheduler: bool = True
    jobs_at: dt.time = dt.time(1, 30)
    # API tokens are remembered this many seconds after a successful look-up: a revoked token keeps working
    # that long in a running server (0: look every token up on every request).
    token_cache_seconds: float = Field(default=15, ge=0, le=300)
    # Concurrent API checks are run together, one transaction per batch of at most this many (1: one by one).
    check_batch_max: int = Field(default=64, ge=1, le=1000)
    rate_limit_storage: str = "memory://"
    rate_limit_search: str = "60/minute"
    rate_limit_api: str = "1200/minute"
    rate_limit_login: str = "20/minute"

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'xinyong.db').resolve()}"

    def ensure_dirs(self) -> None:
        for sub in ("", "uploads", "reports"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)


def get_settings() -> Settings:
    """Build settings from the environment (called by the app factory and the CLI, never at import)."""
    return Settings()
