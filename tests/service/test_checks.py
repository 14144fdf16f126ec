"""The real-time check: triggers in force, signatures, batches, feedback and cases; list due process."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import acting, bearer, department, licence, penalty, uscc
from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.kit.errors import Conflict, ValidationFailed
from xinyong.lists import service as lists
from xinyong.subjects import service as subjects

CLERK = Principal(kind="user", name="clerk", role="reviewer", department_code="SCMR")


def load(client: TestClient, session: Session, item: str, rows: list[dict[str, Any]]) -> None:
    body = client.post(
        "/api/v1/records", json={"item": item, "records": rows}, headers=bearer(session)
    ).json()
    assert body["rejected"] == 0, body


def check(
    client: TestClient, session: Session, code: str, scenario: str = "government_procurement", **extra: Any
) -> httpx.Response:
    headers = bearer(session, "SCCZ", ("checks:run",))
    body = {"subject": {"uscc": code}, "scenario": scenario, "purpose": "某项目采购资格审查", **extra}
    response: httpx.Response = client.post("/api/v1/checks", json=body, headers=headers)
    return response


def listed(session: Session, code: str, list_type: str = "serious_dishonesty", **kwargs: Any) -> Any:
    department(session)
    subject = subjects.get_by_uscc(session, code)
    entry = lists.propose(
        session,
        acting(CLERK, TODAY - dt.timedelta(days=60)),
        subject_id=subject.id,
        list_type=list_type,
        legal_basis="《严重失信主体名单管理办法》第七条",
        facts="拒不履行法定义务",
        scope=kwargs.get("scope"),
    )
    if list_type != "red":
        lists.advance(session, acting(CLERK, TODAY - dt.timedelta(days=50)), entry, "notify")
    lists.advance(
        session,
        acting(CLERK, TODAY - dt.timedelta(days=30)),
        entry,
        "decide",
        decision_no="川信认〔2026〕1号",
    )
    session.commit()
    return entry


class TestTriggers:
    def test_listed_subject_is_barred_from_procurement_with_legal_basis(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        load(client, session, "XK", [licence(XK_XDR_SHXYM=code)])
        entry = listed(session, code)
        body = check(client, session, code).json()
        assert body["subject"]["uscc"] == code
        hits = [h for h in body["hits"] if h["trigger"]["type"] == "list_entry"]
        assert hits and all(h["legal_basis"] for h in hits)
        assert {h["trigger"]["id"] for h in hits} == {entry.id}
        assert any(h["action"] == "prohibit" for h in hits)

    def test_removed_or_expired_entries_and_revoked_records_never_trigger(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        row = penalty(CF_XDR_SHXYM=code, severity="严重", CF_JDRQ="2026-05-01")
        load(client, session, "CF", [row])
        assert any(h["trigger"]["type"] == "record" for h in check(client, session, code).json()["hits"])
        load(client, session, "CF", [{**row, "record_status": "撤销"}])
        assert check(client, session, code).json()["hits"] == []
        entry = listed(session, code)
        assert check(client, session, code).json()["hits"]
        lists.advance(session, acting(CLERK, TODAY), entry, "remove", reason="repaired")
        session.commit()
        assert check(client, session, code).json()["hits"] == []

    def test_minor_penalties_and_old_serious_ones_do_not_trigger(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        load(
            client,
            session,
            "CF",
            [
                penalty(CF_XDR_SHXYM=code, severity="轻微"),
                penalty(CF_XDR_SHXYM=code, severity="严重", CF_JDRQ="2021-01-05"),  # window ended 2024
            ],
        )
        assert check(client, session, code, scenario="administrative_approval").json()["hits"] == []

    def test_red_list_brings_incentives(self, client: TestClient, session: Session) -> None:
        code = uscc()
        load(client, session, "XK", [licence(XK_XDR_SHXYM=code)])
        listed(session, code, list_type="red")
        hits = check(client, session, code, scenario="administrative_approval").json()["hits"]
        assert hits and {h["kind"] for h in hits} == {"incentive"}


class TestSignedResults:
    def test_result_is_stored_signed_and_verifiable(self, client: TestClient, session: Session) -> None:
        code = uscc()
        load(client, session, "XK", [licence(XK_XDR_SHXYM=code)])
        created = check(client, session, code).json()
        again = client.get(
            f"/api/v1/checks/{created['check_id']}", headers=bearer(session, "SCCZ", ("checks:run",))
        ).json()
        assert again["signature"] == created["signature"]
        good = client.post(
            "/api/v1/checks/verify", json={"result": again["result"], "signature": again["signature"]}
        )
        assert good.json() == {"valid": True, "key_id": created["key_id"]}
        forged = dict(again["result"], hits=[{"measure": "P-FAKE"}])
        bad = client.post("/api/v1/checks/verify", json={"result": forged, "signature": again["signature"]})
        assert bad.json() == {"valid": False, "key_id": None}

    def test_another_department_cannot_read_the_check(self, client: TestClient, session: Session) -> None:
        code = uscc()
        load(client, session, "XK", [licence(XK_XDR_SHXYM=code)])
        check_id = check(client, session, code).json()["check_id"]
        other = client.get(f"/api/v1/checks/{check_id}", headers=bearer(session, "SCJT", ("checks:run",)))
        assert other.status_code == 403

    def test_every_check_is_audited_and_visible_to_the_subject(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        load(client, session, "XK", [licence(XK_XDR_SHXYM=code)])
        check(client, session, code)
        subject = subjects.get_by_uscc(session, code)
        views = audit.views_of_subject(session, subject.id)
        assert [(v.action, v.department_code, v.purpose) for v in views] == [
            ("check.run", "SCCZ", "某项目采购资格审查")
        ]


class TestBadInput:
    def test_unknown_scenario_is_a_422_listing_the_valid_ones(
        self, client: TestClient, session: Session
    ) -> None:
        response = check(client, session, uscc(), scenario="lottery")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "check.unknown_scenario"
        assert "public_bidding" in response.json()["error"]["details"]["scenarios"]

    def test_ambiguous_name_is_a_409_with_candidates(self, client: TestClient, session: Session) -> None:
        load(
            client,
            session,
            "XK",
            [
                licence(XK_XDR_MC="成都重名建材有限公司", XK_XDR_SHXYM=uscc("510104")),
                licence(XK_XDR_MC="成都重名建材有限公司", XK_XDR_SHXYM=uscc("510104")),
            ],
        )
        headers = bearer(session, "SCCZ", ("checks:run",))
        body = {
            "subject": {"name": "成都重名建材有限公司", "region": "510104"},
            "scenario": "public_bidding",
            "purpose": "评标",
        }
        response = client.post("/api/v1/checks", json=body, headers=headers)
        assert response.status_code == 409
        assert len(response.json()["error"]["details"]["candidates"]) == 2

    def test_bad_uscc_and_missing_subject_are_clear_errors(
        self, client: TestClient, session: Session
    ) -> None:
        assert check(client, session, "91510104MA6C12341Y").json()["error"]["code"] == "uscc.checksum"
        headers = bearer(session, "SCCZ", ("checks:run",))
        response = client.post(
            "/api/v1/checks",
            json={"subject": {}, "scenario": "public_bidding", "purpose": "x"},
            headers=headers,
        )
        assert response.status_code == 422

    def test_unknown_but_valid_code_is_checked_with_no_hits(
        self, client: TestClient, session: Session
    ) -> None:
        body = check(client, session, uscc()).json()
        assert body["subject"] == {"found": False} and body["hits"] == []


class TestBatchAndFeedback:
    def test_batch_reports_each_row_alone(self, client: TestClient, session: Session) -> None:
        codes = [uscc() for _ in range(3)]
        load(client, session, "XK", [licence(XK_XDR_SHXYM=c) for c in codes])
        listed(session, codes[1])
        headers = bearer(session, "SCCZ", ("checks:run",))
        subjects_in = [{"uscc": c} for c in codes] + [{"uscc": "BAD"}]
        body = client.post(
            "/api/v1/checks/batch",
            headers=headers,
            json={"subjects": subjects_in, "scenario": "public_bidding", "purpose": "某工程招标评审"},
        ).json()
        assert body["count"] == 4
        assert [bool(r.get("hits")) for r in body["results"][:3]] == [False, True, False]
        assert body["results"][3]["error"]["code"] == "uscc.length"

    def test_batch_over_a_thousand_is_refused(self, client: TestClient, session: Session) -> None:
        headers = bearer(session, "SCCZ", ("checks:run",))
        response = client.post(
            "/api/v1/checks/batch",
            headers=headers,
            json={"subjects": [{"uscc": "x"}] * 1001, "scenario": "public_bidding", "purpose": "x"},
        )
        assert response.status_code == 422

    def test_applied_feedback_becomes_a_case_in_the_statistics(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        load(client, session, "XK", [licence(XK_XDR_SHXYM=code)])
        listed(session, code)
        created = check(client, session, code).json()
        measure = created["hits"][0]["measure"]
        headers = bearer(session, "SCCZ", ("checks:run",))
        missing_reason = client.post(
            f"/api/v1/checks/{created['check_id']}/feedback",
            headers=headers,
            json={"items": [{"measure": measure, "outcome": "not_applicable"}]},
        )
        assert missing_reason.status_code == 422
        ok = client.post(
            f"/api/v1/checks/{created['check_id']}/feedback",
            headers=headers,
            json={"items": [{"measure": measure, "outcome": "applied"}]},
        )
        assert ok.json()["cases"] == 1
        stats = client.get("/api/v1/measures/stats", params={"group": "department"}).json()["rows"]
        sccz = next(r for r in stats if r["key"] == "SCCZ")
        assert sccz["checks"] >= 1 and sccz["cases"] == 1


class TestDueProcess:
    def test_decide_waits_for_the_statement_deadline_in_working_days(self, session: Session) -> None:
        department(session)
        code = uscc()
        subject_id = subjects.resolve(session, [_claim(code)], _cipher(session))[0].subject_id
        assert subject_id is not None
        entry = lists.propose(
            session,
            acting(CLERK, dt.date(2026, 9, 28)),
            subject_id=subject_id,
            list_type="serious_dishonesty",
            legal_basis="《严重失信主体名单管理办法》第七条",
            facts="事实",
        )
        lists.advance(session, acting(CLERK, dt.date(2026, 9, 28)), entry, "notify")
        # Five working days after 9-28 across National Day: 9-29, 9-30, 10-8, 10-9 and Saturday 10-10 (调休).
        assert entry.statement_deadline == dt.date(2026, 10, 10)
        with pytest.raises(Conflict):
            lists.advance(session, acting(CLERK, dt.date(2026, 10, 9)), entry, "decide", decision_no="x")
        lists.advance(
            session, acting(CLERK, dt.date(2026, 10, 13)), entry, "decide", decision_no="川信认〔2026〕9号"
        )
        assert entry.status == "listed" and entry.public_until == dt.date(2029, 10, 13)
        with pytest.raises(Conflict):
            lists.advance(session, acting(CLERK, dt.date(2026, 10, 14)), entry, "notify")

    def test_no_legal_basis_no_entry(self, session: Session) -> None:
        with pytest.raises(ValidationFailed) as info:
            lists.propose(
                session,
                acting(CLERK, TODAY),
                subject_id=1,
                list_type="serious_dishonesty",
                legal_basis=" ",
                facts="x",
            )
        assert info.value.code == "list.legal_basis_required"


def _claim(code: str) -> Any:
    from xinyong.kit.names import normalize_name
    from xinyong.subjects.rules import SubjectClaim

    return SubjectClaim(
        kind="legal_person",
        name="测试公司",
        name_norm=normalize_name("测试公司"),
        region_code="510104",
        uscc=code,
    )


def _cipher(session: Session) -> Any:
    from xinyong.kit.crypto import PersonalIdCipher

    return PersonalIdCipher.from_secrets("t", None, None)


class TestEscalation:
    def test_three_serious_penalties_in_two_years_propose_once_and_never_list(
        self, client: TestClient, session: Session
    ) -> None:
        from xinyong.lists import jobs

        code = uscc()
        dates = ["2025-03-01", "2025-12-01", "2026-06-01"]
        load(client, session, "CF", [penalty(CF_XDR_SHXYM=code, severity="严重", CF_JDRQ=d) for d in dates])
        other = uscc()
        load(
            client,
            session,
            "CF",
            [penalty(CF_XDR_SHXYM=other, severity="严重", CF_JDRQ=d) for d in dates[1:]],
        )
        department(session, "SCFGW", "四川省发展和改革委员会")
        rules = jobs.load_rules()
        assert jobs.propose_escalations(session, rules, today=TODAY, credit_office="SCFGW") == 1
        assert jobs.propose_escalations(session, rules, today=TODAY, credit_office="SCFGW") == 0
        (entry,) = lists.entries(session, department_code="SCFGW")
        assert entry.status == "proposed" and entry.escalation_rule == "CF-SERIOUS-3-24"
        assert subjects.get(session, entry.subject_id).uscc == code
        assert "2025-03-01" in entry.facts and entry.legal_basis
