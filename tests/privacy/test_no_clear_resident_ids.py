"""Privacy: a natural person's resident ID (公民身份号码) is never stored, logged or shown in clear.

One demo run (scale 0.05, about 10,000 records) is seeded through ingestion like `xinyong demo seed`, then
the pages a user can reach are rendered through the app, anonymously and as each demo user, including a
console upload and an API submission that carry personal IDs. The test then scans the SQLite database file
and its WAL, everything that was logged (every SQL statement, whose bound parameters the engine hides, and
every request) and every rendered page and JSON body for the resident IDs the rows carried, and finds none. Masked forms
(`5101**********123X`) are fine. The rejected-rows CSV export is the provider's own data returned to it and
may carry the IDs it submitted, so for it the test checks who can reach it instead.

Two further probes send an ID where departments often put it by mistake (the USCC column of a natural
person's row, and a free-text remark); those IDs are tracked apart from the demo IDs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from xinyong.accounts import auth
from xinyong.accounts.models import User
from xinyong.app import create_app
from xinyong.commitments.models import Commitment
from xinyong.config import Settings
from xinyong.db import migrate
from xinyong.db.session import transaction
from xinyong.demo import generator
from xinyong.demo import service as demo
from xinyong.demo.repair import seed_repair
from xinyong.kit import regions
from xinyong.kit.identifiers import (
    IdentifierError,
    make_resident_id,
    make_uscc,
    mask_resident_id,
    validate_resident_id,
    validate_uscc,
)
from xinyong.objections.models import Objection
from xinyong.platform import Platform, build_platform
from xinyong.records.models import Batch, Record, RejectedRow
from xinyong.repair.models import RepairApplication
from xinyong.subjects.models import Subject
from xinyong.web.deps import get_today

TODAY = dt.date(2026, 11, 28)
SCALE = 0.05
CANDIDATE = re.compile(r"\d{17}[\dX]")
# Any run of ID characters at least as long as an ID: every 18-character window of it is looked up.
ID_RUN = re.compile(rb"[0-9X]{18,}")
MASKED = re.compile(rb"\d{4}\*{10}[\dX]{4}")
SQL_PARAMETERS_HIDDEN = b"[SQL parameters hidden due to hide_parameters=True]"
PURPOSE = "测试"
USERS = ("admin", "provider", "reviewer", "auditor", "agency", "enterprise")
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
UPLOAD_COMPANY = make_uscc("9", "1", "510104", "MA6CKQ01")
REMARK_COMPANY = make_uscc("9", "1", "510104", "MA6CKQ02")


# --- finding IDs ----------------------------------------------------------------------------------------


def is_id_column(header: str) -> bool:
    """Columns that hold a person's ID number: id_no, legal_rep_id_no, CF_XDR_ZJHM, XK_FR_ZJHM, ..."""
    name = header.strip().lower()
    return name.endswith(("id_no", "_zjhm"))


def looks_like_resident_id(candidate: str) -> bool:
    """A valid resident ID, or one whose only fault is its check digit (still personal data).

    All-digit USCCs also match the 18-character pattern; the ones that are valid USCCs are not IDs.
    """
    try:
        validate_resident_id(candidate)
        return True
    except IdentifierError as exc:
        if exc.code != "resident_id.checksum":
            return False
    try:
        validate_uscc(candidate)
    except IdentifierError:
        return True
    return False


def ids_in_rows(rows: Iterable[dict[str, Any]]) -> set[str]:
    """Every resident ID in the rows: anything in an ID column, and ID-shaped values in any other cell."""
    found: set[str] = set()
    for row in rows:
        for header, value in row.items():
            for candidate in CANDIDATE.findall(str(value or "")):
                if is_id_column(header) or looks_like_resident_id(candidate):
                    found.add(candidate)
    return found


def find_ids(data: bytes, ids: frozenset[bytes]) -> set[str]:
    """The IDs of `ids` that occur in clear (as ASCII) anywhere in `data`."""
    found: set[str] = set()
    for match in ID_RUN.finditer(data):
        run = match.group()
        for start in range(len(run) - 17):
            window = run[start : start + 18]
            if window in ids:
                found.add(window.decode())
    return found


