"""A subject reads every commitment it signed from its account, the ones the portal does not publish too (the
truthfulness commitment of a voluntary registration): its row and the registration's page link to
/account/commitments/{id}, which shows the text as signed and says it is not published; another subject, and the
public, find nothing there."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.api.test_registration_pages import HONOUR, a_subject, as_subject, declare, declared_id
from xinyong.commitments.models import Commitment
from xinyong.records.service import IngestContext


def test_a_subject_opens_its_unpublished_commitment_and_nobody_else_does(
    client: TestClient, session: Session, ctx: IngestContext
) -> None:
    code = a_subject(session, ctx)
    token = as_subject(client, session, code)
    registration_id = declared_id(declare(client, token, "honour", HONOUR))
    commitment = session.scalars(
        select(Commitment).where(Commitment.template_code == "registration_truth")
    ).one()
    assert not commitment.public

    entry = client.get(f"/account/registrations/{registration_id}")  # the entry links what was signed
    assert f'<a href="/account/commitments/{commitment.id}">自愿注册信息真实性承诺书</a>' in entry.text
    mine = client.get("/account/commitments")
    assert mine.status_code == 200 and f'href="/account/commitments/{commitment.id}"' in mine.text
    # what it was signed for
    assert f'<a href="/account/registrations/{registration_id}">自愿注册信息</a>' in mine.text
    page = client.get(f"/account/commitments/{commitment.id}")
    assert page.status_code == 200
    assert "自愿注册信息真实性承诺书" in page.text and commitment.text.splitlines()[0] in page.text
    assert "不在信用门户网站公示" in page.text and "有效" in page.text
    assert client.get(f"/commitments/{commitment.id}").status_code == 404  # not on the portal
    assert client.get("/account/commitments/999999999").status_code == 404

    other = a_subject(session, ctx)
    as_subject(client, session, other)
    assert client.get(f"/account/commitments/{commitment.id}").status_code == 404
    client.cookies.clear()
    assert client.get(f"/account/commitments/{commitment.id}", follow_redirects=False).status_code in (
        303,
        401,
    )
