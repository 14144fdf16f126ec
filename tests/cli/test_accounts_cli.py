"""`xinyong users`, `xinyong tokens` and `xinyong audit verify` on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xinyong.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XINYONG_SECRET_KEY", "cli-test-secret")
    monkeypatch.delenv("XINYONG_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert (
        runner.invoke(
            app, ["departments", "add", "--code", "SCFGW", "--name", "四川省发展和改革委员会"]
        ).exit_code
        == 0
    )
    return tmp_path


def test_admin_and_users_are_created_with_passwords_from_stdin(env: Path) -> None:
    result = runner.invoke(
        app,
        ["users", "create-admin", "--username", "chief", "--department", "SCFGW", "--password-stdin"],
        input="a-strong-passphrase-1\n",
    )
    assert result.exit_code == 0, result.output
    weak = runner.invoke(
        app, ["users", "add", "--username", "x", "--role", "auditor", "--password-stdin"], input="weak\n"
    )
    assert weak.exit_code == 1 and "user.weak_password" in weak.output
    users = json.loads(runner.invoke(app, ["users", "list", "--json"]).output)
    assert [(u["username"], u["role"]) for u in users] == [("chief", "credit_office")]


def test_token_is_printed_once_and_can_be_revoked(env: Path) -> None:
    created = runner.invoke(
        app,
        ["tokens", "create", "--department", "SCFGW", "--scopes", "records:write,subjects:read", "--json"],
    )
    assert created.exit_code == 0, created.output
    token = json.loads(created.stdout)
    assert token["token"].startswith("xy_") and token["scopes"] == ["records:write", "subjects:read"]
    listed = runner.invoke(app, ["tokens", "list", "--json"]).output
    assert token["token"] not in listed
    assert runner.invoke(app, ["tokens", "revoke", str(token["id"])]).exit_code == 0
    assert json.loads(runner.invoke(app, ["tokens", "list", "--json"]).output)[0]["revoked"] is True
    bad = runner.invoke(app, ["tokens", "create", "--department", "SCFGW", "--scopes", "everything"])
    assert bad.exit_code == 1 and "token.scopes" in bad.output


def test_audit_verify_reports_an_intact_chain(env: Path) -> None:
    runner.invoke(app, ["tokens", "create", "--department", "SCFGW", "--scopes", "records:write"])
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output


def test_daily_jobs_run_and_a_second_run_the_same_day_does_nothing(env: Path) -> None:
    first = runner.invoke(app, ["jobs", "run"])
    assert first.exit_code == 0, first.output
    assert (
        "escalation: 0 subjects proposed" in first.output
        and "disclosure: 0 publicity windows ended" in first.output
    )
    again = runner.invoke(app, ["jobs", "run"])
    assert again.exit_code == 0 and "disclosure: 0" in again.output
    assert "intact" in runner.invoke(app, ["audit", "verify"]).output


def test_a_registered_contact_is_set_and_the_codes_sent_to_it_are_listed(env: Path) -> None:
    import datetime as dt

    from tests.helpers import ingest_rows, penalty, uscc
    from xinyong.accounts import verification
    from xinyong.accounts.messaging import OutboxGateway
    from xinyong.clikit import open_platform
    from xinyong.db.session import transaction

    platform = open_platform()
    code = uscc()
    with transaction(platform.sessions) as session:
        ingest_rows(session, platform.ingest_context(dt.date(2026, 11, 28)), [penalty(CF_XDR_SHXYM=code)])
    done = runner.invoke(app, ["contacts", "set", "--subject", code, "--phone", "138 1234 5678"])
    assert done.exit_code == 0 and "138****5678" in done.output, done.output
    bad = runner.invoke(app, ["contacts", "set", "--subject", code, "--phone", "12345"])
    assert bad.exit_code == 1 and "contact.invalid" in bad.output
    with transaction(platform.sessions) as session:
        claim = verification.Claim("enterprise", uscc=code)
        verification.start_code(session, OutboxGateway(), platform.cipher, claim)
    listed = runner.invoke(app, ["messages", "list", "--json"])
    (message,) = json.loads(listed.output)
    assert message["to"] == "13812345678" and "验证码" in message["body"]


def test_a_registration_authoritys_contact_file_is_imported_row_by_row(env: Path) -> None:
    import datetime as dt

    from tests.helpers import ingest_rows, penalty, uscc
    from xinyong.accounts import messaging
    from xinyong.clikit import open_platform
    from xinyong.db.session import transaction
    from xinyong.subjects import service as subjects

    platform = open_platform()
    known, other, unknown = uscc(), uscc(), uscc()
    with transaction(platform.sessions) as session:
        rows = [penalty(CF_XDR_SHXYM=known), penalty(CF_XDR_SHXYM=other)]
        ingest_rows(session, platform.ingest_context(dt.date(2026, 11, 28)), rows)
    lines = [
        "统一社会信用代码,手机,电子邮箱",
        f"{known},13912345678,",
        f"{other},,Owner@Example.com",
        f"{unknown},13900000000,",
        "91510104MA6CKQ025X,13900000001,",
        f"{known[:-1]},13900000002,",
    ]
    path = env / "contacts.csv"
    path.write_bytes("\n".join(lines).encode("gb18030"))
    result = runner.invoke(app, ["contacts", "import", str(path), "--source", "四川省市场监督管理局"])
    assert result.exit_code == 1 and "recorded 2, rejected 3" in result.output, result.output
    assert "row 4" in result.output and "row 5" in result.output and "row 6" in result.output
    with transaction(platform.sessions, write=False) as session:
        found = {
            code: messaging.contact_of(session, subjects.get_by_uscc(session, code).id)
            for code in (known, other)
        }
        assert {c.address for c in found.values() if c} == {"13912345678", "owner@example.com"}