def as_bytes(ids: Iterable[str]) -> frozenset[bytes]:
    return frozenset(i.encode() for i in ids)


# --- the demo run ---------------------------------------------------------------------------------------


@dataclass
class DemoRun:
    platform: Platform
    engine: Engine
    data_dir: Path
    db_path: Path
    log_path: Path
    ids: set[str]  # every ID of the demo rows and of the upload and API submission
    person_names: list[str]
    submitted_ids: set[str] = field(default_factory=set)  # sent through the upload and the API
    misplaced: dict[str, str] = field(default_factory=dict)  # probe -> ID sent outside an ID column
    pages: int = 0
    page_bytes: int = 0
    page_leaks: dict[str, set[str]] = field(default_factory=dict)
    misplaced_page_leaks: dict[str, set[str]] = field(default_factory=dict)
    unexpected_status: list[str] = field(default_factory=list)
    pages_naming_persons: int = 0
    export_status: dict[str, int] = field(default_factory=dict)
    export_bodies: dict[str, bytes] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"DemoRun({len(self.ids)} IDs, {self.pages} pages, {self.data_dir})"


class Browser:
    """A TestClient for one user that scans every response it gets (headers and body)."""

    def __init__(self, run: DemoRun, app: FastAPI, who: str) -> None:
        self.run = run
        self.who = who
        self.client = TestClient(app, raise_server_exceptions=False)
        self.client.__enter__()
        self._names = [n.encode() for n in run.person_names]
        self.refresh_ids()

    def close(self) -> None:
        self.client.__exit__(None, None, None)

    def refresh_ids(self) -> None:
        self._ids = as_bytes(self.run.ids)
        self._misplaced = as_bytes(self.run.misplaced.values())

    def scan(self, label: str, response: httpx.Response, expect: int | tuple[int, ...]) -> None:
        run = self.run
        allowed = (expect,) if isinstance(expect, int) else expect
        if response.status_code not in allowed:
            run.unexpected_status.append(f"{label}: {response.status_code} (expected {expect})")
        head = "\n".join(f"{k}: {v}" for k, v in response.headers.items()).encode()
        data = head + b"\n\n" + response.content
        run.pages += 1
        run.page_bytes += len(data)
        if leaked := find_ids(data, self._ids):
            run.page_leaks[label] = leaked
        if self._misplaced and (leaked := find_ids(data, self._misplaced)):
            run.misplaced_page_leaks[label] = leaked
        if any(name in data for name in self._names):
            run.pages_naming_persons += 1

    def get(self, url: str, expect: int | tuple[int, ...] = 200) -> httpx.Response:
        response: httpx.Response = self.client.get(url, follow_redirects=False)
        self.scan(f"{self.who} GET {url}", response, expect)
        return response

    def post(self, url: str, expect: int | tuple[int, ...], **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self.client.post(url, follow_redirects=False, **kwargs)
        self.scan(f"{self.who} POST {url}", response, expect)
        return response

    def csrf(self) -> str:
        match = CSRF_INPUT.search(self.get("/login").text)
        assert match, "login page has no csrf_token input"
        return match[1]

    def login(self, username: str) -> None:
        token = self.csrf()
        self.post(
            "/login", 303, data={"username": username, "password": demo.DEMO_PASSWORD, "csrf_token": token}
        )
        assert self.client.cookies.get("xy_session"), f"{username} was not logged in"


def _collect(today: dt.date) -> tuple[set[str], list[str], list[dict[str, str]]]:
    """IDs in every demo row, the names of natural persons and legal reps, and CF rows about persons."""
    ids: set[str] = set()
    persons: dict[str, None] = {}
    legal_reps: dict[str, None] = {}
    cf_person_rows: list[dict[str, str]] = []
    for batch in generator.batches(SCALE, today=today):
        ids |= ids_in_rows(batch.rows)
        for row in batch.rows:
            if any(row.get(h) for h in ("id_no", "XK_XDR_ZJHM", "CF_XDR_ZJHM")):
                name = row.get("subject_name") or row.get("XK_XDR_MC") or row.get("CF_XDR_MC")
                if name:
                    persons.setdefault(name)
                if batch.item_code == "CF" and len(cf_person_rows) < 20:
                    cf_person_rows.append(dict(row))
            for header in ("legal_rep", "XK_FRDB", "CF_FRDB"):
                if row.get(header):
                    legal_reps.setdefault(row[header])
    names = list(persons) + list(legal_reps)[:60]
    return ids, names, cf_person_rows


def _fresh_ids(taken: set[str], count: int) -> list[str]:
    """Valid resident IDs that are not in `taken`."""
    fresh: list[str] = []
    sequence = 900
    while len(fresh) < count:
        candidate = make_resident_id("510104", dt.date(1979, 4, 12), sequence)
        sequence += 1
        if candidate not in taken:
            fresh.append(candidate)
    return fresh


def _spoil(number: str) -> str:
    """The same ID with a wrong check digit."""
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def _submission(template: list[dict[str, str]], ids: list[str], prefix: str) -> list[dict[str, str]]:
    """CF rows about natural persons as SCMR would send them, plus a new person, a legal rep and a defect."""
    person, legal_rep, spoiled = ids
    rows = [dict(row) | {"CF_WSH": f"{prefix}〔2026〕{n}号"} for n, row in enumerate(template, start=1)]
    base = template[0]
    rows.append(base | {"CF_WSH": f"{prefix}〔2026〕901号", "CF_XDR_MC": "隐私测试甲", "CF_XDR_ZJHM": person})
    rows.append(
        base
        | {
            "CF_WSH": f"{prefix}〔2026〕902号",
            "CF_XDR_MC": "隐私测试乙有限公司",
            "CF_XDR_LB": "法人及非法人组织",
            "CF_XDR_ZJLX": "",
            "CF_XDR_ZJHM": "",
            "CF_XDR_SHXYM": UPLOAD_COMPANY,
            "CF_FRDB": "隐私测试丙",
            "CF_FR_ZJLX": "身份证",
            "CF_FR_ZJHM": legal_rep,
        }
    )
    rows.append(
        base | {"CF_WSH": f"{prefix}〔2026〕903号", "CF_XDR_MC": "隐私测试丁", "CF_XDR_ZJHM": spoiled}
    )
    return rows


def _misplaced_rows(base: dict[str, str], in_uscc: str, in_remarks: str) -> list[dict[str, str]]:
    """Two common department mistakes: a person's ID in the USCC column, and an ID in a free-text remark."""
    return [
        base
        | {
            "CF_WSH": "川市监隐〔2026〕904号",
            "CF_XDR_MC": "隐私测试戊",
            "CF_XDR_ZJLX": "",
            "CF_XDR_ZJHM": "",
            "CF_XDR_SHXYM": in_uscc,
        },
        base
        | {
            "CF_WSH": "川市监隐〔2026〕905号",
            "CF_XDR_MC": "隐私测试己有限公司",
            "CF_XDR_LB": "法人及非法人组织",
            "CF_XDR_ZJLX": "",
            "CF_XDR_ZJHM": "",
            "CF_XDR_SHXYM": REMARK_COMPANY,
            "CF_FRDB": "隐私测试庚",
            "CF_JDRQ": "2026-11-02",
            "severity": "一般",
            "BZ": f"当事人法定代表人隐私测试庚，身份证号{in_remarks}",
        },
    ]


def _csv(rows: list[dict[str, str]]) -> bytes:
    headers: list[str] = []
    for row in rows:
        headers.extend(h for h in row if h not in headers)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=headers, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    data_dir = tmp_path_factory.mktemp("privacy-data")
    log_path = tmp_path_factory.mktemp("privacy-logs") / "run.log"
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    sql = logging.getLogger("sqlalchemy.engine")
    # Other root handlers (pytest's capture) keep only warnings, so a failure report is not 20 MB of SQL.
    others = [(h, h.level) for h in root.handlers]
    saved = (root.level, sql.level)
    for other, level in others:
        other.setLevel(max(level, logging.WARNING))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    sql.setLevel(logging.INFO)  # SQL statements (the engine hides their bound parameters)
    try:
        ids, names, cf_rows = _collect(TODAY)
        settings = Settings(
            data_dir=data_dir,
            database_url=f"sqlite:///{data_dir}/xinyong.db",
            secret_key="privacy-test",
            rate_limit_search="100000/minute",
            rate_limit_api="100000/minute",
            rate_limit_login="1000/minute",
        )
        settings.ensure_dirs()
        platform = build_platform(settings)
        engine: Engine = platform.sessions.kw["bind"]
        migrate.upgrade(engine)
        ctx = platform.ingest_context(TODAY)
        with transaction(platform.sessions) as session:
            demo.seed(session, ctx, scale=SCALE, on_batch=lambda _b, _r: session.commit())
            demo.seed_accounts(session, ctx)
            seed_repair(session, platform, TODAY)  # applications, objections, commitments, notices
        demo_run = DemoRun(
            platform=platform,
            engine=engine,
            data_dir=data_dir,
            db_path=data_dir / "xinyong.db",
            log_path=log_path,
            ids=ids,
            person_names=names[:80],
        )
        _browse(demo_run, cf_rows, names)
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(saved[0])
        sql.setLevel(saved[1])
        for other, level in others:
            other.setLevel(level)
    yield demo_run
    engine.dispose()


def _browse(run: DemoRun, cf_rows: list[dict[str, str]], names: list[str]) -> None:
    platform = run.platform
    app = create_app(platform=platform)
    app.dependency_overrides[get_today] = lambda: TODAY
    with transaction(platform.sessions) as session:
        usccs = [
            code
            for code in session.scalars(
                select(Subject.uscc).where(Subject.uscc.is_not(None)).order_by(Subject.id)
            )
            if code is not None
        ]
        showcase = session.scalar(
            select(Subject.uscc)
            .join(User, User.subject_id == Subject.id)
            .where(User.username == "enterprise")
        )
        companies = list(session.scalars(select(Subject.name).where(Subject.uscc.is_not(None)).limit(40)))
    surnames = sorted({n[0] for n in names})[:15]
    queries = [*names, *companies, *surnames]

    anon = Browser(run, app, "anonymous")
    users = {name: Browser(run, app, name) for name in USERS}
    try:
        _public_pages(anon, platform, usccs, queries, surnames)
        for name, browser in users.items():
            browser.login(name)
        _submit_through_the_web(run, anon, users["provider"], cf_rows)
        for browser in (anon, *users.values()):
            browser.refresh_ids()
        _console_pages(users, usccs, showcase, queries)
        _rejected_exports(run, anon, users)
        users["admin"].get("/console/audit")
        users["auditor"].get("/console/audit")
        users["enterprise"].get("/account")
        _repair_and_objection_pages(anon, users)
    finally:
        anon.close()
        for browser in users.values():
            browser.close()


def _public_pages(
    anon: Browser, platform: Platform, usccs: list[str], queries: list[str], surnames: list[str]
) -> None:
    for url in ("/", "/login", "/catalog", "/api/v1/catalog", "/api/v1/departments"):
        anon.get(url)
    for item in platform.catalog.items:
        anon.get(f"/catalog/{item.code}")
    for kind in ("penalties", "licences"):
        for page in range(1, 6):
            anon.get(f"/publicity/{kind}?page={page}")
        for prefecture in regions.current_prefectures():
            anon.get(f"/publicity/{kind}?region={prefecture.code}")
        anon.get(f"/publicity/{kind}?region=510100&page=2")
        for department in generator.departments():
            anon.get(f"/publicity/{kind}?department={department.code}")
        anon.get(f"/publicity/{kind}?date_from=2025-01-01&date_to=2026-06-30")
    for q in queries:
        anon.get(f"/search?q={q}")
        anon.get(f"/api/v1/subjects?q={q}&size=100")
    for q in surnames:
        anon.get(f"/search?q={q}&page=2")
    for n, uscc in enumerate(usccs):
        anon.get(f"/subjects/{uscc}")
        if n % 2 == 0:  # the other half is read as a government user (see _console_pages)
            anon.get(f"/api/v1/subjects/{uscc}")


def _submit_through_the_web(
    run: DemoRun, anon: Browser, provider: Browser, cf_rows: list[dict[str, str]]
) -> None:
    """IDs sent through the console upload and the JSON API (a department system's token)."""
    fresh = _fresh_ids(run.ids, 6)
    upload_ids = [fresh[0], fresh[1], _spoil(fresh[2])]
    api_ids = [fresh[3], fresh[4], _spoil(fresh[5])]
    run.submitted_ids = {*upload_ids, *api_ids}
    run.ids |= run.submitted_ids
    in_uscc, in_remarks = _fresh_ids(run.ids, 2)
    run.misplaced = {"uscc_column": in_uscc, "remarks": in_remarks}
    provider.refresh_ids()
    anon.refresh_ids()

    rows = _submission(cf_rows, upload_ids, "川市监隐") + _misplaced_rows(cf_rows[0], in_uscc, in_remarks)
    response = provider.post(
        "/console/ingest",
        303,
        data={"item": "CF", "provider": "SCMR", "csrf_token": provider.csrf()},
        files={"file": ("privacy.csv", _csv(rows), "text/csv")},
    )
    location = response.headers.get("location", "")
    assert location.startswith("/console/batches/"), f"upload did not redirect to its batch: {location}"
    provider.get(location)
    with transaction(run.platform.sessions) as session:
        _, secret = auth.create_token(session, department_code="SCMR", scopes=["records:write"])
    response = provider.client.post(
        "/api/v1/records",
        json={"item": "CF", "provider": "SCMR", "records": _submission(cf_rows[:3], api_ids, "川市监隐接")},
        headers={"Authorization": f"Bearer {secret}"},
    )
    provider.scan("token POST /api/v1/records", response, 200)
    assert response.json().get("rejected", 0) >= 1, response.text
    for uscc in (UPLOAD_COMPANY, REMARK_COMPANY):
        anon.get(f"/subjects/{uscc}")
        anon.get(f"/api/v1/subjects/{uscc}")
        provider.get(f"/subjects/{uscc}?purpose={PURPOSE}")
    anon.get("/publicity/penalties")
    anon.get("/publicity/penalties?department=SCMR")
    for q in ("隐私测试", "隐私测试甲", "隐私测试丁", "隐私测试戊"):
        anon.get(f"/search?q={q}")
        anon.get(f"/api/v1/subjects?q={q}")


def _repair_and_objection_pages(anon: Browser, users: dict[str, Browser]) -> None:
    """Notices, repair applications (with the signed commitments), objections and their statistics."""
    admin, reviewer, enterprise = users["admin"], users["reviewer"], users["enterprise"]
    with transaction(admin.run.platform.sessions) as session:
        applications = list(session.execute(select(RepairApplication.id, RepairApplication.department_code)))
        objections = list(session.execute(select(Objection.id, Objection.department_code)))
        commitment_ids = list(session.scalars(select(Commitment.id).where(Commitment.public.is_(True))))
    assert applications and objections and commitment_ids, "the demo holds repairs, objections, commitments"
    for url in ("/account/notices", "/account/repairs", "/account/objections"):
        enterprise.get(url)
    for url in ("/console/repairs?status=", "/console/objections?show=", "/console/notices"):
        admin.get(url)
        reviewer.get(url)
    admin.get("/console/repairs/recheck")
    admin.get("/console/commitments?status=")
    for application_id, department_code in applications:
        admin.get(f"/console/repairs/{application_id}")
        if department_code == "SCMR":
            reviewer.get(f"/console/repairs/{application_id}")
    for objection_id, department_code in objections:
        admin.get(f"/console/objections/{objection_id}")
        if department_code == "SCMR":
            reviewer.get(f"/console/objections/{objection_id}")
    anon.get("/commitments")
    anon.get("/statistics/repairs")
    anon.get("/statistics/repairs.json")
    for commitment_id in commitment_ids:
        anon.get(f"/commitments/{commitment_id}")


def _console_pages(
    users: dict[str, Browser], usccs: list[str], showcase: str | None, queries: list[str]
) -> None:
    admin, provider, reviewer = users["admin"], users["provider"], users["reviewer"]
    auditor, agency, enterprise = users["auditor"], users["agency"], users["enterprise"]
    with transaction(admin.run.platform.sessions) as session:
        batches = list(session.execute(select(Batch.id, Batch.provider_code).order_by(Batch.id)))
    for browser in (admin, provider, reviewer, auditor):
        browser.get("/console")
    for browser in (agency, enterprise):
        browser.get("/console", expect=403)
    for url in ("/console/review", "/console/users", "/console/audit", "/console/audit?action=subject.view"):
        admin.get(url)
    reviewer.get("/console/review")
    reviewer.get("/console/users")
    provider.get("/console/review")
    auditor.get("/console/audit?action=auth.login")
    enterprise.get("/account")
    _batch_pages(users, batches)
    for uscc in usccs[1::2]:
        admin.get(f"/subjects/{uscc}?purpose={PURPOSE}")
    for n, uscc in enumerate(usccs[:150]):
        provider.get(f"/subjects/{uscc}?purpose={PURPOSE}")
        reviewer.get(f"/subjects/{uscc}?purpose={PURPOSE}")
        if n < 60:
            admin.get(f"/api/v1/subjects/{uscc}?purpose={PURPOSE}")
            auditor.get(f"/subjects/{uscc}?purpose={PURPOSE}")
        if n < 30:
            agency.get(f"/subjects/{uscc}")
            enterprise.get(f"/subjects/{uscc}")
    if showcase:
        enterprise.get(f"/subjects/{showcase}")
        enterprise.get(f"/api/v1/subjects/{showcase}")
    for q in queries[:30]:
        admin.get(f"/search?q={q}")
        agency.get(f"/api/v1/subjects?q={q}")


def _batch_pages(users: dict[str, Browser], batches: list[Any]) -> None:
    """Every batch for the credit office, its own for the provider and reviewer, 20 others refused."""
    admin, provider, reviewer = users["admin"], users["provider"], users["reviewer"]
    others = 0
    for n, (batch_id, provider_code) in enumerate(batches):
        admin.get(f"/console/batches/{batch_id}")
        if n % 10 == 0:
            admin.get(f"/api/v1/batches/{batch_id}")
        if provider_code == "SCMR":
            provider.get(f"/console/batches/{batch_id}")
            provider.get(f"/api/v1/batches/{batch_id}")
            reviewer.get(f"/console/batches/{batch_id}")
        elif others < 20:
            others += 1
            provider.get(f"/console/batches/{batch_id}", expect=403)


def _rejected_exports(run: DemoRun, anon: Browser, users: dict[str, Browser]) -> None:
    """The export is the provider's own data: reachable by the department (and credit office), nobody else."""
    with transaction(run.platform.sessions) as session:
        rejected = list(
            session.execute(
                select(Batch.id, Batch.provider_code).where(Batch.rejected > 0).order_by(Batch.started_at)
            )
        )
    assert rejected, "the demo run has no batch with rejected rows"
    browsers = [("anonymous", anon), *users.items()]
    for batch_id, provider_code in rejected:
        url = f"/api/v1/batches/{batch_id}/rejected.csv"
        for who, browser in browsers:
            response = browser.client.get(url, follow_redirects=False)
            key = f"{who} {provider_code} {batch_id}"
            run.export_status[key] = response.status_code
            if response.status_code == 200:
                run.export_bodies[key] = response.content
            else:  # a refusal is a page like any other
                browser.scan(f"{who} GET {url}", response, (401, 403))


# --- the scans ------------------------------------------------------------------------------------------


def _db_files(data_dir: Path) -> list[Path]:
    """Everything the platform wrote under its data directory: the database, its WAL and shared memory."""
    return sorted(p for p in data_dir.rglob("*") if p.is_file())


def _scan_files(paths: list[Path], ids: frozenset[bytes]) -> dict[str, set[str]]:
    leaks = {}
    for path in paths:
        if found := find_ids(path.read_bytes(), ids):
            leaks[path.name] = found
    return leaks


def _describe(leaks: dict[str, set[str]], limit: int = 10) -> str:
    lines = [
        f"{where}: {len(found)} IDs, e.g. {sorted(found)[:3]}" for where, found in list(leaks.items())[:limit]
    ]
    return "\n".join(lines) + (f"\n... and {len(leaks) - limit} more" if len(leaks) > limit else "")


def _log_lines(data: bytes, found: set[str], limit: int = 5) -> str:
    lines = [line for line in data.decode("utf-8", "replace").splitlines() if any(i in line for i in found)]
    return "\n".join(line[:400] for line in lines[:limit])


def test_finder_sees_ids_in_any_context() -> None:
    ids = frozenset({b"51010419850517001X", b"510104198505170028"})
    assert find_ids(b'{"id_no": "51010419850517001X"}', ids) == {"51010419850517001X"}
    assert find_ids(b"9510104198505170028X", ids) == {"510104198505170028"}
    assert find_ids(b"5101**********001X 510104198505170029", ids) == set()
    assert ids_in_rows([{"CF_XDR_ZJHM": "510104198505170011", "CF_CFJGDM": "115100000032657848"}]) == {
        "510104198505170011"
    }
    # A checksum-broken ID in any column is personal data; a USCC that happens to be all digits is not.
    assert ids_in_rows([{"BZ": "身份证510104198505170012、51010419850517002X"}]) == {
        "510104198505170012",
        "51010419850517002X",
    }
    assert ids_in_rows([{"uscc": "915107274611019478"}]) == set()


def test_scan_is_not_vacuous(run: DemoRun) -> None:
    assert len(run.ids) > 100, f"only {len(run.ids)} resident IDs in the demo rows"
    assert not run.unexpected_status, "\n".join(run.unexpected_status[:20])
    cipher = run.platform.cipher
    with transaction(run.platform.sessions) as session:
        persons = list(
            session.scalars(
                select(Subject)
                .where(Subject.kind == "natural_person", Subject.id_hash.is_not(None))
                .limit(50)
            )
        )
        assert persons, "no natural person with an ID hash was stored"
        for person in persons:
            assert person.id_cipher
            clear = cipher.decrypt(person.id_cipher)
            assert clear in run.ids, "a stored person's ID is not one of the collected IDs"
            assert person.id_hash == cipher.hash(clear)
            assert person.id_masked and "*" in person.id_masked and person.id_masked != clear
        # Legal reps' IDs (registration records) and rejected rows' IDs are kept, encrypted.
        sensitive = session.scalars(select(Record.sensitive).where(Record.item_code == "DJ").limit(200))
        decrypted = {cipher.decrypt(token) for values in sensitive for token in (values or {}).values()}
        assert decrypted and decrypted <= run.ids
        raw = session.scalars(select(RejectedRow.raw_sensitive))
        assert any(cipher.decrypt(t) in run.ids for values in raw for t in (values or {}).values())
        uploaded = session.scalars(select(Subject.id_cipher).where(Subject.name == "隐私测试甲"))
        assert {cipher.decrypt(t) for t in uploaded if t} & run.submitted_ids, (
            "the uploaded person is missing"
        )
    stored = b"".join(p.read_bytes() for p in _db_files(run.data_dir))
    assert MASKED.search(stored), "no masked ID in the database files: did the data go in?"
    log = run.log_path.read_bytes()
    assert b"INSERT INTO subjects" in log, "SQL statements were not logged"
    assert b"INSERT INTO records" in log and b"INSERT INTO rejected_rows" in log, "SQL writes were not logged"
    # The engine hides bound parameters (they carry encrypted, hashed and looked-up IDs): statements are
    # logged without them, and no encrypted ID (a Fernet token) reaches the log.
    assert log.count(SQL_PARAMETERS_HIDDEN) > 1000, "SQL statements were logged without the hidden marker"
    assert b"gAAAAA" not in log, "bound parameters (encrypted IDs) were logged"
    # The requests that carried IDs went through logging too.
    assert b"POST http://testserver/console/ingest" in log, "the console upload was not logged"
    assert b"POST http://testserver/api/v1/records" in log, "the API submission was not logged"
    assert run.pages > 3000, f"only {run.pages} pages rendered"
    assert run.pages_naming_persons > 50, "natural persons' names were on no rendered page"


def test_database_files_hold_no_clear_ids(run: DemoRun) -> None:
    files = _db_files(run.data_dir)
    assert run.db_path in files
    assert run.db_path.with_name("xinyong.db-wal") in files, "expected the WAL file of the running platform"
    leaks = _scan_files(files, as_bytes(run.ids))
    assert not leaks, "clear resident IDs in the database files:\n" + _describe(leaks)


def test_logs_hold_no_clear_ids(run: DemoRun) -> None:
    data = run.log_path.read_bytes()
    found = find_ids(data, as_bytes(run.ids))
    assert not found, f"{len(found)} clear resident IDs in the logs, e.g.:\n" + _log_lines(data, found)


def test_rendered_pages_hold_no_clear_ids(run: DemoRun) -> None:
    assert not run.page_leaks, (
        f"clear resident IDs on {len(run.page_leaks)} of {run.pages} pages:\n" + _describe(run.page_leaks)
    )


def test_rejected_rows_export_only_for_department_users(run: DemoRun) -> None:
    assert run.export_status
    for key, status in run.export_status.items():
        who, provider_code, _ = key.split(" ")
        expected = {
            "anonymous": 401,
            "admin": 200,  # the credit office may act for every department
            "provider": 200 if provider_code == "SCMR" else 403,
            "reviewer": 200 if provider_code == "SCMR" else 403,
        }.get(who, 403)  # auditor, agency, enterprise
        assert status == expected, f"{key}: {status}, expected {expected}"
    # The provider gets back the IDs it sent (to correct and resubmit): the export is the only clear copy.
    own = b"".join(body for key, body in run.export_bodies.items() if key.startswith("provider "))
    assert find_ids(own, as_bytes(run.submitted_ids)), "the export lost the submitted IDs"


def _misplaced_leaks(run: DemoRun, probe: str) -> dict[str, set[str]]:
    """Where the ID of one misplaced-ID probe is in clear: database files, logs, pages."""
    number = run.misplaced[probe]
    leaks = _scan_files(_db_files(run.data_dir), as_bytes([number]))
    if found := find_ids(run.log_path.read_bytes(), as_bytes([number])):
        leaks["log"] = found
    leaks |= {label: {number} for label, found in run.misplaced_page_leaks.items() if number in found}
    return leaks


def test_id_in_the_uscc_column_is_not_kept_in_clear(run: DemoRun) -> None:
    leaks = _misplaced_leaks(run, "uscc_column")
    assert not leaks, "an ID sent in the USCC column is kept in clear:\n" + _describe(leaks)


def test_id_in_a_remark_is_not_kept_or_shown_in_clear(run: DemoRun) -> None:
    leaks = _misplaced_leaks(run, "remarks")
    assert not leaks, "an ID written into a remark is kept or shown in clear:\n" + _describe(leaks)
    # The row itself is kept, for its company, with the ID in its remark masked.
    with transaction(run.platform.sessions) as session:
        record = session.scalar(
            select(Record)
            .join(Subject, Subject.id == Record.subject_id)
            .where(Subject.uscc == REMARK_COMPANY, Record.doc_no == "川市监隐〔2026〕905号")
        )
        assert record is not None, "the row with an ID in its remark was not stored for its company"
        remarks = [str(value) for value in record.fields.values() if "身份证号" in str(value)]
    assert remarks, f"the stored row lost its remark: {record.fields}"
    assert mask_resident_id(run.misplaced["remarks"]) in remarks[0], remarks


def test_database_files_hold_no_clear_ids_after_checkpoint(run: DemoRun) -> None:
    connection = sqlite3.connect(run.db_path, isolation_level=None)
    try:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    assert busy == 0, "the checkpoint could not complete"
    assert run.db_path.with_name("xinyong.db-wal").stat().st_size == 0
    leaks = _scan_files(_db_files(run.data_dir), as_bytes(run.ids))
    assert not leaks, "clear resident IDs in the database files after a checkpoint:\n" + _describe(leaks)
