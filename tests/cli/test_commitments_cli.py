"""`xinyong tokens create --scopes commitments:write` and the commitment parts of `xinyong jobs run`."""

from __future__ import annotations

import json

from tests.cli.test_accounts_cli import env, runner  # noqa: F401 - the fixture
from xinyong.cli import app


def test_a_token_for_commitments_is_created_and_the_daily_job_checks_verifications(env: object) -> None:  # noqa: F811
    created = runner.invoke(
        app, ["tokens", "create", "--department", "SCFGW", "--scopes", "commitments:write", "--json"]
    )
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["scopes"] == ["commitments:write"]
    jobs = runner.invoke(app, ["jobs", "run"])
    assert jobs.exit_code == 0, jobs.output
    assert "commitments: 0 verification tasks generated" in jobs.output
    assert "commitments: 0 overdue verifications alerted" in jobs.output
