"""The registry's household count per village (RegistryTally), kept by database triggers, and the
household list's total read from it."""

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.demo import generate_households
from cases.models import Case, Household, RegistryTally, Village


def tallies() -> dict[int, int]:
    return {t.village_id: t.households for t in RegistryTally.objects.all() if t.households}


def counted() -> dict[int, int]:
    return dict(Household.objects.values("village").annotate(n=Count("id")).values_list("village", "n"))


def test_every_way_a_household_comes_or_goes_is_counted(campaign, make_household, village_a, village_b):
    assert tallies() == counted() == {}
    one = make_household(village_a)  # the service
    make_household(village_a)
    assert tallies() == {village_a.pk: 2}
    generate_households(campaign, 40, seed=3)  # bulk_create, as the demo and imports write
    assert tallies() == counted()
    assert sum(tallies().values()) == 42

    Household.objects.filter(pk=one.pk).update(village=village_b)  # moved, in bulk
    assert tallies() == counted()
    moved = Household.objects.get(pk=one.pk)
    moved.village = village_a
    moved.save()  # moved back, one object
    assert tallies() == counted()
    moved.phone = "13800000000"
    moved.save()  # any other change leaves the count alone
    assert tallies() == counted()

    Case.objects.filter(household=one).delete()
    Household.objects.filter(pk=one.pk).delete()  # removed (with its members)
    assert tallies() == counted()
    assert sum(tallies().values()) == 41


def test_a_rolled_back_change_is_not_counted(campaign, make_household, village_a):
    from django.db import transaction

    make_household(village_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_household(village_a)
        raise RuntimeError
    assert tallies() == counted() == {village_a.pk: 1}


@pytest.mark.slow
def test_the_household_list_reads_its_total_from_the_tallies(client, campaign, town_office, cadre_a, village_a):
    generate_households(campaign, 300, seed=4)
    client.force_login(town_office)
    total = Household.objects.count()
    in_village = Household.objects.filter(village=village_a).count()

    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("household_list")).content.decode()
    assert f"共 {total} 户" in page
    # the total is no count over the registry
    assert not any("COUNT(*)" in q["sql"] and '"cases_household"' in q["sql"] for q in ctx.captured_queries)

    page = client.get(reverse("household_list"), {"village": village_a.code}).content.decode()
    assert f"共 {in_village} 户" in page
    # filtered by anything else, the households are counted
    dibao = Household.objects.filter(dibao_status="active").count()
    page = client.get(reverse("household_list"), {"status": "active"}).content.decode()
    assert f"共 {dibao} 户" in page

    # a village cadre's total is their village's
    client.force_login(cadre_a)
    page = client.get(reverse("household_list")).content.decode()
    assert f"共 {in_village} 户" in page


@pytest.mark.slow
def test_every_page_of_the_list_holds_the_right_households(client, campaign, town_office):
    generate_households(campaign, 95, seed=5)
    client.force_login(town_office)
    newest_first = list(Household.objects.order_by("-id").values_list("public_id", flat=True))
    seen = []
    for number in (1, 2, 3, 4):
        page = client.get(reverse("household_list"), {"page": number}).content.decode()
        seen += [str(p) for p in newest_first if f"/households/{p}/" in page]
    assert seen == [str(p) for p in newest_first]
    # the last page holds the last five, in order
    page = client.get(reverse("household_list"), {"page": 4}).content.decode()
    positions = [page.index(f"/households/{p}/") for p in newest_first[-5:]]
    assert positions == sorted(positions)


def test_the_tally_is_per_village(campaign, make_household, village_a, village_b):
    make_household(village_a)
    make_household(village_b)
    make_household(village_b)
    assert RegistryTally.objects.get(village=village_b).households == 2
    # a village without households has no tally to read, and counts as none
    empty = Village.objects.exclude(pk__in=[village_a.pk, village_b.pk]).first()
    assert not RegistryTally.objects.filter(village=empty, households__gt=0).exists()
