"""Small builders for test data: valid identifiers, departments and rows."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from xinyong.accounts import auth
from xinyong.accounts import service as accounts
from xinyong.accounts.context import UseCaseContext
from xinyong.accounts.policy import Principal
from xinyong.catalog import service as catalog_service
from xinyong.catalog.schemas import Catalog
from xinyong.kit.crypto import PersonalIdCipher, Signer
from xinyong.kit.identifiers import make_resident_id, make_uscc
from xinyong.kit.tabular import Row
from xinyong.kit.workdays import default_calendar
from xinyong.records import service as records_service

_counter = itertools.count(1)
_SECRET = "test-secret-key"  # the `settings` fixture's


@functools.cache
def _services() -> tuple[Catalog, PersonalIdCipher, Signer, Path]:
    data_dir = Path(tempfile.mkdtemp(prefix="xinyong-acting-"))
    return (
        catalog_service.load(None),
        PersonalIdCipher.from_secrets(_SECRET, None, None),
        Signer.from_secret(_SECRET),
        data_dir,
    )


def acting(principal: Principal, today: dt.date) -> UseCaseContext:
    """`principal`'s use-case context on `today` where no platform is at hand (list due process reads only who
    acts, the day and the calendar): the shipped catalog, the official calendar, the test secret's cipher and
    signer (as the `platform` fixture's), a data directory of its own. With a platform, use `platform.context`."""
    catalog, cipher, signer, data_dir = _services()
    return UseCaseContext(
        principal=principal,
        today=today,
        catalog=catalog,
        calendar=default_calendar(),
        cipher=cipher,
        signer=signer,
        data_dir=data_dir,
    )


def uscc(region: str = "510104", kind: str = "91") -> str:
    n = next(_counter)
    return make_uscc(kind[0], kind[1], region, f"T{n:07d}")


def resident_id(region: str = "510104", birth: dt.date = dt.date(1985, 5, 17)) -> str:
    return make_resident_id(region, birth, next(_counter) % 1000)


def department(session: Session, code: str = "SCMR", name: str = "四川省市场监督管理局") -> str:
    try:
        accounts.get_department(session, code)
    except Exception:
        accounts.add_department(session, code=code, name=name, region_code="510000")
    return code


def penalty(**overrides: Any) -> dict[str, Any]:
    """A valid penalty row with national field codes, as a department file carries it."""
    n = next(_counter)
    row = {
        "CF_WSH": f"川市监罚〔2026〕{n}号",
        "CF_XDR_MC": "成都测试科技有限公司",
        "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": uscc(),
        "CF_FRDB": "张三",
        "CF_WFXW": "销售不符合食品安全标准的食品",
        "CF_SY": "经查，当事人销售的食品不符合食品安全标准。",
        "CF_YJ": "《中华人民共和国食品安全法》第一百二十四条",
        "CF_CFLB": "罚款",
        "CF_NR": "罚款人民币伍万元",
        "CF_NR_FK": "5",
        "CF_JDRQ": "2026-06-15",
        "CF_CFJG": "四川省市场监督管理局",
        "CF_CFJGDM": make_uscc("1", "1", "510000", "00000001"),
        "severity": "一般",
    }
    row.update(overrides)
    return row


def licence(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    row = {
        "XK_XKWS": "食品经营许可决定书",
        "XK_WSH": f"川市监许〔2026〕{n}号",
        "XK_XKLB": "普通",
        "XK_NR": "食品经营许可",
        "XK_XDR_MC": "成都测试餐饮有限公司",
        "XK_XDR_LB": "法人及非法人组织",
        "XK_XDR_SHXYM": uscc(),
        "XK_JDRQ": "2026-03-01",
        "XK_YXQZ": "2026-03-01",
        "XK_YXQZI": "2031-02-28",
        "XK_XKJG": "成都市市场监督管理局",
        "XK_XKJGDM": make_uscc("1", "1", "510100", "00000002"),
    }
    row.update(overrides)
    return row


PASSWORD = "correct-horse-42"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def bearer(
    session: Session, department_code: str = "SCMR", scopes: tuple[str, ...] = ("records:write",)
) -> dict[str, str]:
    """Headers of a fresh API token for a department (created if missing); commits."""
    department(session, department_code, f"部门{department_code}")
    _, secret = auth.create_token(session, department_code=department_code, scopes=list(scopes))
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def csrf(client: Any) -> str:
    """The CSRF token of this browser (the cookie is set by any page)."""
    match = _CSRF.search(client.get("/login").text)
    assert match, "login page has no csrf token"
    return match[1]


def login(
    client: Any,
    session: Session,
    *,
    role: str = "provider",
    department_code: str | None = "SCMR",
    subject_id: int | None = None,
    username: str | None = None,
) -> str:
    """Create a user with `role` and log the test client in; returns the CSRF token for forms."""
    if department_code:
        department(session, department_code, f"部门{department_code}")
    name = username or f"{role}-{next(_counter)}"
    auth.create_user(
        session,
        username=name,
        password=PASSWORD,
        role=role,
        department_code=department_code,
        subject_id=subject_id,
    )
    session.commit()
    token = csrf(client)
    response = client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return csrf(client)  # the form token is bound to the session the login opened


PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def apply_for_repair(
    platform: Any, session: Session, principal: Any, record_id: int, today: dt.date, **overrides: Any
) -> Any:
    """A complete repair application for a record (a payment receipt as evidence); `overrides` change any
    argument of `repair.service.apply`."""
    from xinyong.files.service import Upload
    from xinyong.repair import service as repair

    args: dict[str, Any] = {
        "repair_policy": platform.repair_policy,
        "target_kind": "record",
        "target_id": record_id,
        "statement": "已全额缴纳罚款并完成整改。",
        "contact_name": "李四",
        "contact_phone": "028-86001234",
        "signer_name": "张三",
        "evidence": [Upload("罚款缴纳凭证.pdf", PDF_BYTES)],
        **overrides,
    }
    return repair.apply(session, platform.context(principal, today), **args)


def ingest_rows(
    session: Session,
    ctx: Any,
    rows: list[dict[str, Any]],
    item: str = "CF",
    provider: str = "SCMR",
    provider_name: str = "四川省市场监督管理局",
    **options: Any,
) -> Any:
    """Ingest rows (numbered from 2, as under a header line) from the provider, registering it first."""
    department(session, provider, provider_name)
    return records_service.ingest(
        session,
        ctx,
        item_code=item,
        provider_code=provider,
        rows=[Row(n, r) for n, r in enumerate(rows, start=2)],
        source="test",
        **options,
    )
