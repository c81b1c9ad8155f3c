"""The list pages' filter selects (cases.forms.QuickSelect, ListedModelChoiceField): Django's
markup, written without its widget templates, and a model choice list read once."""

import re

from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.forms import HouseholdFilterForm, ListedModelChoiceField, QuickSelect
from cases.models import Village


def _same(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


CHOICES = [("", "全部"), ("a", "甲"), ("b&c", '乙"丙<丁>'), (3, "三")]


def test_a_quick_select_writes_what_djangos_select_writes():
    for value in (None, "", "a", "b&c", 3, "3", "missing"):
        for attrs in (None, {"class": "form-select", "id": "id_x"}, {"aria-label": "类别", "required": True}):
            ours = QuickSelect(choices=CHOICES).render("x", value, attrs)
            django = forms.Select(choices=CHOICES).render("x", value, attrs)
            assert _same(ours) == _same(django), (value, attrs)


def test_the_household_filter_reads_its_villages_once(campaign, town_office):
    villages = Village.objects.count()
    form = HouseholdFilterForm(villages=Village.objects.all())
    with CaptureQueriesContext(connection) as ctx:
        first = form["village"].as_widget()
        again = form["village"].as_widget()
        assert len(form.fields["village"].queryset) == villages
    assert len(ctx.captured_queries) == 1
    assert first == again
    choices = list(form.fields["village"].choices)
    django = forms.Select(choices=choices).render("village", None, {"class": "form-select", "id": "id_village"})
    assert _same(first) == _same(django)
    assert isinstance(form.fields["village"], ListedModelChoiceField)


def test_a_chosen_village_is_selected_and_a_wrong_code_refused(campaign, village_a):
    form = HouseholdFilterForm({"village": village_a.code}, villages=Village.objects.all())
    assert form.is_valid()
    assert form.cleaned_data["village"] == village_a
    assert f'<option value="{village_a.code}" selected>{village_a.name}</option>' in form["village"].as_widget()
    form = HouseholdFilterForm({"village": "nope"}, villages=Village.objects.all())
    assert not form.is_valid() and "village" in form.errors


def test_choices_in_groups_are_left_to_django():
    grouped = [("", "全部"), ("村", [("a", "甲村"), ("b", "乙村")])]
    ours = QuickSelect(choices=grouped).render("x", "b", None)
    assert _same(ours) == _same(forms.Select(choices=grouped).render("x", "b", None))
    assert "<optgroup" in ours
