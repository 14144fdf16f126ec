"""Property: a resident ID written into free text, however it is disguised, never survives in clear.

Hypothesis writes valid IDs into text with every variant people (and attackers) produce: full-width,
superscript, circled or mathematical digits; a lower-case, full-width or multiplication-sign X; zero-width
spaces, joiners, bidi marks, soft hyphens, combining marks and tags inside; spaces, hyphens and dashes of any
kind between its characters; letters or digits glued before and after; Chinese text around it. The text is
then put everywhere free text enters the platform — record fields, list facts, articles, check and file-read
purposes, objection filer details, display names, search queries — and the test looks for the ID in the
database, the pages, the API, the audit export and the logs, after normalising what it finds the same way
(NFKC, invisible characters, spaces and hyphens dropped). It is never there.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import unicodedata

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, String, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import bearer, department, login, penalty, uscc
from xinyong.accounts import auth
from xinyong.accounts.policy import Principal
from xinyong.content import service as content
from xinyong.kit import regions
from xinyong.kit.errors import ValidationFailed
from xinyong.kit.identifiers import MaskIdsFilter, install_log_masking, make_resident_id, mask_ids
from xinyong.lists import service as lists
from xinyong.measures import check as measures
from xinyong.objections import service as objections
from xinyong.platform import Platform
from xinyong.records import service as records
from xinyong.records.credit_file import credit_file
from xinyong.subjects import service as subjects

# --- what the test counts as the ID still being there ---------------------------------------------------

_DASHES = set("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u00ad")


def skeleton(found: str) -> str:
    """What a reader (or a program) recovers from a text: NFKC, invisible characters, spaces and dashes
    dropped, X upper-cased (× read as X). Written apart from the code under test, from the standard library."""
    out: list[str] = []
    for char in found:
        for norm in unicodedata.normalize("NFKC", char):
            if norm in _DASHES or norm.isspace() or unicodedata.category(norm) in ("Cf", "Cc", "Mn", "Me"):
                continue
            if unicodedata.category(norm) == "No" and unicodedata.digit(norm, None) is not None:
                norm = str(unicodedata.digit(norm))
            out.append("X" if norm in "x×" else norm)
    return "".join(out)


def survives(number: str, found: str) -> bool:
    return number in skeleton(found)


# --- IDs and their disguises ------------------------------------------------------------------------------

_AREAS = sorted(code for code in ("510104", "510105", "510107", "510122", "110101", "440305", "510681"))
assert all(regions.is_known(a) for a in _AREAS)

ids = st.builds(
    make_resident_id,
    st.sampled_from(_AREAS),
    st.dates(dt.date(1930, 1, 1), dt.date(2010, 12, 31)),
    st.integers(0, 999),
)


def _digit_forms(char: str) -> list[str]:
    if char == "X":
        return ["X", "x", "\uff38", "\uff58", "\u00d7"]
    d = int(char)
    forms = [char, chr(0xFF10 + d), chr(0x1D7CE + d), chr(0x1D7EC + d)]  # full-width, mathematical
    forms.append({0: "\u2070", 1: "\u00b9", 2: "\u00b2", 3: "\u00b3"}.get(d, chr(0x2070 + d)))  # superscript
    if d:
        forms.append(chr(0x2460 + d - 1))  # circled
    return forms


_INSIDE = [
    "",
    " ",
    "  ",
    "-",
    "－",
    "—",
    "\u2013",
    "\u3000",
    "\u00a0",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u200e",
    "\u202e",
    "\u0301",
    "\U000e0041",
    "\t",
    " - ",
]


@st.composite
def disguised(draw: st.DrawFn, number: str) -> str:
    parts: list[str] = []
    for n, char in enumerate(number):
        parts.append(draw(st.sampled_from(_digit_forms(char))))
        if n < len(number) - 1:
            parts.append(draw(st.sampled_from(_INSIDE)) if draw(st.booleans()) else "")
    return "".join(parts)


glue = st.text(alphabet="abcxyzXAB0123456789", max_size=4)
chinese = st.text(alphabet="当事人张三身份证号码为：，。（）经查违法事实", max_size=12)


@st.composite
def id_in_text(draw: st.DrawFn) -> tuple[str, str]:
    """(the ID, a text that carries it in disguise)."""
    number = draw(ids)
    return number, draw(chinese) + draw(glue) + draw(disguised(number)) + draw(glue) + draw(chinese)


# --- the function ---------------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(id_in_text())
def test_no_disguised_id_survives_masking(case: tuple[str, str]) -> None:
    number, written = case
    assert survives(number, written)  # the disguise is still the ID to a reader
    masked = mask_ids(written)
    assert not survives(number, masked)
    assert number[:4] in skeleton(masked)  # masked where it was, not dropped


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789 -年月日号，。ABCDEFGHJKLMNPQRTUWXY", max_size=60))
def test_text_without_an_id_is_left_as_written(written: str) -> None:
    if any(len(run) >= 17 for run in skeleton(written).replace("X", " ").split()):
        return  # long digit runs may hold an ID-shaped window by chance; the other test covers those
    assert mask_ids(written) == written


# --- the boundaries --------------------------------------------------------------------------------------

CLERK = Principal(kind="user", name="审核员", role="reviewer", department_code="SCMR")
OFFICE = Principal(kind="user", name="信用办", role="credit_office", department_code="SCFGW")
FINANCE = Principal(kind="token", name="采购系统", department_code="SCCZ")
DB_EXAMPLES = settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def dump(session: Session) -> str:
    """Every text and JSON column of every table, as the database returns them."""
    engine = session.get_bind()
    found: list[str] = []
    tables = session.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'table'")
        if engine.dialect.name == "sqlite"
        else text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ).scalars()
    for table in list(tables):
        for row in session.execute(text(f'SELECT * FROM "{table}"')):
            for value in row:
                found.extend(_texts(value))
    return "\n".join(found)


def _texts(value: object) -> list[str]:
    """The strings inside a column's value as stored (JSON read back, never re-escaped)."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return [value]
        return [value, *_texts(decoded)] if isinstance(decoded, dict | list) else [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_texts(k), *_texts(v))]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return [] if value is None else [str(value)]


