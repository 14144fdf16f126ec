"""Property-based fuzzing of the JSON API from its own OpenAPI schema: no input makes the server fail (5xx).

Runs schemathesis in-process against the ASGI app, authenticated with an API token holding every scope,
on both stores (SQLite, and PostgreSQL when configured: NUL bytes, lone surrogates and oversized values fail
differently there), with a bounded number of examples per operation so the suite stays fast.
Rate limits are raised so the fuzzer reaches the handlers instead of collecting 429s.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import bearer, licence, penalty
from xinyong.accounts.policy import TOKEN_SCOPES
from xinyong.app import create_app
from xinyong.config import Settings
from xinyong.platform import Platform
from xinyong.records import service as records
from xinyong.web.deps import get_today


@pytest.fixture
def all_scopes(session: Session, platform: Platform) -> dict[str, str]:
    """Authorization header of a token with every scope, and a little data for the fuzzer to find."""
    headers = bearer(session, "SCMR", TOKEN_SCOPES)
    records.ingest_json(
        session,
        platform.ingest_context(TODAY),
        item_code="CF",
        provider_code="SCMR",
        records=[penalty(), penalty(severity="轻微")],
    )
    records.ingest_json(
        session, platform.ingest_context(TODAY), item_code="XK", provider_code="SCMR", records=[licence()]
    )
    session.commit()
    return headers


def fuzz_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url="sqlite://",
        secret_key="test-secret-key",
        rate_limit_search="100000/minute",
        rate_limit_api="100000/minute",
    )


# The schema is read at import (schemathesis parametrises at collection); the app's platform is swapped for
# the test's transaction-bound one by the `fuzzed_app` fixture. (`schemathesis.pytest.from_fixture` would
# avoid this, but 4.x sets `request.node._nodeid`, which pytest 9 no longer has.)
APP = create_app(fuzz_settings(Path(tempfile.gettempdir()) / "xinyong-fuzz-unused"))
APP.dependency_overrides[get_today] = lambda: TODAY
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture
def fuzzed_app(platform: Platform, tmp_path: Path) -> Iterator[None]:
    placeholder = APP.state.platform
    APP.state.platform = Platform(
        settings=fuzz_settings(tmp_path),
        sessions=platform.sessions,
        cipher=platform.cipher,
        signer=platform.signer,
    )
    yield
    APP.state.platform = placeholder


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_makes_the_api_fail(case: Any, fuzzed_app: None, all_scopes: dict[str, str]) -> None:
    case.call_and_validate(headers=all_scopes, checks=[not_a_server_error])
