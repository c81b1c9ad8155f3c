from __future__ import annotations

import copy
from decimal import Decimal
from html import escape
from typing import NamedTuple

from django import forms
from django.contrib.auth import get_user_model
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cases.forms import DATE_INPUT
from cases.models import Member
from cases.validators import clean_id_number, not_in_future

from .eligibility import COUNTED_INCOME, DEDUCTIONS, EXCLUDED_INCOME, INCOME_CATEGORIES
from .models import Revisit, ScreeningEntry, Survey, SurveyHouse, SurveyMember, SurveySupporter, SurveyVehicle
from .revisits import REVISIT_FIELDS, RevisitInput, RevisitMemberInput
from .services import HEADER_FIELDS, MemberInput, SurveyInput, row_values

AMOUNT = {
    "required": False,
    "min_value": Decimal("0"),
    "max_digits": 12,
    "decimal_places": 2,
    "widget": forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"}),
}
# The keyboard a phone shows: digits and a decimal point, or digits only.
DECIMAL_INPUT = forms.NumberInput(attrs={"inputmode": "decimal"})
WHOLE_NUMBER_INPUT = forms.NumberInput(attrs={"inputmode": "numeric"})


def _attrs(attrs: dict) -> str:
    """HTML attributes, escaped: True gives a bare attribute, False and None leave it out."""
    return "".join(
        f" {name}" if value is True else f' {name}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not None and value is not False
    )


# the attributes BootstrapField sets on each control itself
_PER_FORM_ATTRS = frozenset({"name", "id", "class", "required", "aria-invalid", "aria-describedby", "value", "checked"})


class _FieldText(NamedTuple):
    owner: int  # id() of the field it was made for: a copy of the field (`_replaced`) makes its own
    language: str
    label: str  # escaped, as are the others
    help_text: str
    options: tuple[tuple[str, str, str], ...]  # (value, value escaped, text escaped)
    widget_attrs: str | None  # the widget's own attributes (None: some are set per form instead)


