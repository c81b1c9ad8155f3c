"""The review lists read the villages' tallies: the tallies stay equal to the case rows through
phases 3 and 4, and a page of a list is the same rows, in the same order, as sorting the whole
town would give."""

from __future__ import annotations

import re

import pytest
from django.db.models import Count, Q, Sum
from django.test import override_settings
from django.urls import reverse

from cases import decisions
from cases.lists import ByVillage
from cases.models import Campaign, Case, Village, VillageTally
from surveys import review, services
from surveys.models import Sample
from tests.surveys.conftest import revisit_sample

KEY = ("village_id", "stage", "review", "outcome")
FLAGS = VillageTally.FLAGS


def assert_tallies_match(campaign: Campaign) -> None:
    """Every tally row equals a direct count of the case rows it stands for."""
    direct = {
        tuple(r[k] for k in KEY): r
        for r in Case.objects.in_scope()
        .filter(campaign=campaign)
        .values(*KEY)
        .annotate(
            households=Count("id"),
            members=Sum("live_members"),
            **{f: Count("id", filter=Q(**{f: True})) for f in FLAGS},
        )
        .order_by()
    }
    kept = {
        tuple(getattr(t, k) for k in KEY): t for t in VillageTally.objects.filter(campaign=campaign) if t.households
    }
    assert set(kept) == set(direct)
    for key, row in direct.items():
        tally = kept[key]
        assert (tally.households, tally.members) == (row["households"], row["members"] or 0), key
        assert [getattr(tally, f) for f in FLAGS] == [row[f] for f in FLAGS], key


def test_it_keeps_the_tallies_equal_to_the_case_rows_through_phases_3_and_4(ready_town, town_office, county_officer):
    assert_tallies_match(ready_town)
    review.send_town_report(ready_town, actor=town_office, late_reason="测试")
    assert_tallies_match(ready_town)
    campaign = services.advance_phase(Campaign.objects.get(pk=ready_town.pk), actor=town_office)
    sample, _ = services.draw_sample(campaign, level="county", actor=county_officer)
    assert_tallies_match(campaign)
    revisit_sample(
        sample, county_officer, entries=list(sample.entries.select_related("household", "sample__campaign")[:2])
    )
    assert_tallies_match(campaign)
    cases = list(
        Case.objects.filter(campaign=campaign, county_sampled=False).select_related(
            "campaign", "household", "decision"
        )[:3]
    )
    decisions.return_decision(cases[0], actor=county_officer, note="请补充收入证明")
    decisions.approve(cases[1], actor=county_officer)
    assert_tallies_match(campaign)
    approved = review.approve_all(campaign, actor=county_officer, village=cases[2].village)
    assert approved > 0
    assert_tallies_match(campaign)


def test_it_counts_the_decision_list_from_the_tallies(client, ready_town, town_office):
    client.force_login(town_office)
    page = client.get(reverse("review_decisions") + "?status=decided").content.decode()
    decided = Case.objects.filter(campaign=ready_town, in_scope=True, stage="reported").exclude(review="").count()
    assert f"全镇（{decided}户）" in page


@override_settings(LIST_PAGE_SIZE=7)
@pytest.mark.parametrize("status", ["", "decided"])
def test_it_pages_the_town_village_after_village_as_one_sort_would(client, ready_town, town_office, status):
    """Every page of the whole town's list, joined, is the town's rows in the order of one sort
    over all of them (by village, newest household first) — none lost, none twice."""
    client.force_login(town_office)
    rows = Case.objects.in_scope().filter(campaign=ready_town, stage="reported")
    if status == "decided":
        rows = rows.exclude(review="")
    expected = list(
        rows.order_by("village__order", "village__code", "-household_id").values_list("household__public_id", flat=True)
    )
    seen, number = [], 1
    while True:
        html = client.get(reverse("review_decisions"), {"status": status, "page": number}).content.decode()
        seen += re.findall(r'href="/surveys/review/([0-9a-f-]{36})/"', html)
        if f"page={number + 1}" not in html:
            break
        number += 1
    assert number > 2  # the walk crossed several villages' boundaries
    assert seen == [str(code) for code in expected]


