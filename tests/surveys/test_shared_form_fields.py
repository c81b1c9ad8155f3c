"""The survey page's forms share their class's fields (surveys.forms.SharedFields): what one
form changes for itself must not reach the next form made from the same class."""

from surveys.forms import MemberRowForm, SurveyHeaderForm
from surveys.models import Survey, SurveyMember


def test_a_form_b_header_hides_its_own_reason_field_only(survey_a):
    form_b = Survey(form=Survey.Form.B, campaign=survey_a.campaign, household=survey_a.household)
    hidden = SurveyHeaderForm(survey=form_b)
    shown = SurveyHeaderForm(survey=survey_a)
    assert hidden["dibao_reason"].widget_type == "hidden"
    assert shown["dibao_reason"].widget_type == "textarea"
    assert SurveyHeaderForm.base_fields["dibao_reason"].widget.__class__.__name__ == "Textarea"
    # the visit date may not lie ahead, on every form (added once, to the class's field)
    assert shown.fields["visit_date"].validators.count(hidden.fields["visit_date"].validators[-1]) == 1


def test_the_blank_member_row_starts_as_new_without_changing_the_other_rows():
    blank = MemberRowForm(registered={})
    listed = MemberRowForm(registered={}, initial={"name": "张三", "presence": SurveyMember.Presence.PRESENT})
    assert blank["presence"].initial == SurveyMember.Presence.NEW
    assert listed["presence"].initial == SurveyMember.Presence.PRESENT
    assert MemberRowForm.base_fields["presence"].initial is None
    assert MemberRowForm(registered={}, initial={"name": "李四"})["presence"].initial is None


def test_a_formset_adds_its_delete_field_to_its_own_forms():
    from surveys.forms import HouseFormSet

    formset = HouseFormSet(prefix="house")
    assert "DELETE" in formset.forms[0].fields
    assert "DELETE" not in formset.form.base_fields


def test_a_replaced_field_renders_as_itself_after_the_shared_one_has_rendered(survey_a):
    """BootstrapField keeps a shared field's escaped label, options and attributes; a copy a
    form makes for itself (`_replaced`) must not show the original's."""
    form_b = Survey(form=Survey.Form.B, campaign=survey_a.campaign, household=survey_a.household)
    shown = SurveyHeaderForm(survey=survey_a)["dibao_reason"].as_bootstrap()  # the shared Textarea
    hidden = SurveyHeaderForm(survey=form_b)["dibao_reason"].as_bootstrap()
    assert "<textarea" in shown and 'rows="2"' in shown
    assert hidden.startswith('<input type="hidden"') and "rows=" not in hidden and "cols=" not in hidden
    # the blank member row's own presence field keeps the shared field's choices
    blank = MemberRowForm(registered={})["presence"].as_bootstrap()
    listed = MemberRowForm(registered={}, initial={"name": "张三"})["presence"].as_bootstrap()
    assert blank.count("<option") == listed.count("<option") > 1
