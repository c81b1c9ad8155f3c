"""What differs between two records of the same household's survey, field by field.

Used for a correction against the version it corrects, and by the re-visits of the
town and the county against the village survey.
"""

from __future__ import annotations

from decimal import Decimal

from .eligibility import INCOME_CATEGORIES
from .models import HEADER_FIELDS, Survey


def flatten(survey: Survey) -> dict[str, str]:
    """Every recorded value of a version under a readable label, for the differences view."""
    out: dict[str, str] = {}
    for name in HEADER_FIELDS:
        field = Survey._meta.get_field(name)
        value = getattr(survey, f"get_{name}_display")() if field.choices else getattr(survey, name)
        if isinstance(value, bool):
            value = "是" if value else "否"
        elif isinstance(value, (Decimal, int)) and hasattr(field, "decimal_places"):
            # 0 from a new draft and 0.00 from the database are the same amount
            value = Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places))
        out[str(field.verbose_name)] = "" if value in (None, "") else str(value)
    for m in survey.members.all():
        out[f"{m.name}：核实情况"] = m.get_presence_display()
        out[f"{m.name}：共同生活"] = "是" if m.co_resident else "否"
        for i in m.incomes.all():
            out[f"{m.name}：{INCOME_CATEGORIES[i.category]}"] = str(i.amount)
    for d in survey.deductions.all():
        out[f"扣减：{d.get_kind_display()}"] = str(d.amount)
    for n, v in enumerate(survey.vehicles.all(), start=1):
        out[f"车辆{n}"] = f"{v.get_kind_display()}×{v.count}{'（残疾人代步车）' if v.disability_vehicle else ''}"
    for n, h in enumerate(survey.houses.all(), start=1):
        out[f"住房{n}"] = f"{h.get_kind_display()} {h.count}套 {h.area}㎡"
    for s in survey.supporters.all():
        out[f"赡养义务人{s.name}"] = f"{s.relationship} {s.age}岁 年收入{s.annual_income}元 家庭{s.household_size}人"
    return out


def differences(old: Survey, new: Survey) -> list[tuple[str, str, str]]:
    a, b = flatten(old), flatten(new)
    return [(k, a.get(k, ""), b.get(k, "")) for k in dict.fromkeys([*a, *b]) if a.get(k, "") != b.get(k, "")]
