"""Publicity lists (双公示 and the credit lists) searched by subject name, USCC or document number, with an exact
total, an estimate labelled as such beyond the counting bound, and natural persons kept out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api.test_check_receipt import listed
from tests.conftest import TODAY
from tests.helpers import ingest_rows, licence, penalty, resident_id, uscc
from xinyong.app import create_app
from xinyong.config import Settings
from xinyong.platform import Platform
from xinyong.records import repository
from xinyong.records.service import IngestContext
from xinyong.web.deps import get_today


def _total(html: str) -> str:
    match = re.search(r'id="publicity-total">([^<]*)</span>', html)
    assert match, "the page shows no total"
    return match[1].strip()


def _doc_numbers(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<td>([^<]*〔2026〕[^<]*)</td>", body)


@pytest.fixture
def penalties(session: Session, ctx: IngestContext) -> dict[str, dict[str, str]]:
    """Five companies' penalties: two of 锦江, one each of 青羊, 武侯 and 成华 (whose name has a digit)."""
    rows = {
        "jinjiang_1": penalty(CF_XDR_MC="成都锦江甲科技有限公司"),
        "jinjiang_2": penalty(CF_XDR_MC="成都锦江乙贸易有限公司"),
        "qingyang": penalty(CF_XDR_MC="成都青羊丙餐饮有限公司"),
        "wuhou": penalty(CF_XDR_MC="成都武侯丁建材有限公司"),
        "chenghua": penalty(CF_XDR_MC="成都成华58号商贸有限公司"),
    }
    receipt = ingest_rows(session, ctx, list(rows.values()))
    assert receipt.accepted == 5
    session.commit()
    return rows


class TestKeywordSearch:
    def test_by_name_fragment(self, client: TestClient, penalties: dict[str, dict[str, str]]) -> None:
        page = client.get("/publicity/penalties", params={"q": "锦江"})
        assert page.status_code == 200
        assert sorted(_doc_numbers(page.text)) == sorted(
            [penalties["jinjiang_1"]["CF_WSH"], penalties["jinjiang_2"]["CF_WSH"]]
        )
        assert _total(page.text) == "共 2 条"

    def test_by_uscc_in_any_case_and_spacing(
        self, client: TestClient, penalties: dict[str, dict[str, str]]
    ) -> None:
        code = penalties["qingyang"]["CF_XDR_SHXYM"]
        typed = f" {code[:9].lower()} {code[9:]} "
        page = client.get("/publicity/penalties", params={"q": typed})
        assert _doc_numbers(page.text) == [penalties["qingyang"]["CF_WSH"]] and _total(page.text) == "共 1 条"

    def test_by_document_number(self, client: TestClient, penalties: dict[str, dict[str, str]]) -> None:
        doc = penalties["wuhou"]["CF_WSH"]
        page = client.get("/publicity/penalties", params={"q": doc})
        assert _doc_numbers(page.text) == [doc] and _total(page.text) == "共 1 条"

    def test_nothing_found_says_so_with_a_zero_total(
        self, client: TestClient, penalties: dict[str, dict[str, str]]
    ) -> None:
        page = client.get("/publicity/penalties", params={"q": "不存在的名称"})
        assert _doc_numbers(page.text) == [] and _total(page.text) == "共 0 条"
        assert "没有符合条件的公示信息" in page.text
        other_item = client.get("/publicity/licences", params={"q": "锦江"})  # penalties are not licences
        assert _total(other_item.text) == "共 0 条"

    def test_keyword_and_filters_combine_and_the_pager_keeps_them(
        self, client: TestClient, session: Session, ctx: IngestContext
    ) -> None:
        rows = [
            penalty(CF_XDR_MC=f"成都金牛{i}号测试有限公司", CF_JDRQ=f"2026-06-{i + 1:02d}") for i in range(23)
        ]
        ingest_rows(session, ctx, rows)
        session.commit()
        first = client.get("/publicity/penalties", params={"q": "金牛", "date_to": "2026-06-22"})
        assert _total(first.text) == "共 22 条" and len(_doc_numbers(first.text)) == 20
        assert (
            "q=%E9%87%91%E7%89%9B&amp;department=&amp;region=&amp;date_from=&amp;date_to=2026-06-22&amp;page=2"
            in (first.text)
        )
        second = client.get("/publicity/penalties", params={"q": "金牛", "date_to": "2026-06-22", "page": 2})
        shown = _doc_numbers(first.text) + _doc_numbers(second.text)
        assert sorted(shown) == sorted(r["CF_WSH"] for r in rows[:22])
        assert shown[0] == rows[21]["CF_WSH"]  # newest decision first

    def test_licences_are_searched_the_same_way(
        self, client: TestClient, session: Session, ctx: IngestContext
    ) -> None:
        code = uscc()
        row = licence(XK_XDR_MC="成都高新戊科技有限公司", XK_XDR_SHXYM=code)
        ingest_rows(session, ctx, [row], item="XK")
        session.commit()
        for q in ("高新戊", code, row["XK_WSH"]):
            page = client.get("/publicity/licences", params={"q": q})
            assert _doc_numbers(page.text) == [row["XK_WSH"]] and _total(page.text) == "共 1 条", q


