"""`xinyong supervision` on a real SQLite file: inspectors import (and a bad file importing nothing), plan create
with its JSON, draw with the contract's JSON, a second draw refused, `draw --verify`, and the published document
recomputed without the database (a changed document fails)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import uscc
from xinyong.cli import app
from xinyong.clikit import open_platform
from xinyong.db.session import transaction
from xinyong.kit.names import normalize_name
from xinyong.subjects.models import Subject

runner = CliRunner()


@pytest.fixture
def chengdu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XINYONG_SECRET_KEY", "cli-test-secret")
    monkeypatch.delenv("XINYONG_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    added = runner.invoke(
        app, ["departments", "add", "--code", "CDMR", "--name", "成都市市场监督管理局", "--region", "510100"]
    )
    assert added.exit_code == 0, added.output
    codes = [uscc("510104") for _ in range(30)]
    with transaction(open_platform().sessions) as session:
        for n, code in enumerate(codes):
            name = f"成都命令行{n}有限公司"
            session.add(
                Subject(
                    kind="legal_person",
                    uscc=code,
                    name=name,
                    name_norm=normalize_name(name),
                    core_name=name,
                    region_code="510104",
                )
            )
    return codes


def _import(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "inspectors.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(
        app, ["supervision", "inspectors", "import", str(path), "--department", "CDMR", "--json"]
    )
    return result.exit_code, result.stdout


def test_import_plan_draw_verify_and_recompute(chengdu: list[str], tmp_path: Path) -> None:
    code, out = _import(
        tmp_path, "姓名,执法证号,地区,回避主体\n甲,L1,510104,\n乙,L2,510104,bad\n丙,L1,510104,\n"
    )
    assert code == 1 and [e["code"] for e in json.loads(out)["errors"]] == [
        "supervision.conflict_uscc",
        "supervision.licence_no_duplicate",
    ]
    listed = runner.invoke(app, ["supervision", "inspectors", "list", "--department", "CDMR", "--json"])
    assert json.loads(listed.stdout) == []  # nothing of the bad file
    code, out = _import(
        tmp_path, f"姓名,执法证号,地区,回避主体\n甲,L1,510104,{chengdu[0]}\n乙,L2,510104,\n丙,L3,510104,\n"
    )
    assert code == 0 and json.loads(out)["created"] == 3
    assert (
        json.loads(_import(tmp_path, f"姓名,执法证号,地区,回避主体\n甲,L1,510104,{chengdu[0]}\n")[1])[
            "unchanged"
        ]
        == 1
    )

    created = runner.invoke(
        app,
        [
            "supervision",
            "plan",
            "create",
            "--department",
            "CDMR",
            "--name",
            "2026年抽查",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
            "--region",
            "510104",
            "--json",
        ],
    )
    assert created.exit_code == 0, created.output
    plan = json.loads(created.stdout)
    assert plan["scope_count"] == 30 and plan["scope_by_tier"]["C"] == 30 and len(plan["commitment"]) == 64
    plan_id = str(plan["plan_id"])

    drawn = runner.invoke(app, ["supervision", "draw", "--plan", plan_id, "--json"])
    assert drawn.exit_code == 0, drawn.output
    body = json.loads(drawn.stdout)
    assert body["plan_id"] == plan["plan_id"] and len(body["seed"]) == 64
    assert body["counts_by_tier"] == {"A": 0, "B": 0, "C": 3, "D": 0}  # ungraded: tier C, ceil(30 × 10 %)
    for item in body["drawn"]:
        assert set(item) >= {"uscc", "tier", "inspectors"} and len(item["inspectors"]) == 2
        if item["uscc"] == chengdu[0]:
            assert "L1" not in {i["licence_no"] for i in item["inspectors"]}

    again = runner.invoke(app, ["supervision", "draw", "--plan", plan_id])
    assert again.exit_code == 1 and "supervision.already_drawn" in again.output
    verified = runner.invoke(app, ["supervision", "draw", "--plan", plan_id, "--verify", "--json"])
    assert verified.exit_code == 0 and json.loads(verified.stdout)["ok"] is True

    document = tmp_path / "published.json"
    assert (
        runner.invoke(app, ["supervision", "published", "--plan", plan_id, "--out", str(document)]).exit_code
        == 0
    )
    assert runner.invoke(app, ["supervision", "recompute", str(document)]).exit_code == 0
    changed = json.loads(document.read_text(encoding="utf-8"))
    changed["drawn"][0], changed["drawn"][1] = changed["drawn"][1], changed["drawn"][0]
    document.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    assert runner.invoke(app, ["supervision", "recompute", str(document)]).exit_code == 1


def test_bad_plans_exit_1_with_their_code(chengdu: list[str]) -> None:
    base = ["supervision", "plan", "create", "--department", "CDMR", "--name", "x"]
    reversed_ = runner.invoke(app, [*base, "--from", "2026-12-31", "--to", "2026-01-01"])
    assert reversed_.exit_code == 1 and "supervision.period_reversed" in reversed_.output
    empty = runner.invoke(app, [*base, "--from", "2026-01-01", "--to", "2026-12-31", "--region", "510112"])
    assert empty.exit_code == 1 and "supervision.empty_pool" in empty.output
    created = runner.invoke(app, [*base, "--from", "2026-01-01", "--to", "2026-12-31", "--json"])
    no_inspectors = runner.invoke(
        app, ["supervision", "draw", "--plan", str(json.loads(created.stdout)["plan_id"])]
    )
    assert no_inspectors.exit_code == 1 and "supervision.too_few_inspectors" in no_inspectors.output


def test_a_scope_of_licence_holders_without_any_licence_is_an_empty_pool(chengdu: list[str]) -> None:
    unknown = runner.invoke(app, ["supervision", "scope", "--department", "CDMR", "--licence-items", "NOPE"])
    assert unknown.exit_code == 1 and "supervision.item_invalid" in unknown.output
    scoped = runner.invoke(
        app, ["supervision", "scope", "--department", "CDMR", "--regions", "510104", "--licence-items", "XK"]
    )
    assert scoped.exit_code == 0 and json.loads(scoped.stdout)["licence_items"] == ["XK"]
    plan = [
        "supervision",
        "plan",
        "create",
        "--department",
        "CDMR",
        "--name",
        "x",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
    ]
    empty = runner.invoke(app, plan)
    assert empty.exit_code == 1 and "supervision.empty_pool" in empty.output  # no subject holds an XK record
    assert (
        runner.invoke(app, ["supervision", "scope", "--department", "CDMR", "--regions", "510104"]).exit_code
        == 0
    )
    assert runner.invoke(app, plan).exit_code == 0
