from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Campaign, Household, Member, Profile, Village, VillagerGroup, WorkGroup, id_search_kind
from .services import CAMPAIGN_FIELDS, HOUSEHOLD_FIELDS, MEMBER_FIELDS, DomainError
from .validators import clean_id_number, not_in_future

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def apply_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal beside the field it names, or above the form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def mask_id_field(form: forms.ModelForm) -> None:
    """An existing member's full ID number is never put back into a page (personal-data
    rules): the form shows it masked and takes a complete new number only to correct it."""
    field = form.fields["id_number"]
    field.widget.attrs.update(autocomplete="off", spellcheck="false")
    if form.instance.pk:
        form.initial["id_number"] = ""
        field.required = False
        field.label = _("更正身份证号")
        field.help_text = _("当前：%(masked)s。如需更正，请输入完整的新号码；留空则不变。") % {
            "masked": form.instance.masked_id
        }


def clean_member_id(form: forms.ModelForm) -> str:
    typed = form.cleaned_data["id_number"]
    if form.instance.pk and not typed.strip():
        return form.instance.id_number
    return clean_id_number(typed)


class VersionedForm(forms.ModelForm):
    """Carries the version of the record the form was opened on, so that a stale save is refused."""

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.version


class HouseholdForm(VersionedForm):
    class Meta:
        model = Household
        fields = HOUSEHOLD_FIELDS
        widgets = {"dibao_since": DATE_INPUT}

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages
        if villages.count() == 1:
            self.fields["village"].initial = villages.first()
        self.fields["group"].queryset = VillagerGroup.objects.filter(village__in=villages).select_related("village")
        self.fields["phone"].widget.attrs.update(inputmode="tel")
        self.fields["monthly_amount"].widget.attrs.update(inputmode="decimal")

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not phone.replace("-", "").isdigit():
            raise forms.ValidationError(_("联系电话只能包含数字和“-”。"))
        return phone

    def clean(self):
        data = super().clean()
        group, village = data.get("group"), data.get("village")
        if group and village and group.village_id != village.id:
            self.add_error("group", _("所选村民小组不属于该村（社区）。"))
        if data.get("dibao_status") == Household.DibaoStatus.ACTIVE and not data.get("covered_persons"):
            self.add_error("covered_persons", _("在保家庭的保障人数至少为1。"))
        return data


class HeadForm(forms.Form):
    """The head of a new household: the minimum to register them."""

    head_name = forms.CharField(label=_("户主姓名"), max_length=30)
    head_id_number = forms.CharField(label=_("户主身份证号"), max_length=30)

    def clean_head_id_number(self):
        return clean_id_number(self.cleaned_data["head_id_number"])


class MemberForm(VersionedForm):
    class Meta:
        model = Member
        fields = MEMBER_FIELDS

    # Recorded for every member the office edits; the registry may still hold them empty.
    CHOSEN_FIELDS = ("marital_status", "education", "employment")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mask_id_field(self)
        for name in self.CHOSEN_FIELDS:
            self.fields[name].required = True
            self.fields[name].error_messages["required"] = _("请选择%(label)s。") % {"label": self.fields[name].label}

    def clean_id_number(self):
        return clean_member_id(self)

    def clean(self):
        data = super().clean()
        if data.get("disability_type") and not data.get("disability_grade"):
            self.add_error("disability_grade", _("请选择残疾等级。"))
        if data.get("health") == Member.Health.DISABLED and not data.get("disability_type"):
            self.add_error("disability_type", _("健康状况为残疾时，请选择残疾类别。"))
        return data


class NewMemberForm(MemberForm):
    joined_on = forms.DateField(label=_("迁入/出生日期"), widget=DATE_INPUT, validators=[not_in_future])
    reason = forms.CharField(label=_("新增原因"), max_length=200, help_text=_("如：出生、婚入、迁入"))


class MemberStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("变动类型"),
        choices=[(c.value, c.label) for c in Member.Status if c != Member.Status.PRESENT],
    )
    on = forms.DateField(label=_("变动日期"), widget=DATE_INPUT, validators=[not_in_future])
    reason = forms.CharField(label=_("变动原因"), max_length=200)
    new_head = forms.ModelChoiceField(
        label=_("新户主"),
        queryset=Member.objects.none(),
        required=False,
        help_text=_("户主变动时，从在户成员中指定新户主。"),
    )

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        others = member.household.members.filter(status=Member.Status.PRESENT).exclude(pk=member.pk)
        if member.relationship == Member.Relationship.HEAD and others.exists():
            self.fields["new_head"].queryset = others
            self.fields["new_head"].required = True
        else:
            del self.fields["new_head"]


class CampaignForm(VersionedForm):
    reason = forms.CharField(label=_("修改原因"), max_length=200, required=False)

    class Meta:
        model = Campaign
        fields = CAMPAIGN_FIELDS
        widgets = {"village_report_deadline": DATE_INPUT, "county_report_deadline": DATE_INPUT}

    def clean(self):
        data = super().clean()
        v, c = data.get("village_report_deadline"), data.get("county_report_deadline")
        if v and c and v > c:
            self.add_error("village_report_deadline", _("村级上报截止日不能晚于报县截止日。"))
        return data


class PhaseDatesForm(forms.Form):
    def __init__(self, *args, phases, **kwargs):
        super().__init__(*args, **kwargs)
        self.phases = list(phases)
        for p in self.phases:
            self.fields[f"start_{p.number}"] = forms.DateField(
                label=f"{p.name} 开始", initial=p.starts_on, widget=DATE_INPUT
            )
            self.fields[f"end_{p.number}"] = forms.DateField(
                label=f"{p.name} 结束", initial=p.ends_on, widget=DATE_INPUT
            )

    def dates(self):
        return {
            p.number: (self.cleaned_data[f"start_{p.number}"], self.cleaned_data[f"end_{p.number}"])
            for p in self.phases
        }


class HouseholdFilterForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"placeholder": "姓名或身份证号后几位", "type": "search"}),
    )
    village = forms.ModelChoiceField(
        label=_("村（社区）"),
        queryset=Village.objects.none(),
        required=False,
        to_field_name="code",
        empty_label="全部村（社区）",
    )
    category = forms.ChoiceField(
        label=_("类别"), required=False, choices=[("", "全部类别"), *Household.Category.choices]
    )
    status = forms.ChoiceField(
        label=_("低保状态"), required=False, choices=[("", "全部状态"), *Household.DibaoStatus.choices]
    )

    def __init__(self, *args, villages, may_search_id_fragments: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.may_search_id_fragments = may_search_id_fragments
        self.fields["village"].queryset = villages
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-control" if name == "q" else "form-select"

    def clean_q(self):
        text = self.cleaned_data["q"].strip().upper()
        if id_search_kind(text) == "fragment" and not self.may_search_id_fragments:
            # Roles that may not see full numbers could otherwise recover one digit by digit.
            raise forms.ValidationError(_("按身份证号查找时，请输入完整的18位号码或最后4位。"))
        return text


class AccountForm(forms.Form):
    """A new account for a person, bound to the area their role works in."""

    username = forms.RegexField(
        label=_("登录名"),
        max_length=30,
        regex=r"^[A-Za-z0-9_.-]{3,30}$",
        error_messages={"invalid": _("登录名为3至30位字母、数字或 _ . -。")},
    )
    display_name = forms.CharField(label=_("姓名"), max_length=30)
    role = forms.ChoiceField(label=_("角色"))
    village = forms.ModelChoiceField(label=_("村（社区）"), queryset=Village.objects.none(), required=False)
    work_group = forms.ModelChoiceField(label=_("工作组"), queryset=WorkGroup.objects.none(), required=False)

    def __init__(self, *args, roles_allowed, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in Profile.Role if r.value in roles_allowed]
        self.fields["village"].queryset = Village.objects.filter(town=campaign.town)
        self.fields["work_group"].queryset = campaign.work_groups.all()

    def clean_username(self):
        username = self.cleaned_data["username"]
        if re.fullmatch(r"[0-9]{15}|[0-9]{17}[0-9Xx]", username):
            # a login name shows in pages, addresses and the trail: never a person's ID number
            raise forms.ValidationError(_("登录名不能使用身份证号。"))
        return username


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)
