"""Investigators and their signatures: who visited, signs for what the survey says now."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from surveys import services
from tests.conftest import PASSWORD
from tests.surveys.conftest import database_state, fill_in, sign_both


@pytest.fixture
def empty_cache():
    # The password-guess counter lives in the cache; no test may inherit another's.
    cache.clear()
    yield
    cache.clear()


def _name_investigators(client, survey, *users):
    client.post(reverse("survey_investigators", args=[survey.public_id]), {"investigators": [u.pk for u in users]})


def test_it_voids_the_signatures_when_the_content_changes(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    fill_in(client, survey_a)
    sign_both(client, survey_a, cadre_a, group_leader_a)
    fill_in(client, survey_a, **{"m-0-inc_wage": "4800"})
    assert not survey_a.signatures.exclude(signed_at=None).exists()
    before = database_state()
    response = client.post(reverse("survey_submit", args=[survey_a.public_id]), follow=True)
    assert "调查人cadre02尚未签字（或签字后内容有改动，需重新签字）" in response.content.decode()
    assert database_state() == before


def test_it_refuses_a_wrong_password(client, cadre_a, group_leader_a, survey_a, empty_cache):
    client.force_login(cadre_a)
    _name_investigators(client, survey_a, cadre_a, group_leader_a)
    before = database_state()
    response = client.post(
        reverse("survey_sign", args=[survey_a.public_id]),
        {"investigator": group_leader_a.pk, "password": "wrong"},
        follow=True,
    )
    assert "密码不正确" in response.content.decode()
    assert database_state() == before
    assert not survey_a.signatures.exclude(signed_at=None).exists()


def test_it_limits_password_guesses_for_a_second_investigator(client, cadre_a, group_leader_a, survey_a, empty_cache):
    client.force_login(cadre_a)
    _name_investigators(client, survey_a, cadre_a, group_leader_a)
    url = reverse("survey_sign", args=[survey_a.public_id])
    before = database_state()
    for _ in range(5):
        client.post(url, {"investigator": group_leader_a.pk, "password": "guess"})
    response = client.post(url, {"investigator": group_leader_a.pk, "password": PASSWORD}, follow=True)
    assert "错误次数过多" in response.content.decode()
    assert database_state() == before
    assert not survey_a.signatures.exclude(signed_at=None).exists()


def test_it_refuses_the_same_person_twice_as_investigator(survey_a, cadre_a):
    before = database_state()
    with pytest.raises(services.DomainError, match="不能重复"):
        services.set_investigators(survey_a, [cadre_a, cadre_a], actor=cadre_a)
    with pytest.raises(services.DomainError, match="至少需要两名"):
        services.set_investigators(survey_a, [cadre_a], actor=cadre_a)
    assert database_state() == before


def test_it_refuses_an_investigator_from_another_village(survey_a, cadre_a, cadre_b):
    before = database_state()
    with pytest.raises(services.DomainError, match="调查人必须是"):
        services.set_investigators(survey_a, [cadre_a, cadre_b], actor=cadre_a)
    assert database_state() == before


def test_it_answers_404_to_another_villages_cadre(client, cadre_a, cadre_b, group_leader_a, survey_a):
    client.force_login(cadre_a)
    _name_investigators(client, survey_a, cadre_a, group_leader_a)
    client.force_login(cadre_b)
    before = database_state()
    for response in [
        client.post(reverse("survey_investigators", args=[survey_a.public_id]), {"investigators": [cadre_b.pk]}),
        client.post(reverse("survey_sign", args=[survey_a.public_id]), {"investigator": cadre_a.pk}),
    ]:
        assert response.status_code == 404 and "没有找到" in response.content.decode()
    assert database_state() == before


def test_it_refuses_read_only_roles(client, read_only_user, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    _name_investigators(client, survey_a, cadre_a, group_leader_a)
    client.force_login(read_only_user)
    before = database_state()
    for response in [
        client.post(
            reverse("survey_investigators", args=[survey_a.public_id]),
            {"investigators": [cadre_a.pk, group_leader_a.pk]},
        ),
        client.post(reverse("survey_sign", args=[survey_a.public_id]), {"investigator": cadre_a.pk}),
    ]:
        assert response.status_code == 403 and "没有权限" in response.content.decode()
    assert database_state() == before
