"""Subject use cases: resolve rows to subjects (batched), register basics, search and read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from xinyong.db.bulk import bulk_insert
from xinyong.kit.crypto import PersonalIdCipher
from xinyong.kit.errors import NotFound
from xinyong.kit.identifiers import mask_resident_id, normalize_code
from xinyong.kit.names import core_name, normalize_name
from xinyong.subjects import repository
from xinyong.subjects.models import Subject, SubjectKind
from xinyong.subjects.rules import SubjectClaim

SUBJECTS_TABLE = cast(Table, Subject.__table__)

__all__ = [
    "Resolution",
    "Subject",
    "SubjectKind",
    "get_by_uscc",
    "resolve",
    "update_registration",
]


@dataclass(slots=True)
class Resolution:
    """Either the subject a claim belongs to, or why it could not be attached safely."""

    subject_id: int | None = None
    reason_code: str | None = None
    reason: str | None = None
    candidates: list[int] = field(default_factory=list)


def _new_subject_row(claim: SubjectClaim, cipher: PersonalIdCipher) -> dict[str, object]:
    now = dt.datetime.now(dt.UTC)
    row: dict[str, object] = {
        "kind": claim.kind,
        "uscc": claim.uscc,
        "business_reg_no": claim.business_reg_no,
        "org_code": claim.uscc[8:17] if claim.uscc else claim.org_code,
        "name": claim.name,
        "name_norm": claim.name_norm,
        "core_name": core_name(claim.name_norm),
        "region_code": claim.region_code,
        "legal_rep": claim.legal_rep if claim.kind != SubjectKind.NATURAL_PERSON else None,
        "registered_on": None,
        "operating_status": None,
        "id_hash": None,
        "id_cipher": None,
        "id_masked": None,
        "created_at": now,
        "updated_at": now,
    }
    if claim.resident_id:
        row |= {
            "id_hash": cipher.hash(claim.resident_id),
            "id_cipher": cipher.encrypt(claim.resident_id),
            "id_masked": mask_resident_id(claim.resident_id),
        }
    return row


def resolve(session: Session, claims: Sequence[SubjectClaim], cipher: PersonalIdCipher) -> list[Resolution]:
    """Attach each claim to its subject: USCC, then resident ID, then legacy codes, then exact name + region.

    A valid USCC or resident ID identifies its subject even if new (the subject is created). Legacy codes and
    names only attach to an existing subject when exactly one matches; anything else is left unresolved with
    its reason. Batched: a handful of queries per call, whatever the number of claims.
    """
    results = [Resolution() for _ in claims]

    by_uscc = {c.uscc for c in claims if c.uscc}
    known = repository.ids_by_uscc(session, by_uscc)
    missing = [c for c in claims if c.uscc and c.uscc not in known]
    if missing:
        # A subject first known by its organisation code gets its USCC (the code is embedded in it).
        legacy = repository.ids_by_org_code_without_uscc(session, {c.uscc[8:17] for c in missing if c.uscc})
        for claim in missing:
            assert claim.uscc is not None
            sid = legacy.get(claim.uscc[8:17])
            if sid is not None and claim.uscc not in known:
                session.execute(update(Subject).where(Subject.id == sid).values(uscc=claim.uscc))
                known[claim.uscc] = sid
        new_rows = {c.uscc: _new_subject_row(c, cipher) for c in missing if c.uscc and c.uscc not in known}
        if new_rows:
            bulk_insert(session, SUBJECTS_TABLE, list(new_rows.values()))
            known |= repository.ids_by_uscc(session, {u for u in new_rows if u})

    hashes = {c.resident_id: cipher.hash(c.resident_id) for c in claims if c.resident_id and not c.uscc}
    persons = repository.ids_by_id_hash(session, set(hashes.values()))
    new_people = {
        hashes[c.resident_id]: _new_subject_row(c, cipher)
        for c in claims
        if c.resident_id and not c.uscc and hashes[c.resident_id] not in persons
    }
    if new_people:
        bulk_insert(session, SUBJECTS_TABLE, list(new_people.values()))
        persons |= repository.ids_by_id_hash(session, set(new_people))

    reg_nos = repository.ids_by_column(
        session, Subject.business_reg_no, {c.business_reg_no for c in claims if c.business_reg_no}
    )
    org_codes = repository.ids_by_column(
        session, Subject.org_code, {c.org_code for c in claims if c.org_code}
    )
    # Names are only looked up for claims that carry no identifier at all.
    name_only = {
        c.name_norm for c in claims if not (c.uscc or c.resident_id or c.business_reg_no or c.org_code)
    }
    by_name = repository.ids_by_name_norm(session, name_only) if name_only else {}

    for claim, result in zip(claims, results, strict=True):
        if claim.uscc:
            result.subject_id = known[claim.uscc]
        elif claim.resident_id:
            result.subject_id = persons[hashes[claim.resident_id]]
        elif claim.business_reg_no or claim.org_code:
            found = reg_nos.get(claim.business_reg_no or "", []) or org_codes.get(claim.org_code or "", [])
            _attach_unique(
                result, found, "subject.unknown_code", "未找到与工商注册号或组织机构代码对应的主体"
            )
        elif not claim.region_code:
            result.reason_code = "subject.region_required"
            result.reason = "仅有名称而无统一社会信用代码时，须提供行政区划代码才能匹配主体"
            result.candidates = [sid for sid, _ in by_name.get(claim.name_norm, [])][:10]
        else:
            same_region = [
                sid for sid, region in by_name.get(claim.name_norm, []) if region == claim.region_code
            ]
            _attach_unique(result, same_region, "subject.not_found", "未找到名称和行政区划均一致的主体")
    return results


def _attach_unique(result: Resolution, found: list[int], code: str, message: str) -> None:
    if len(found) == 1:
        result.subject_id = found[0]
    elif not found:
        result.reason_code, result.reason = code, message
    else:
        result.reason_code = "subject.ambiguous"
        result.reason = f"有{len(found)}个主体与之匹配，需人工确认"
        result.candidates = found[:10]


def update_registration(session: Session, subject_id: int, values: dict[str, object]) -> None:
    """Apply registration basics (登记注册基本信息) to the subject: name as registered, legal rep, status,
    region and industry (kept when the row leaves them empty)."""
    name = str(values["subject_name"])
    norm = normalize_name(name)
    session.execute(
        update(Subject)
        .where(Subject.id == subject_id)
        .values(
            name=name,
            name_norm=norm,
            core_name=core_name(norm),
            legal_rep=values.get("legal_rep"),
            registered_on=dt.date.fromisoformat(str(values["registered_on"]))
            if values.get("registered_on")
            else None,
            operating_status=values.get("operating_status"),
            region_code=values.get("region_code") or Subject.region_code,
            industry_code=values.get("industry_code") or Subject.industry_code,
            updated_at=dt.datetime.now(dt.UTC),
        )
    )


def get_by_uscc(session: Session, uscc: str) -> Subject:
    subject = repository.by_uscc(session, uscc)
    if subject is None:
        raise NotFound(f"未找到统一社会信用代码为“{uscc}”的主体", code="subject.not_found")
    return subject


def get(session: Session, subject_id: int) -> Subject:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound("未找到该主体", code="subject.not_found")
    return subject


def get_many(session: Session, subject_ids: Iterable[int]) -> dict[int, Subject]:
    """Subjects by id, in one query (for queues that show many applicants)."""
    wanted = sorted(set(subject_ids))
    if not wanted:
        return {}
    return {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(wanted)))}


def search(session: Session, query: str, *, page: int = 1, size: int = 20) -> tuple[list[Subject], int]:
    """Find subjects by USCC or name, tolerant of width, traditional characters, spacing and legal suffix."""
    query = query.strip()[:100]
    if not query:
        return [], 0
    code = normalize_code(query)
    code_or_none = code if len(code) == 18 and code.isalnum() else None
    norm = normalize_name(query)
    return repository.search(
        session,
        code=code_or_none,
        name_norm=norm,
        core=core_name(norm),
        offset=(max(page, 1) - 1) * size,
        limit=size,
    )


def find_by_uscc(session: Session, uscc: str) -> Subject | None:
    return repository.by_uscc(session, uscc)


def find_person(session: Session, id_hash: str) -> Subject | None:
    """A natural person by the keyed hash of the resident ID."""
    found = repository.ids_by_id_hash(session, {id_hash})
    return session.get(Subject, found[id_hash]) if found else None
