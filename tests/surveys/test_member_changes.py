"""Member changes found on the visit: checked against the registry, applied to it on submission."""

import datetime as dt

from django.urls import reverse

from cases.models import Household, Member
from tests.conftest import new_id
from tests.surveys.conftest import database_state, fill_in, form_data, submit_complete


def test_it_adds_a_new_member_to_the_registry_only_on_submission(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    number = new_id(dt.date(2019, 5, 1), "F")
    newborn = {
        "m-2-name": "张小红",
        "m-2-id_number": number,
        "m-2-relationship": "30",
        "m-2-presence": "new",
        "m-2-change_date": "2019-05-02",
        "m-2-change_reason": "出生",
        "m-2-co_resident": "on",
    }
    fill_in(client, survey_a, **newborn)
    assert not Member.objects.filter(id_number=number).exists()
    submit_complete(client, survey_a, cadre_a, group_leader_a, **newborn)
    member = Member.objects.get(id_number=number)
    assert member.household == survey_a.household and member.is_live


def test_it_names_the_new_head_when_the_head_dies_and_the_registry_follows(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    died = {"m-0-presence": "died", "m-0-change_date": "2019-09-01", "m-0-change_reason": "病故"}
    fill_in(client, survey_a, **died)
    problems = client.get(reverse("survey_edit", args=[survey_a.public_id])).content.decode()
    assert "在户成员中应有且只有一名户主" in problems
    submit_complete(
        client, survey_a, cadre_a, group_leader_a, **died, **{"m-1-relationship": "02", "h-covered_persons": "1"}
    )
    head = Member.objects.get(name="张建国")
    spouse = Member.objects.get(name="李秀英")
    assert head.status == "died" and head.status_changed_on == dt.date(2019, 9, 1)
    assert spouse.relationship == "02" and spouse.is_live
    assert Household.objects.get(pk=survey_a.household_id).head() == spouse


def test_it_refuses_a_member_of_another_household(client, cadre_a, survey_a, household_b):
    client.force_login(cadre_a)
    stranger = household_b.head()
    before = database_state()
    response = client.post(
        reverse("survey_edit", args=[survey_a.public_id]),
        form_data(survey_a, **{"m-1-member": str(stranger.pk), "h-visit_date": "2019-10-25"}),
    )
    page = response.content.decode()
    assert "该成员不属于本户" in page and "王德华" not in page
    assert database_state() == before
    assert stranger.id_number not in set(survey_a.members.values_list("id_number", flat=True))
