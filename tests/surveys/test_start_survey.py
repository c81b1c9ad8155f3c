"""Starting a survey: from the household's page, inside the review phase, one per household."""

import pytest
from django.urls import reverse

from cases.models import AuditEvent, Campaign
from surveys import services
from surveys.models import Survey
from tests.surveys.conftest import database_state


def test_it_copies_every_registered_member(client, cadre_a, household_a, campaign):
    client.force_login(cadre_a)
    response = client.post(reverse("survey_start", args=[household_a.public_id]))
    survey = Survey.objects.get()
    assert response["Location"] == reverse("survey_edit", args=[survey.public_id])
    assert survey.form == "A" and survey.status == "draft"
    assert [m.name for m in survey.members.all()] == ["张建国", "李秀英"]
    page = client.get(reverse("survey_edit", args=[survey.public_id])).content.decode()
    assert "表A：城乡低保对象复核入户调查表" in page


def test_it_leads_from_the_household_page_to_its_survey(
    client, cadre_a, cadre_b, household_a, make_household, village_a
):
    client.force_login(cadre_a)
    detail = client.get(reverse("household_detail", args=[household_a.public_id])).content.decode()
    url = reverse("survey_household", args=[household_a.public_id])
    assert url in detail
    page = client.get(url).content.decode()
    assert "在保家庭，使用表A复核" in page and reverse("survey_start", args=[household_a.public_id]) in page
    client.post(reverse("survey_start", args=[household_a.public_id]))
    survey = Survey.objects.get()
    response = client.get(url)
    assert response["Location"] == reverse("survey_detail", args=[survey.public_id])
    other = make_household(village_a, head="孙长林", others=(), dibao=False)
    page = client.get(reverse("survey_household", args=[other.public_id])).content.decode()
    assert "不在排查名单中" in page and "加入排查名单" not in page  # only the town office adds
    client.force_login(cadre_b)
    response = client.get(url)
    assert response.status_code == 404
    assert "没有找到" in response.content.decode() and "张建国" not in response.content.decode()


def test_it_refuses_a_household_on_neither_list(client, cadre_a, make_household, village_a):
    outsider = make_household(village_a, head="孙长林", others=(), dibao=False)
    client.force_login(cadre_a)
    before = database_state()
    response = client.post(reverse("survey_start", args=[outsider.public_id]), follow=True)
    assert "该户既不在保，也不在排查名单中" in response.content.decode()
    assert database_state() == before


def test_it_refuses_after_the_review_phase_unless_the_town_office_gives_a_reason(
    cadre_a, town_office, household_a, campaign
):
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.VERIFY)
    campaign.refresh_from_db()
    before = database_state()
    with pytest.raises(services.DomainError, match="第二阶段"):
        services.start_survey(household_a, campaign=campaign, actor=cadre_a)
    with pytest.raises(services.DomainError, match="填写原因"):
        services.start_survey(household_a, campaign=campaign, actor=town_office)
    assert database_state() == before
    survey = services.start_survey(household_a, campaign=campaign, actor=town_office, late_reason="补调查")
    assert survey.late_reason == "补调查"
    assert AuditEvent.objects.filter(object_id=str(survey.public_id), reason="补调查").exists()


def test_it_answers_404_to_another_villages_cadre(client, cadre_b, household_a):
    client.force_login(cadre_b)
    before = database_state()
    response = client.post(reverse("survey_start", args=[household_a.public_id]))
    assert response.status_code == 404 and "没有找到" in response.content.decode()
    assert database_state() == before


def test_it_refuses_read_only_roles(client, read_only_user, household_a):
    client.force_login(read_only_user)
    before = database_state()
    response = client.post(reverse("survey_start", args=[household_a.public_id]))
    assert response.status_code == 403 and "没有权限" in response.content.decode()
    assert database_state() == before
