"""The training session's form: date, place, topic, and how many came from each village."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms import _required, date_field

MAX_ATTENDEES = 999


def _count_field(label) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=MAX_ATTENDEES,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": MAX_ATTENDEES}),
        error_messages={
            "invalid": _("请填写人数（整数）。"),
            "min_value": _("人数不能为负数。"),
            "max_value": _("人数不能超过999人。"),
        },
    )


class TrainingForm(forms.Form):
    held_on = date_field(_("培训日期"))
    place = forms.CharField(label=_("培训地点"), max_length=100, error_messages=_required("培训地点"))
    topic = forms.CharField(
        label=_("培训内容"),
        max_length=200,
        error_messages=_required("培训内容"),
        help_text=_("如：低保政策与入户调查表填写"),
    )
    town_attendees = _count_field(_("镇机关参加人数"))

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.villages = list(villages)
        for village in self.villages:
            self.fields[self.village_field(village)] = _count_field(village.name)

    @staticmethod
    def village_field(village) -> str:
        return f"village_{village.code}"

    def village_fields(self):
        """The bound fields of the villages' counts, in the villages' order (for the template)."""
        return [self[self.village_field(v)] for v in self.villages]

    def attendance(self) -> dict:
        """Village → attendees, from the cleaned data (blank counts as 0)."""
        return {v: self.cleaned_data.get(self.village_field(v)) or 0 for v in self.villages}

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "held_on": data["held_on"],
            "place": data["place"],
            "topic": data["topic"],
            "town_attendees": data.get("town_attendees") or 0,
            "attendance": self.attendance(),
        }
