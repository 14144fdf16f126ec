"""Property-based fuzzing of the mobile channel (`/api/v1/me`, tag `me`) from the OpenAPI schema, authenticated
with a verified subject account's mobile token (the API-wide fuzz in `test_schemathesis.py` calls these routes
with a department token, which they refuse): no input makes them fail (5xx), on both stores."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import PASSWORD, department, penalty, uscc
from tests.security.test_schemathesis import fuzzed_app, schema
from xinyong.accounts import auth, mobile
from xinyong.platform import Platform
from xinyong.records import service as records
from xinyong.subjects import service as subjects

__all__ = ["fuzzed_app"]  # the fixture that points the fuzzed app at the test's platform

ME_SCHEMA = schema.include(tag="me")


@pytest.fixture
def mobile_token(session: Session, platform: Platform, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A verified company account's mobile token, and a little of its data for the fuzzer to find."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    department(session, "SCMR", "四川省市场监督管理局")
    code = uscc()
    records.ingest_json(
        session,
        platform.ingest_context(TODAY),
        item_code="CF",
        provider_code="SCMR",
        records=[penalty(CF_XDR_SHXYM=code)],
    )
    user = auth.create_user(
        session,
        username="fuzz-mobile",
        password=PASSWORD,
        role="subject",
        subject_id=subjects.get_by_uscc(session, code).id,
    )
    token = mobile.start(session, user, ip=None)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


@ME_SCHEMA.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_makes_the_mobile_channel_fail(
    case: Any, fuzzed_app: None, mobile_token: dict[str, str]
) -> None:
    case.call_and_validate(headers=mobile_token, checks=[not_a_server_error])
