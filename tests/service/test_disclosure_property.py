"""Property: a penalty is public (portal page, API, 双公示 listing) and counts in checks exactly inside its window.

The expected window is computed here from the legal rules, independently of `xinyong.disclosure`:
the rule set in force on the decision date gives the longest publicity period in months, and the period
ends as the Civil Code (arts. 201-203) says: on the same calendar day that many months later, or on the
last day of that month when it has no such day. Minor penalties (轻微) are never published.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import bearer, penalty, uscc
from xinyong.measures import loader
from xinyong.platform import Platform
from xinyong.web.deps import get_today

SEVERITIES = ("轻微", "一般", "严重")
SECTORS = (None, "特种设备", "安全生产", "其他")
_providers = itertools.count(1)


@dataclass(frozen=True)
class LegalRule:
    source: str
    first_day: dt.date
    last_day: dt.date
    periods: dict[str, tuple[int, int] | None]  # severity -> (minimum, maximum) months; None: not published
    sector_minimums: dict[str, int]


RULES = (
    LegalRule(
        "发改办财金〔2019〕527号",
        dt.date.min,
        dt.date(2023, 4, 30),
        {"轻微": None, "一般": (3, 12), "严重": (6, 36)},
        {},
    ),
    LegalRule(
        "国家发展改革委令第58号",
        dt.date(2023, 5, 1),
        dt.date(2026, 3, 31),
        {"轻微": None, "一般": (3, 36), "严重": (3, 36)},
        {"特种设备": 12, "安全生产": 12, "消防安全": 12},
    ),
    LegalRule(
        "国家发展改革委令第36号",
        dt.date(2026, 4, 1),
        dt.date.max,
        {"轻微": None, "一般": (3, 12), "严重": (12, 36)},
        {},
    ),
)


def civil_code_end(start: dt.date, months: int) -> dt.date:
    """The last day of a period of `months` months starting the day after `start`."""
    years, month_index = divmod(start.month - 1 + months, 12)
    year, month = start.year + years, month_index + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def expected_window(decision: dt.date, severity: str, sector: str | None) -> tuple[dt.date, dt.date] | None:
    (rule,) = [r for r in RULES if r.first_day <= decision <= r.last_day]
    period = rule.periods[severity]
    if period is None:
        return None
    minimum, maximum = period
    longest = max(maximum, rule.sector_minimums.get(sector or "", minimum))
    return decision, civil_code_end(decision, longest)


@dataclass(frozen=True)
class Spec:
    decision: dt.date
    severity: str
    sector: str | None
    revoked: bool


# Days where the rules change or a period's end gets clamped, besides any day in the range.
EDGE_DECISIONS = [
    dt.date(2019, 1, 1),
    dt.date(2020, 2, 29),
    dt.date(2023, 4, 30),
    dt.date(2023, 5, 1),
    dt.date(2024, 2, 29),
    dt.date(2026, 3, 31),
    dt.date(2026, 4, 1),
    TODAY,
]
decisions = st.one_of(st.dates(dt.date(2019, 1, 1), TODAY), st.sampled_from(EDGE_DECISIONS))
specs = st.builds(
    Spec,
    decision=decisions,
    severity=st.sampled_from((*SEVERITIES, "严重")),  # serious ones twice: they trigger checks
    sector=st.sampled_from(SECTORS),
    revoked=st.sampled_from((False, False, True)),  # most records stay active, so most days show some
)
FIRST_QUERY, LAST_QUERY = dt.date(2019, 1, 1), dt.date(2031, 12, 31)


def query_days(chosen: list[Spec]) -> st.SearchStrategy[list[dt.date]]:
    """Any day in range, days inside each expected window, and the days either side of its edges."""
    edges: set[dt.date] = set()
    inside: list[st.SearchStrategy[dt.date]] = []
    for spec in chosen:
        window = expected_window(spec.decision, spec.severity, spec.sector)
        if window:
            first, last = window
            edges |= {first - dt.timedelta(days=1), first, last, last + dt.timedelta(days=1)}
            inside.append(st.dates(max(first, FIRST_QUERY), min(last, LAST_QUERY)))
    choices: list[st.SearchStrategy[dt.date]] = [st.dates(FIRST_QUERY, LAST_QUERY), *inside]
    in_range = sorted(d for d in edges if FIRST_QUERY <= d <= LAST_QUERY)
    if in_range:
        choices.append(st.sampled_from(in_range))
    return st.lists(st.one_of(choices), min_size=1, max_size=5).map(lambda days: sorted(set(days)))


def submit(client: TestClient, session: Session, provider: str, rows: list[dict[str, Any]]) -> None:
    client.app.dependency_overrides[get_today] = lambda: TODAY  # type: ignore[attr-defined]
    headers = bearer(session, provider)
    response = client.post("/api/v1/records", json={"item": "CF", "records": rows}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rejected"] == 0 and body["queued"] == 0, body


def cf_measures(platform: Platform, day: dt.date) -> set[str]:
    """Measures of the shipped list that a serious penalty triggers in administrative approval on `day`."""
    shipped = loader.load_shipped({i.code for i in platform.catalog.items})
    return {
        m.code
        for m in shipped.measures
        if "administrative_approval" in m.scenarios
        and m.valid_from <= day
        and (m.valid_until is None or day <= m.valid_until)
        and any(t.item == "CF" and (not t.severities or "严重" in t.severities) for t in m.triggers)
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), chosen=st.lists(specs, min_size=1, max_size=4))
def test_a_penalty_is_public_and_triggers_checks_exactly_inside_its_window(
    client: TestClient, session: Session, platform: Platform, data: st.DataObject, chosen: list[Spec]
) -> None:
    # A fresh subject and provider per example: examples share the test's transaction.
    code, provider = uscc(), f"PROP{next(_providers):05d}"
    rows, windows = {}, {}
    for spec in chosen:
        row = penalty(CF_XDR_SHXYM=code, CF_JDRQ=spec.decision.isoformat(), severity=spec.severity)
        if spec.sector:
            row["sector"] = spec.sector
        rows[row["CF_WSH"]] = (spec, row)
        windows[row["CF_WSH"]] = expected_window(spec.decision, spec.severity, spec.sector)
    submit(client, session, provider, [row for _, row in rows.values()])
    revoked = [{**row, "record_status": "撤销"} for spec, row in rows.values() if spec.revoked]
    if revoked:
        submit(client, session, provider, revoked)
    checker = bearer(session, "SCCZ", ("checks:run",))

    for day in data.draw(query_days(chosen), label="today"):
        client.app.dependency_overrides[get_today] = lambda day=day: day  # type: ignore[attr-defined]
        public = {
            doc_no
            for doc_no, (spec, _row) in rows.items()
            if not spec.revoked and (w := windows[doc_no]) is not None and w[0] <= day <= w[1]
        }

        api = client.get(f"/api/v1/subjects/{code}")
        assert api.status_code == 200, api.text
        listed = api.json()["records"]
        assert {r["doc_no"] for r in listed} == public, day
        assert all(r["public_now"] and r["status"] == "active" for r in listed)
        for record in listed:
            assert (record["public_from"], record["public_until"]) == tuple(
                d.isoformat() for d in windows[record["doc_no"]] or ()
            )

        page = client.get(f"/subjects/{code}")
        assert page.status_code == 200
        assert {doc_no for doc_no in rows if doc_no in page.text} == public, day

        listing = client.get("/publicity/penalties", params={"department": provider})  # 双公示
        assert listing.status_code == 200
        assert {doc_no for doc_no in rows if doc_no in listing.text} == public, day

        check = client.post(
            "/api/v1/checks",
            json={
                "subject": {"uscc": code},
                "scenario": "administrative_approval",
                "purpose": "行政许可审查",
            },
            headers=checker,
        )
        assert check.status_code == 200, check.text
        hits = [h for h in check.json()["hits"] if h["trigger"]["type"] == "record"]
        assert all(h["trigger"]["item"] == "CF" for h in hits)
        serious = {d for d in public if rows[d][0].severity == "严重"}
        triggered = {h["trigger"]["doc_no"] for h in hits}
        assert triggered <= serious, (day, triggered - serious)  # never outside its window nor revoked
        expected = {(m, d) for m in cf_measures(platform, day) for d in serious}
        event("public records", "some" if public else "none")
        event("record triggers", "some" if expected else "none")
        assert {(h["measure"], h["trigger"]["doc_no"]) for h in hits} == expected, day
