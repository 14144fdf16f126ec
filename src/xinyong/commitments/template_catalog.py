"""Commitment templates and approval catalogues as data (`data/templates.yaml`, validated on load): the
templates by code and the matters each applies to.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from xinyong.commitments.schemas import ApprovalCatalogue, CommitmentTemplate, TemplateFile
from xinyong.kit.errors import NotFound, ValidationFailed

# Kinds a subject may sign online from its account (repair commitments are signed in the repair form).
ONLINE_KINDS = ("approval", "voluntary", "industry")


@cache
def _file() -> TemplateFile:
    text = resources.files("xinyong.commitments").joinpath("data/templates.yaml").read_text(encoding="utf-8")
    return TemplateFile.model_validate(yaml.safe_load(text))


def templates() -> dict[str, CommitmentTemplate]:
    return {t.code: t for t in _file().templates}


def catalogues() -> dict[str, ApprovalCatalogue]:
    return {c.code: c for c in _file().catalogues}


def template(code: str) -> CommitmentTemplate:
    found = templates().get(code)
    if found is None:
        raise NotFound(f"承诺书范本“{code}”不存在", code="commitment.unknown_template")
    return found


def matters_of(chosen: CommitmentTemplate, department: str | None = None) -> list[tuple[str | None, str]]:
    """The matters a template applies to, as (department, name): an approval template's are those of its
    catalogue (of one department when given); another kind's are the names it lists (none: any matter)."""
    if chosen.catalogue is not None:
        return [(d, m.name) for d, m in catalogues()[chosen.catalogue].matters_of(department)]
    return [(None, name) for name in chosen.matters]


def resolve_matter(chosen: CommitmentTemplate, matter: str, department: str | None) -> tuple[str, str | None]:
    """The matter's name and its department, checked against the template: for approval, a matter (by code or
    name) of the catalogue, of ``department`` when it is given."""
    text = " ".join(matter.split())
    if not 2 <= len(text) <= 200:
        raise ValidationFailed("请填写承诺事项（2至200个字）", code="commitment.matter_required")
    if chosen.catalogue is not None:
        catalogue = catalogues()[chosen.catalogue]
        for owner, item in catalogue.matters_of(department):
            if text in (item.code, item.name):
                return item.name, owner
        raise ValidationFailed(
            f"事项“{text}”不在{'该部门' if department else ''}《{catalogue.name}》中，不适用{chosen.title}",
            code="commitment.matter_not_in_catalogue",
        )
    if chosen.matters and text not in chosen.matters:
        raise ValidationFailed(
            f"事项“{text}”不在{chosen.title}适用的事项中", code="commitment.matter_not_in_template"
        )
    return text, department