@DB_EXAMPLES
@given(case=id_in_text())
def test_record_fields_never_show_it_in_storage_pages_api_or_audit_export(
    client: TestClient, session: Session, case: tuple[str, str]
) -> None:
    number, written = case
    code = uscc()
    row = penalty(CF_XDR_SHXYM=code, CF_SY=f"经查，{written}", CF_WFXW=written[:200])
    body = client.post(
        "/api/v1/records", json={"item": "CF", "records": [row]}, headers=bearer(session)
    ).json()
    assert body["accepted"] == 1, body
    shown = [
        client.get(f"/subjects/{code}").text,
        client.get(f"/api/v1/subjects/{code}").text,
        client.get("/search", params={"q": code}).text,
    ]
    login(client, session, role="auditor", department_code="SCFGW")
    shown.append(client.get("/console/audit/export.csv").text)
    for found in [*shown, dump(session)]:
        assert not survives(number, found)


@DB_EXAMPLES
@given(case=id_in_text())
def test_purposes_facts_articles_objections_and_names_are_stored_masked(
    platform: Platform, session: Session, case: tuple[str, str]
) -> None:
    number, written = case
    purpose = f"审查{written}"[:190]
    for code_ in ("SCMR", "SCCZ", "SCFGW"):
        department(session, code_, code_)
    code = uscc()
    ingested = records.ingest_json(
        session,
        platform.ingest_context(TODAY),
        item_code="CF",
        provider_code="SCMR",
        records=[penalty(CF_XDR_SHXYM=code)],
    )
    assert ingested.accepted == 1
    subject = subjects.get_by_uscc(session, code)
    # A check's purpose (stored with the check, signed, audited, shown to the subject) …
    measures.run_check(
        session,
        catalog=platform.catalog,
        signer=platform.signer,
        id_hash=platform.cipher.hash,
        order=measures.CheckOrder(
            FINANCE, measures.SubjectRef(uscc=code), "government_procurement", purpose, TODAY
        ),
    )
    # … a file read's purpose …
    credit_file(session, platform.catalog, OFFICE, subject.id, TODAY, purpose=purpose)
    # … list facts, an article, an objection's filer, a display name.
    lists.propose(
        session,
        platform.context(CLERK, TODAY),
        subject_id=subject.id,
        list_type="serious_dishonesty",
        legal_basis="《严重失信主体名单管理办法》第七条",
        facts=f"拒不履行：{written}",
    )
    content.create(
        session,
        OFFICE,
        kind="case",
        category="失信惩戒",
        title=f"案例{written}"[:190],
        body=f"当事人{written}",
    )
    record = session.scalars(
        text("SELECT id FROM records WHERE subject_id = :s").bindparams(s=subject.id)
    ).one()
    objections.file(
        session,
        platform.context(Principal(kind="anonymous", name="anonymous"), TODAY),
        answer_workdays=platform.repair_policy.objection_workdays,
        record_id=record,
        reasons="处罚决定书载明的罚款金额与公示不符，请予核实更正。",
        filer_name=f"王五{written}"[:100],
        filer_contact=written[:100],
        evidence=[],
    )
    auth.create_user(
        session,
        username=f"u{code}",
        password="correct-horse-42",
        role="auditor",
        display_name=f"张三{written}",
    )
    session.commit()
    stored = dump(session)
    assert not survives(number, stored)
    assert stored.count(number[:4] + "*" * 10) >= 5  # masked in place, not dropped


