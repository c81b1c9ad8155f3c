"""A signature covers the content its signer was shown, by someone still entitled to
sign; two people saving one draft cannot silently undo each other."""

from django.urls import reverse

from cases import services as registry
from surveys.models import SurveySignature
from tests.conftest import PASSWORD
from tests.surveys.conftest import database_state, fill_in, form_data, shown_fingerprint


def test_it_refuses_a_signature_on_content_changed_since_it_was_shown(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    fill_in(client, survey_a)
    client.post(
        reverse("survey_investigators", args=[survey_a.public_id]),
        {"investigators": [cadre_a.pk, group_leader_a.pk]},
    )
    seen_by_partner = shown_fingerprint(client, survey_a)  # the page the partner reads
    fill_in(client, survey_a, **{"h-findings": "户主去年外出务工收入较高"})  # changed on another phone
    before = database_state()
    response = client.post(
        reverse("survey_sign", args=[survey_a.public_id]),
        {"investigator": group_leader_a.pk, "password": PASSWORD, "fingerprint": seen_by_partner},
        follow=True,
    )
    page = response.content.decode()
    assert "签字未生效" in page and "调查情况" in page and "户主去年外出务工收入较高" in page
    assert database_state() == before
    assert not SurveySignature.objects.filter(survey=survey_a).exclude(signed_at=None).exists()
    # signing what is shown now works
    response = client.post(
        reverse("survey_sign", args=[survey_a.public_id]),
        {"investigator": group_leader_a.pk, "password": PASSWORD, "fingerprint": shown_fingerprint(client, survey_a)},
        follow=True,
    )
    assert "group02已签字" in response.content.decode()


def test_a_signature_without_the_page_it_covers_is_refused(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    client.post(
        reverse("survey_investigators", args=[survey_a.public_id]),
        {"investigators": [cadre_a.pk, group_leader_a.pk]},
    )
    response = client.post(reverse("survey_sign", args=[survey_a.public_id]), {"investigator": cadre_a.pk}, follow=True)
    assert "签字未生效" in response.content.decode()
    assert not SurveySignature.objects.filter(survey=survey_a).exclude(signed_at=None).exists()


def test_a_deactivated_investigator_can_no_longer_sign_or_count(client, cadre_a, group_leader_a, town_office, survey_a):
    client.force_login(cadre_a)
    fill_in(client, survey_a)
    client.post(
        reverse("survey_investigators", args=[survey_a.public_id]),
        {"investigators": [cadre_a.pk, group_leader_a.pk]},
    )
    shown = shown_fingerprint(client, survey_a)
    client.post(
        reverse("survey_sign", args=[survey_a.public_id]),
        {"investigator": group_leader_a.pk, "password": PASSWORD, "fingerprint": shown},
    )
    registry.set_account_active(group_leader_a, actor=town_office, active=False, reason="调离")
    response = client.post(
        reverse("survey_sign", args=[survey_a.public_id]), {"investigator": cadre_a.pk, "fingerprint": shown}
    )
    page = client.get(reverse("survey_edit", args=[survey_a.public_id])).content.decode()
    assert "group02已不是负责该村的调查人员" in page
    response = client.post(reverse("survey_submit", args=[survey_a.public_id]), follow=True)
    assert "group02已不是负责该村的调查人员" in response.content.decode()
    survey_a.refresh_from_db()
    assert survey_a.status == "draft"


def test_a_stale_draft_save_is_refused_with_the_other_change(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    opened_by_cadre = form_data(survey_a, **{"h-findings": "村干部填写"})
    client.force_login(group_leader_a)
    fill_in(client, survey_a, **{"h-livestock": "养猪20头"})
    client.force_login(cadre_a)
    response = client.post(reverse("survey_edit", args=[survey_a.public_id]), opened_by_cadre)
    assert response.status_code == 409
    page = response.content.decode()
    assert "保存未生效" in page and "养猪20头" in page
    survey_a.refresh_from_db()
    assert survey_a.livestock == "养猪20头" and survey_a.findings == ""


def test_signatures_still_cover_the_survey_after_its_submission(client, cadre_a, group_leader_a, survey_a):
    from surveys import services
    from surveys.models import Survey
    from tests.surveys.conftest import submit_complete

    client.force_login(cadre_a)
    submit_complete(client, survey_a, cadre_a, group_leader_a)
    submitted = Survey.objects.get(pk=survey_a.pk).with_rows()
    assert submitted.header and all(valid for _s, valid in services.signature_states(submitted))


def test_a_draft_form_without_its_version_is_refused(client, cadre_a, survey_a):
    client.force_login(cadre_a)
    data = form_data(survey_a, **{"h-findings": "无版本号的表单"})
    data.pop("edit_version")
    response = client.post(reverse("survey_edit", args=[survey_a.public_id]), data)
    assert response.status_code == 409
    survey_a.refresh_from_db()
    assert survey_a.findings == ""