class BootstrapField(forms.BoundField):
    """A field in Bootstrap 5 markup, with its label, help text and errors beside it.

    Written in Python with the standard library's escape: the survey form has ~180
    fields, and rendering each through templates (crispy's, or Django's widget
    templates) or format_html took most of the page's server time. The widget's
    own attrs (maxlength, min, step, inputmode, rows) are kept. It covers the
    widgets these forms use: text, number, date, select, checkbox, textarea, hidden,
    and a group of checkboxes.
    """

    def _static(self) -> _FieldText:
        """The field's label, help text and select options, escaped: the same for every form
        that shares the field (SharedFields), so read (and translated) once per language."""
        field, form = self.field, self.form
        # the language once per form: read for each field, it cost a quarter of their rendering
        language = form.__dict__.get("_bootstrap_language") or form.__dict__.setdefault(
            "_bootstrap_language", get_language()
        )
        cached = field.__dict__.get("_bootstrap_text")
        if cached is None or cached.owner != id(field) or cached.language != language:
            options = ()
            if self.widget_type == "select" and not isinstance(field, forms.ModelChoiceField):
                options = tuple((str(v), escape(str(v)), escape(str(text))) for v, text in field.choices)
            own = field.widget.attrs
            widget_attrs = None if _PER_FORM_ATTRS.intersection(own) else _attrs(own)
            cached = _FieldText(
                id(field), language, escape(str(self.label)), escape(str(field.help_text)), options, widget_attrs
            )
            field.__dict__["_bootstrap_text"] = cached
        return cached

    def as_bootstrap(self) -> SafeString:
        field_id, kind = self.auto_id, self.widget_type
        if kind == "hidden":
            return SafeString(self._control(kind, {"name": self.html_name, "id": field_id}))  # escaped
        if kind == "checkboxselectmultiple":
            return self._checkbox_group(field_id)
        # form.errors holds only the fields with errors; self.errors would build an empty list for each field.
        errors = self.form.errors.get(self.name)
        text = self._static()
        help_text = text.help_text
        css = {"select": "form-select", "checkbox": "form-check-input"}.get(kind, "form-control")
        described_by = [f"{field_id}_helptext"] if help_text else []
        if errors:
            described_by.append(f"{field_id}_error")
        control = self._control(
            kind,
            {
                "name": self.html_name,
                "id": field_id,
                "class": f"{css} is-invalid" if errors else css,
                "required": self.field.required
                and self.form.use_required_attribute
                and self.field.widget.use_required_attribute(self.initial),
                "aria-invalid": "true" if errors else None,
                "aria-describedby": " ".join(described_by) or None,
            },
            text,
        )
        label_class = "form-check-label" if kind == "checkbox" else "form-label"
        parts = [f'<label class="{label_class}" for="{field_id}">{text.label}</label>', control]
        if kind == "checkbox":
            parts.reverse()
        if help_text:
            parts.append(f'<div class="form-text" id="{field_id}_helptext">{help_text}</div>')
        if errors:
            parts.append(f'<div class="invalid-feedback" id="{field_id}_error">{escape(" ".join(errors))}</div>')
        wrapper = "form-check mb-3" if kind == "checkbox" else "mb-3"
        return SafeString(f'<div class="{wrapper}">{"".join(parts)}</div>')  # every value is escaped

    def _checkbox_group(self, field_id: str) -> SafeString:
        """Checkboxes in a fieldset, laid out as crispy-forms lays them out. A model field's
        choices are read with one plain query (Django's choice iterator opens a server-side
        cursor on PostgreSQL: three round trips for a handful of rows)."""
        field, errors = self.field, self.form.errors.get(self.name)
        if isinstance(field, forms.ModelChoiceField):
            # the objects the view read already, if it gave them (see InvestigatorsForm)
            objects = getattr(self.form, "loaded", {}).get(self.name)
            objects = field.queryset if objects is None else objects
            choices = [(field.prepare_value(obj), field.label_from_instance(obj)) for obj in objects]
        else:
            choices = field.choices
        chosen = {str(v) for v in self.value() or []}
        css = "form-check-input is-invalid" if errors else "form-check-input"
        options = "".join(
            f'<div class="form-check"><input type="checkbox" class="{css}" name="{self.html_name}"'
            f' value="{escape(str(v))}" id="{field_id}_{i}"{" checked" if str(v) in chosen else ""}>'
            f'<label for="{field_id}_{i}" class="form-check-label">{escape(str(text))}</label></div>'
            for i, (v, text) in enumerate(choices)
        )
        legend_class = "form-label requiredField fs-6" if field.required else "form-label fs-6"
        mark = '<span class="asteriskField">*</span>' if field.required else ""
        legend = f'<legend class="{legend_class}">{escape(str(self.label))}{mark}</legend>'
        if errors:
            options += f'<div class="invalid-feedback d-block" id="{field_id}_error">{escape(" ".join(errors))}</div>'
        html = f'<div id="div_{field_id}" class="mb-3"><fieldset>{legend}<div>{options}</div></fieldset></div>'
        return SafeString(html)  # every value is escaped

    def _control(self, kind: str, attrs: dict, text: _FieldText | None = None) -> str:
        widget, value = self.field.widget, self.value()
        text = text or self._static()
        own = text.widget_attrs
        if own is None:
            attrs, own = {**widget.attrs, **attrs}, ""
        if kind == "select":
            chosen = "" if value is None else str(value)
            if isinstance(self.field, forms.ModelChoiceField):
                choices = [(str(v), escape(str(v)), escape(str(t))) for v, t in self.field.choices]
            else:
                choices = text.options
            options = "".join(
                f'<option value="{v}"{" selected" if raw == chosen else ""}>{t}</option>' for raw, v, t in choices
            )
            return f"<select{own}{_attrs(attrs)}>{options}</select>"
        if kind == "textarea":
            return f"<textarea{own}{_attrs(attrs)}>\n{escape(widget.format_value(value) or '')}</textarea>"
        if kind == "checkbox":
            attrs["checked"] = widget.check_test(value)
        else:
            attrs["value"] = widget.format_value(value)
        return f'<input type="{widget.input_type}"{own}{_attrs(attrs)}>'


