"""Pure rules of authorisations (授权): scopes, states, and what a grant may ask for (no I/O)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from xinyong.kit.dates import add_months, format_china_date

FILE_READ = "file:read"  # read the subject's non-public credit file
REPORTS_ISSUE = "reports:issue"  # obtain the subject's standard credit report
SCOPES = (FILE_READ, REPORTS_ISSUE)
SCOPE_LABELS = {FILE_READ: "查阅信用档案（含非公开信息）", REPORTS_ISSUE: "出具信用报告"}

ACTIVE, REVOKED, EXPIRED = "active", "revoked", "expired"
STATE_LABELS = {ACTIVE: "有效", REVOKED: "已撤销", EXPIRED: "已过期"}

MAX_MONTHS = 12  # an authorisation lasts at most a year; a longer need is granted again
MAX_PURPOSE = 200


def state(*, revoked: bool, valid_until: dt.date, today: dt.date) -> str:
    """Revoked once revoked; expired after its last day; active otherwise (computed: no job needed)."""
    if revoked:
        return REVOKED
    return ACTIVE if today <= valid_until else EXPIRED


def latest_end(today: dt.date) -> dt.date:
    """The last day an authorisation granted today may run to."""
    return add_months(today, MAX_MONTHS)


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str


def grant_problem(
    *,
    scopes: Collection[str],
    purpose_kind: str,
    known_kinds: Collection[str],
    purpose: str,
    valid_until: dt.date,
    today: dt.date,
) -> Problem | None:
    """What is wrong with a grant's own fields, if anything (the organisation is checked against the store)."""
    if not scopes:
        return Problem("authorizations.scopes_required", "请至少选择一项授权范围")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        return Problem("authorizations.unknown_scope", f"未知的授权范围：{'、'.join(unknown)[:100]}")
    if purpose_kind not in known_kinds:
        return Problem("authorizations.unknown_purpose_kind", "请选择授权用途类别")
    if not purpose.strip():
        return Problem("authorizations.purpose_required", "请填写授权用途")
    if len(purpose.strip()) > MAX_PURPOSE:
        return Problem("authorizations.purpose_too_long", f"授权用途不超过{MAX_PURPOSE}个字")
    if valid_until < today:
        return Problem("authorizations.past_date", "授权截止日期不能早于今天")
    end = latest_end(today)
    if valid_until > end:
        return Problem(
            "authorizations.too_long", f"授权期限最长一年，截止日期不能晚于{format_china_date(end)}"
        )
    return None
