"""The demo's voluntary registration: the demo enterprise's entries in every state and a few other companies',
one of them found false with its commitment breached; seeding twice adds nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import department, ingest_rows, licence, uscc
from xinyong.accounts import auth
from xinyong.commitments.models import Commitment
from xinyong.demo.registrations import seed_registrations
from xinyong.platform import Platform
from xinyong.records.service import IngestContext
from xinyong.registration import service
from xinyong.registration.models import Registration
from xinyong.subjects import service as subjects


def test_the_demo_has_pending_confirmed_rejected_and_false_entries(
    platform: Platform, session: Session, ctx: IngestContext
) -> None:
    for code, name in (
        ("SCMR", "四川省市场监督管理局"),
        ("SCTAX", "国家税务总局四川省税务局"),
        ("SCFGW", "四川省发展和改革委员会"),
    ):
        department(session, code, name)
    codes = [uscc() for _ in range(4)]
    ingest_rows(
        session, ctx, [licence(XK_XDR_SHXYM=c, XK_XDR_MC=f"演示注册{c[-6:]}有限公司") for c in codes], "XK"
    )
    showcase = subjects.get_by_uscc(session, codes[0])
    auth.create_user(
        session, username="enterprise", password="x", role="subject", subject_id=showcase.id, is_demo=True
    )
    made = seed_registrations(session, platform, TODAY)
    assert made["entries"] == 5 + 3
    mine = {r.kind: r for r in service.of_subject(session, showcase.id)}
    assert {k: r.status for k, r in mine.items()} == {
        "honour": "confirmed",
        "qualification": "declared",
        "social_responsibility": "rejected",
        "contacts": "confirmed",
        "financial_summary": "declared",
    }
    honour = mine["honour"]
    assert honour.decided_department == "四川省市场监督管理局"
    assert honour.decided_on is not None and honour.decided_on < TODAY
    public = {e["kind"] for e in service.for_file(session, showcase.id, "public")}
    assert public == {"honour", "qualification", "contacts"}
    false = session.scalars(select(Registration).where(Registration.status == "false")).one()
    breached = session.get(Commitment, false.commitment_id)
    assert breached is not None and breached.status == "breached"
    assert seed_registrations(session, platform, TODAY) == {"entries": 0}
