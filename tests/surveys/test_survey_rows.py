"""A survey's rows as the pages read them (Survey.with_rows, by statements compiled once) are the
rows prefetch_related reads, with nothing left to query."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import prefetch_related_objects
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases.models import Profile, Town
from surveys import services
from surveys.models import Survey, SurveyDeduction, SurveyHouse, SurveyIncome, SurveySupporter, SurveyVehicle
from tests.conftest import PASSWORD

from .conftest import fill_in, sign_both


def _by_prefetch(survey: Survey) -> Survey:
    fresh = Survey.objects.select_related("household").get(pk=survey.pk)
    prefetch_related_objects(
        [fresh], "members__incomes", "deductions", "houses", "vehicles", "supporters", "household__members"
    )
    return fresh


def _rows(survey: Survey) -> dict:
    def values(rows):
        return [{k: v for k, v in vars(r).items() if not k.startswith("_")} for r in rows]

    return {
        "members": values(survey.members.all()),
        "incomes": [values(m.incomes.all()) for m in survey.members.all()],
        "deductions": values(survey.deductions.all()),
        "houses": values(survey.houses.all()),
        "vehicles": values(survey.vehicles.all()),
        "supporters": values(survey.supporters.all()),
        "registered": values(survey.household.members.all()),
    }


def _with_everything(survey: Survey) -> None:
    member = survey.members.first()
    SurveyIncome.objects.create(survey_member=member, category="pension", amount=Decimal("1200.50"))
    SurveyDeduction.objects.create(survey=survey, kind="medical", amount=Decimal("800"))
    SurveyHouse.objects.create(survey=survey, kind="self_built", count=1, area=Decimal("90.5"), owner="户主")
    SurveyVehicle.objects.create(survey=survey, kind="motorcycle", count=1)
    SurveySupporter.objects.create(survey=survey, name="张小明", relationship="子", age=40)


def test_the_rows_are_those_prefetch_reads_and_need_no_further_query(client, survey_a, cadre_a):
    client.force_login(cadre_a)
    fill_in(client, survey_a)
    survey = Survey.objects.select_related("household").get(pk=survey_a.pk)
    _with_everything(survey)
    survey.with_rows()
    with CaptureQueriesContext(connection) as ctx:
        ours = _rows(survey)
        registry = [row.member for row in survey.members.all() if row.member_id]
        back = [row.survey for row in survey.members.all()]
        owners = [(i.survey_member, m) for m in survey.members.all() for i in m.incomes.all()]
    assert ctx.captured_queries == []
    assert ours == _rows(_by_prefetch(survey))
    assert ours["incomes"] and ours["deductions"] and ours["houses"] and ours["vehicles"] and ours["supporters"]
    assert {m.pk for m in registry} == {m.pk for m in survey.household.live_members()}
    assert all(b is survey for b in back) and all(owner is m for owner, m in owners)
    # a row filtered further still asks the database, for this survey's rows only
    assert list(survey.deductions.filter(kind="medical")) == list(SurveyDeduction.objects.filter(survey=survey))


def test_loading_again_reads_what_changed(survey_a):
    survey = Survey.objects.select_related("household").get(pk=survey_a.pk).with_rows()
    fingerprint = survey.content_fingerprint()
    assert list(survey.deductions.all()) == []
    SurveyDeduction.objects.create(survey=survey, kind="medical", amount=Decimal("100"))
    assert list(survey.deductions.all()) == []  # kept until loaded again
    survey.with_rows()
    assert [d.amount for d in survey.deductions.all()] == [Decimal("100.00")]
    assert survey.content_fingerprint() != fingerprint


def test_the_signatures_read_with_the_candidates_are_those_read_alone(client, survey_a, cadre_a, group_leader_a):
    client.force_login(cadre_a)
    fill_in(client, survey_a)
    sign_both(client, survey_a, cadre_a, group_leader_a)
    survey = Survey.objects.select_related("household").get(pk=survey_a.pk).with_rows()
    alone = services.signature_states(survey)
    candidates = list(services.investigator_candidates(survey.household))
    with CaptureQueriesContext(connection) as ctx:
        shared = services.signature_states(survey, users=candidates)
    assert len(ctx.captured_queries) == 1  # the signatures; their investigators were read already
    assert [(s.pk, s.investigator.username, s.investigator.profile.display_name, v) for s, v in shared] == [
        (s.pk, s.investigator.username, s.investigator.profile.display_name, v) for s, v in alone
    ]
    # an investigator no longer among the candidates is read on its own
    shared = services.signature_states(survey, users=[u for u in candidates if u.pk != group_leader_a.pk])
    assert {s.investigator.username for s, _ in shared} == {cadre_a.username, group_leader_a.username}


def test_the_investigator_candidates_are_the_village_its_work_group_and_its_town(survey_a):
    other = Town.objects.create(code="340225107", name="蜀山镇", county="无为县")
    officer = get_user_model().objects.create_user(username="town2", password=PASSWORD)
    Profile.objects.create(user=officer, role=Profile.Role.TOWN, town=other, display_name="蜀山镇社会事务办")
    names = set(services.investigator_candidates(survey_a.household).values_list("username", flat=True))
    assert {"cadre02", "group02", "town"} <= names
    assert not names & {"cadre03", "county", "leader", "admin", "town2"}
    # each account once
    assert len(names) == services.investigator_candidates(survey_a.household).count()


def test_the_edit_page_shows_the_same_with_the_shared_reads(survey_a, cadre_a, group_leader_a):
    client = Client()
    client.force_login(cadre_a)
    fill_in(client, survey_a)
    sign_both(client, survey_a, cadre_a, group_leader_a)
    page = client.get(f"/surveys/{survey_a.public_id}/edit/").content.decode()
    assert page.count('<span class="badge text-bg-success">已签字') == 2
    assert "cadre02" in page and "group02" in page


def test_a_draft_whose_author_may_no_longer_visit_still_opens(client, survey_a, cadre_a, group_leader_a):
    type(cadre_a).objects.filter(pk=cadre_a.pk).update(is_active=False)  # the author left
    client.force_login(group_leader_a)
    response = client.get(f"/surveys/{survey_a.public_id}/edit/")
    assert response.status_code == 200
    survey = Survey.objects.get(pk=survey_a.pk)
    assert survey.created_by_id == cadre_a.pk
