import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import decisions
from cases.models import AuditEvent, Case, Household, Member, Village
from surveys import models, review, services
from surveys.forms import SurveyForms
from tests.conftest import PASSWORD


def form_data(survey, **overrides) -> dict:
    """The survey form as the browser would post it now (as the page shows the latest save), with
    some fields changed."""
    survey = models.Survey.objects.select_related("campaign", "household").get(pk=survey.pk).with_rows()
    forms = SurveyForms(survey)
    data = {"edit_version": str(survey.edit_version)}
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


@pytest.fixture(params=["leadership", "county_officer"])
def read_only_user(request):
    """Each role that may see a village's surveys but not change them."""
    return request.getfixturevalue(request.param)


def fill_in(client, survey, **changes):
    """Save the draft complete (3,600 yuan wage for the head), with some fields changed."""
    response = client.post(
        reverse("survey_edit", args=[survey.public_id]),
        form_data(survey, **{**COMPLETE, "m-0-inc_wage": "3600", **changes}),
    )
    assert response.status_code == 302, response.content.decode()[:3000]


def shown_fingerprint(client, survey) -> str:
    """The content fingerprint the edit page gives its signing forms, as a signer's browser sends it back."""
    page = client.get(reverse("survey_edit", args=[survey.public_id])).content.decode()
    marker = 'name="fingerprint" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def sign_both(client, survey, cadre, partner):
    """Name two investigators; the logged-in cadre signs, the partner by password on the same device."""
    client.post(reverse("survey_investigators", args=[survey.public_id]), {"investigators": [cadre.pk, partner.pk]})
    shown = shown_fingerprint(client, survey)
    client.post(reverse("survey_sign", args=[survey.public_id]), {"investigator": cadre.pk, "fingerprint": shown})
    client.post(
        reverse("survey_sign", args=[survey.public_id]),
        {"investigator": partner.pk, "password": PASSWORD, "fingerprint": shown},
    )


def submit_complete(client, survey, cadre, partner, **changes):
    """Fill in, sign and submit a survey; the submission must succeed."""
    fill_in(client, survey, **changes)
    sign_both(client, survey, cadre, partner)
    response = client.post(reverse("survey_submit", args=[survey.public_id]), follow=True)
    assert "调查已提交并锁定" in response.content.decode()


_WRITTEN_BY_SURVEY_VIEWS = (
    models.Survey,
    models.SurveyMember,
    models.SurveyIncome,
    models.SurveyDeduction,
    models.SurveyHouse,
    models.SurveyVehicle,
    models.SurveySupporter,
    models.SurveySignature,
    models.ScreeningEntry,
    models.VillageReport,
    models.SurveyContent,
    AuditEvent,
    Household,
    Member,
    Case,
)
# A refused password is itself recorded (the sign-in trail); it changes nothing else.
_SIGN_IN = [AuditEvent.Action.LOGIN, AuditEvent.Action.LOGIN_FAILED, AuditEvent.Action.LOGOUT]


def database_state() -> dict[str, list[dict]]:
    """Every row a survey view or service may write, field by field (sign-in events aside).

    Equal before and after a refused request shows that the refusal wrote nothing.
    """
    state = {}
    for model in _WRITTEN_BY_SURVEY_VIEWS:
        rows = model.objects.order_by("pk")
        if model is AuditEvent:
            rows = rows.exclude(action__in=_SIGN_IN)
        state[model.__name__] = list(rows.values())
    return state


@pytest.fixture
def verify_town(campaign, town_office):
    """Phase 3 as the town finds it: 120 households, every one surveyed (the demo's surveys,
    village conclusion = the engine's) and every village reported."""
    from cases.demo import generate_households
    from cases.models import Campaign
    from surveys.demo import generate_surveys

    generate_households(campaign, 120, seed=7)
    generate_surveys(campaign, seed=7, complete=True)
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.VERIFY)
    return Campaign.objects.get(pk=campaign.pk)


@pytest.fixture
def verifiers(town_office):
    from django.contrib.auth import get_user_model

    return [town_office, get_user_model().objects.get(username="group03")]


def revisit_sample(sample, actor, entries=None, **changes):
    """Re-visit households of the sample (all by default), finding what the village recorded;
    the verifiers are the first two who may check the household."""
    from surveys.demo import revisit_as_found
    from surveys.revisits import eligible_verifiers

    for entry in entries or sample.entries.select_related("household", "sample__campaign"):
        chosen = eligible_verifiers(entry)[:2]
        revisit_as_found(entry, verifiers=chosen, actor=actor, visit_date=dt.date(2019, 11, 7), **changes)


def decide_rest(campaign, town_office):
    """Every household still undecided: in bulk where the rules allow, the rest one by one as proposed."""
    from contextlib import suppress

    from cases.services import DomainError

    with suppress(DomainError):  # nothing left that may be decided in bulk
        review.decide_all_as_proposed(campaign, actor=town_office)
    for case in Case.objects.filter(campaign=campaign, review="", in_scope=True).select_related(
        "household", "campaign"
    ):
        p = review.proposal_for(case)
        review.decide_case(
            case,
            actor=town_office,
            outcome=p.outcome,
            covered_persons=p.covered_persons,
            monthly_amount=p.monthly_amount,
            dibao_class=case.household.dibao_class,
            reason="逐户核定",
        )


@pytest.fixture
def ready_town(verify_town, town_office):
    """Sample drawn and re-visited, every household decided, every notice over."""
    sample, _ = services.draw_sample(verify_town, level="town", actor=town_office)
    revisit_sample(sample, town_office)
    decide_rest(verify_town, town_office)
    start = timezone.localdate() - dt.timedelta(days=verify_town.notice_days)
    for village in Village.objects.filter(town=verify_town.town):
        if Case.objects.filter(campaign=verify_town, village=village).exists():
            decisions.open_notice(verify_town, village, actor=town_office, starts_on=start)
    return verify_town
