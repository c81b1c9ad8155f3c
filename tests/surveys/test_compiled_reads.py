"""cases.compiled: reads by statements written once give what the ORM gives."""

import re
import uuid

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from cases.compiled import one_with_related, rows_of
from cases.models import Household, Member
from surveys import services
from surveys.models import Survey

RELATED = ("campaign__town", "household__village", "household__group", "submitted_by", "created_by")


def _values(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_one_row_with_its_related_rows_is_what_select_related_reads(survey_a, household_b, cadre_a):
    Household.objects.filter(pk=survey_a.household_id).update(group=None)  # an empty optional key
    ours = one_with_related(Survey, "public_id", survey_a.public_id, RELATED)
    orm = Survey.objects.select_related(*RELATED).get(public_id=survey_a.public_id)
    with CaptureQueriesContext(connection) as ctx:
        pairs = [
            (ours, orm),
            (ours.campaign, orm.campaign),
            (ours.campaign.town, orm.campaign.town),
            (ours.household, orm.household),
            (ours.household.village, orm.household.village),
            (ours.created_by, orm.created_by),
        ]
        assert ours.household.group is None and ours.submitted_by is None
    assert ctx.captured_queries == []  # everything came with the one row
    for mine, theirs in pairs:
        assert type(mine) is type(theirs) and _values(mine) == _values(theirs)
        assert not mine._state.adding and mine._state.db == "default"
    # converted as the ORM converts: JSON, decimals, dates, UUIDs, booleans
    assert isinstance(ours.public_id, uuid.UUID) and ours.campaign.urban_standard == orm.campaign.urban_standard
    assert one_with_related(Survey, "public_id", uuid.uuid4(), RELATED) is None
    # no relation to many
    with pytest.raises(ValueError, match="no foreign key or one-to-one"):
        one_with_related(Survey, "public_id", survey_a.public_id, ("members",))


def test_a_row_read_so_saves_and_reads_back_like_any_other(survey_a, cadre_a):
    survey = one_with_related(Survey, "public_id", survey_a.public_id, ("household__village",))
    survey.findings = "复查"
    survey.save(update_fields=["findings"])
    assert Survey.objects.get(pk=survey_a.pk).findings == "复查"


def test_rows_of_is_the_filtered_queryset_in_its_order(household_a):
    assert rows_of(Member, "household_id", household_a.pk) == list(Member.objects.filter(household_id=household_a.pk))
    assert rows_of(Member, "household_id", -1) == []


def test_the_survey_page_is_refused_outside_the_users_area(client, survey_a, cadre_b, cadre_a):
    client.force_login(cadre_b)  # 村B's cadre
    assert client.get(f"/surveys/{survey_a.public_id}/edit/").status_code == 404
    assert client.get(f"/surveys/{survey_a.public_id}/").status_code == 404
    assert client.get("/surveys/not-a-uuid/").status_code == 404
    client.force_login(cadre_a)
    assert client.get(f"/surveys/{survey_a.public_id}/edit/").status_code == 200
    assert services.signature_states(Survey.objects.get(pk=survey_a.pk)) == []


def _statements(action):
    with CaptureQueriesContext(connection) as ctx:
        action()
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statements are prepared on PostgreSQL only")
def test_on_postgresql_a_statement_is_prepared_once_per_connection(survey_a):
    from cases import prepared

    def read():
        return one_with_related(Survey, "public_id", survey_a.public_id, RELATED)

    wrapper = connections["default"]  # the connection itself, not its proxy
    wrapper.__dict__.pop("_dibao_statements", None)  # as a new connection
    first, again = _statements(read), _statements(read)
    assert len(first) == len(again) == 1  # PREPARE and EXECUTE go as one statement
    name = re.match(r"PREPARE (dibao_\d+) AS SELECT ", first[0]).group(1)
    assert f"; EXECUTE {name} (" in first[0] and again[0].startswith(f"EXECUTE {name} (")
    assert _values(read()) == _values(survey_a)
    # a run that fails may or may not have prepared its statement: the next takes a new name
    sql = "SELECT 1 WHERE %s"
    with pytest.raises(RuntimeError):
        prepared.run(connection, sql, [True], lambda statement: (_ for _ in ()).throw(RuntimeError()))
    with connection.cursor() as cursor:
        assert prepared.run(connection, sql, [True], lambda st: cursor.execute(st, [True]) or cursor.fetchone()) == (1,)
    assert rows_of(Member, "household_id", survey_a.household_id) == list(
        Member.objects.filter(household_id=survey_a.household_id)
    )
    # another connection (a reconnect) prepares anew
    wrapper.__dict__["_dibao_statements"].raw = object()
    assert _statements(read)[0].startswith("PREPARE dibao_")


def test_the_candidate_list_is_the_candidate_queryset(survey_a, household_b):
    from django.contrib.auth import get_user_model

    from cases.models import Profile, Town, Village

    other = Town.objects.create(code="340225107", name="蜀山镇", county="无为县")
    officer = get_user_model().objects.create_user("town2", password="x-long-password-1")
    Profile.objects.create(user=officer, role=Profile.Role.TOWN, town=other)
    households = [survey_a.household, household_b]
    # a village of no work group: its cadres and the town's office
    alone = Village.objects.filter(work_groups__isnull=True).first()
    if alone is not None:
        households.append(Household(village=alone))
    get_user_model().objects.filter(username="cadre03").update(is_active=False)  # 村B's cadre has left
    for household in households:
        listed = services.investigator_candidate_list(household)
        expected = list(services.investigator_candidates(household))
        assert listed and [u.pk for u in listed] == [u.pk for u in expected]
        with CaptureQueriesContext(connection) as ctx:
            assert [u.profile.role for u in listed] == [u.profile.role for u in expected]
        assert ctx.captured_queries == []  # each with its profile
    assert officer not in services.investigator_candidate_list(survey_a.household)


def test_a_village_survey_list_page_is_the_querysets_page_at_every_position(
    make_household, village_a, campaign, cadre_a
):
    from cases.lists import CompiledNewestFirst, NewestFirst
    from cases.models import Case
    from surveys.views import _campaign_cases

    made = [make_household(village_a, head=f"户主{i}", dibao=i % 3 != 0) for i in range(7)]
    services.start_survey(made[1], campaign=campaign, actor=cadre_a)  # one drafted, the rest pending
    fields = ["household_id", "household__public_id", "household__group__name", "source", "stage"]
    for status in ("", "not_visited", "draft", "submitted", "unknown"):
        stages = services.VILLAGE_LIST_FILTERS.get(status)
        orm = NewestFirst(
            services.village_cases(campaign, village_a, status),
            fields,
            count=7,
            key="household_id",
            rows=Case.objects.filter(campaign=campaign),
        )
        values = [campaign.pk, village_a.pk, None if stages is None else list(stages)]
        ours = CompiledNewestFirst(
            services.cases_to_visit, _campaign_cases, values, fields, count=7, key="household_id"
        )
        for page in (slice(0, 3), slice(3, 6), slice(6, 7), slice(1, 2), slice(0, 7)):
            assert ours[page] == orm[page], (status, page)
    values = [campaign.pk, village_a.pk, ["draft"]]
    drafted = CompiledNewestFirst(services.cases_to_visit, _campaign_cases, values, fields, count=1, key="household_id")
    assert [row["household_id"] for row in drafted[0:1]] == [made[1].pk]
