"""The deciding department's list console: subjects by name, only the steps the state machine allows from each
entry's state, and a refused step back on the page with its reason."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import acting, bearer, department, licence, login, uscc
from xinyong.accounts.policy import Principal
from xinyong.lists import rules
from xinyong.lists import service as lists
from xinyong.subjects import service as subjects
from xinyong.web import flash

DEPARTMENT = "SCXY"
CLERK = Principal(kind="user", name="clerk", role="reviewer", department_code=DEPARTMENT)


def subject(client: TestClient, session: Session, name: str) -> tuple[int, str]:
    code = uscc()
    body = client.post(
        "/api/v1/records",
        json={"item": "XK", "records": [licence(XK_XDR_SHXYM=code, XK_XDR_MC=name)]},
        headers=bearer(session),
    ).json()
    assert body["rejected"] == 0, body
    return subjects.get_by_uscc(session, code).id, code


def entry_in(session: Session, subject_id: int, list_type: str, state: str) -> Any:
    """An entry of `list_type` brought to `state` through the service, as a department would."""
    department(session, DEPARTMENT, "四川省信用测试局")
    entry = lists.propose(
        session,
        acting(CLERK, TODAY - dt.timedelta(days=60)),
        subject_id=subject_id,
        list_type=list_type,
        legal_basis="《严重失信主体名单管理办法》第七条",
        facts="拒不履行法定义务",
        scope="药品经营" if list_type == rules.MARKET_BAN else None,
    )

    def step(event: str, days_ago: int, **kw: Any) -> None:
        lists.advance(session, acting(CLERK, TODAY - dt.timedelta(days=days_ago)), entry, event, **kw)

    if state in ("notified", "listed", "removed") and list_type != rules.RED:
        step("notify", 50)
    if state in ("listed", "removed"):
        step("decide", 30, decision_no="川信认〔2026〕3号")
    if state == "removed":
        step("remove", 10, reason="authority_decision")
    if state == "dropped":
        step("drop", 40)
    session.commit()
    assert entry.status == state
    return entry


def offered(page: str, entry_id: int) -> set[str]:
    row = re.search(rf'<tr id="entry-{entry_id}".*?</tr>', page, re.S)
    assert row, f"entry {entry_id} not on the page"
    return set(re.findall(r'data-event="([a-z]+)"', row[0]))


def row_text(page: str, entry_id: int) -> str:
    row = re.search(rf'<tr id="entry-{entry_id}".*?</tr>', page, re.S)
    assert row
    return row[0]


def message(page: str) -> str:
    shown = re.search(r'<p class="flash [^"]+"[^>]*>(.*?)</p>', page, re.S)
    return shown[1] if shown else ""


class TestOfferedSteps:
    @pytest.mark.parametrize("list_type", list(rules.LIST_TYPE_LABELS))
    def test_each_state_offers_exactly_the_state_machines_transitions(
        self, client: TestClient, session: Session, list_type: str
    ) -> None:
        subject_id, code = subject(client, session, "成都名单控制台示例有限公司")
        states = ["proposed", "listed", "dropped", "removed"] + (
            ["notified"] if list_type != rules.RED else []
        )
        entries = {state: entry_in(session, subject_id, list_type, state) for state in states}
        login(client, session, role="reviewer", department_code=DEPARTMENT)
        page = client.get("/console/lists").text
        for state, entry in entries.items():
            expected = set(rules.allowed_events(list_type, state))
            if state == "notified":
                expected.add("statement")  # registering the statement, while none is received
            assert offered(page, entry.id) == expected, (list_type, state)
            row = row_text(page, entry.id)
            assert "成都名单控制台示例有限公司" in row and code in row
            assert rules.LIST_TYPE_LABELS[list_type] in row and rules.STATE_LABELS[state] in row
            assert "主体#" not in row and f">{state}<" not in row
        assert "已办结" in row_text(page, entries["removed"].id)

    def test_a_received_statement_is_not_offered_again(self, client: TestClient, session: Session) -> None:
        subject_id, _ = subject(client, session, "成都申辩示例有限公司")
        entry = entry_in(session, subject_id, rules.SERIOUS_DISHONESTY, "notified")
        lists.advance(session, acting(CLERK, TODAY), entry, "statement")
        session.commit()
        login(client, session, role="reviewer", department_code=DEPARTMENT)
        assert offered(client.get("/console/lists").text, entry.id) == {"decide", "drop"}


class TestRefusedSteps:
    def test_deciding_inside_the_statement_period_returns_with_the_reason(
        self, client: TestClient, session: Session
    ) -> None:
        subject_id, _ = subject(client, session, "成都期限示例有限公司")
        entry = entry_in(session, subject_id, rules.SERIOUS_DISHONESTY, "proposed")
        token = login(client, session, role="reviewer", department_code=DEPARTMENT)
        assert client.post(f"/console/lists/{entry.id}/notify", data={"csrf_token": token}).status_code == 200
        response = client.post(
            f"/console/lists/{entry.id}/decide",
            data={"csrf_token": token, "decision_no": "川信认〔2026〕9号"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/console/lists#entry-{entry.id}"
        page = client.get(response.headers["location"]).text
        assert "陈述申辩期限" in message(page) and "list.statement_period_open" in message(page)
        session.refresh(entry)
        assert entry.status == "notified" and entry.decision_no is None
        assert message(client.get("/console/lists").text) == ""  # shown once

    @pytest.mark.parametrize(
        ("state", "event", "form", "reason"),
        [
            ("proposed", "remove", {"reason": "expired"}, "不能执行“移出”"),
            ("dropped", "notify", {}, "该记录已办结"),
            ("listed", "remove", {"reason": "bribery"}, "不在允许范围内"),
            ("listed", "statement", {}, "只有已告知的名单记录"),
            ("proposed", "escalate", {}, "未知的操作"),
            ("proposed", "notify", {"note": "长" * 1001}, "说明不能超过1000个字"),
        ],
    )
    def test_a_wrong_state_or_bad_input_returns_to_the_page_with_a_message(
        self,
        client: TestClient,
        session: Session,
        state: str,
        event: str,
        form: dict[str, str],
        reason: str,
    ) -> None:
        subject_id, _ = subject(client, session, "成都拒绝示例有限公司")
        entry = entry_in(session, subject_id, rules.SERIOUS_DISHONESTY, state)
        token = login(client, session, role="reviewer", department_code=DEPARTMENT)
        response = client.post(
            f"/console/lists/{entry.id}/{event}", data={"csrf_token": token, **form, "back_status": state}
        )
        assert response.status_code == 200 and "<h1>名单认定</h1>" in response.text
        assert str(response.url).endswith(f"/console/lists?status={state}#entry-{entry.id}")
        assert reason in message(response.text), message(response.text)
        session.refresh(entry)
        assert entry.status == state

    def test_deciding_without_a_decision_number_is_refused_on_the_page(
        self, client: TestClient, session: Session
    ) -> None:
        subject_id, _ = subject(client, session, "成都文号示例有限公司")
        entry = entry_in(session, subject_id, rules.SERIOUS_DISHONESTY, "notified")  # deadline passed
        token = login(client, session, role="reviewer", department_code=DEPARTMENT)
        page = client.post(f"/console/lists/{entry.id}/decide", data={"csrf_token": token}).text
        assert "列入须有认定文号" in message(page)
        session.refresh(entry)
        assert entry.status == "notified" and entry.decided_on is None

    def test_another_departments_entry_is_refused_on_the_page(
        self, client: TestClient, session: Session
    ) -> None:
        subject_id, _ = subject(client, session, "成都他部门示例有限公司")
        entry = entry_in(session, subject_id, rules.SERIOUS_DISHONESTY, "proposed")
        token = login(client, session, role="reviewer", department_code="SCJT")
        page = client.post(f"/console/lists/{entry.id}/notify", data={"csrf_token": token}).text
        assert "只能处理本部门认定的名单" in message(page)
        assert f'id="entry-{entry.id}"' not in page  # nor is it listed for them
        session.refresh(entry)
        assert entry.status == "proposed"

    def test_a_proposal_for_an_unknown_subject_returns_with_the_reason(
        self, client: TestClient, session: Session
    ) -> None:
        token = login(client, session, role="reviewer", department_code=DEPARTMENT)
        page = client.post(
            "/console/lists",
            data={
                "csrf_token": token,
                "uscc": uscc(),
                "list_type": "serious_dishonesty",
                "legal_basis": "《严重失信主体名单管理办法》第七条",
                "facts": "拒不履行",
            },
        ).text
        assert "操作未执行" in message(page) and "<h1>名单认定</h1>" in page

    def test_a_done_step_says_so_and_moves_the_entry(self, client: TestClient, session: Session) -> None:
        subject_id, _ = subject(client, session, "成都告知示例有限公司")
        entry = entry_in(session, subject_id, rules.SERIOUS_DISHONESTY, "proposed")
        token = login(client, session, role="reviewer", department_code=DEPARTMENT)
        page = client.post(f"/console/lists/{entry.id}/notify", data={"csrf_token": token}).text
        assert "已告知：成都告知示例有限公司" in message(page) and 'class="flash flash-ok"' in page
        assert offered(page, entry.id) == {"statement", "decide", "drop"}

    def test_a_message_cannot_be_planted_by_a_link_or_a_forged_cookie(
        self, client: TestClient, session: Session
    ) -> None:
        login(client, session, role="reviewer", department_code=DEPARTMENT)
        client.cookies.set(flash.COOKIE, "eyJtIjoi6K-35rGH5qy-In0.0000000000000000")
        page = client.get("/console/lists?message=请汇款&status=<script>").text
        assert message(page) == "" and "请汇款" not in page and "<script>" not in page


class TestErrorPages:
    def test_a_console_user_gets_back_to_the_page_they_came_from_and_to_the_console(
        self, client: TestClient, session: Session
    ) -> None:
        login(client, session, role="reviewer", department_code=DEPARTMENT)
        page = client.get(
            "/console/checks/0123456789abcdef0123456789abcdef",
            headers={"Referer": "http://testserver/console/lists?status=listed"},
        )
        assert page.status_code == 404
        assert 'href="/console/lists?status=listed" rel="prev">返回上一页' in page.text
        assert '<a href="/console">返回管理后台</a>' in page.text

    def test_a_page_without_a_route_still_knows_the_signed_in_viewer(
        self, client: TestClient, session: Session
    ) -> None:
        login(client, session, role="reviewer", department_code=DEPARTMENT)
        page = client.get("/console/no-such-page")
        assert page.status_code == 404 and '<a href="/console">返回管理后台</a>' in page.text
        assert "返回上一页" not in page.text  # no referer, no back link

    def test_a_subject_account_goes_home_to_its_account(self, client: TestClient, session: Session) -> None:
        subject_id, _ = subject(client, session, "成都账户示例有限公司")
        login(client, session, role="subject", department_code=None, subject_id=subject_id)
        page = client.get("/console/lists")
        assert page.status_code == 403 and '<a href="/account">返回我的信用</a>' in page.text

    @pytest.mark.parametrize(
        "referer",
        [
            "https://evil.example/console/lists",
            "http://testserver.evil.example/console",
            "javascript:alert(1)",
            "http://testserver//evil.example/x",
            "http://testserver/\\evil.example",
        ],
    )
    def test_a_referer_from_elsewhere_is_never_offered(
        self, client: TestClient, session: Session, referer: str
    ) -> None:
        login(client, session, role="reviewer", department_code=DEPARTMENT)
        page = client.get("/console/no-such-page", headers={"Referer": referer})
        assert page.status_code == 404 and "返回上一页" not in page.text and "evil" not in page.text

    def test_a_stranger_is_offered_the_login_with_the_way_back(self, client: TestClient) -> None:
        page = client.get("/console/lists?status=listed")
        assert page.status_code == 401
        assert 'href="/login?next=/console/lists%3Fstatus%3Dlisted"' in page.text
        assert '<a href="/">返回首页</a>' in page.text
