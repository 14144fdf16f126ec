"""A department's batch of credit reports from the console: upload codes with a purpose, progress, the rows that
failed, the ZIP for that department only, every report audited with the purpose, one batch at a time per
department, limits, and an interrupted batch carried on without issuing a report twice."""

from __future__ import annotations

import datetime as dt
import io
import json
import socket
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.api.test_credit_file import company
from tests.helpers import login, resident_id
from xinyong.accounts.policy import Principal
from xinyong.audit.models import AuditEntry
from xinyong.kit.errors import NotFound
from xinyong.platform import Platform
from xinyong.reports import batches, service
from xinyong.reports.models import Report
from xinyong.subjects import service as subjects

DESK = "SCFGW"


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Principal, str]]:
    """Batches the views start, worked by the test itself: the test stores join one connection, which a
    background worker must not share with the request that started it."""
    calls: list[tuple[Principal, str]] = []
    monkeypatch.setattr(
        batches, "start", lambda _s, _c, principal, batch: calls.append((principal, batch.id))
    )
    return calls


def work(platform: Platform, calls: list[tuple[Principal, str]]) -> batches.Batch:
    principal, batch_id = calls.pop()
    context = service.report_context(platform.settings, platform.catalog, platform.signer)
    return batches.run(platform.sessions, context, principal, batch_id)


def submit(client: TestClient, token: str, body: str, purpose: str = "招标资格审查", **form: Any) -> Any:
    return client.post(
        "/console/reports/batches",
        data={"csrf_token": token, "purpose": purpose, **form},
        files={"file": ("codes.csv", body.encode("utf-8"), "text/csv")},
        follow_redirects=False,
    )


def test_a_department_batch_issues_lists_failures_and_hands_the_zip_to_that_department_only(
    client: TestClient, session: Session, platform: Platform, started: list[tuple[Principal, str]]
) -> None:
    first, second = company(client, session), company(client, session)
    token = login(client, session, role="reviewer", department_code=DESK)
    page = client.get("/console/reports")
    assert page.status_code == 200 and "批量出具信用报告" in page.text

    person = resident_id()  # put where a code belongs: never kept or shown in clear
    codes = f"统一社会信用代码,备注\n{first},甲\n{second},乙\n91510000NOSUCH0001,丙\n,丁\n{first},戊\n{person},己\n"
    response = submit(client, token, codes)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    batch_id = location.rsplit("/", 1)[1]
    running = client.get(location)
    assert '<meta http-equiv="refresh"' in running.text and "0 / 6" in running.text
    # One batch at a time per department: a second upload meanwhile is refused and loses nothing.
    again = submit(client, token, f"uscc\n{first}\n")
    assert again.status_code == 409 and "正在出具" in again.text

    batch = work(platform, started)
    assert (batch.status, batch.done, batch.issued, batch.failed) == ("done", 6, 2, 4)
    done = client.get(location)
    assert "已完成" in done.text and "http-equiv" not in done.text and "6 / 6" in done.text
    assert f"（部门{DESK}）" in done.text  # the submitter by display name and department, not by login
    failures = done.text.split('id="batch-failures"')[1]
    for row, reason in (("4", "91510000NOSUCH0001"), ("5", "缺少统一社会信用代码"), ("6", "与第 2 行重复")):
        assert f"<td>{row}</td>" in failures and reason in failures

    archive = client.get(f"{location}/reports.zip")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        pdfs = sorted(n for n in opened.namelist() if n.endswith(".pdf"))
        receipt = json.loads(opened.read("receipt.json"))
        numbers = [r["report_number"] for r in receipt if "report_number" in r]
        assert [p.split("-")[0] for p in pdfs] == sorted([first, second])
        for name in pdfs:
            assert opened.read(name)[:5] == b"%PDF-"
    assert [r["row"] for r in receipt] == [2, 3, 4, 5, 6, 7]
    assert "<td>7</td>" in failures and person not in done.text and person[:4] in failures
    folder = platform.settings.data_dir / batches.FOLDER / batch_id
    assert all(person not in p.read_text(encoding="utf-8") for p in folder.iterdir() if p.suffix != ".zip")
    assert person not in archive.content.decode("latin-1")
    reports = session.scalars(select(Report).where(Report.number.in_(numbers))).all()
    assert {r.purpose for r in reports} == {"招标资格审查"} and {r.department_code for r in reports} == {DESK}
    issued = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "report.issue", AuditEntry.target.in_(numbers))
    ).all()
    assert len(issued) == 2 and {e.purpose for e in issued} == {"招标资格审查"}
    downloaded = session.scalars(
        select(AuditEntry).where(AuditEntry.target == f"report_batch:{batch_id}")
    ).all()
    assert [e.action for e in downloaded] == ["report.batch_download"]

    # Another department's desk, and a subject account, get nothing of it.
    login(client, session, role="reviewer", department_code="SCSW")
    assert client.get(location).status_code == 404
    assert client.get(f"{location}/reports.zip").status_code == 404
    assert batch_id not in client.get("/console/reports").text
    own = subjects.get_by_uscc(session, first).id
    login(client, session, role="subject", department_code=None, subject_id=own)
    assert client.get(f"{location}/reports.zip").status_code in (401, 403)


