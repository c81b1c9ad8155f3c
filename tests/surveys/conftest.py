import datetime as dt

import pytest

from surveys import services
from surveys.forms import SurveyForms


def form_data(survey, **overrides) -> dict:
    """The survey form as the browser would post it now, with some fields changed."""
    forms = SurveyForms(survey)
    data = {}
    for part in forms.parts:
        if hasattr(part, "management_form"):
            for field in part.management_form:
                data[field.html_name] = field.value()
            forms_ = part.forms
        else:
            forms_ = [part]
        for form in forms_:
            for field in form:
                value = field.value()
                if isinstance(value, bool):
                    if value:
                        data[field.html_name] = "on"
                    continue
                if isinstance(value, (list, tuple)):
                    continue
                data[field.html_name] = (
                    "" if value is None else (value.isoformat() if isinstance(value, dt.date) else str(value))
                )
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


COMPLETE = {
    "h-visit_date": "2019-10-25",
    "h-main_cause": "illness",
    "h-dibao_reason": "户主患大病，丧失劳动能力。",
    "h-recommendation": "keep",
    "h-recommendation_reason": "经核实情况属实，维持原保障。",
    "h-head_confirmation": "signed",
    "h-flyer_delivered": "on",
}


@pytest.fixture
def survey_a(household_a, campaign, cadre_a):
    return services.start_survey(household_a, campaign=campaign, actor=cadre_a)
