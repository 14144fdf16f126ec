"""Input hygiene: NUL characters and lone surrogates, in any text input, get a 422 `input.invalid_characters`
(never a 500 on PostgreSQL, never a NUL in a SQLite LIKE pattern that matches everything); in a file's cell
they reject the row with its reason; in a coalesced batch of checks a poisoned order fails alone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import bearer, department, licence, login, penalty, uscc
from xinyong.accounts.policy import Principal
from xinyong.kit import hygiene
from xinyong.kit.errors import ValidationFailed
from xinyong.measures import check as measures
from xinyong.measures.models import Check
from xinyong.platform import Platform
from xinyong.records.models import RejectedRow

CODE = "input.invalid_characters"


def refused(response: Any) -> bool:
    """A 422 with the stable code (JSON for /api, the error page otherwise)."""
    return response.status_code == 422 and CODE in response.text


def load(client: TestClient, session: Session, item: str, rows: list[dict[str, Any]]) -> None:
    response = client.post(
        "/api/v1/records", json={"item": item, "records": rows}, headers=bearer(session, "SCMR")
    )
    assert response.status_code == 200 and response.json()["accepted"] == len(rows), response.text


class TestUnit:
    def test_what_is_refused_and_what_is_not(self) -> None:
        assert hygiene.bad_text("a\x00b") and hygiene.bad_text("\ud800") and hygiene.bad_text("x\udfff")
        assert not hygiene.bad_text("成都𠮷祥😀") and not hygiene.bad_text("")
        assert hygiene.clean_text("a\x00\ud800b") == "a\ufffd\ufffdb"
        assert hygiene.bad_urlencoded(b"q=%00") and hygiene.bad_urlencoded(b"q=%ED%A0%80")
        assert hygiene.bad_urlencoded(b"q=a\x00") and hygiene.bad_urlencoded(b"q=%FF")
        assert not hygiene.bad_urlencoded(b"q=%E6%88%90%E9%83%BD+x&page=2")
        assert hygiene.bad_json(b'{"a": "x\\u0000"}') and hygiene.bad_json(b'{"a\\u0000": 1}')
        assert hygiene.bad_json(b'["\\uD800"]') and hygiene.bad_json(b'[{"x": ["\\udc00y"]}]')
        assert not hygiene.bad_json(b'{"a": "\\ud83d\\ude00"}')  # a surrogate pair is one character
        assert not hygiene.bad_json(b'{"a": "\\\\u0000"}')  # the text backslash-u-0000, escaped
        assert not hygiene.bad_json(b'{"a": "\\u0000')  # not JSON: left to the parser's own 422
        assert not hygiene.bad_json(b"[" * 100_000 + b'"\\u0000"')  # too deep to read: the parser's too


class TestQueryStrings:
    def test_a_nul_in_a_search_is_refused_not_a_list_of_every_subject(
        self, client: TestClient, session: Session
    ) -> None:
        load(client, session, "XK", [licence(XK_XDR_SHXYM=uscc())])
        assert refused(client.get("/api/v1/subjects?q=%00"))
        assert refused(client.get("/api/v1/subjects?q=%E6%88%90%00"))
        page = client.get("/search?q=%00")
        assert refused(page) and "不允许的字符" in page.text
        assert client.get("/api/v1/subjects?q=%E6%88%90%E9%83%BD").status_code == 200

    def test_an_encoded_lone_surrogate_or_a_nul_in_the_path_is_refused(self, client: TestClient) -> None:
        assert refused(client.get("/api/v1/subjects?q=%ED%A0%80"))
        assert refused(client.get("/subjects/9151%00"))


class TestJsonBodies:
    def test_checks_with_a_nul_or_a_lone_surrogate_are_refused(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        load(client, session, "XK", [licence(XK_XDR_SHXYM=code)])
        headers = bearer(session, "SCCZ", ("checks:run",))
        before = session.scalars(select(func.count(Check.id))).one()
        for purpose in ('"采购\\u0000审查"', '"采购\\ud800审查"', '"\\udfff"'):
            body = f'{{"subject": {{"uscc": "{code}"}}, "scenario": "public_bidding", "purpose": {purpose}}}'
            response = client.post(
                "/api/v1/checks", content=body, headers=headers | {"Content-Type": "application/json"}
            )
            assert refused(response), response.text
            assert response.json()["error"]["code"] == CODE
        fine = {"subject": {"uscc": code}, "scenario": "public_bidding", "purpose": "采购审查😀 \\u0000"}
        assert client.post("/api/v1/checks", json=fine, headers=headers).status_code == 200
        assert session.scalar(select(func.count(Check.id))) == before + 1

    def test_records_with_a_nul_are_refused_and_nothing_is_stored(
        self, client: TestClient, session: Session
    ) -> None:
        row = penalty(CF_XDR_MC="成都\x00有限公司")
        response = client.post(
            "/api/v1/records", json={"item": "CF", "records": [row]}, headers=bearer(session, "SCMR")
        )
        assert refused(response)
        assert client.get("/api/v1/subjects", params={"q": row["CF_XDR_SHXYM"]}).json()["items"] == []


class TestForms:
    def test_a_url_encoded_form_with_a_nul_is_refused(self, client: TestClient) -> None:
        response = client.post(
            "/login",
            content=b"username=admin%00&password=x&csrf_token=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert refused(response)

    def test_a_multipart_field_with_a_nul_is_refused(self, client: TestClient, session: Session) -> None:
        token = login(client, session, role="provider")
        response = client.post(
            "/console/ingest",
            data={"item": "CF", "provider": "SCMR\x00", "csrf_token": token},
            files={"file": ("p.csv", b"a,b\r\n1,2\r\n", "text/csv")},
        )
        assert refused(response)


class TestFileCells:
    def test_a_nul_in_a_csv_cell_rejects_that_row_with_its_reason(
        self, client: TestClient, session: Session
    ) -> None:
        token = login(client, session, role="provider")
        good, bad = penalty(), penalty(CF_WFXW="销售\x00过期食品")
        headers = list(good)
        lines = [",".join(headers)] + [",".join(str(r[h]) for h in headers) for r in (good, bad)]
        response = client.post(
            "/console/ingest",
            data={"item": "CF", "provider": "SCMR", "csrf_token": token},
            files={"file": ("p.csv", "\r\n".join(lines).encode(), "text/csv")},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        batch_id = response.headers["location"].rsplit("/", 1)[1]
        (rejected,) = session.scalars(select(RejectedRow).where(RejectedRow.batch_id == batch_id)).all()
        assert rejected.row_number == 3
        assert [(e["field"], e["code"]) for e in rejected.errors] == [("CF_WFXW", CODE)]
        assert rejected.raw["CF_WFXW"] == "销售\ufffd过期食品"  # stored as read, the bad character marked
        page = client.get(f"/console/batches/{batch_id}")
        assert CODE in page.text


class TestCoalescedChecks:
    def test_a_poisoned_check_fails_alone_among_concurrent_ones_from_another_department(
        self, client: TestClient, platform: Platform, session: Session
    ) -> None:
        codes = [uscc() for _ in range(6)]
        load(client, session, "XK", [licence(XK_XDR_SHXYM=c) for c in codes])
        department(session, "SCCZ", "四川省财政厅")
        department(session, "SCJT", "四川省交通运输厅")
        session.commit()
        honest = Principal(kind="token", name="token:1", role="department", department_code="SCCZ")
        stranger = Principal(kind="token", name="token:2", role="department", department_code="SCJT")

        def order(principal: Principal, code: str, purpose: str) -> measures.CheckOrder:
            return measures.CheckOrder(
                principal, measures.SubjectRef(uscc=code), "public_bidding", purpose, TODAY, "10.0.0.1"
            )

        orders = [order(honest, codes[n % 6], f"招标评审{n}") for n in range(20)]
        orders.insert(7, order(stranger, codes[0], "采购\x00审查"))

        async def fire() -> list[Any]:
            return list(
                await asyncio.gather(*(platform.checks.submit(o) for o in orders), return_exceptions=True)
            )

        outcomes = asyncio.run(fire())
        poisoned = outcomes.pop(7)
        assert isinstance(poisoned, ValidationFailed) and poisoned.code == CODE
        assert all(isinstance(o, measures.StoredCheck) for o in outcomes), outcomes
        assert [o.result["subject"]["uscc"] for o in outcomes] == [codes[n % 6] for n in range(20)]
        assert platform.checks.batches < len(orders)  # they did share transactions
        stored = session.scalars(select(Check).where(Check.id.in_([o.id for o in outcomes]))).all()
        assert len(stored) == 20 and all(c.department_code == "SCCZ" for c in stored)

    def test_a_batch_that_fails_as_a_whole_is_run_again_order_by_order(
        self, client: TestClient, platform: Platform, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        codes = [uscc() for _ in range(4)]
        load(client, session, "XK", [licence(XK_XDR_SHXYM=c) for c in codes])
        department(session, "SCCZ", "四川省财政厅")
        session.commit()
        honest = Principal(kind="token", name="token:1", role="department", department_code="SCCZ")
        orders = [
            measures.CheckOrder(honest, measures.SubjectRef(uscc=c), "public_bidding", "评审", TODAY)
            for c in codes
        ]
        # An order whose address no column can hold: what the checks' own validation does not foresee.
        orders.insert(
            2,
            measures.CheckOrder(
                honest, measures.SubjectRef(uscc=codes[0]), "public_bidding", "评审", TODAY, "9" * 5000
            ),
        )
        real = measures.run_checks
        poisoned_runs: list[int] = []

        def run_checks(session: Any, **kwargs: Any) -> Any:
            if any(o.ip and len(o.ip) > 100 for o in kwargs["orders"]):
                poisoned_runs.append(len(kwargs["orders"]))
                raise RuntimeError("the statement failed")  # as a store refuses a value too long
            return real(session, **kwargs)

        monkeypatch.setattr(measures, "run_checks", run_checks)

        async def fire() -> list[Any]:
            return list(
                await asyncio.gather(*(platform.checks.submit(o) for o in orders), return_exceptions=True)
            )

        outcomes = asyncio.run(fire())
        assert isinstance(outcomes.pop(2), RuntimeError)
        assert all(isinstance(o, measures.StoredCheck) for o in outcomes), outcomes
        assert poisoned_runs == [5, 1]  # the batch, then the poisoned order alone