class SharedFields(dict):
    """A form class's fields, shared by the forms made from it instead of copied for each (as
    Django does, field by field and option by option: a sixth of the survey page's time, which
    makes some 30 forms). Each form still has a dict of its own, so a formset may add its
    fields; but no form of these classes may change a field in place: it replaces the field
    with a copy (see SurveyHeaderForm and MemberRowForm)."""

    def __deepcopy__(self, memo):
        return {
            name: copy.deepcopy(field, memo) if isinstance(field, forms.ModelChoiceField) else field
            for name, field in self.items()
        }


def share_fields(form_class):
    form_class.base_fields = SharedFields(form_class.base_fields)
    return form_class


def _replaced(form: forms.BaseForm, name: str, **changes) -> forms.Field:
    """A copy of the form's field with `changes`, for this form only (see SharedFields)."""
    field = copy.copy(form.fields[name])
    for attribute, value in changes.items():
        setattr(field, attribute, value)
    form.fields[name] = field
    return field


@share_fields
class SurveyHeaderForm(forms.ModelForm):
    bound_field_class = BootstrapField

    class Meta:
        model = Survey
        fields = HEADER_FIELDS
        widgets = {
            "visit_date": DATE_INPUT,
            "flat_purchased_on": DATE_INPUT,
            "major_build_on": DATE_INPUT,
            "covered_persons": WHOLE_NUMBER_INPUT,
            "deposits": DECIMAL_INPUT,
            "securities": DECIMAL_INPUT,
            "commercial_insurance": DECIMAL_INPUT,
            "money_owed": DECIMAL_INPUT,
            "shop_fronts": WHOLE_NUMBER_INPUT,
            "dibao_reason": forms.Textarea(attrs={"rows": 2}),
            "findings": forms.Textarea(attrs={"rows": 2}),
            "committee_opinion": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, survey: Survey, **kwargs):
        super().__init__(*args, instance=survey, **kwargs)
        if survey.form == Survey.Form.B:
            _replaced(self, "dibao_reason", widget=forms.HiddenInput())

    def clean(self):
        data = super().clean()
        causes = [c for c in (data.get("main_cause"), data.get("second_cause"), data.get("third_cause")) if c]
        if len(causes) != len(set(causes)):
            self.add_error("second_cause", _("致困原因不能重复选择。"))
        if (data.get("second_cause") or data.get("third_cause")) and not data.get("main_cause"):
            self.add_error("main_cause", _("请先选择主要致困原因。"))
        return data


SurveyHeaderForm.base_fields["visit_date"].validators.append(not_in_future)


