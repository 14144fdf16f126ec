"""Name normalisation for matching: width, traditional characters, spacing, brackets and legal suffix."""

from __future__ import annotations

import pytest

from xinyong.kit.names import core_name, normalize_name


@pytest.mark.parametrize(
    "variant",
    [
        "成都天府软件园有限公司",
        "成都天府軟件園有限公司",
        "成都 天府软件园 有限公司",
        "成都天府软件园 有限 公司",
        "　成都天府软件园有限公司 ",
    ],
)
def test_variants_normalise_to_one_form(variant: str) -> None:
    assert normalize_name(variant) == "成都天府软件园有限公司"


def test_full_width_brackets_fold_to_half_width() -> None:
    assert normalize_name("四川某某（集团）有限公司") == normalize_name("四川某某(集团)有限公司")


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("成都天府软件园有限公司", "成都天府软件园"),
        ("成都天府软件园有限责任公司", "成都天府软件园"),
        ("成都天府软件园股份有限公司", "成都天府软件园"),
        ("成都天府软件园集团有限公司", "成都天府软件园"),
        ("青羊区张记面馆", "青羊区张记面馆"),
        ("天府公司", "天府"),
        ("天府科技（有限公司）", "天府科技"),
        ("公司", "公司"),  # a suffix alone is not stripped to nothing
        ("成都天府软件园有限公司武侯分公司", "成都天府软件园有限公司武侯分公司"),
    ],
)
def test_core_name_drops_the_legal_form(name: str, core: str) -> None:
    assert core_name(normalize_name(name)) == core
