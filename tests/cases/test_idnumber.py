import datetime as dt

import pytest

from cases.idnumber import IdNumberError, check_char, make_id, mask_id, parse_id


def test_it_accepts_the_two_reference_examples():
    female = parse_id("11010519491231002X")
    assert female.number == "11010519491231002X"
    assert female.sex == "F"
    assert female.birth_date == dt.date(1949, 12, 31)
    male = parse_id("440524188001010014")
    assert male.sex == "M"
    assert male.birth_date == dt.date(1880, 1, 1)


def test_it_rejects_a_wrong_check_character():
    with pytest.raises(IdNumberError, match="校验位"):
        parse_id("110105194912310021")


@pytest.mark.parametrize("date", ["19000229", "20190229"])
def test_it_rejects_february_29_in_a_non_leap_year(date):
    first17 = f"340225{date}123"
    with pytest.raises(IdNumberError, match="不是真实的日期"):
        parse_id(first17 + check_char(first17))


def test_it_accepts_february_29_in_a_leap_year():
    assert parse_id(make_id("340225", dt.date(2000, 2, 29), 123)).birth_date == dt.date(2000, 2, 29)


def test_it_rejects_a_birth_date_in_the_future():
    number = make_id("340225", dt.date(2030, 1, 1), 123)
    with pytest.raises(IdNumberError, match="在今天之后"):
        parse_id(number, today=dt.date(2026, 11, 28))


def test_it_upgrades_a_15_digit_number():
    info = parse_id("340225800101123")
    first17 = "34022519800101123"
    assert info.number == first17 + check_char(first17)
    assert info.upgraded_from_15
    assert info.birth_date == dt.date(1980, 1, 1)
    assert info.sex == "M"


def test_it_stores_lowercase_x_as_uppercase():
    assert parse_id("11010519491231002x").number == "11010519491231002X"


def test_it_normalises_full_width_digits_and_spaces():
    info = parse_id("１１０１０５ １９４９１２３１００２Ｘ")
    assert info.number == "11010519491231002X"
    assert info.had_full_width


@pytest.mark.parametrize("raw", [3.40225e17, 340225198001011234, "3.40225E+17", "3.40225198001011E+17"])
def test_it_refuses_numbers_that_lost_precision(raw):
    with pytest.raises(IdNumberError, match="文本"):
        parse_id(raw)


@pytest.mark.parametrize("raw", ["", "12345", "34022519800101123", "3402251980010112345", "34022519800101ABC4"])
def test_it_rejects_malformed_numbers(raw):
    with pytest.raises(IdNumberError):
        parse_id(raw)


def test_it_accepts_an_unknown_county_code_in_a_real_province():
    # 34 is 安徽; 349999 is no county, but numbers keep the code they were issued under
    number = make_id("349999", dt.date(1980, 1, 1), 2)
    assert parse_id(number).sex == "F"


@pytest.mark.parametrize("area_code", ["340225", "341422", "340281"])
def test_it_accepts_the_three_wuwei_area_codes(area_code):
    number = make_id(area_code, dt.date(1965, 7, 1), 123)
    assert parse_id(number).area_code == area_code


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_it_accepts_the_reference_examples_under_the_province_check(number):
    assert parse_id(number).number == number


@pytest.mark.parametrize("province", [11, 15, 21, 23, 31, 37, 41, 46, 50, 54, 61, 65, 71, 81, 83])
def test_it_accepts_each_end_of_every_province_range(province):
    first17 = f"{province}0101" + "19800101" + "123"
    assert parse_id(first17 + check_char(first17)).area_code == f"{province}0101"


@pytest.mark.parametrize("province", ["99", "00", "10", "20", "16", "72", "84", "91", "38", "47", "55", "66"])
def test_it_refuses_a_number_whose_first_two_digits_are_no_province(province):
    first17 = f"{province}0225" + "19800101" + "123"
    number = first17 + check_char(first17)  # the check character is right
    with pytest.raises(IdNumberError) as error:
        parse_id(number)
    assert str(error.value) == f"身份证号前两位“{province}”不是有效的省级行政区划代码。"


def test_it_refuses_a_15_digit_number_whose_first_two_digits_are_no_province():
    with pytest.raises(IdNumberError, match="前两位“99”不是有效的省级行政区划代码"):
        parse_id("990225800101123")


def test_it_refuses_to_make_a_number_that_would_not_validate():
    with pytest.raises(IdNumberError, match="前两位“99”"):
        make_id("999999", dt.date(1980, 1, 1), 2)


def test_it_masks_all_but_area_code_and_last_four():
    assert mask_id("34022519800101123X") == "340225********123X"
    assert mask_id("") == ""