@share_fields
class MemberRowForm(forms.Form):
    """One member of the household as found at the visit, with their 12-month income."""

    bound_field_class = BootstrapField

    member = forms.IntegerField(required=False, widget=forms.HiddenInput())
    name = forms.CharField(label=_("姓名"), max_length=30, required=False)
    id_number = forms.CharField(label=_("身份证号"), max_length=30, required=False)
    relationship = forms.ChoiceField(
        label=_("与户主关系"), choices=[("", "—"), *Member.Relationship.choices], required=False
    )
    presence = forms.ChoiceField(label=_("核实情况"), choices=SurveyMember.Presence.choices)
    change_date = forms.DateField(label=_("变动日期"), required=False, widget=DATE_INPUT, validators=[not_in_future])
    change_reason = forms.CharField(label=_("变动说明"), max_length=200, required=False)
    co_resident = forms.BooleanField(label=_("共同生活（计入家庭人口）"), required=False, initial=True)
    left_out_reason = forms.ChoiceField(label=_("不计入原因"), choices=SurveyMember.LeftOut.choices, required=False)

    income_fields = [f"inc_{c}" for c in {**COUNTED_INCOME, **EXCLUDED_INCOME}]

    def __init__(self, *args, registered: dict[int, Member], **kwargs):
        super().__init__(*args, **kwargs)
        self.registered = registered
        if not self.initial:
            # The blank row for a new member: untouched, it posts its initial values and is skipped.
            _replaced(self, "presence", initial=SurveyMember.Presence.NEW)

    # The income inputs by group, in the order of the paper form.
    @property
    def counted_incomes(self) -> list[forms.BoundField]:
        return [self[f"inc_{c}"] for c in COUNTED_INCOME]

    @property
    def excluded_incomes(self) -> list[forms.BoundField]:
        return [self[f"inc_{c}"] for c in EXCLUDED_INCOME]

    @property
    def registered_member(self) -> Member | None:
        value = self.initial.get("member") or (self.data.get(self.add_prefix("member")) if self.is_bound else None)
        try:
            return self.registered.get(int(value)) if value else None
        except (TypeError, ValueError):
            return None

    def clean(self):
        data = super().clean()
        member_id = data.get("member")
        if member_id:
            member = self.registered.get(member_id)
            if member is None:
                raise forms.ValidationError(_("该成员不属于本户。"))
            # Name and ID of a registered member come from the registry, never from the form.
            data["name"], data["id_number"] = member.name, member.id_number
            if not data.get("relationship"):
                self.add_error("relationship", _("请选择与户主关系。"))
            if data.get("presence") == SurveyMember.Presence.NEW:
                self.add_error("presence", _("登记成员不能选“新增成员”。"))
        else:
            if data.get("presence") != SurveyMember.Presence.NEW:
                self.add_error("presence", _("新登记的人员请选择“新增成员”。"))
            if not data.get("name"):
                self.add_error("name", _("请填写姓名。"))
            if not data.get("relationship"):
                self.add_error("relationship", _("请选择与户主关系。"))
            if data.get("id_number"):
                try:
                    data["id_number"] = clean_id_number(data["id_number"])
                except forms.ValidationError as exc:
                    self.add_error("id_number", exc)
            else:
                self.add_error("id_number", _("请填写身份证号。"))
        if data.get("presence") in {"moved_out", "died", "married_out", "new"} and not data.get("change_date"):
            self.add_error("change_date", _("请填写变动日期。"))
        return data

    def to_input(self) -> MemberInput:
        d = self.cleaned_data
        return MemberInput(
            member_id=d.get("member") or None,
            name=d["name"],
            id_number=d["id_number"],
            relationship=d["relationship"],
            presence=d["presence"],
            change_date=d.get("change_date"),
            change_reason=d.get("change_reason", ""),
            co_resident=bool(d.get("co_resident")),
            left_out_reason=d.get("left_out_reason", ""),
            incomes={c[4:]: d[c] for c in self.income_fields if d.get(c)},
        )


class BaseMemberFormSet(forms.BaseFormSet):
    def __init__(self, *args, registered, **kwargs):
        self.registered = registered
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "registered": self.registered}

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            registered=self.registered,
            renderer=self.renderer,
        )
        self.add_fields(form, None)
        return form

    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            if not form.has_changed() and not form.initial:
                continue
            number = form.cleaned_data.get("id_number")
            if number in seen:
                raise forms.ValidationError(_("同一身份证号在成员中出现了两次。"))
            seen.add(number)


def _amount_fields(labels: dict[str, str], *, prefix: str = "", suffix: str = "") -> dict[str, forms.DecimalField]:
    return {f"{prefix}{key}": forms.DecimalField(label=f"{label}{suffix}", **AMOUNT) for key, label in labels.items()}


# The amount fields are made once, with the class: a form copies its class's fields, which
# costs half of making them, and the survey page has a row of 17 for each member.
MemberRowForm.base_fields.update(
    _amount_fields(COUNTED_INCOME, prefix="inc_") | _amount_fields(EXCLUDED_INCOME, prefix="inc_", suffix="（不计入）")
)
MemberFormSet = forms.formset_factory(MemberRowForm, formset=BaseMemberFormSet, extra=1)


class DeductionForm(forms.Form):
    bound_field_class = BootstrapField

    def amounts(self) -> dict[str, Decimal]:
        return {k: v for k, v in self.cleaned_data.items() if v}