def test_bad_uploads_are_refused_with_a_reason_and_start_nothing(
    client: TestClient, session: Session, platform: Platform, started: list[tuple[Principal, str]]
) -> None:
    token = login(client, session, role="provider", department_code=DESK)
    too_many = "uscc\n" + "".join(f"91510000MA{n:08d}\n" for n in range(batches.MAX_CODES + 1))
    cases = [
        (too_many, {}, 422, "一次最多出具 1000 个主体"),
        ("名称\n某公司\n", {}, 422, "没有主体"),
        ("uscc\n91510000MA00000001\n", {"purpose": " "}, 422, "查询事由"),
        ("uscc\n91510000MA00000001\n", {"kind": "special"}, 422, "至少一个领域"),
    ]
    for body, form, status, message in cases:
        response = submit(client, token, body, **form)
        assert response.status_code == status and message in response.text, response.text
    assert started == [] and batches.of_department(platform.settings.data_dir, DESK) == []
    assert client.get("/console/reports/batches/not-a-batch").status_code == 404


def test_an_interrupted_batch_is_marked_so_and_carries_on_without_issuing_twice(
    client: TestClient, session: Session, platform: Platform, started: list[tuple[Principal, str]]
) -> None:
    first, second = company(client, session), company(client, session)
    token = login(client, session, role="reviewer", department_code=DESK)
    location = submit(client, token, f"uscc\n{first}\n{second}\n").headers["location"]
    principal, batch_id = started.pop()
    data_dir = platform.settings.data_dir
    # The worker issued the first report, then its process died (a restart): nothing else ran.
    state = data_dir / batches.FOLDER / batch_id / "batch.json"
    context = service.report_context(platform.settings, platform.catalog, platform.signer)
    batch = batches.Batch(**orjson.loads(state.read_bytes()))
    day = dt.date.fromisoformat(batch.as_of)
    row = batches._work(platform.sessions, context, principal, batch, day, 2, first, {})
    (state.parent / "results.jsonl").write_bytes(orjson.dumps(asdict(row)) + b"\n")
    batch.done, batch.issued, batch.owner = 1, 1, f"{socket.gethostname()}:999999999:gone"
    state.write_bytes(orjson.dumps(asdict(batch)))

    page = client.get(location)
    assert "已中断" in page.text and "继续出具" in page.text and "http-equiv" not in page.text
    assert client.get(f"{location}/reports.zip").status_code == 409
    resumed = client.post(f"{location}/resume", data={"csrf_token": token}, follow_redirects=False)
    assert resumed.status_code == 303
    finished = work(platform, started)
    assert (finished.status, finished.done, finished.issued, finished.resumed) == ("done", 2, 2, 1)
    numbers = [r.report_number for r in batches.results(data_dir, batch_id)]
    assert numbers[0] == row.report_number and len(set(numbers)) == 2
    subject_id = subjects.get_by_uscc(session, first).id
    assert len(session.scalars(select(Report).where(Report.subject_id == subject_id)).all()) == 1
    # Only an interrupted batch carries on.
    again = client.post(f"{location}/resume", data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 409


def test_a_batch_of_another_process_runs_while_it_beats_and_is_interrupted_once_silent(
    tmp_path: Path,
) -> None:
    desk = Principal(kind="user", name="desk", role="reviewer", department_code=DESK)
    upload = batches.Upload([(2, "91510000MA00000001")])
    batch = batches.create(
        tmp_path,
        desk,
        upload,
        purpose="审查",
        kind="standard",
        fields=(),
        today=dt.date(2026, 11, 28),
        filename="",
    )
    state = tmp_path / batches.FOLDER / batch.id / "batch.json"
    now = dt.datetime.now(dt.UTC)
    for beat, expected in ((now, "running"), (now - batches.STALE - dt.timedelta(seconds=1), "interrupted")):
        saved = batches.Batch(**orjson.loads(state.read_bytes()))
        saved.owner, saved.updated_at = "elsewhere:1:other", beat.isoformat(timespec="seconds")
        state.write_bytes(orjson.dumps(asdict(saved)))
        assert batches.get(tmp_path, desk, batch.id).status == expected
    assert [b.status for b in batches.of_department(tmp_path, DESK)] == ["interrupted"]
    other = Principal(kind="user", name="desk2", role="reviewer", department_code="SCSW")
    assert batches.of_department(tmp_path, "SCSW") == []
    with pytest.raises(NotFound):
        batches.get(tmp_path, other, batch.id)