@DB_EXAMPLES
@given(case=id_in_text())
def test_a_username_carrying_an_id_is_refused(session: Session, case: tuple[str, str]) -> None:
    _, written = case
    with pytest.raises(ValidationFailed) as refused:
        auth.create_user(session, username=written[-64:], password="correct-horse-42", role="auditor")
    assert refused.value.code in ("user.resident_id", "user.invalid")


@settings(max_examples=60, deadline=None)
@given(case=id_in_text())
def test_the_access_log_never_holds_a_query_string_with_an_id(case: tuple[str, str]) -> None:
    number, written = case
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    access, root = logging.getLogger("uvicorn.access"), logging.getLogger()
    level = access.level
    access.setLevel(logging.INFO)
    access.addHandler(handler)  # as `xinyong serve` has them: handlers first, then the masking
    root.addHandler(handler)
    install_log_masking()
    try:
        # uvicorn's own call: client, method, path with query string, HTTP version, status
        access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.7:5123", "GET", f"/search?q={written}", "1.1", 200)
        logging.getLogger("xinyong.anything").warning("purpose %s", written)
    finally:
        access.removeHandler(handler)
        root.removeHandler(handler)
        access.setLevel(level)
    logged = stream.getvalue()
    assert "GET /search?q=" in logged and "purpose" in logged
    assert not survives(number, logged)


def test_database_errors_do_not_print_their_parameters(engine: Engine) -> None:
    """SQLAlchemy shows a failed statement without its parameters; what the server itself quotes (PostgreSQL's
    "Failing row contains …") is masked when the error is logged."""
    number = make_resident_id("510104", dt.date(1980, 1, 2), 3)
    statement = text("INSERT INTO departments (code, name) VALUES (:code, :name)").bindparams(code=String())
    with engine.connect() as connection, pytest.raises(IntegrityError) as failed:
        connection.execute(statement, {"code": None, "name": number})
    message = str(failed.value)
    assert "[SQL parameters hidden due to hide_parameters=True]" in message
    assert number not in message[message.index("[SQL:") :]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    install_log_masking()
    try:
        try:
            raise failed.value
        except IntegrityError:
            logging.getLogger("xinyong.web.errors").exception("unexpected error")
    finally:
        root.removeHandler(handler)
    assert "IntegrityError" in stream.getvalue() and not survives(number, stream.getvalue())


def test_the_server_masks_the_access_log_it_sets_up() -> None:
    from fastapi import FastAPI

    from xinyong.cli import server_config

    server_config(FastAPI(), "127.0.0.1", 8000)
    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, MaskIdsFilter) for f in (*access.filters, *access.handlers[0].filters))