DeductionForm.base_fields.update(_amount_fields(DEDUCTIONS))
share_fields(DeductionForm)


class RowForm(forms.ModelForm):
    bound_field_class = BootstrapField


ROW_WIDGETS = {
    "count": WHOLE_NUMBER_INPUT,
    "area": forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    "age": WHOLE_NUMBER_INPUT,
    "annual_income": DECIMAL_INPUT,
    "household_size": WHOLE_NUMBER_INPUT,
}


def _row_formset(model, fields):
    widgets = {name: widget for name, widget in ROW_WIDGETS.items() if name in fields}
    form = share_fields(forms.modelform_factory(model, form=RowForm, fields=fields, widgets=widgets))
    return forms.formset_factory(form, extra=1, can_delete=True)


HouseFormSet = _row_formset(SurveyHouse, list(SurveyHouse.FIELDS))
VehicleFormSet = _row_formset(SurveyVehicle, list(SurveyVehicle.FIELDS))
SupporterFormSet = _row_formset(SurveySupporter, list(SurveySupporter.FIELDS))


def _rows(formset) -> list[dict]:
    return [
        {k: v for k, v in f.cleaned_data.items() if k != "DELETE"}
        for f in formset.forms
        if f.has_changed() and f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]


class SurveyForms:
    """All the sections of one survey form, bound together."""

    def __init__(self, survey: Survey, data=None):
        self.survey = survey
        registered = {m.pk: m for m in survey.household.live_members()}
        # Members already on the survey keep their registry link even after a registry change.
        rows = list(survey.members.all())
        registered.update({r.member_id: r.member for r in rows if r.member_id and r.member_id not in registered})
        initial = []
        for r in rows:
            row = {
                "member": r.member_id,
                "name": r.name,
                "id_number": r.id_number,
                "relationship": r.relationship,
                "presence": r.presence,
                "change_date": r.change_date,
                "change_reason": r.change_reason,
                "co_resident": r.co_resident,
                "left_out_reason": r.left_out_reason,
            }
            row.update({f"inc_{i.category}": i.amount for i in r.incomes.all()})
            initial.append(row)
        self.header = SurveyHeaderForm(data, survey=survey, prefix="h")
        self.members = MemberFormSet(data, initial=initial, prefix="m", registered=registered)
        self.deductions = DeductionForm(data, prefix="d", initial={d.kind: d.amount for d in survey.deductions.all()})
        self.houses = HouseFormSet(data, prefix="house", initial=row_values(survey.houses.all(), SurveyHouse.FIELDS))
        self.vehicles = VehicleFormSet(
            data, prefix="vehicle", initial=row_values(survey.vehicles.all(), SurveyVehicle.FIELDS)
        )
        self.supporters = SupporterFormSet(
            data, prefix="supporter", initial=row_values(survey.supporters.all(), SurveySupporter.FIELDS)
        )

    @property
    def parts(self):
        return [self.header, self.members, self.deductions, self.houses, self.vehicles, self.supporters]

    @property
    def formsets(self):
        return [self.members, self.houses, self.vehicles, self.supporters]

    def is_valid(self) -> bool:
        return all([p.is_valid() for p in self.parts])  # noqa: C419 - validate every part, to show all errors

    def to_input(self) -> SurveyInput:
        # An extra row left empty validates to nothing and is no member.
        members = [f.to_input() for f in self.members.forms if f.cleaned_data]
        header = {k: v for k, v in self.header.cleaned_data.items() if k in HEADER_FIELDS}
        return SurveyInput(
            header=header,
            members=members,
            deductions=self.deductions.amounts(),
            houses=_rows(self.houses),
            vehicles=_rows(self.vehicles),
            supporters=_rows(self.supporters),
        )


