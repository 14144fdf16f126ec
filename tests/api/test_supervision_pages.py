"""Supervision pages on both stores: the public 一公开 pages and their JSON mask personal names; a subject sees
only its own inspections and tasks; a department only its own tasks and plans; results entered in the console
become `JC` records, bad input returns to the page with its reason."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import login
from tests.supervision_world import CHENGDU, MIANYANG, SupervisedWorld, build
from xinyong.accounts.models import User
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.supervision import jobs
from xinyong.supervision.task_models import SupervisionTask


@pytest.fixture
def world(platform: Platform, session: Session) -> SupervisedWorld:
    built = build(platform, session)
    jobs.create_tasks(
        session,
        data_dir=platform.settings.data_dir,
        calendar=platform.calendar,
        today=TODAY,
        credit_office=platform.settings.credit_office_department,
    )
    session.commit()
    return built


def _task(session: Session, subject_id: int, kind: str = "interview") -> SupervisionTask:
    found = session.scalar(
        select(SupervisionTask).where(SupervisionTask.subject_id == subject_id, SupervisionTask.kind == kind)
    )
    assert found is not None
    return found


class TestPublic:
    def test_the_plan_page_and_its_json_mask_personal_names(
        self, client: TestClient, world: SupervisedWorld
    ) -> None:
        home = client.get("/")
        assert 'href="/supervision"' in home.text
        listing = client.get("/supervision")
        assert listing.status_code == 200 and world.plan.name in listing.text
        page = client.get(f"/supervision/plans/{world.plan.id}")
        assert page.status_code == 200
        assert "成都差评测试有限公司" in page.text and world.poor_uscc in page.text
        assert "张三丰" not in page.text and "张**" in page.text
        assert world.plan.commitment in page.text and "inputs.json" in page.text
        document = client.get(f"/supervision/plans/{world.plan.id}/inputs.json")
        assert document.status_code == 200 and "attachment" in document.headers["content-disposition"]
        assert "张三丰" not in document.text and document.json()["seed"]
        assert client.get("/supervision/plans/999999").status_code == 404
        assert client.get("/supervision/plans/999999/inputs.json").status_code == 404


class TestSubjectView:
    def test_a_subject_sees_its_own_inspection_tier_and_tasks_only(
        self, client: TestClient, session: Session, world: SupervisedWorld
    ) -> None:
        assert client.get("/account/supervision").status_code == 401
        login(client, session, role="subject", department_code=None, subject_id=world.poor)
        page = client.get("/account/supervision")
        assert page.status_code == 200
        assert world.plan.name in page.text and "成都市市场监督管理局" in page.text
        assert "D类" in page.text and "100%" in page.text  # why: its tier and the tier's ratio
        assert page.text.count('data-kind="interview"') == 1 and page.text.count('data-kind="training"') == 1
        notices = client.get("/account/notices")
        assert "约谈通知" in notices.text
        assert client.get(f"/console/supervision/tasks/{_task(session, world.poor).id}").status_code == 403


class TestDepartmentConsole:
    def test_a_department_sees_and_handles_its_own_tasks_only(
        self, client: TestClient, session: Session, world: SupervisedWorld
    ) -> None:
        token = login(client, session, role="reviewer", department_code=MIANYANG)
        listing = client.get("/console/supervision/tasks")
        assert listing.status_code == 200 and "绵阳差评测试有限公司" in listing.text
        assert "成都差评测试有限公司" not in listing.text and "张三丰" not in listing.text
        theirs = _task(session, world.poor)
        assert client.get(f"/console/supervision/tasks/{theirs.id}").status_code == 404
        refused = client.post(
            f"/console/supervision/tasks/{theirs.id}/interview",
            data={"csrf_token": token, "day": TODAY.isoformat(), "notes": "x"},
            follow_redirects=False,
        )
        assert refused.status_code == 404
        session.refresh(theirs)
        assert theirs.state == "open"
        statistics = client.get("/console/supervision/statistics")
        assert "绵阳市市场监督管理局" in statistics.text and "成都市市场监督管理局" not in statistics.text
        assert client.get(f"/console/supervision/results/{world.plan.id}").status_code == 404

    def test_the_interview_is_recorded_and_bad_input_returns_with_its_reason(
        self, client: TestClient, session: Session, world: SupervisedWorld
    ) -> None:
        token = login(client, session, role="reviewer", department_code=CHENGDU)
        task = _task(session, world.poor)
        url = f"/console/supervision/tasks/{task.id}"
        bad = client.post(
            url + "/interview", data={"csrf_token": token, "day": "2026-13-01", "notes": "约谈法定代表人"}
        )
        assert bad.status_code == 422 and "supervision.date_invalid" in bad.text
        assert ">约谈法定代表人</textarea>" in bad.text  # what was typed is shown again
        done = client.post(
            url + "/interview", data={"csrf_token": token, "day": TODAY.isoformat(), "notes": "约谈"}
        )
        assert done.status_code == 200 and "已约谈，整改中" in done.text
        session.refresh(task)
        assert task.state == "interviewed" and task.rectify_by is not None
        clerk = session.scalars(select(User).where(User.username == task.handled_by)).one()
        clerk.display_name = "成都审核员"
        session.commit()
        handler = re.search(r"<dt>经办</dt><dd>([^<]*)</dd>", client.get(url).text)
        assert handler and handler[1].startswith("成都审核员（")  # the handler's name, not its login

    def test_a_result_entered_in_the_console_becomes_a_jc_record(
        self, client: TestClient, session: Session, world: SupervisedWorld
    ) -> None:
        token = login(client, session, role="reviewer", department_code=CHENGDU)
        url = f"/console/supervision/results/{world.plan.id}"
        form = {
            "csrf_token": token,
            "uscc": world.poor_uscc,
            "result": "未发现问题",
            "inspected_on": "2027-01-05",
            "inspection_items": "食品经营许可情况",
            "doc_no": "成市监检〔2026〕21号",
        }
        outside = client.post(url, data=form)
        assert outside.status_code == 422 and "supervision.date_outside_plan" in outside.text
        for typed in ('value="2027-01-05"', ">食品经营许可情况</textarea>", 'value="成市监检〔2026〕21号"'):
            assert typed in outside.text, typed
        assert f'<option value="{world.poor_uscc}" selected>' in outside.text
        assert "<td>D类</td>" in outside.text and "<td>D</td>" not in outside.text  # tiers by name
        assert session.scalar(select(func.count(Record.id)).where(Record.item_code == "JC")) == 0
        entered = client.post(url, data=form | {"inspected_on": "2026-06-01"})
        assert entered.status_code == 200 and "已录入抽查结果" in entered.text
        record = session.scalar(select(Record).where(Record.item_code == "JC"))
        assert record is not None and record.subject_id == world.poor and record.provider_code == CHENGDU
        assert record.decision_date == dt.date(2026, 6, 1)
        public = client.get(f"/supervision/plans/{world.plan.id}")
        assert "成市监检〔2026〕21号" in public.text
        assert "<td>2026年6月1日</td>" in public.text and "2026-06-01" not in public.text  # a day in Chinese
