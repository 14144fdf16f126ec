"""What a reviewer noticed on the pages, as each role sees them: the evaluation pages speak Chinese (each model's
Chinese note, never the developers' English source note), history dates are China-time dates, and the demo's
training organiser is named once."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.helpers import ingest_rows, login, penalty
from xinyong.evaluation import service as evaluation
from xinyong.platform import Platform
from xinyong.records.models import Record
from xinyong.records.service import IngestContext

TODAY = dt.date(2026, 11, 28)
# Four English words in a row: a sentence, not a code or a unit.
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,;:()'-]+[A-Za-z]{2,}){3,}")


def visible(html: str) -> str:
    """The text a reader sees: no scripts, styles, tags or attributes."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", " ", html)


def graded(platform: Platform, session: Session, ctx: IngestContext) -> Record:
    receipt = ingest_rows(session, ctx, [penalty()])
    assert receipt.accepted == 1
    models = evaluation.load_models(session, platform.catalog.item_codes, platform.settings.data_dir)
    evaluation.run(session, models["public_comprehensive"], as_of=TODAY)
    session.commit()
    return session.scalars(select(Record).order_by(Record.id.desc())).first()  # type: ignore[return-value]


class TestEvaluationSpeaksChinese:
    def test_every_shipped_model_has_a_chinese_note_for_readers(self, platform: Platform) -> None:
        models = evaluation.load_models(None, platform.catalog.item_codes, None)
        for code, model in models.items():
            assert model.note, code
            assert not ENGLISH.search(model.note), (code, model.note)
            assert re.search(r"[\u4e00-\u9fff]", model.note), code
            for indicator in model.indicators:  # sources are shown beside each item
                assert not re.search(r"[a-z_]{6,}", indicator.source), (code, indicator.source)

    def test_the_subject_reads_its_grade_and_explanation_in_chinese(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        record = graded(platform, session, ctx)
        login(client, session, role="subject", department_code=None, subject_id=record.subject_id)
        page = client.get("/account/evaluation")
        assert page.status_code == 200
        model = evaluation.load_models(session, platform.catalog.item_codes, None)["public_comprehensive"]
        assert model.note and model.note in page.text
        assert "NOT reproduced" not in page.text and model.source_note not in page.text
        assert not ENGLISH.search(visible(page.text)), ENGLISH.search(visible(page.text))
        from xinyong.subjects.models import Subject

        uscc = session.get(Subject, record.subject_id).uscc  # type: ignore[union-attr]
        explanation = client.get(f"/subjects/{uscc}/evaluation")
        assert explanation.status_code == 200
        assert model.note in explanation.text
        assert not ENGLISH.search(visible(explanation.text)), ENGLISH.search(visible(explanation.text))

    def test_the_console_evaluation_pages_speak_chinese(
        self, client: TestClient, session: Session, platform: Platform, ctx: IngestContext
    ) -> None:
        graded(platform, session, ctx)
        login(client, session, role="credit_office", department_code="SCFGW")
        for path in (
            "/console/evaluation",
            "/console/evaluation?model=construction",
            "/console/evaluation/models",
        ):
            page = client.get(path)
            assert page.status_code == 200, path
            assert not ENGLISH.search(visible(page.text)), (path, ENGLISH.search(visible(page.text)))
