"""Secrets: no production start on the published demo secret; a signing key file with key ids that rotates
apart from the other keys, old signatures still verifying; `xinyong keys init` and `keys rotate-signing`."""

from __future__ import annotations

import datetime as dt
import hashlib
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from xinyong.app import create_app
from xinyong.cli import app as cli_app
from xinyong.commitments import service as commitments
from xinyong.commitments.models import Commitment
from xinyong.config import DEMO_SECRET, InsecureSettings, Settings
from xinyong.kit.crypto import SIGNING_KEY_FILE_HEADER, PersonalIdCipher, Signer, SigningKeyError, key_id
from xinyong.platform import Platform, build_platform

runner = CliRunner()
STRONG = "k" * 24 + "-production-secret-0123456789"

RESULT = {
    "check_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "checked_at": "2026-11-28T09:30:00+00:00",
    "department": "SCCZ",
    "scenario": "government_procurement",
    "subject": {"uscc": "91510100MA61X0AB3C", "name": "成都某某建设有限公司"},
    "hits": [],
}


def production(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"data_dir": tmp_path, "database_url": "sqlite://", "demo_mode": False}
    return Settings(**(values | overrides))  # type: ignore[arg-type]


def key_file(path: Path, *lines: str) -> Path:
    path.write_text(SIGNING_KEY_FILE_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


class TestNoProductionStartOnAPublishedSecret:
    def test_the_demo_secret_is_refused_outside_demo_mode(self, tmp_path: Path) -> None:
        with pytest.raises(InsecureSettings, match="演示值"):
            build_platform(production(tmp_path))  # the default secret is the demo one
        with pytest.raises(InsecureSettings, match="演示值"):
            build_platform(production(tmp_path, secret_key=DEMO_SECRET))
        with pytest.raises(InsecureSettings, match="演示值"):
            create_app(production(tmp_path, secret_key=""))

    def test_a_short_secret_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(InsecureSettings, match="过短"):
            build_platform(production(tmp_path, secret_key="changeme"))

    def test_a_strong_secret_starts_and_the_demo_keeps_working(self, tmp_path: Path) -> None:
        assert build_platform(production(tmp_path, secret_key=STRONG)).settings.demo_mode is False
        demo = Settings(data_dir=tmp_path, database_url="sqlite://")
        assert build_platform(demo).settings.demo_mode is True

    def test_what_an_outsider_derives_from_the_demo_secret_does_not_hold_in_production(
        self, tmp_path: Path
    ) -> None:
        platform = build_platform(production(tmp_path, secret_key=STRONG))
        forged = Signer.from_secret(DEMO_SECRET).sign(RESULT)
        assert not platform.signer.verify(RESULT, forged)
        outsider = PersonalIdCipher.from_secrets(DEMO_SECRET, None, None)
        assert outsider.hash("510104199001011234") != platform.cipher.hash("510104199001011234")

    @pytest.mark.parametrize("command", [["jobs", "run"], ["serve"], ["tokens", "list"], ["audit", "verify"]])
    def test_commands_refuse_to_start(
        self, command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("XINYONG_DEMO_MODE", "false")
        monkeypatch.delenv("XINYONG_SECRET_KEY", raising=False)
        monkeypatch.delenv("XINYONG_DATABASE_URL", raising=False)
        result = runner.invoke(cli_app, command)
        assert result.exit_code == 2, result.output
        assert "config.insecure" in result.output and "keys init" in result.output

    def test_migrations_run_without_keys(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("XINYONG_DEMO_MODE", "false")
        monkeypatch.delenv("XINYONG_SECRET_KEY", raising=False)
        monkeypatch.delenv("XINYONG_DATABASE_URL", raising=False)
        result = runner.invoke(cli_app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output


class TestSigningKeyFile:
    def test_the_first_private_key_signs_and_every_key_verifies(self, tmp_path: Path) -> None:
        old = Signer.from_key_file(key_file(tmp_path / "old.keys", Signer.generate_key_file_line()))
        old_signature = old.sign(RESULT)
        path = tmp_path / "signing.keys"
        path.write_text(old.rotated_key_file(), encoding="utf-8")
        new = Signer.from_key_file(path)
        assert new.key_id != old.key_id
        assert new.signed_by(RESULT, old_signature) == old.key_id
        assert new.signed_by(RESULT, new.sign(RESULT)) == new.key_id
        assert new.signed_by(RESULT, old_signature, new.key_id) is None  # the named key did not sign it
        assert not new.verify({**RESULT, "hits": [{"code": "x"}]}, old_signature)
        assert [(k["key_id"], k["current"]) for k in new.public_keys()] == [
            (new.key_id, True),
            (old.key_id, False),
        ]
        assert "private" not in path.read_text().split(SIGNING_KEY_FILE_HEADER)[1].splitlines()[1]

    def test_key_ids_are_derived_from_the_key(self, tmp_path: Path) -> None:
        signer = Signer.from_key_file(key_file(tmp_path / "k", Signer.generate_key_file_line()))
        assert signer.key_id == key_id(signer.private_key.public_key()) and len(signer.key_id) == 16

    def test_the_signing_key_rotates_apart_from_the_other_keys(self, tmp_path: Path) -> None:
        path = key_file(tmp_path / "signing.keys", Signer.generate_key_file_line())
        settings = production(tmp_path, secret_key=STRONG, signing_key_file=path)
        before = build_platform(settings)
        path.write_text(before.signer.rotated_key_file(), encoding="utf-8")
        after = build_platform(production(tmp_path, secret_key=STRONG, signing_key_file=path))
        assert after.signer.key_id != before.signer.key_id
        assert after.cipher.hash("x") == before.cipher.hash("x")
        assert after.cipher.decrypt(before.cipher.encrypt("510104199001011234")) == "510104199001011234"

    def test_a_commitment_attested_before_a_rotation_stays_authentic(self, tmp_path: Path) -> None:
        old = Signer.from_key_file(key_file(tmp_path / "old.keys", Signer.generate_key_file_line()))
        text = "本单位承诺：所提交材料真实有效。"
        commitment = Commitment(
            template_code="repair",
            template_version="2026.1",
            subject_id=7,
            signer_name="张三",
            signed_on=dt.date(2026, 11, 28),
            text=text,
            text_sha256=hashlib.sha256(text.encode()).hexdigest(),
        )
        commitment.signature = old.sign(commitments.statement_of(commitment))
        path = tmp_path / "signing.keys"
        path.write_text(old.rotated_key_file(), encoding="utf-8")
        new = Signer.from_key_file(path)
        assert commitments.verify(commitment, new)
        assert not commitments.verify(commitment, new.public_key_b64)  # the new key alone does not know it
        commitment.text = text + "（篡改）"
        assert not commitments.verify(commitment, new)

    @pytest.mark.parametrize(
        "text",
        ["", "public AAAA\n", "private not-base64!\n", "secret " + "A" * 44 + "\n", "private\n"],
    )
    def test_a_bad_key_file_is_refused(self, text: str, tmp_path: Path) -> None:
        path = tmp_path / "bad.keys"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(SigningKeyError):
            Signer.from_key_file(path)
        with pytest.raises(SigningKeyError):
            Signer.from_key_file(tmp_path / "missing.keys")


@pytest.fixture
def rotated_client(platform: Platform, tmp_path: Path) -> Iterator[tuple[TestClient, Signer, Signer]]:
    old = Signer.from_key_file(key_file(tmp_path / "old.keys", Signer.generate_key_file_line()))
    path = tmp_path / "signing.keys"
    path.write_text(old.rotated_key_file(), encoding="utf-8")
    platform.signer = Signer.from_key_file(path)
    with TestClient(create_app(platform=platform), raise_server_exceptions=False) as client:
        yield client, old, platform.signer


class TestPublishedKeys:
    def test_every_key_is_published_with_its_id(
        self, rotated_client: tuple[TestClient, Signer, Signer]
    ) -> None:
        client, old, new = rotated_client
        body = client.get("/api/v1/checks/public-key").json()
        assert body["key_id"] == new.key_id and body["public_key"] == new.public_key_b64
        assert {k["key_id"]: k["public_key"] for k in body["keys"]} == {
            new.key_id: new.public_key_b64,
            old.key_id: old.public_key_b64,
        }

    def test_a_signature_made_before_the_rotation_still_verifies(
        self, rotated_client: tuple[TestClient, Signer, Signer]
    ) -> None:
        client, old, new = rotated_client
        answer = client.post("/api/v1/checks/verify", json={"result": RESULT, "signature": old.sign(RESULT)})
        assert answer.json() == {"valid": True, "key_id": old.key_id}
        named = {"result": RESULT, "signature": old.sign(RESULT), "key_id": new.key_id}
        assert client.post("/api/v1/checks/verify", json=named).json()["valid"] is False
        forged = Signer.from_secret(DEMO_SECRET).sign(RESULT)
        assert client.post("/api/v1/checks/verify", json={"result": RESULT, "signature": forged}).json() == {
            "valid": False,
            "key_id": None,
        }


class TestKeysCommand:
    def test_init_writes_fresh_private_keys_a_production_platform_starts_with(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        directory = tmp_path / "keys"
        result = runner.invoke(cli_app, ["keys", "init", "--dir", str(directory)])
        assert result.exit_code == 0, result.output
        for name in ("xinyong.env", "signing.keys"):
            assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        env = dict(
            line.split("=", 1)
            for line in (directory / "xinyong.env").read_text().splitlines()
            if line and not line.startswith("#")
        )
        assert env["XINYONG_DEMO_MODE"] == "false" and env["XINYONG_SECRET_KEY"] != DEMO_SECRET
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("XINYONG_DATABASE_URL", "sqlite://")
        platform = build_platform(Settings())
        assert platform.signer.key_id in result.output
        assert platform.cipher.decrypt(platform.cipher.encrypt("510104199001011234")) == "510104199001011234"
        again = runner.invoke(cli_app, ["keys", "init", "--dir", str(directory)])
        assert again.exit_code == 1 and "keys.exists" in again.output

    def test_two_inits_write_different_keys(self, tmp_path: Path) -> None:
        for name in ("a", "b"):
            assert runner.invoke(cli_app, ["keys", "init", "--dir", str(tmp_path / name)]).exit_code == 0
        a, b = ((tmp_path / n / "xinyong.env").read_text() for n in ("a", "b"))
        assert a.splitlines()[3] != b.splitlines()[3]  # XINYONG_SECRET_KEY

    def test_rotate_signing_keeps_the_old_key_for_verification(self, tmp_path: Path) -> None:
        path = key_file(tmp_path / "signing.keys", Signer.generate_key_file_line())
        old = Signer.from_key_file(path)
        result = runner.invoke(cli_app, ["keys", "rotate-signing", "--file", str(path)])
        assert result.exit_code == 0, result.output
        new = Signer.from_key_file(path)
        assert new.key_id != old.key_id and new.verify(RESULT, old.sign(RESULT))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
