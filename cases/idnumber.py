"""Chinese resident ID numbers (GB 11643-1999), framework-free.

`normalize_id` turns what people type or spreadsheets hold into the canonical
18-character form, or raises `IdNumberError` with a Chinese message that says
what is wrong. It never guesses: a number that lost digits in a spreadsheet is
refused, not repaired.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# The first two digits are a province (GB/T 2260). County codes are not checked:
# a number keeps the code of the county that issued it, even after that county is gone.
PROVINCE_CODES = frozenset(
    f"{code:02d}"
    for code in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        *range(81, 84),
    )
)

_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$")


class IdNumberError(ValueError):
    """The ID number is not valid; `str(error)` is a Chinese explanation."""


@dataclass(frozen=True)
class IdInfo:
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"
    area_code: str
    upgraded_from_15: bool
    had_full_width: bool


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def _check_province(number: str) -> None:
    if number[:2] not in PROVINCE_CODES:
        raise IdNumberError(f"身份证号前两位“{number[:2]}”不是有效的省级行政区划代码。")


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def parse_id(raw: object, *, today: dt.date | None = None) -> IdInfo:
    """Validate and normalise one ID number; raise IdNumberError if invalid."""
    if raw is None:
        raise IdNumberError("身份证号不能为空。")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raise IdNumberError("身份证号被存成了数字，末几位已经丢失。请把该列设置为“文本”格式后重新输入完整号码。")
    original = str(raw)
    text = unicodedata.normalize("NFKC", original)
    had_full_width = text != original
    text = re.sub(r"\s+", "", text).upper()
    if not text:
        raise IdNumberError("身份证号不能为空。")
    if _SCIENTIFIC.match(text) or re.fullmatch(r"\d+\.\d+", text):
        raise IdNumberError(
            f"身份证号“{original.strip()}”是数字格式（精度已丢失），请把该列设置为“文本”格式后重新输入完整号码。"
        )
    upgraded = False
    if len(text) == 15:
        if not text.isdigit():
            raise IdNumberError("15位身份证号只能由数字组成。")
        first17 = text[:6] + "19" + text[6:]
        text = first17 + check_char(first17)
        upgraded = True
    if len(text) != 18:
        raise IdNumberError(f"身份证号应为18位（或旧的15位），现在是{len(text)}位。")
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise IdNumberError("身份证号前17位必须是数字，最后一位是数字或X。")
    _check_province(text)
    birth = _parse_date(text[6:14])
    if birth is None:
        raise IdNumberError(f"身份证号中的出生日期{text[6:14]}不是真实的日期。")
    today = today or dt.date.today()
    if birth > today:
        raise IdNumberError(f"身份证号中的出生日期{birth:%Y年%m月%d日}在今天之后。")
    if birth.year < 1880:
        raise IdNumberError(f"身份证号中的出生年份{birth.year}不合理。")
    expected = check_char(text[:17])
    if text[17] != expected:
        raise IdNumberError("身份证号校验位不正确，请核对号码是否抄错。")
    sex = "M" if int(text[16]) % 2 == 1 else "F"
    return IdInfo(
        number=text,
        birth_date=birth,
        sex=sex,
        area_code=text[:6],
        upgraded_from_15=upgraded,
        had_full_width=had_full_width,
    )


def normalize_id(raw: object, *, today: dt.date | None = None) -> str:
    return parse_id(raw, today=today).number


def mask_id(number: str) -> str:
    """340225********123X: area code and last four only, for lists and exports."""
    if not number:
        return ""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def make_id(area_code: str, birth: dt.date, sequence: int) -> str:
    """Build a valid synthetic number (demo data and tests)."""
    _check_province(area_code)
    first17 = f"{area_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
