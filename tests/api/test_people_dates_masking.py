"""What a reviewer noticed on the pages of cases and commitments: dates read in Chinese (China time), people are
named by their display name and department (a subject's own steps as 本主体), never by login, and the public
never reads an individual business's operator by name (its trade name stays public)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.api.test_pages_speak_chinese import visible
from tests.api.test_repair_pages import applied
from tests.conftest import TODAY
from tests.helpers import PASSWORD, bearer, csrf, department, penalty, uscc
from xinyong.accounts import auth
from xinyong.accounts.models import User
from xinyong.accounts.policy import Principal
from xinyong.commitments import signing
from xinyong.kit.dates import format_china_date
from xinyong.kit.identifiers import mask_person_name
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject

ISO_DATE = re.compile(r"\b(19|20)\d\d-[01]\d-[0-3]\d\b")
REVIEWER_NAME = "王审核"
DEPARTMENT_NAME = "四川省市场监督管理局"


def staff(
    client: TestClient,
    session: Session,
    username: str,
    *,
    role: str = "reviewer",
    department_code: str = "SCMR",
) -> str:
    """A department user with a display name, logged in; returns the form token."""
    department(
        session, department_code, DEPARTMENT_NAME if department_code == "SCMR" else "四川省发展和改革委员会"
    )
    auth.create_user(
        session,
        username=username,
        password=PASSWORD,
        role=role,
        display_name=REVIEWER_NAME,
        department_code=department_code,
        is_department_admin=True,
    )
    session.commit()
    client.cookies.clear()
    token = csrf(client)
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf(client)


def department_name(session: Session) -> str:
    from xinyong.accounts.models import Department

    found = session.get(Department, "SCMR")
    assert found is not None
    return found.name


def history_rows(html: str, heading: str) -> list[list[str]]:
    """The cells of each body row of the table under `heading`."""
    part = html.split(heading, 1)[1].split("</table>", 1)[0]
    rows = [
        re.findall(r"<td>(.*?)</td>", r, re.DOTALL) for r in re.findall(r"<tr>(.*?)</tr>", part, re.DOTALL)
    ]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in cells] for cells in rows if cells]


class TestRepairCase:
    def test_dates_in_chinese_and_the_reviewer_named_not_by_login(
        self, client: TestClient, session: Session
    ) -> None:
        _code, record, application_id = applied(client, session)
        own = client.get(f"/account/repairs/{application_id}")
        assert own.status_code == 200
        assert not ISO_DATE.search(visible(own.text)), ISO_DATE.search(visible(own.text))
        assert any(row[0] == format_china_date(TODAY) for row in history_rows(own.text, "办理记录"))

        token = staff(client, session, "scmr-wang")
        for step in ("accept", "review"):
            done = client.post(
                f"/console/repairs/{application_id}/{step}",
                data={"csrf_token": token},
                follow_redirects=False,
            )
            assert done.status_code == 303, done.text
        page = client.get(f"/console/repairs/{application_id}")
        assert page.status_code == 200
        assert not ISO_DATE.search(visible(page.text)), ISO_DATE.search(visible(page.text))
        actors = {row[3] for row in history_rows(page.text, "经办人")}
        assert f"{REVIEWER_NAME}（{department_name(session)}）" in actors
        assert "scmr-wang" not in str(history_rows(page.text, "经办人"))
        assert history_rows(page.text, "经办人")[0][3] == record.subject_name  # the subject that applied


def ingest(client: TestClient, session: Session, row: dict[str, Any]) -> Record:
    body = client.post(
        "/api/v1/records", json={"item": "CF", "records": [row]}, headers=bearer(session)
    ).json()
    assert body["rejected"] == 0, body
    subject = subjects.get_by_uscc(session, row["CF_XDR_SHXYM"])
    return session.scalars(select(Record).where(Record.subject_id == subject.id)).one()


class TestObjection:
    def test_the_form_and_the_subjects_history_read_dates_in_chinese_and_name_people(
        self, client: TestClient, session: Session
    ) -> None:
        code = uscc()
        record = ingest(client, session, penalty(CF_XDR_SHXYM=code, CF_JDRQ="2026-06-15"))
        subject_user = f"company-{code[-6:]}"
        auth.create_user(
            session, username=subject_user, password=PASSWORD, role="subject", subject_id=record.subject_id
        )
        session.commit()
        token = csrf(client)
        assert client.post(
            "/login", data={"username": subject_user, "password": PASSWORD, "csrf_token": token}
        ).status_code in (200, 303)
        token = csrf(client)
        form = client.get(f"/objections/new?record={record.id}")
        assert form.status_code == 200
        assert "2026年6月15日" in form.text and not ISO_DATE.search(visible(form.text))
        filed = client.post(
            "/objections",
            data={
                "csrf_token": token,
                "record": str(record.id),
                "reasons": "处罚决定书载明的罚款金额与公示的不符，请核对。",
                "filer_name": "某某公司",
                "filer_contact": "",
            },
        )
        assert filed.status_code == 200, filed.text
        found = re.search(r"/account/objections/(\d+)", filed.text)
        assert found
        page = client.get(found[0])
        assert page.status_code == 200 and not ISO_DATE.search(visible(page.text))
        rows = history_rows(page.text, "办理人")
        assert rows and rows[0][0] == format_china_date(TODAY) and rows[0][3] == "本主体"
        assert subject_user not in str(rows)

        staff_token = staff(client, session, "scmr-li")
        console = client.get(f"/console/objections/{found[1]}")
        assert console.status_code == 200 and not ISO_DATE.search(visible(console.text))
        subject_name = session.get(Subject, record.subject_id).name  # type: ignore[union-attr]
        assert history_rows(console.text, "办理人")[0][3] == subject_name  # the department reads who filed
        maintained = client.post(
            f"/console/objections/{found[1]}/maintain",
            data={"csrf_token": staff_token, "reason": "经核对决定书原件，公示信息无误。"},
            follow_redirects=False,
        )
        assert maintained.status_code == 303, maintained.text
        console = client.get(f"/console/objections/{found[1]}")
        assert history_rows(console.text, "办理人")[-1][3] == f"{REVIEWER_NAME}（{department_name(session)}）"
        assert "scmr-li" not in str(history_rows(console.text, "办理人"))


def individual_business(client: TestClient, session: Session, operator: str) -> Subject:
    """An individual business (个体工商户) with a public penalty naming its operator as 法定代表人."""
    record = ingest(
        client,
        session,
        penalty(
            CF_XDR_SHXYM=uscc(kind="92"),
            CF_XDR_MC="成都市锦江区好味道小吃店",
            CF_XDR_LB="个体工商户",
            CF_FRDB=operator,
        ),
    )
    subject = session.get(Subject, record.subject_id)
    assert subject is not None and subject.kind == "individual_business"
    subject.legal_rep = operator  # as its registration (DJ) would give it
    session.commit()
    return subject


class TestOperatorMasked:
    def test_a_commitment_of_an_individual_business_names_its_operator_masked_for_the_public(
        self, platform: Platform, client: TestClient, session: Session
    ) -> None:
        business = individual_business(client, session, "赵小明")
        operator = Principal(kind="user", name="haoweidao", role="subject", subject_id=business.id)
        made = signing.sign(
            session,
            platform.context(operator, TODAY),
            template_code="voluntary_commit",
            subject=business,
            target="依法诚信经营",
            signer_name="赵小明",
            channel="online",
        )
        session.commit()
        page = client.get(f"/commitments/{made.id}")
        assert page.status_code == 200, page.text
        assert "赵小明" not in page.text
        assert mask_person_name("赵小明") in page.text and business.name in page.text  # the trade name stays

    def test_the_public_file_and_search_mask_the_operator_but_not_a_companys_representative(
        self, client: TestClient, session: Session
    ) -> None:
        business = individual_business(client, session, "钱多多")
        company = ingest(client, session, penalty(CF_XDR_SHXYM=uscc(), CF_FRDB="孙大圣"))
        page = client.get(f"/subjects/{business.uscc}")
        assert page.status_code == 200
        assert "钱多多" not in page.text and mask_person_name("钱多多") in page.text
        found = client.get("/search", params={"q": "好味道"})
        assert found.status_code == 200 and "钱多多" not in found.text
        api = client.get(f"/api/v1/subjects/{business.uscc}").json()
        assert api["legal_rep"] == mask_person_name("钱多多") and "钱多多" not in str(api)
        other = session.get(Subject, company.subject_id)
        assert other is not None and other.uscc
        assert (
            "孙大圣" in client.get(f"/subjects/{other.uscc}").text
        )  # a legal person's representative is public


class TestPeopleLabels:
    def test_a_login_is_never_a_label(self, session: Session) -> None:
        from xinyong.accounts import people

        department(session, "SCMR", DEPARTMENT_NAME)
        auth.create_user(
            session,
            username="li-reviewer",
            password=PASSWORD,
            role="reviewer",
            display_name="李四",
            department_code="SCMR",
        )
        session.flush()
        labels = people.labels(session, ["li-reviewer", "anonymous", "system", "nobody", None])
        assert labels == {
            "li-reviewer": f"李四（{DEPARTMENT_NAME}）",
            "anonymous": "社会公众",
            "system": "平台",
        }
        assert session.scalar(select(User.display_name).where(User.username == "li-reviewer")) == "李四"


class TestConsoleNames:
    def test_the_model_editor_names_who_saved_a_draft(self, client: TestClient, session: Session) -> None:
        from importlib import resources

        token = staff(client, session, "office-zhou", role="credit_office", department_code="SCFGW")
        shipped = (resources.files("xinyong.evaluation") / "data" / "models" / "construction.yaml").read_text(
            "utf-8"
        )
        draft = shipped.replace('version: "2026.1"', 'version: "2026.9"')
        saved = client.post(
            "/console/evaluation/models", data={"text": draft, "csrf_token": token}, follow_redirects=False
        )
        assert saved.status_code == 303, saved.text
        page = client.get("/console/evaluation/models")
        rows = [row for row in history_rows(page.text, "保存人") if "2026.9" in row]
        assert rows and f"{REVIEWER_NAME}（四川省发展和改革委员会）" in rows[0]
        assert "office-zhou" not in str(rows)
