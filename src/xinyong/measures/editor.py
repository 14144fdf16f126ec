"""The measure list editor: a draft of the next version, its measures edited one by one (each save validated as a
whole), a dry run of what publishing it would change, and its publication."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.audit import service as audit
from xinyong.catalog.schemas import Catalog
from xinyong.kit.errors import Conflict, ValidationFailed
from xinyong.measures import loader, repository
from xinyong.measures.check import hits_for
from xinyong.measures.models import Check, MeasureListVersion
from xinyong.measures.schemas import MeasureList


def current_draft(session: Session) -> MeasureListVersion | None:
    """The draft being edited, if any (one at a time)."""
    return session.scalars(select(MeasureListVersion).where(MeasureListVersion.status == "draft")).first()


def start_draft(session: Session, catalog: Catalog, principal: Principal, version: str) -> MeasureListVersion:
    """Open a draft (a copy of the published list under a new version number); one draft at a time."""
    if current_draft(session) is not None:
        raise Conflict("已有一个草稿，请先发布或放弃", code="measures.draft_exists")
    version = version.strip()
    if not version or session.scalar(
        select(MeasureListVersion.id).where(MeasureListVersion.version == version)
    ):
        raise ValidationFailed("版本号不能为空且不能与已有版本重复", code="measures.version")
    document = repository.published(session, catalog).model_dump(mode="json") | {"version": version}
    draft = MeasureListVersion(
        version=version,
        status="draft",
        effective_from=dt.date.fromisoformat(document["effective_from"]),
        document=document,
        created_by=principal.name,
    )
    session.add(draft)
    audit.record(session, principal, "measures.draft", target=version)
    session.flush()
    return draft


def save_measure(
    session: Session,
    catalog: Catalog,
    principal: Principal,
    draft: MeasureListVersion,
    measure: dict[str, Any],
) -> MeasureList:
    """Add or replace one measure in the draft; the whole list is validated (no legal basis, no save)."""
    measures = [m for m in draft.document["measures"] if m["code"] != measure.get("code")]
    document = draft.document | {"measures": [*measures, measure]}
    try:
        validated = loader.validate_document(document, catalog.item_codes)
    except loader.MeasureListError as exc:
        raise ValidationFailed(str(exc), code="measures.invalid") from None
    draft.document = validated.model_dump(mode="json")
    audit.record(session, principal, "measures.edit", target=f"{draft.version}:{measure.get('code')}")
    session.flush()
    return validated


def dry_run(
    session: Session, catalog: Catalog, draft: MeasureListVersion, today: dt.date, days: int = 90
) -> dict[str, Any]:
    """What publishing the draft would change: recent checks whose hits differ, and subjects affected."""
    current = repository.published(session, catalog)
    proposed = loader.validate_document(draft.document, catalog.item_codes)
    since = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(), tzinfo=dt.UTC)
    checks = session.scalars(
        select(Check).where(Check.checked_at >= since, Check.subject_id.is_not(None))
    ).all()
    changed_checks, subjects_changed = 0, set()
    for check in checks:
        assert check.subject_id is not None
        before = {
            (h["measure"], h["trigger"]["id"])
            for h in hits_for(session, current, check.subject_id, check.scenario, today)
        }
        after = {
            (h["measure"], h["trigger"]["id"])
            for h in hits_for(session, proposed, check.subject_id, check.scenario, today)
        }
        if before != after:
            changed_checks += 1
            subjects_changed.add(check.subject_id)
    old = {m.code: m.model_dump(mode="json") for m in current.measures}
    new = {m.code: m.model_dump(mode="json") for m in proposed.measures}
    return {
        "checks_considered": len(checks),
        "checks_changed": changed_checks,
        "subjects_changed": len(subjects_changed),
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
        "modified": sorted(code for code in set(old) & set(new) if old[code] != new[code]),
    }


def publish(session: Session, principal: Principal, draft: MeasureListVersion) -> None:
    """Publish the draft: the version in force is retired (checks read the new one from their next batch)."""
    for row in session.scalars(select(MeasureListVersion).where(MeasureListVersion.status == "published")):
        row.status = "retired"
    draft.status = "published"
    draft.published_at = dt.datetime.now(dt.UTC)
    audit.record(session, principal, "measures.publish", target=draft.version)
    session.flush()
