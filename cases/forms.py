from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .models import (
    Campaign,
    Complaint,
    GreenChannel,
    Household,
    Member,
    Profile,
    TemporaryAid,
    Village,
    VillagerGroup,
    WorkGroup,
    id_search_kind,
)
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
        village, town, county = (data.get(f"aid_{level}_limit") for level in ("village", "town", "county"))
        if village is not None and town is not None and village > town:
            self.add_error("aid_village_limit", _("村级先行救助限额不能高于镇级审批限额。"))
        if town is not None and county is not None and town > county:
            self.add_error("aid_town_limit", _("镇级审批限额不能高于县级审批限额。"))
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


class QuickSelect(forms.Select):
    """A single select with Django's markup, written in Python: a list page's filters went
    through Django's widget templates, one per option (1.5 ms of the household list's 10).
    Choices in groups are left to Django."""

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(self.choices)
        if any(isinstance(label, (list, tuple)) for _value, label in choices):
            return super().render(name, value, attrs, renderer)
        chosen = {str(v) for v in self.format_value(value)}
        options = []
        for option_value, label in choices:
            option_value = "" if option_value is None else str(option_value)
            selected = " selected" if option_value in chosen else ""
            options.append(f'<option value="{escape(option_value)}"{selected}>{escape(label)}</option>')
        final_attrs = self.build_attrs(self.attrs, attrs)
        return mark_safe(f'<select name="{escape(name)}"{flatatt(final_attrs)}>{"".join(options)}</select>')  # noqa: S308


class _ChoicesReadOnce(forms.models.ModelChoiceIterator):
    """The choices from the field's queryset, read once and kept on it (Django's iterator reads
    them anew, through a server-side cursor on PostgreSQL, every time the select renders)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)

    def __len__(self):
        # from the rows read (Django's counts them with a query of their own)
        return len(self.queryset) + (self.field.empty_label is not None)


class ListedModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField for a short list (villages, work groups) shown as a select."""

    iterator = _ChoicesReadOnce
    widget = QuickSelect


class HouseholdFilterForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"placeholder": "姓名或身份证号后几位", "type": "search"}),
    )
    village = ListedModelChoiceField(
        label=_("村（社区）"),
        queryset=Village.objects.none(),
        required=False,
        to_field_name="code",
        empty_label="全部村（社区）",
    )
    category = forms.ChoiceField(
        label=_("类别"), required=False, choices=[("", "全部类别"), *Household.Category.choices], widget=QuickSelect
    )
    status = forms.ChoiceField(
        label=_("低保状态"),
        required=False,
        choices=[("", "全部状态"), *Household.DibaoStatus.choices],
        widget=QuickSelect,
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


# --- 抓调整 and complaints ---------------------------------------------------------------------

MONTH_INPUT = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")


def _required(label, verb: str = "填写") -> dict:
    return {"required": format_lazy("请{}{}。", verb, label)}


def money_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={
            **_required(label),
            "invalid": _("请填写金额，如 500 或 500.00。"),
            "min_value": _("金额须大于0元。"),
            "max_decimal_places": _("金额最多两位小数。"),
            "max_digits": _("金额过大。"),
            "max_whole_digits": _("金额过大。"),
        },
    )


def date_field(label: str, *, required: bool = True, help_text: str = "", **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DATE_INPUT,
        help_text=help_text,
        error_messages={**_required(label), "invalid": _("请填写正确的日期，如 2019-11-06。")},
        **kwargs,
    )


class HouseholdPickForm(forms.Form):
    """Find the household a record is about by a member's name (never by ID number here)."""

    q = forms.CharField(
        label=_("查找家庭（成员姓名）"),
        max_length=30,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "如：张建国"}),
    )

    def clean_q(self):
        text = self.cleaned_data["q"].strip()
        if id_search_kind(text):
            raise forms.ValidationError(_("请按姓名查找；按身份证号查找请到家庭花名册。"))
        return text