def test_it_slices_across_villages_and_by_index():
    class Rows:
        """A stand-in queryset that records what was asked of it."""

        def __init__(self, rows):
            self.rows, self.asked = rows, []

        def filter(self, village_id__in):
            self.asked.append(list(village_id__in))
            self.kept = [r for r in self.rows if r[0] in village_id__in]
            return self

        def order_by(self, *order):
            place = {v: i for i, v in enumerate(self.asked[-1])}
            self.kept.sort(key=lambda r: (place[r[0]], -r[1]))
            return self

        def __getitem__(self, s):
            return self.kept[s]

    rows = [(v, h) for v, n in ((3, 4), (1, 0), (2, 5)) for h in range(n)]
    queryset = Rows(rows)
    listed = ByVillage(queryset, [(3, 4), (1, 0), (2, 5)])
    assert len(listed) == 9
    assert listed[2:6] == [(3, 1), (3, 0), (2, 4), (2, 3)]
    assert queryset.asked[-1] == [3, 2]  # the empty village is never asked for
    assert listed[4:8] == [(2, 4), (2, 3), (2, 2), (2, 1)] and queryset.asked[-1] == [2]
    assert listed[8] == (2, 0)
    assert listed[9:12] == []


def test_it_offers_the_bulk_decision_and_counts_it_on_its_own_tab(client, verify_town, town_office):
    services.draw_sample(verify_town, level="town", actor=town_office)
    village = Village.objects.filter(town=verify_town.town).order_by("order").first()
    ready = review.bulk_ready(verify_town).filter(village=village).count()
    assert ready
    client.force_login(town_office)
    page = client.get(reverse("review_decisions"), {"village": village.code}).content.decode()
    assert f"{village.name}：按建议批量决定" in page and "先看名单" in page
    tab = client.get(reverse("review_decisions"), {"village": village.code, "status": "bulk"}).content.decode()
    assert f"{village.name}：按建议决定{ready}户" in tab and f"{village.name}（{ready}户）" in tab


def test_it_shows_the_county_bulk_approval_only_once_the_village_is_drawn(
    client, ready_town, town_office, county_officer
):
    review.send_town_report(ready_town, actor=town_office, late_reason="测试")
    campaign = services.advance_phase(Campaign.objects.get(pk=ready_town.pk), actor=town_office)
    village = Village.objects.filter(town=campaign.town).order_by("order").first()
    client.force_login(county_officer)
    url = reverse("review_county")
    assert f"{village.name}：批量批准" not in client.get(url, {"village": village.code}).content.decode()
    services.draw_sample(campaign, level="county", actor=county_officer)
    assert Sample.objects.filter(campaign=campaign, level="county").exists()
    page = client.get(url, {"village": village.code}).content.decode()
    assert f"{village.name}：批量批准" in page
    ready = review.county_bulk_ready(campaign).filter(village=village).count()
    tab = client.get(url, {"village": village.code, "status": "bulk"}).content.decode()
    assert f"{village.name}：批准{ready}户" in tab


def test_it_does_not_tell_a_village_which_of_its_households_are_sampled(client, verify_town, cadre_a, village_a):
    sample, _ = services.draw_sample(verify_town, level="town", actor=cadre_a.__class__.objects.get(username="town"))
    entry = sample.entries.filter(village=village_a).select_related("household").first()
    client.force_login(cadre_a)
    listed = client.get(reverse("review_decisions"), {"village": village_a.code}).content.decode()
    page = client.get(reverse("review_decide", args=[entry.household.public_id])).content.decode()
    for html in (listed, page):
        assert "镇级核查（待核查）" not in html and "全面核查</span>" not in html
    assert client.get(reverse("survey_sample", args=["town"])).status_code == 403
    client.force_login(cadre_a.__class__.objects.get(username="town"))
    assert (
        "镇级核查（待核查）" in client.get(reverse("review_decide", args=[entry.household.public_id])).content.decode()
    )
