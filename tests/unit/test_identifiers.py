"""Identifier rules: USCC parts and checksums, resident IDs with area codes of any period, masking."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyong.kit import regions
from xinyong.kit.identifiers import (
    IdentifierError,
    make_resident_id,
    make_uscc,
    mask_embedded_ids,
    mask_resident_id,
    org_code_check_digit,
    validate_org_code,
    validate_resident_id,
    validate_uscc,
)


def _signed(code: str) -> str:
    """Give a USCC a correct final check digit, so a test reaches the rule it is about."""
    from stdnum.cn import uscc as stdnum_uscc

    return code[:17] + stdnum_uscc.calc_check_digit(code[:17])


def _ric_signed(number: str) -> str:
    from stdnum.cn import ric

    return number[:17] + ric.calc_check_digit(number[:17] + "0")


class TestUscc:
    @pytest.mark.parametrize(
        "code",
        ["914403001922038216", "9144030071526726XG", "11100000000013127D", _signed("N2510104MA6C12341X")],
    )
    def test_real_codes_validate(self, code: str) -> None:
        assert validate_uscc(code) == code

    def test_case_and_spacing_are_normalised(self) -> None:
        assert validate_uscc(" 9144 0300 7152 6726xg ") == "9144030071526726XG"

    @pytest.mark.parametrize(
        ("code", "error"),
        [
            ("91440300192203821", "uscc.length"),
            ("914403001922038217", "uscc.checksum"),
            ("9144030O1922038216", "uscc.format"),  # letter O typed for a zero is reported, never corrected
            (_signed("B14403001922038216"), "uscc.authority"),
            (_signed("97440300192203821X"), "uscc.category"),
        ],
    )
    def test_defects_are_named(self, code: str, error: str) -> None:
        with pytest.raises(IdentifierError) as info:
            validate_uscc(code)
        assert info.value.code == error
        assert info.value.message

    def test_unknown_region_and_embedded_org_code_checksum(self) -> None:
        bad_region = make_uscc("9", "1", "519999", "MA6C1234")
        with pytest.raises(IdentifierError, match="行政区划") as info:
            validate_uscc(bad_region)
        assert info.value.code == "uscc.region"
        good = make_uscc("9", "1", "510104", "MA6C1234")
        wrong_org = good[:16] + ("1" if good[16] != "1" else "2")
        from stdnum.cn import uscc as stdnum_uscc

        forged = wrong_org + stdnum_uscc.calc_check_digit(wrong_org)
        with pytest.raises(IdentifierError) as info:
            validate_uscc(forged)
        assert info.value.code == "uscc.org_code_checksum"

    def test_org_code_check_digit_matches_gb11714(self) -> None:
        assert org_code_check_digit("19220382") == "1"
        assert org_code_check_digit("71526726") == "X"
        assert validate_org_code("71526726-X") == "71526726X"


class TestResidentId:
    def test_area_code_newer_than_the_birth_year_is_valid(self) -> None:
        # 510104 (锦江区) exists since 1990; people born earlier carry it on their IDs.
        number = make_resident_id("510104", dt.date(1972, 8, 1), 17)
        info = validate_resident_id(number, today=dt.date(2026, 11, 28))
        assert info.region_code == "510104"
        assert info.birth_date == dt.date(1972, 8, 1)

    @pytest.mark.parametrize(
        ("mutate", "error"),
        [
            (lambda n: n[:-1] + ("0" if n[-1] != "0" else "1"), "resident_id.checksum"),
            (lambda n: n[:10] + "1399" + n[14:], "resident_id.birth_date"),
            (lambda n: _ric_signed("999999" + n[6:]), "resident_id.region"),
            (lambda n: n[:17], "resident_id.length"),
            (lambda n: n[:5] + "A" + n[6:], "resident_id.format"),
        ],
    )
    def test_defects_are_named(self, mutate, error: str) -> None:  # type: ignore[no-untyped-def]
        number = make_resident_id("510105", dt.date(1990, 2, 3), 5)
        with pytest.raises(IdentifierError) as info:
            validate_resident_id(mutate(number), today=dt.date(2026, 11, 28))
        assert info.value.code == error

    def test_birth_in_the_future_is_refused(self) -> None:
        number = make_resident_id("510105", dt.date(2027, 1, 1), 5)
        with pytest.raises(IdentifierError):
            validate_resident_id(number, today=dt.date(2026, 11, 28))

    def test_mask_shows_only_first_and_last_four(self) -> None:
        assert mask_resident_id("51010419720801017X") == "5101**********017X"


class TestRegions:
    def test_all_of_sichuan_is_known(self) -> None:
        prefectures = regions.current_prefectures("51")
        assert len(prefectures) == 21
        assert {"成都市", "凉山彝族自治州", "阿坝藏族羌族自治州"} <= {p.name for p in prefectures}
        assert regions.name("510104") == "四川省成都市锦江区"

    def test_rest_of_china_and_old_codes_resolve(self) -> None:
        assert regions.name("110101") == "北京市东城区"
        assert regions.is_known("510122")  # 双流县, replaced by 双流区 in 2015
        assert not regions.get("510122").current  # type: ignore[union-attr]


class TestEmbeddedIds:
    def test_ids_inside_free_text_are_masked_whatever_their_check_digit(self) -> None:
        number = make_resident_id("510104", dt.date(1972, 8, 1), 17)
        broken = number[:-1] + ("1" if number[-1] == "0" else "0")
        text, found = mask_embedded_ids(f"当事人身份证号{number}，另一人{broken.lower()}。")
        assert found
        assert number not in text and broken not in text and broken.lower() not in text
        assert mask_resident_id(number) in text

    def test_uscc_and_other_numbers_are_left_alone(self) -> None:
        text = "统一社会信用代码915107274611019478，合同编号202611280000000001"
        assert mask_embedded_ids(text) == (text, False)