class GreenAcceptForm(forms.Form):
    member = forms.ModelChoiceField(
        label=_("重病/重残成员"),
        queryset=Member.objects.none(),
        to_field_name="public_id",
        error_messages=_required("重病或重残的成员", "选择"),
    )
    ground = forms.ChoiceField(
        label=_("情形"),
        choices=GreenChannel.Ground.choices,
        widget=forms.RadioSelect,
        error_messages=_required("情形", "选择"),
    )
    accepted_on = date_field(_("受理日期"))
    commitment_on = date_field(_("承诺书签署日期"), help_text=_("申请人承诺在期限内补齐材料、所报情况属实"))
    consent_on = date_field(_("村委会同意日期"))
    consent_note = forms.CharField(label=_("村委会意见"), max_length=200, required=False)
    missing_documents = forms.CharField(
        label=_("容缺材料"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "每行一项，如：\n残疾证复印件\n住院病历"}),
        help_text=_("尚缺的次要材料，每行一项；材料齐全时留空"),
    )
    documents_due = date_field(_("补交期限"), required=False, help_text=_("有容缺材料时必填"))

    def __init__(self, *args, household: Household, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = household.members.filter(status=Member.Status.PRESENT).order_by(
            "relationship", "id"
        )
        self.fields["member"].label_from_instance = lambda m: (
            f"{m.name}（{m.get_relationship_display()}，{m.get_health_display()}）"
        )
        self.fields["accepted_on"].initial = timezone.localdate()


class GreenDocumentsForm(forms.Form):
    received_on = date_field(_("材料补齐日期"))


class GreenLapseForm(forms.Form):
    reason = forms.CharField(
        label=_("终止原因"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages=_required("终止原因"),
        help_text=_("将告知申请人"),
    )


class GreenApproveForm(forms.Form):
    approved_on = date_field(_("审批日期"))
    covered_persons = forms.IntegerField(
        label=_("保障人数"),
        min_value=1,
        max_value=99,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={
            **_required("保障人数"),
            "invalid": _("保障人数须为整数。"),
            "min_value": _("保障人数至少为1。"),
        },
    )
    monthly_amount = money_field(_("月保障金（元）"))
    effective_from = forms.DateField(
        label=_("执行起始月"),
        required=False,
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=MONTH_INPUT,
        help_text=_("留空为审批的次月"),
        error_messages={"invalid": _("请填写年月，如 2019-12。")},
    )


class GreenReviewForm(forms.Form):
    review_on = date_field(_("民主评议日期"))
    attendance = forms.IntegerField(
        label=_("参加人数"),
        min_value=1,
        max_value=9999,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={**_required("参加评议的人数"), "invalid": _("人数须为整数。"), "min_value": _("人数至少为1。")},
    )
    result = forms.ChoiceField(
        label=_("评议结果"),
        choices=GreenChannel.ReviewResult.choices,
        widget=forms.RadioSelect,
        error_messages=_required("评议结果", "选择"),
    )
    note = forms.CharField(
        label=_("评议情况"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class AidForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("救助类型"),
        choices=TemporaryAid.Kind.choices,
        widget=forms.RadioSelect,
        error_messages=_required("救助类型", "选择"),
        help_text=_("急难型：已先行救助，补录；支出型：按程序申请，村审核、镇审批，超过镇级限额报县审批"),
    )
    person = forms.CharField(label=_("受助人"), max_length=30, error_messages=_required("受助人姓名"))
    village = forms.ModelChoiceField(
        label=_("村（社区）"),
        queryset=Village.objects.none(),
        to_field_name="code",
        error_messages=_required("村（社区）", "选择"),
    )
    reason = forms.CharField(
        label=_("救助事由"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages=_required("救助事由"),
    )
    amount = money_field(_("金额（元）"), help_text=_("急难型：已先行发放的金额；支出型：申请金额"))
    handler = forms.CharField(label=_("经办人"), max_length=30, required=False, help_text=_("急难型必填：谁发放的"))
    helped_on = date_field(_("先行救助日期"), required=False, help_text=_("急难型必填"))
    referral = forms.CharField(
        label=_("转介其他救助"), max_length=200, required=False, help_text=_("如：医疗救助、教育救助、慈善援助")
    )

    def __init__(self, *args, villages, household: Household | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if household is not None:
            del self.fields["village"]
        else:
            self.fields["village"].queryset = villages

    def clean(self):
        data = super().clean()
        if data.get("kind") == TemporaryAid.Kind.EMERGENCY:
            if not data.get("handler", "").strip():
                self.add_error("handler", _("急难型先行救助须填写经办人。"))
            if not data.get("helped_on") and "helped_on" not in self.errors:
                self.add_error("helped_on", _("急难型先行救助须填写救助日期。"))
        return data


class AidVillageReviewForm(forms.Form):
    agree = forms.TypedChoiceField(
        label=_("村级审核意见"),
        choices=[("1", _("同意，报镇审批")), ("0", _("不同意"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        error_messages=_required("审核意见", "选择"),
    )
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class AidDecisionForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("审批意见"),
        choices=[("1", _("批准")), ("0", _("不予救助"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        error_messages=_required("审批意见", "选择"),
    )
    amount = money_field(_("批准金额（元）"), required=False)
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class AidPaymentForm(forms.Form):
    paid_on = date_field(_("发放日期"))
    amount = money_field(_("发放金额（元）"))


class ComplaintForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("受理渠道"), choices=Complaint.Channel.choices, error_messages=_required("受理渠道", "选择")
    )
    received_on = date_field(_("受理日期"))
    anonymous = forms.BooleanField(label=_("匿名举报"), required=False)
    reporter = forms.CharField(label=_("举报人"), max_length=30, required=False, help_text=_("实名举报必填"))
    contact = forms.CharField(
        label=_("联系方式"),
        max_length=50,
        required=False,
        help_text=_("实名举报必填，用于答复"),
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    subject = forms.ChoiceField(
        label=_("举报对象"),
        choices=Complaint.Subject.choices,
        widget=forms.RadioSelect,
        error_messages=_required("举报对象", "选择"),
    )
    subject_name = forms.CharField(
        label=_("被举报人姓名"), max_length=30, required=False, help_text=_("个人或干部必填")
    )
    village = forms.ModelChoiceField(
        label=_("所在村（社区）"), queryset=Village.objects.none(), to_field_name="code", required=False
    )
    content = forms.CharField(
        label=_("举报内容"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        error_messages=_required("举报内容"),
    )
    handler = forms.ModelChoiceField(
        label=_("承办人"),
        queryset=None,
        to_field_name="username",
        error_messages=_required("承办人", "选择"),
    )
    due_on = date_field(_("办理期限"), required=False, help_text=_("留空按行动设置的办理时限"))

    def __init__(self, *args, villages, handlers, household: Household | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages
        self.fields["handler"].queryset = handlers
        self.fields["handler"].label_from_instance = lambda u: u.profile.display_name or u.username
        self.fields["received_on"].initial = timezone.localdate()
        if household is not None:
            del self.fields["village"]
            self.fields["subject"].initial = Complaint.Subject.HOUSEHOLD
        else:
            self.fields["subject"].choices = [
                c for c in Complaint.Subject.choices if c[0] != Complaint.Subject.HOUSEHOLD
            ]

    def clean(self):
        data = super().clean()
        if not data.get("anonymous"):
            if not data.get("reporter", "").strip():
                self.add_error("reporter", _("实名举报须填写举报人姓名；不愿留名的请勾选“匿名举报”。"))
            if not data.get("contact", "").strip():
                self.add_error("contact", _("实名举报须留联系方式，以便答复举报人。"))
        return data


class ComplaintNoteForm(forms.Form):
    text = forms.CharField(
        label=_("核查情况"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        error_messages=_required("核查情况"),
    )


class ComplaintResultForm(forms.Form):
    finding = forms.ChoiceField(
        label=_("核查结论"),
        choices=Complaint.Finding.choices,
        widget=forms.RadioSelect,
        error_messages=_required("核查结论", "选择"),
    )
    result = forms.CharField(
        label=_("处理结果"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        error_messages=_required("处理结果"),
    )


class ComplaintReplyForm(forms.Form):
    replied_on = date_field(_("答复日期"))
    reply_channel = forms.ChoiceField(
        label=_("答复方式"), choices=Complaint.Channel.choices, error_messages=_required("答复方式", "选择")
    )
    reply = forms.CharField(
        label=_("答复内容"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        error_messages=_required("答复内容"),
    )


class StatusFilterForm(forms.Form):
    """A list's status and (for those who see several villages) village filters."""

    status = forms.ChoiceField(label=_("状态"), required=False)
    village = forms.ModelChoiceField(
        label=_("村（社区）"),
        queryset=Village.objects.none(),
        required=False,
        to_field_name="code",
        empty_label="全部村（社区）",
    )

    def __init__(self, *args, statuses: dict[str, str], villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = list(statuses.items())
        self.fields["village"].queryset = villages
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"
