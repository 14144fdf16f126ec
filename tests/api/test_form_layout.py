"""Forms of the new pages are laid out as filter rows, each field under its own label: the public commitment search
(its 查询 button no longer squeezed to one character a line by the home page's single-field search style) and the
supervision console's plan, tier, scope and inspector forms (labels no longer run into the next field)."""

from __future__ import annotations

from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.helpers import login
from tests.supervision_fixtures import DEPT, World
from tests.supervision_fixtures import world as world  # the fixture
from xinyong.records.service import IngestContext

SKIPPED = ("hidden", "submit", "button")


class _Forms(HTMLParser):
    """Each form's class and the names of its fields that have no label (neither inside one nor aria-label)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, tuple[str, list[str]]] = {}  # key: action or id
        self._form: str | None = None
        self._labels = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = found.get("id") or found.get("action", "")
            self.forms[self._form] = (found.get("class", ""), [])
        elif tag == "label":
            self._labels += 1
        elif tag in ("input", "select", "textarea") and self._form is not None:
            if found.get("type") in SKIPPED or "aria-label" in found or self._labels:
                return
            self.forms[self._form][1].append(found.get("name", "?"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "label" and self._labels:
            self._labels -= 1


def _forms(html: str) -> dict[str, tuple[str, list[str]]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def test_the_public_commitment_search_is_a_row_of_labelled_filters(client: TestClient) -> None:
    page = client.get("/commitments")
    assert page.status_code == 200
    css, unlabelled = _forms(page.text)["/commitments"]
    assert "filters" in css.split() and "search" not in css.split()
    assert unlabelled == []


def test_the_supervision_console_forms_label_every_field(
    client: TestClient, session: Session, world: World
) -> None:
    login(client, session, role="reviewer", department_code=DEPT)
    page = client.get("/console/supervision")
    assert page.status_code == 200
    forms = _forms(page.text)
    for name in ("plan-form", "scope-form", "inspector-form", "inspector-import"):
        css, unlabelled = forms[name]
        assert "filters" in css.split(), name
        assert unlabelled == [], (name, unlabelled)
    assert forms["tiers-form"][1] == []
    assert '<div class="filters">' in page.text  # the tier form's fields below its table


def test_a_registration_field_keeps_its_required_mark_beside_its_name(
    client: TestClient, session: Session, ctx: IngestContext
) -> None:
    from tests.api.test_registration_pages import a_subject, as_subject

    as_subject(client, session, a_subject(session, ctx))
    form = client.get("/account/registrations/new", params={"kind": "honour"})
    assert form.status_code == 200
    # one inline run of text above the field, not the name on one line and a lone * on the next
    assert '<label><span>荣誉名称 <span class="required" title="必填">*</span></span>' in form.text
    assert "<label><span>授予文号</span>" in form.text  # optional: no mark
    assert _forms(form.text)["registration-form"][1] == []  # every field labelled