class InvestigatorsForm(forms.Form):
    bound_field_class = BootstrapField

    investigators = forms.ModelMultipleChoiceField(
        label=_("调查人（至少两人）"), queryset=None, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, candidates=None, loaded: list | None = None, **kwargs):
        """`candidates`: the users who may be chosen (a queryset), which a bound form checks
        against; `loaded`: the same users already read, for showing the choice without reading
        them again. A form that only shows the choice needs `loaded` alone."""
        super().__init__(*args, **kwargs)
        if candidates is None:
            if self.is_bound or loaded is None:
                raise TypeError("InvestigatorsForm: a bound form needs its candidates")
            candidates = get_user_model().objects.none()
        self.fields["investigators"].queryset = candidates
        self.loaded = {} if loaded is None else {"investigators": loaded}
        self.fields["investigators"].label_from_instance = lambda u: (
            f"{u.profile.display_name or u.username}（{u.username}，{u.profile.get_role_display()}）"
        )

    def clean_investigators(self):
        chosen = list(self.cleaned_data["investigators"])
        if len(chosen) < 2:
            raise forms.ValidationError(_("入户调查至少需要两名调查人。"))
        return chosen


class SignForm(forms.Form):
    investigator = forms.IntegerField(widget=forms.HiddenInput())
    password = forms.CharField(
        label=_("调查人密码"), required=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class CorrectionForm(forms.Form):
    reason = forms.CharField(label=_("更正原因"), max_length=300)
    late_reason = forms.CharField(label=_("阶段外操作原因"), max_length=300, required=False)


class ScreeningForm(forms.Form):
    kind = forms.ChoiceField(label=_("排查类别"), choices=ScreeningEntry.Kind.choices)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class LateReasonForm(forms.Form):
    late_reason = forms.CharField(label=_("阶段外操作原因"), max_length=300, required=False)


class RevisitForm(forms.ModelForm):
    """What the verifier found: the key fields, and per member presence, counting and income."""

    bound_field_class = BootstrapField

    class Meta:
        model = Revisit
        fields = REVISIT_FIELDS
        widgets = {
            "visit_date": DATE_INPUT,
            "covered_persons": WHOLE_NUMBER_INPUT,
            "financial_assets": DECIMAL_INPUT,
            "shop_fronts": WHOLE_NUMBER_INPUT,
            "findings": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, revisit: Revisit, **kwargs):
        super().__init__(*args, instance=revisit, **kwargs)
        self.fields["visit_date"].validators.append(not_in_future)
        self.rows = list(revisit.members.all())
        for row in self.rows:
            self.fields[f"m{row.pk}_present"] = forms.BooleanField(label=_("在户"), required=False, initial=row.present)
            self.fields[f"m{row.pk}_counted"] = forms.BooleanField(
                label=_("计入家庭人口"), required=False, initial=row.counted
            )
            for category, label in INCOME_CATEGORIES.items():
                self.fields[f"m{row.pk}_inc_{category}"] = forms.DecimalField(
                    label=label,
                    required=False,
                    min_value=0,
                    max_digits=12,
                    decimal_places=2,
                    initial=row.incomes.get(category),
                    widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
                )

    def member_fields(self):
        """Per member row: (row, present, counted, [income fields])."""
        return [
            (
                row,
                self[f"m{row.pk}_present"],
                self[f"m{row.pk}_counted"],
                [self[f"m{row.pk}_inc_{c}"] for c in INCOME_CATEGORIES],
            )
            for row in self.rows
        ]

    def to_input(self) -> RevisitInput:
        d = self.cleaned_data
        return RevisitInput(
            header={k: d[k] for k in REVISIT_FIELDS},
            members=[
                RevisitMemberInput(
                    survey_member_id=row.survey_member_id,
                    present=d[f"m{row.pk}_present"],
                    counted=d[f"m{row.pk}_counted"],
                    incomes={c: d[f"m{row.pk}_inc_{c}"] for c in INCOME_CATEGORIES if d[f"m{row.pk}_inc_{c}"]},
                )
                for row in self.rows
            ],
        )


class VerifiersForm(forms.Form):
    verifiers = forms.ModelMultipleChoiceField(
        label=_("核查人（至少两人）"), queryset=None, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verifiers"].queryset = candidates
        self.fields["verifiers"].label_from_instance = lambda u: (
            f"{getattr(u.profile, 'display_name', '') or u.username}（{u.username}）"
        )
