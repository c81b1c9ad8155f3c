"""cases.compiled: reads by statements written once give what the ORM gives."""

import uuid

import pytest
from django.db import connection
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