class TestWhatAStrangerGets:
    def test_natural_persons_are_not_found_by_name_id_or_document_number(
        self, client: TestClient, session: Session, ctx: IngestContext
    ) -> None:
        rid = resident_id()
        row = penalty(
            CF_XDR_MC="王小明",
            CF_XDR_LB="自然人",
            CF_XDR_SHXYM="",
            CF_XDR_ZJLX="身份证",
            CF_XDR_ZJHM=rid,
            CF_FRDB="",
        )
        assert ingest_rows(session, ctx, [row]).accepted == 1
        session.commit()
        for q in ("王小明", rid, row["CF_WSH"]):
            page = client.get("/publicity/penalties", params={"q": q})
            assert page.status_code == 200
            table = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
            assert "王小明" not in table and rid not in table and rid[-8:] not in table
            assert _total(page.text) == "共 0 条", q

    @pytest.mark.parametrize(
        ("path", "params"),
        [
            ("/publicity/penalties", {"q": "锦" * 101}),
            ("/publicity/licences", {"q": "x" * 5000}),
            ("/publicity/penalties", {"page": "0"}),
            ("/publicity/penalties", {"page": "1001"}),
            ("/lists/serious_dishonesty", {"q": "锦" * 101}),
            ("/lists/serious_dishonesty", {"page": "-1"}),
        ],
    )
    def test_oversized_or_malformed_input_is_a_clear_422(
        self, client: TestClient, path: str, params: dict[str, str]
    ) -> None:
        response = client.get(path, params=params)
        assert response.status_code == 422

    @pytest.mark.parametrize("q", ["<script>alert(1)</script>", "%", "_", "\\", "' OR 1=1 --", "〔2026〕"])
    def test_markup_and_wildcards_match_nothing_and_are_escaped(
        self, client: TestClient, penalties: dict[str, dict[str, str]], q: str
    ) -> None:
        page = client.get("/publicity/penalties", params={"q": q})
        assert page.status_code == 200 and _total(page.text) == "共 0 条"
        assert "<script>alert(1)</script>" not in page.text


class TestSearchLimit:
    def test_keyword_searches_share_the_search_budget_and_browsing_does_not_spend_it(
        self, platform: Platform, tmp_path: Path
    ) -> None:
        settings = Settings(
            data_dir=tmp_path,
            database_url="sqlite://",
            secret_key="test-secret-key",
            rate_limit_search="3/minute",
        )
        custom = Platform(
            settings=settings, sessions=platform.sessions, cipher=platform.cipher, signer=platform.signer
        )
        app = create_app(platform=custom)
        app.dependency_overrides[get_today] = lambda: TODAY
        client = TestClient(app, raise_server_exceptions=False)
        for _ in range(5):
            assert client.get("/publicity/penalties").status_code == 200
            assert client.get("/lists/serious_dishonesty", params={"q": " "}).status_code == 200
        assert client.get("/publicity/penalties", params={"q": "锦江"}).status_code == 200
        assert client.get("/publicity/licences", params={"q": "锦江"}).status_code == 200
        assert client.get("/lists/serious_dishonesty", params={"q": "锦江"}).status_code == 200
        refused = client.get("/publicity/penalties", params={"q": "锦江"})
        assert refused.status_code == 429 and "rate_limited" in refused.text
        assert client.get("/publicity/penalties").status_code == 200


class TestTotals:
    def test_beyond_the_bound_the_total_is_labelled_an_estimate(
        self,
        client: TestClient,
        engine: object,
        penalties: dict[str, dict[str, str]],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(repository, "PUBLICITY_COUNT_BOUND", 3)
        page = client.get("/publicity/penalties")
        total = _total(page.text)
        if engine.dialect.name == "postgresql":  # type: ignore[attr-defined]
            assert re.fullmatch(r"约 [\d,]+ 条（估算）", total), total
        else:
            assert total == "超过 3 条"
        assert len(_doc_numbers(page.text)) == 5  # every row still shown
        within = client.get("/publicity/penalties", params={"q": "锦江"})
        assert _total(within.text) == "共 2 条"  # a search under the bound is counted exactly


class TestLists:
    def test_a_list_is_searched_by_name_uscc_or_decision_number(
        self, client: TestClient, session: Session
    ) -> None:
        from tests.api.test_check_receipt import subject_with_licence

        code = subject_with_licence(client, session, "成都龙泉失信测试有限公司")
        other = subject_with_licence(client, session, "成都新都守信测试有限公司")
        listed(session, code)
        listed(session, other)
        for q, expected in (
            ("龙泉", {"成都龙泉失信测试有限公司"}),
            (code.lower(), {"成都龙泉失信测试有限公司"}),
            ("川高法认〔2026〕8号", {"成都龙泉失信测试有限公司", "成都新都守信测试有限公司"}),
            ("不存在", set()),
        ):
            page = client.get("/lists/serious_dishonesty", params={"q": q})
            assert page.status_code == 200
            names = set(re.findall(r">(成都[^<]*有限公司)</a>", page.text.split("<tbody>", 1)[1]))
            assert names == expected, q
            assert f"公示中 {len(expected)} 条" in page.text
