"""Pure rules of authorisations: the state from the day and revocation, and what a grant may ask for."""

from __future__ import annotations

import datetime as dt

from xinyong.authorizations import rules
from xinyong.authorizations import service as authorizations

TODAY = dt.date(2026, 2, 28)
KINDS = [p.code for p in authorizations.purpose_kinds().purposes]


def problem(**overrides: object) -> str | None:
    args: dict[str, object] = {
        "scopes": [rules.FILE_READ],
        "purpose_kind": "credit_approval",
        "known_kinds": KINDS,
        "purpose": "贷款审批",
        "valid_until": TODAY,
        "today": TODAY,
        **overrides,
    }
    found = rules.grant_problem(**args)  # type: ignore[arg-type]
    return found.code if found else None


def test_the_purpose_kinds_are_the_five_of_the_brief_in_order() -> None:
    labels = [p.label for p in authorizations.purpose_kinds().purposes]
    assert labels == ["信贷审批", "商务合作", "招投标", "租赁", "其他"]


def test_state_is_computed_from_the_last_day_and_revocation() -> None:
    assert rules.state(revoked=False, valid_until=TODAY, today=TODAY) == rules.ACTIVE
    assert rules.state(revoked=False, valid_until=TODAY, today=TODAY + dt.timedelta(days=1)) == rules.EXPIRED
    assert rules.state(revoked=True, valid_until=TODAY, today=TODAY) == rules.REVOKED


def test_the_last_day_runs_from_today_to_a_year_ahead_and_no_further() -> None:
    assert rules.latest_end(TODAY) == dt.date(2027, 2, 28)
    assert problem(valid_until=TODAY) is None
    assert problem(valid_until=rules.latest_end(TODAY)) is None
    assert problem(valid_until=rules.latest_end(TODAY) + dt.timedelta(days=1)) == "authorizations.too_long"
    assert problem(valid_until=TODAY - dt.timedelta(days=1)) == "authorizations.past_date"


def test_a_purpose_of_two_hundred_characters_is_the_most() -> None:
    assert problem(purpose="贷" * rules.MAX_PURPOSE) is None
    assert problem(purpose="贷" * (rules.MAX_PURPOSE + 1)) == "authorizations.purpose_too_long"
    assert problem(scopes=[rules.FILE_READ, "admin"]) == "authorizations.unknown_scope"
