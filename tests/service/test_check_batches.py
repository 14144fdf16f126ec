"""Many checks at once: `measures.check.run_checks` (set-based, each order alone) and concurrent API checks
coalesced into shared transactions (`Platform.checks`), with every check signed, stored and audited."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Awaitable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import bearer, department, licence, penalty, resident_id, uscc
from tests.service.test_checks import listed, load
from xinyong.accounts import auth
from xinyong.accounts.models import ApiToken
from xinyong.accounts.policy import Principal
from xinyong.app import create_app
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.kit.crypto import verify_signature
from xinyong.kit.errors import Conflict, Forbidden, ValidationFailed
from xinyong.measures import check as checking
from xinyong.measures import editor
from xinyong.measures.models import Check
from xinyong.platform import Platform
from xinyong.web.deps import get_today

CHECKER = Principal(kind="token", name="token:1", role="department", department_code="SCCZ")


def order(ref: checking.SubjectRef, **kwargs: object) -> checking.CheckOrder:
    fields: dict[str, object] = {
        "principal": CHECKER,
        "ref": ref,
        "scenario": "government_procurement",
        "purpose": "政府采购供应商资格审查",
        "today": TODAY,
    }
    return checking.CheckOrder(**(fields | kwargs))  # type: ignore[arg-type]


def check_body(code: str, purpose: str = "某工程招标评审") -> dict[str, object]:
    return {"subject": {"uscc": code}, "scenario": "public_bidding", "purpose": purpose}


def licensed_subject(client: TestClient, session: Session) -> str:
    """A subject with one licence (nothing that triggers a shipped measure), and the checking department."""
    code = uscc()
    load(client, session, "XK", [licence(XK_XDR_SHXYM=code)])
    department(session, "SCCZ", "四川省财政厅")
    return code


def run(platform: Platform, session: Session, orders: list[checking.CheckOrder]) -> list[object]:
    return list(
        checking.run_checks(
            session,
            catalog=platform.catalog,
            signer=platform.signer,
            id_hash=platform.cipher.hash,
            orders=orders,
            lists=platform.measure_lists,
        )
    )


class TestRunChecks:
    def test_each_order_succeeds_or_fails_alone_in_its_place(
        self, client: TestClient, platform: Platform, session: Session
    ) -> None:
        clean, flagged, penalised = uscc(), uscc(), uscc()
        load(client, session, "XK", [licence(XK_XDR_SHXYM=c) for c in (clean, flagged)])
        twins = [licence(XK_XDR_MC="成都重名建材有限公司", XK_XDR_SHXYM=uscc("510104")) for _ in range(2)]
        load(client, session, "XK", twins)
        load(client, session, "CF", [penalty(CF_XDR_SHXYM=penalised, severity="严重", CF_JDRQ="2026-05-01")])
        entry = listed(session, flagged)
        department(session, "SCCZ", "四川省财政厅")
        checks_before = session.scalars(select(func.count(Check.id))).one()
        audit_before = session.scalars(select(func.count(AuditEntry.id))).one()
        orders = [
            order(checking.SubjectRef(uscc=clean)),
            order(checking.SubjectRef(uscc="91510104MA6CXXXXX")),  # bad check digit
            order(checking.SubjectRef(uscc=flagged)),
            order(checking.SubjectRef(uscc=clean), scenario="no_such_scenario"),
            order(checking.SubjectRef(name="成都重名建材有限公司", region="510104")),  # two of that name
            order(checking.SubjectRef(uscc=penalised)),
            order(checking.SubjectRef(uscc=uscc())),  # valid, unknown to the platform
            order(checking.SubjectRef(resident_id=resident_id())),
            order(
                checking.SubjectRef(uscc=flagged), principal=Principal(kind="user", name="u", role="public")
            ),
            order(checking.SubjectRef(uscc=flagged), purpose="  "),
        ]
        outcomes = run(platform, session, orders)
        assert len(outcomes) == len(orders)
        errors = {n: o for n, o in enumerate(outcomes) if not isinstance(o, checking.StoredCheck)}
        assert sorted(errors) == [1, 3, 4, 8, 9]
        assert isinstance(errors[1], ValidationFailed) and errors[1].code.startswith("uscc.")
        assert isinstance(errors[3], ValidationFailed) and errors[3].code == "check.unknown_scenario"
        assert isinstance(errors[4], Conflict) and errors[4].code == "check.ambiguous_subject"
        assert isinstance(errors[8], Forbidden) and errors[8].code == "check.department_required"
        assert isinstance(errors[9], ValidationFailed) and errors[9].code == "check.purpose_required"
        checks = {n: o for n, o in enumerate(outcomes) if isinstance(o, checking.StoredCheck)}
        assert checks[0].result["subject"]["uscc"] == clean and checks[0].result["hits"] == []
        assert {
            h["trigger"]["id"] for h in checks[2].result["hits"] if h["trigger"]["type"] == "list_entry"
        } == {entry.id}
        assert [h["trigger"]["type"] for h in checks[5].result["hits"]] and all(
            h["trigger"]["type"] == "record" for h in checks[5].result["hits"]
        )
        assert checks[6].result["subject"] == {"found": False}
        assert checks[7].result["asked"]["resident_id"].count("*") >= 8  # masked, never in clear
        # Exactly the successful ones are stored, each signed, and each audited once; the chain still verifies.
        assert session.scalar(select(func.count(Check.id))) == checks_before + len(checks)
        assert session.scalar(select(func.count(AuditEntry.id))) == audit_before + len(checks)
        for check in checks.values():
            stored = session.get(Check, check.id)
            assert stored is not None and verify_signature(
                platform.signer.public_key_b64, stored.result, stored.signature
            )
        # One append for the batch: one chain, consecutive positions, ids in the orders' order.
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target.in_([c.id for c in checks.values()]))
            .order_by(AuditEntry.id)
        ).all()
        assert [e.target for e in entries] == [checks[n].id for n in sorted(checks)]
        assert len({e.chain for e in entries}) == 1 and len({e.at for e in entries}) == 1
        assert [e.seq for e in entries] == list(
            range(entries[0].seq or 0, (entries[0].seq or 0) + len(entries))
        )
        assert audit.verify(session) is None

    def test_one_check_is_the_same_path(
        self, client: TestClient, platform: Platform, session: Session
    ) -> None:
        code = uscc()
        load(client, session, "XK", [licence(XK_XDR_SHXYM=code)])
        listed(session, code)
        department(session, "SCCZ", "四川省财政厅")
        kwargs = {"catalog": platform.catalog, "signer": platform.signer, "id_hash": platform.cipher.hash}
        single = checking.run_check(session, order=order(checking.SubjectRef(uscc=code)), **kwargs)  # type: ignore[arg-type]
        (many,) = run(platform, session, [order(checking.SubjectRef(uscc=code))])
        assert isinstance(many, checking.StoredCheck)
        assert single.result["hits"] == many.result["hits"] and single.result["hits"]
        with pytest.raises(ValidationFailed):
            checking.run_check(session, order=order(checking.SubjectRef(uscc="BAD")), **kwargs)  # type: ignore[arg-type]

    def test_a_batch_straddling_midnight_judges_each_check_on_its_own_day(
        self, client: TestClient, platform: Platform, session: Session
    ) -> None:
        code = uscc()
        # A general penalty decided a year ago: its publicity (and so its trigger) ends about today.
        decided = TODAY - dt.timedelta(days=365)
        load(
            client, session, "CF", [penalty(CF_XDR_SHXYM=code, severity="严重", CF_JDRQ=decided.isoformat())]
        )
        department(session, "SCCZ", "四川省财政厅")
        far = TODAY + dt.timedelta(days=365 * 3 + 5)  # past any serious penalty's window
        near, late = run(
            platform,
            session,
            [order(checking.SubjectRef(uscc=code)), order(checking.SubjectRef(uscc=code), today=far)],
        )
        assert isinstance(near, checking.StoredCheck) and isinstance(late, checking.StoredCheck)
        assert near.result["hits"] and late.result["hits"] == []

    @pytest.mark.parametrize("size", [1, 3, 5, 17, 70])
    def test_a_batch_of_any_size_answers_each_order_about_its_own_subject(
        self, client: TestClient, platform: Platform, session: Session, size: int
    ) -> None:
        # Sizes either side of the read's USCC slots (1, 4, 16, 64; more goes by array): unused slots repeat a
        # USCC, and an order asked twice or about an unknown subject stays in its place.
        known = [uscc() for _ in range(max(1, size - 2))]
        load(client, session, "XK", [licence(XK_XDR_SHXYM=c) for c in known])
        flagged = known[len(known) // 2]
        entry = listed(session, flagged)
        department(session, "SCCZ", "四川省财政厅")
        stranger = uscc()
        asked = [*known, known[0], stranger][:size]
        outcomes = run(platform, session, [order(checking.SubjectRef(uscc=c)) for c in asked])
        assert all(isinstance(o, checking.StoredCheck) for o in outcomes)
        checks = [o for o in outcomes if isinstance(o, checking.StoredCheck)]
        assert [c.result["asked"]["uscc"] for c in checks] == asked
        for code, check in zip(asked, checks, strict=True):
            subject = check.result["subject"]
            assert subject == {"found": False} if code == stranger else subject["uscc"] == code
            triggers = {
                h["trigger"]["id"] for h in check.result["hits"] if h["trigger"]["type"] == "list_entry"
            }
            assert triggers == ({entry.id} if code == flagged else set())
        assert (
            session.scalar(select(func.count(Check.id)).where(Check.id.in_([c.id for c in checks]))) == size
        )
        assert audit.verify(session) is None

    def test_a_batch_appends_to_the_audit_chain_its_transaction_holds(
        self, client: TestClient, platform: Platform, session: Session
    ) -> None:
        code = licensed_subject(client, session)
        session.commit()  # a fresh transaction: no chain held yet
        (first,) = run(platform, session, [order(checking.SubjectRef(uscc=code))])
        audit.record(session, CHECKER, "test.after", target="after")
        (second,) = run(platform, session, [order(checking.SubjectRef(uscc=code))])
        assert isinstance(first, checking.StoredCheck) and isinstance(second, checking.StoredCheck)
        targets = [first.id, "after", second.id]
        entries = session.scalars(select(AuditEntry).where(AuditEntry.target.in_(targets))).all()
        by_target = {e.target: e for e in entries}
        assert len({e.chain for e in entries}) == 1
        start = by_target[first.id].seq
        assert start is not None
        assert [by_target[t].seq for t in targets] == [start + n for n in range(3)]
        assert audit.verify(session) is None

    def test_a_list_published_since_the_last_check_applies_to_the_next(
        self, client: TestClient, platform: Platform, session: Session
    ) -> None:
        code = licensed_subject(client, session)
        (before,) = run(platform, session, [order(checking.SubjectRef(uscc=code))])
        assert isinstance(before, checking.StoredCheck) and before.result["hits"] == []
        # A new version whose measure is triggered by a licence, an item no measure named before.
        office = Principal(kind="user", name="office", role="credit_office")
        draft = editor.start_draft(session, platform.catalog, office, "2099.1")
        measure = dict(draft.document["measures"][0])
        measure |= {
            "code": "I-XK-TEST",
            "kind": "incentive",
            "triggers": [{"item": "XK"}],
            "action": "priority",
        }
        measure |= {"scenarios": ["government_procurement"], "valid_from": "2026-01-01"}
        editor.save_measure(session, platform.catalog, office, draft, measure)
        editor.publish(session, office, draft)
        (after,) = run(platform, session, [order(checking.SubjectRef(uscc=code))])
        assert isinstance(after, checking.StoredCheck) and after.result["measure_list_version"] == "2099.1"
        assert [(h["measure"], h["trigger"]["type"], h["trigger"]["item"]) for h in after.result["hits"]] == [
            ("I-XK-TEST", "record", "XK")
        ]


def test_concurrent_api_checks_share_transactions_and_each_is_stored_and_audited(
    file_platform: Platform,
) -> None:
    app = create_app(platform=file_platform)
    app.dependency_overrides[get_today] = lambda: TODAY
    with TestClient(app) as client, file_platform.sessions() as session:
        codes = [uscc() for _ in range(3)]
        load(client, session, "XK", [licence(XK_XDR_SHXYM=c) for c in codes])
        listed(session, codes[0])
        headers = bearer(session, "SCCZ", ("checks:run",))
        session.commit()
    asked = [codes[n % 3] for n in range(24)] + ["BAD"]

    async def fire() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            # One request first: it looks the token up; the others find it in the cache (concurrent first
            # look-ups: `test_a_new_tokens_first_requests_may_arrive_together`).
            warm = await http.post("/api/v1/checks", headers=headers, json=check_body(codes[0]))
            assert warm.status_code == 200
            return list(
                await asyncio.gather(
                    *(http.post("/api/v1/checks", headers=headers, json=check_body(c)) for c in asked)
                )
            )

    responses = asyncio.run(fire())
    assert [r.status_code for r in responses] == [200] * 24 + [422]
    assert responses[-1].json()["error"]["code"].startswith("uscc.")
    bodies = [r.json() for r in responses[:24]]
    assert [b["subject"]["uscc"] for b in bodies] == asked[:24]
    assert [bool(b["hits"]) for b in bodies] == [n % 3 == 0 for n in range(24)]
    assert len({b["check_id"] for b in bodies}) == 24
    coalescer = file_platform.checks
    assert coalescer.items == 1 + 25 and coalescer.batches < 1 + 25  # shared transactions
    with file_platform.sessions() as session:
        stored = session.scalars(select(Check).where(Check.id.in_([b["check_id"] for b in bodies]))).all()
        assert len(stored) == 24 and session.scalar(select(func.count(Check.id))) == 1 + 24
        assert all(
            verify_signature(file_platform.signer.public_key_b64, c.result, c.signature) for c in stored
        )
        runs = session.scalars(select(AuditEntry.target).where(AuditEntry.action == "check.run")).all()
        assert len(runs) == 1 + 24 and set(runs) >= {b["check_id"] for b in bodies}
        assert audit.verify(session) is None


def test_a_new_tokens_first_requests_may_arrive_together(file_platform: Platform) -> None:
    """A department system that starts with a burst: every request looks the new token up at once (none is
    in the cache yet) and notes its use; on SQLite none may fail for the one writer (it did: 500s)."""
    app = create_app(platform=file_platform)
    app.dependency_overrides[get_today] = lambda: TODAY
    with TestClient(app) as client, file_platform.sessions() as session:
        code = uscc()
        load(client, session, "XK", [licence(XK_XDR_SHXYM=code)])
        token, secret = auth.create_token(session, department_code=department(session), scopes=["checks:run"])
        session.commit()
        token_id = token.id

    async def fire() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            headers = {"Authorization": f"Bearer {secret}"}
            return list(
                await asyncio.gather(
                    *(http.post("/api/v1/checks", headers=headers, json=check_body(code)) for _ in range(16))
                )
            )

    before = dt.datetime.now(dt.UTC)
    responses = asyncio.run(fire())
    assert [r.status_code for r in responses] == [200] * 16
    with file_platform.sessions() as session:
        assert session.scalar(select(func.count(Check.id))) == 16
        used = session.get(ApiToken, token_id)
        assert used is not None and used.last_used_at is not None and used.last_used_at >= before


def test_a_tokens_use_is_noted_at_most_every_few_minutes(session: Session) -> None:
    token, _ = auth.create_token(session, department_code=department(session), scopes=["checks:run"])
    start = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
    assert auth.token_use_is_stale(session, token.id, start)  # never used
    auth.note_token_use(session, token.id, start)
    session.refresh(token)
    assert token.last_used_at == start
    assert not auth.token_use_is_stale(session, token.id, start + auth.LAST_USED_GRANULARITY / 2)
    assert auth.token_use_is_stale(session, token.id, start + auth.LAST_USED_GRANULARITY * 2)
    auth.note_token_use(session, token.id, start + auth.LAST_USED_GRANULARITY / 2)  # fresh: left alone
    session.refresh(token)
    assert token.last_used_at == start
    later = start + auth.LAST_USED_GRANULARITY * 2
    auth.note_token_use(session, token.id, later)
    session.refresh(token)
    assert token.last_used_at == later


def test_checks_answered_one_at_a_time_wait_for_nobody(client: TestClient, session: Session) -> None:
    code = uscc()
    department(session)
    load(client, session, "XK", [licence(XK_XDR_SHXYM=code)])
    headers = bearer(session, "SCCZ", ("checks:run",))
    for _ in range(3):
        assert client.post("/api/v1/checks", headers=headers, json=check_body(code)).status_code == 200
    coalescer = client.app.state.platform.checks  # type: ignore[attr-defined]
    assert (coalescer.batches, coalescer.items) == (3, 3)


def test_the_token_behind_a_check_is_its_principal(file_platform: Platform) -> None:
    """A coalesced check is stored under its own request's department, never a batch neighbour's."""
    app = create_app(platform=file_platform)
    app.dependency_overrides[get_today] = lambda: TODAY
    with TestClient(app) as client, file_platform.sessions() as session:
        code = uscc()
        load(client, session, "XK", [licence(XK_XDR_SHXYM=code)])
        department(session, "SCCZ", "四川省财政厅")
        department(session, "SCJT", "四川省交通运输厅")
        tokens = {
            d: auth.create_token(session, department_code=d, scopes=["checks:run"])[1]
            for d in ("SCCZ", "SCJT")
        }
        session.commit()

    async def fire() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

            def post(d: str) -> Awaitable[httpx.Response]:
                headers = {"Authorization": f"Bearer {tokens[d]}"}
                return http.post("/api/v1/checks", headers=headers, json=check_body(code, f"{d}审查"))

            for d in tokens:  # each token looked up once, alone (see above)
                assert (await post(d)).status_code == 200
            return list(await asyncio.gather(*(post(d) for d in ("SCCZ", "SCJT") * 6)))

    responses = asyncio.run(fire())
    assert [r.json()["result"]["department"] for r in responses] == ["SCCZ", "SCJT"] * 6
    assert [r.json()["result"]["purpose"] for r in responses] == ["SCCZ审查", "SCJT审查"] * 6
    assert file_platform.checks.batches < 2 + 12
    with file_platform.sessions() as session:
        rows = session.execute(select(Check.department_code, Check.purpose)).all()
        assert sorted(rows) == sorted([("SCCZ", "SCCZ审查"), ("SCJT", "SCJT审查")] * 7)


def test_a_stored_check_carries_every_column_of_its_row() -> None:
    """`run_checks` answers with `StoredCheck` values, not mapped rows: the two must not drift apart."""
    fields = [f.name for f in dataclasses.fields(checking.StoredCheck)]
    assert fields == [c.name for c in Check.__table__.columns]
