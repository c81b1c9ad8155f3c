from django.core.exceptions import ValidationError
from django.utils import timezone

from .idnumber import IdNumberError, normalize_id


def clean_id_number(value: str) -> str:
    try:
        return normalize_id(value)
    except IdNumberError as exc:
        raise ValidationError(str(exc)) from exc


def not_in_future(value):
    if value and value > timezone.localdate():
        raise ValidationError("日期不能晚于今天。")
    return value
