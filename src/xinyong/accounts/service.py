"""Department registry use cases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department, ItemGrant
from xinyong.kit import regions
from xinyong.kit.errors import Conflict, NotFound, ValidationFailed
from xinyong.kit.identifiers import IdentifierError, validate_uscc

__all__ = [
    "Department",
    "add_department",
    "get_department",
    "grant_item",
    "granted_items",
    "list_departments",
]


def add_department(
    session: Session,
    *,
    code: str,
    name: str,
    uscc: str | None = None,
    region_code: str | None = None,
    parent_code: str | None = None,
) -> Department:
    """Register a provider department; codes are unique, USCC and region are validated."""
    code = code.strip()
    if not code or len(code) > 32 or not name.strip():
        raise ValidationFailed("部门代码和名称不能为空，代码不超过32个字符", code="department.invalid")
    if session.get(Department, code) is not None:
        raise Conflict(f"部门代码“{code}”已存在", code="department.exists")
    if uscc:
        try:
            uscc = validate_uscc(uscc)
        except IdentifierError as exc:
            raise ValidationFailed(exc.message, code=exc.code) from None
    if region_code and not regions.is_known(region_code):
        raise ValidationFailed(f"行政区划代码“{region_code}”不存在", code="region.unknown")
    if parent_code:
        get_department(session, parent_code)
    department = Department(
        code=code, name=name.strip(), uscc=uscc, region_code=region_code, parent_code=parent_code
    )
    session.add(department)
    session.flush()
    return department


def get_department(session: Session, code: str) -> Department:
    department = session.get(Department, code)
    if department is None:
        raise NotFound(f"未找到部门“{code}”", code="department.not_found")
    return department


def list_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.code)))


def granted_items(session: Session, department_code: str | None, today: dt.date) -> set[str]:
    """Conditionally shared items (有条件共享) this department is entitled to today."""
    if not department_code:
        return set()
    rows = session.scalars(
        select(ItemGrant.item_code).where(
            ItemGrant.department_code == department_code,
            or_(ItemGrant.expires_on.is_(None), ItemGrant.expires_on >= today),
        )
    )
    return set(rows)


def grant_item(
    session: Session,
    *,
    department_code: str,
    item_code: str,
    purpose: str,
    legal_basis: str,
    expires_on: dt.date | None = None,
) -> ItemGrant:
    """Entitle a department to a conditionally shared item; the legal basis is required."""
    get_department(session, department_code)
    if len(legal_basis.strip()) < 4 or not purpose.strip():
        raise ValidationFailed("授权必须写明用途和法律依据", code="grant.legal_basis_required")
    grant = ItemGrant(
        department_code=department_code,
        item_code=item_code,
        purpose=purpose.strip(),
        legal_basis=legal_basis.strip(),
        expires_on=expires_on,
    )
    session.add(grant)
    session.flush()
    return grant
