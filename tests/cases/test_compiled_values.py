"""cases.compiled.values_rows: a values() queryset compiled once per call site and shape gives
what the ORM gives, for other values too; the list pages read their rows by it."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import compiled, roles
from cases.compiled import values_rows
from cases.lists import (
    CompiledNewestFirst,
    NewestFirst,
    _newest_page,
    all_households,
    households_in_area,
    in_area,
    live_members,
    registry_count,
)
from cases.models import Household, Member, RegistryTally

FIELDS = ("id", "public_id", "village__name", "group__name", "monthly_amount", "created_at")


def _households(villages, status):
    return (
        Household.objects.filter(village_id__in=villages, dibao_status=status)
        .order_by("-id")
        .values(*FIELDS, amount=F("monthly_amount"))
    )


def _names(household, relationship, live):
    rows = Member.objects.filter(household_id=household).order_by("id")
    if relationship is not None:
        rows = rows.filter(relationship=relationship)
    if live:
        rows = rows.filter(status=Member.Status.PRESENT)
    return rows.values_list("name", "relationship")


@pytest.fixture
def households(make_household, village_a, village_b):
    made = [make_household(v, head=f"户主{i}", dibao=i % 2 == 0) for i, v in enumerate([village_a, village_b] * 3)]
    Household.objects.filter(pk=made[0].pk).update(monthly_amount=Decimal("123.45"))
    return made


def test_the_rows_are_the_querysets_for_every_value(households, village_a, village_b):
    for villages in ([village_a.pk], [village_a.pk, village_b.pk], [village_b.pk, village_a.pk]):
        for status in Household.DibaoStatus.values:
            ours = values_rows(_households, villages, status)
            assert ours == list(_households(villages, status)), (villages, status)
    row = values_rows(_households, [village_a.pk], Household.DibaoStatus.ACTIVE)[-1]
    assert row["id"] == households[0].pk
    # the ORM's converters: UUIDs, decimals, aware times (SQLite stores them as text)
    assert isinstance(row["public_id"], uuid.UUID) and row["amount"] == Decimal("123.45")
    assert isinstance(row["created_at"], dt.datetime) and timezone.is_aware(row["created_at"])
    assert set(row) == {*FIELDS, "amount"}


def test_none_and_booleans_choose_the_statement_and_values_stay_parameters(households):
    head = households[0]
    Member.objects.filter(household=head, relationship=Member.Relationship.SPOUSE).update(
        status="dead", status_changed_on=dt.date(2026, 1, 1)
    )
    for relationship in (None, Member.Relationship.HEAD, Member.Relationship.SPOUSE):
        for live in (True, False):
            ours = values_rows(_names, head.pk, relationship, live)
            assert ours == list(_names(head.pk, relationship, live)), (relationship, live)
    assert values_rows(_names, head.pk, None, True) != values_rows(_names, head.pk, None, False)
    other = households[1]
    assert values_rows(_names, other.pk, None, False) == list(_names(other.pk, None, False))
    shapes = [key for key in compiled._STATEMENTS if key[0] is _names.__code__]
    assert len(shapes) == 4  # with and without the relationship and the status, whatever the household


def test_one_statement_per_shape_and_one_query_per_read(households, village_a):
    values_rows(_households, [village_a.pk], "active")
    with CaptureQueriesContext(connection) as ctx:
        values_rows(_households, [village_a.pk], "none")
    assert len(ctx.captured_queries) == 1
    with CaptureQueriesContext(connection) as ctx:
        assert values_rows(_households, [], "none") == []  # an empty IN list reads nothing
    assert ctx.captured_queries == []


def test_builders_that_could_give_a_wrong_statement_are_refused(households, village_a):
    status = "active"
    with pytest.raises(ValueError, match="arguments only"):
        values_rows(lambda villages: Household.objects.filter(village_id__in=villages, dibao_status=status), [1])
    with pytest.raises(ValueError, match="every value must be a parameter"):
        values_rows(lambda villages, _unused: Household.objects.filter(village_id__in=villages).values("id"), [1], 7)
    with pytest.raises(ValueError, match=r"values\(\) or values_list\(\)"):
        values_rows(lambda village: Household.objects.filter(village_id=village), 2)
    with pytest.raises(TypeError, match="whole numbers or text"):
        values_rows(lambda day: Household.objects.filter(created_at__date=day).values("id"), dt.date(2026, 1, 1))
    # text the ORM changes before it reaches the statement is no parameter of it as given:
    # wrapped in a pattern (and escaped), or both given and wrapped
    for build in (
        lambda name: Member.objects.filter(name__contains=name).values("id"),
        lambda name: Member.objects.filter(Q(name=name) | Q(name__startswith=name)).values("id"),
    ):
        with pytest.raises(ValueError, match="every value must be a parameter"):
            values_rows(build, "张_")
    # a method: its object would be frozen into the statement
    with pytest.raises(ValueError, match="arguments only"):
        values_rows(Household.objects.filter(village=village_a).values_list, "id")


def test_a_compiled_page_is_the_querysets_page_at_every_position(households, village_a, village_b, town_office):
    area = (None, town_office.profile.town_id, None)
    fields = ["id", "public_id", "village__name", "group__name", "dibao_status"]
    orm = NewestFirst(Household.objects.filter(roles.area_q(town_office)), fields, count=len(households))
    ours = CompiledNewestFirst(households_in_area, all_households, area, fields, count=len(households))
    for page in (slice(0, 4), slice(4, 8), slice(2, 3), slice(5, 40), slice(6, 9)):
        assert ours[page] == orm[page], page
    assert ours[1] == orm[1]
    one = CompiledNewestFirst(households_in_area, all_households, (None, None, village_b.pk), fields, count=3)
    assert [r["village__name"] for r in one[0:3]] == [village_b.name] * 3


def test_registry_count_and_live_members_are_the_querysets(households, village_a, village_b, town_office, cadre_a):
    for area in (([village_a.pk], None, None), (None, town_office.profile.town_id, None), (None, None, village_b.pk)):
        expected = sum(in_area(RegistryTally, *area).values_list("households", flat=True))
        assert registry_count(area) == expected == Household.objects.filter(**_area_filter(area)).count()
    ids = [h.pk for h in households]
    orm = Member.objects.filter(household_id__in=ids, status=Member.Status.PRESENT).order_by("relationship", "id")
    assert live_members(ids, ("name", "relationship")) == list(orm.values_list("household_id", "name", "relationship"))
    assert live_members([], ("name",)) == []


def _area_filter(area):
    villages, town, village = area
    if villages is not None:
        return {"village_id__in": villages}
    if town is not None:
        return {"village__town_id": town}
    return {"village_id": village}


def test_the_statements_kept_are_bounded(households, village_a, monkeypatch):
    monkeypatch.setattr(compiled, "STATEMENTS_KEPT", 3)
    for page in range(5):
        area = ([village_a.pk], None, None)
        pages = CompiledNewestFirst(households_in_area, all_households, area, ["id"], count=10)
        assert (
            pages[page : page + 1]
            == list(Household.objects.filter(village=village_a).order_by("-id").values("id"))[page : page + 1]
        )
        assert len(compiled._STATEMENTS) <= 3


def test_the_last_page_keeps_its_statement_as_the_count_changes(households, town_office):
    area = (None, town_office.profile.town_id, None)
    orm = list(Household.objects.order_by("-id").values("id"))
    for count in (4, 5, 6):
        pages = CompiledNewestFirst(households_in_area, all_households, area, ["id"], count=count)
        assert pages[3:count] == orm[3:count]
    assert len([key for key in compiled._STATEMENTS if key[0] is _newest_page.__code__]) == 1
