"""Commitments beyond the repair form: the public listing (信用承诺公示) and the department's follow-up
(履约核查), scoped to the department that follows the commitment up."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api.test_repair_pages import applied
from tests.helpers import csrf, login
from xinyong.commitments.models import Commitment
from xinyong.repair.models import RepairApplication


def commitment_of(session: Session, application_id: int) -> Commitment:
    session.expire_all()
    application = session.get(RepairApplication, application_id)
    assert application is not None and application.commitment_id is not None
    commitment = session.get(Commitment, application.commitment_id)
    assert commitment is not None
    return commitment


def test_a_repair_commitment_is_published_and_found_by_subject_name(
    client: TestClient, session: Session
) -> None:
    _code, _record, application_id = applied(client, session)
    commitment = commitment_of(session, application_id)
    assert commitment.department_code == "SCMR" and commitment.ref == f"repair:{application_id}"
    client.cookies.clear()
    listing = client.get("/commitments", params={"q": commitment.subject_name[2:8]})
    assert listing.status_code == 200
    assert f'href="/commitments/{commitment.id}"' in listing.text and "核查中" in listing.text
    assert (
        f'href="/commitments/{commitment.id}"'
        not in client.get("/commitments", params={"q": "不存在的主体"}).text
    )


def test_the_deciding_department_records_fulfilment_and_the_portal_shows_it(
    client: TestClient, session: Session
) -> None:
    _code, _record, application_id = applied(client, session)
    commitment = commitment_of(session, application_id)
    client.cookies.clear()
    token = login(client, session, role="reviewer", department_code="SCMR")
    page = client.get("/console/commitments")
    assert page.status_code == 200 and f"/console/commitments/{commitment.id}" in page.text
    refused = client.post(
        f"/console/commitments/{commitment.id}/verification",
        data={"csrf_token": token, "outcome": "breached", "facts": ""},
        follow_redirects=False,
    )
    assert refused.status_code == 422 and "事实" in refused.text
    done = client.post(
        f"/console/commitments/{commitment.id}/verification",
        data={"csrf_token": token, "outcome": "breached", "facts": "复查发现再次违规经营"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert commitment_of(session, application_id).status == "breached"
    again = client.post(
        f"/console/commitments/{commitment.id}/verification",
        data={"csrf_token": csrf(client), "outcome": "fulfilled", "facts": "重复"},
        follow_redirects=False,
    )
    assert again.status_code == 409
    client.cookies.clear()
    public = client.get(f"/commitments/{commitment.id}").text
    assert "违诺" in public and "复查发现再次违规经营" in public


def test_another_department_cannot_see_or_assess_the_commitment(client: TestClient, session: Session) -> None:
    _code, _record, application_id = applied(client, session)
    commitment = commitment_of(session, application_id)
    client.cookies.clear()
    token = login(client, session, role="reviewer", department_code="SCSW")
    assert not re.search(rf"/console/commitments/{commitment.id}/", client.get("/console/commitments").text)
    response = client.post(
        f"/console/commitments/{commitment.id}/verification",
        data={"csrf_token": token, "outcome": "fulfilled", "facts": "越权"},
        follow_redirects=False,
    )
    assert response.status_code == 404
    assert commitment_of(session, application_id).status == "verifying"
