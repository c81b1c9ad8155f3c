"""Every figure of the dashboard equals a direct count over the rows it stands for (case rows,
surveys, re-visit differences, training attendance), for the whole town, a work group and a
village; and the page costs the same queries at 100 and at 10,000 households."""

import datetime as dt
import random
from collections import Counter
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.demo import generate_assistance, generate_households
from cases.models import Campaign, Case, Decision, Household, Village
from cases.services import retally
from reports import outreach
from reports.dashboard import CASE_COUNTS, OUTCOMES, build_dashboard
from reports.models import TrainingAttendance
from surveys import review, services
from surveys.demo import generate_surveys
from surveys.models import Difference, Survey
from surveys.services import list_from_registry
from tests.reports.test_home import texts
from tests.surveys.conftest import revisit_sample, verify_town  # noqa: F401 - the shared fixture

TODAY = dt.date(2019, 11, 12)


@pytest.fixture
def busy_town(verify_town, town_office):  # noqa: F811 - the shared fixture
    """Phase 4 with something in every state: the town's sample drawn and most of it re-visited
    (some with a difference),
    what may be decided in bulk decided, then (the county's part, set on the rows and recounted
    into the tallies as the county's services do) some sent, approved, returned and sampled by
    the county; two training sessions; complaints and green-channel applications."""
    sample, _ = services.draw_sample(verify_town, level="town", actor=town_office)
    entries = list(sample.entries.select_related("household", "sample__campaign").order_by("household_id"))
    revisit_sample(sample, town_office, entries=entries[::2])
    revisit_sample(sample, town_office, entries=entries[1::6], shop_fronts=2)  # a difference to judge
    review.decide_all_as_proposed(verify_town, actor=town_office)
    rng = random.Random(5)
    decided = list(Case.objects.filter(campaign=verify_town).exclude(review="").order_by("id"))
    for case in rng.sample(decided, len(decided) // 2):
        case.review = rng.choice([Case.Review.SENT, Case.Review.APPROVED, Case.Review.RETURNED])
        case.county_sampled = rng.random() < 0.3
        case.county_revisited = case.county_sampled and rng.random() < 0.5
        case.save(update_fields=["review", "county_sampled", "county_revisited"])
    retally(verify_town, Village.objects.values_list("id", flat=True))
    Campaign.objects.filter(pk=verify_town.pk).update(current_phase=Campaign.PhaseNumber.SUPERVISE)
    campaign = Campaign.objects.get(pk=verify_town.pk)
    villages = list(Village.objects.order_by("order"))
    outreach.record_training(
        campaign,
        actor=town_office,
        held_on=dt.date(2019, 10, 16),
        place="镇政府会议室",
        topic="低保政策培训",
        attendance={v: 2 + i % 3 for i, v in enumerate(villages)},
        town_attendees=9,
    )
    outreach.record_training(
        campaign,
        actor=town_office,
        held_on=dt.date(2019, 10, 18),
        place="泥汊社区",
        topic="调查表填写",
        attendance=dict.fromkeys(villages[:5], 4),
    )
    generate_assistance(campaign)
    return campaign


def direct(campaign, village) -> dict:
    """The village's figures counted row by row in Python, as a clerk would count the lists."""
    cases = list(
        Case.objects.filter(campaign=campaign, village=village, in_scope=True).select_related("household", "decision")
    )
    reported = [c for c in cases if c.stage == Case.Stage.REPORTED]
    surveys = list(Survey.objects.filter(campaign=campaign, status="submitted", household__village=village))
    active = Household.DibaoStatus.ACTIVE

    def paid_now(c):
        return c.household.monthly_amount if c.household.dibao_status == active else Decimal("0")

    differences = Difference.objects.filter(revisit__entry__sample__campaign=campaign, revisit__entry__village=village)
    return {
        "households": len(cases),
        "surveyed": sum(c.stage in Case.SURVEYED for c in cases),
        "reported": len(reported),
        "town_sampled": sum(c.town_sampled for c in cases),
        "town_revisited": sum(c.town_revisited for c in cases),
        "county_sampled": sum(c.county_sampled for c in cases),
        "county_revisited": sum(c.county_revisited for c in cases),
        "decisions_left": sum(c.review == "" for c in reported),
        "decided": sum(c.review != "" for c in reported),
        "sent": sum(c.review == Case.Review.SENT for c in cases),
        "returned": sum(c.review == Case.Review.RETURNED for c in cases),
        "approved": sum(c.review == Case.Review.APPROVED for c in cases),
        "outcomes": Counter({key: sum(c.outcome == key for c in cases) for key, _ in OUTCOMES}),
        # before: as each household was paid when listed (the row keeps it; a green-channel
        # enrolment since is paid now, not before); after: the decision's, else paid now
        "amount_before": sum((c.amount_before for c in cases), Decimal("0")),
        "amount_after": sum((c.decision.monthly_amount if c.decision else paid_now(c) for c in cases), Decimal("0")),
        "town_verdicts": Counter(d.verdict for d in differences.filter(revisit__entry__sample__level="town")),
        "policy_asked": len(surveys),
        "flyers": sum(s.flyer_delivered for s in surveys),
        "knows_policy": sum(s.knows_policy for s in surveys),
        "trained": sum(a.attendees for a in TrainingAttendance.objects.filter(village=village)),
        "trainings": TrainingAttendance.objects.filter(village=village).count(),
    }


def shown(row) -> dict:
    return {
        **{key: getattr(row, key) for key in ("households", "surveyed", *CASE_COUNTS)},
        "outcomes": +row.outcomes,
        "amount_before": row.amount_before,
        "amount_after": row.amount_after,
        "town_verdicts": +row.town_verdicts,
        **{key: getattr(row, key) for key in ("policy_asked", "flyers", "knows_policy", "trained", "trainings")},
    }


def counted(figures: dict) -> dict:
    return {**figures, "outcomes": +figures["outcomes"], "town_verdicts": +figures["town_verdicts"]}


def test_it_counts_every_village_figure_as_the_rows_do(busy_town):
    villages = list(Village.objects.order_by("order"))
    board = build_dashboard(busy_town, villages, today=TODAY, with_complaints=True, whole_area=True)
    expected = {v.code: counted(direct(busy_town, v)) for v in villages}
    assert {r.village.code: shown(r) for r in board.villages} == expected
    # the fixture reaches every state the figures count: none of them is trivially zero
    for key in ("reported", "town_sampled", "town_revisited", "county_sampled", "decisions_left", "decided"):
        assert sum(e[key] for e in expected.values()) > 0, key
    for key in ("sent", "returned", "approved", "policy_asked", "knows_policy", "trained"):
        assert sum(e[key] for e in expected.values()) > 0, key
    assert 0 < sum(e["knows_policy"] for e in expected.values()) < sum(e["policy_asked"] for e in expected.values())
    assert sum(sum(e["town_verdicts"].values()) for e in expected.values()) > 0


def test_it_adds_up_the_total_and_the_work_groups_from_the_villages(busy_town):
    villages = list(Village.objects.order_by("order"))
    board = build_dashboard(busy_town, villages, today=TODAY, with_complaints=True, whole_area=True)
    rows = [direct(busy_town, v) for v in villages]
    for key in ("households", "surveyed", "reported", "decisions_left", "sent", "approved", "flyers", "knows_policy"):
        assert getattr(board.total, key) == sum(r[key] for r in rows), key
    assert board.total.amount_after == sum(r["amount_after"] for r in rows)
    # sessions once each, however many villages came; the town's own staff in the total
    assert board.total.trainings == 2
    assert board.total.trained == sum(r["trained"] for r in rows) + 9
    assert board.total.outcomes == sum((r["outcomes"] for r in rows), Counter())
    assert sum(g.households for g in board.work_groups) == board.total.households  # one group per village here


def test_it_shows_a_village_cadre_their_villages_figures_and_sessions(client, cadre_a, village_a, busy_town):
    client.force_login(cadre_a)
    page = client.get(reverse("dashboard")).content.decode()
    board = client.get(reverse("dashboard")).context["board"]
    assert [r.village for r in board.villages] == [village_a]
    assert counted(direct(busy_town, village_a)) | {"town_verdicts": Counter()} == shown(board.villages[0])
    # the sessions their village attended (both), not the town's staff
    assert board.total.trainings == 2 and board.total.trained == direct(busy_town, village_a)["trained"]
    found = texts(page)
    assert found["total-trained"] == [str(board.total.trained)]
    assert found["knows"] == [str(direct(busy_town, village_a)["knows_policy"])]


def test_it_shows_the_outreach_figures_on_the_page_as_counted(client, leadership, busy_town):
    client.force_login(leadership)
    page = client.get(reverse("dashboard")).content.decode()
    found = texts(page)
    villages = list(Village.objects.order_by("order"))
    rows = [direct(busy_town, v) for v in villages]
    assert [int(n) for n in found["knows"]] == [r["knows_policy"] for r in rows]
    assert [int(n) for n in found["flyers"]] == [r["flyers"] for r in rows]
    assert [int(n) for n in found["trained"]] == [r["trained"] for r in rows]
    asked, knows = sum(r["policy_asked"] for r in rows), sum(r["knows_policy"] for r in rows)
    assert found["total-knows"] == [str(knows)] and found["total-knows-percent"] == [f"{100 * knows // asked}%"]
    assert found["total-trainings"] == ["2"]
    # each village's training figure opens its sessions
    assert f'href="/dashboard/training/?village={villages[0].code}"' in page


@pytest.mark.slow
def test_its_queries_are_the_same_at_100_and_at_10000_households(
    client, leadership, town_office, campaign, django_assert_num_queries
):
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.REVIEW)
    outreach.record_training(
        campaign,
        actor=town_office,
        held_on=timezone.localdate(),
        place="镇政府",
        topic="培训",
        attendance=dict.fromkeys(Village.objects.all(), 1),
    )
    generate_assistance(campaign)
    client.force_login(leadership)
    generate_households(campaign, 100, seed=1)
    generate_surveys(campaign, seed=1)  # the list drawn, some villages surveyed and reported
    for size in (100, 10_000):
        generate_households(campaign, size - Household.objects.count(), seed=2)
        list_from_registry(campaign, actor=town_office)
        # session, account (user, profile, campaign: cases.auth), villages, tallies by stage,
        # village reports, tallies by review state, amounts, differences, open complaints, overdue
        # complaints, green channel, screening tasks, surveys' outreach, training by village,
        # training total, work groups' villages, phases
        # a first request renews the session (once a minute: generating 10,000 households takes
        # longer), so the measured one counts the page's queries only
        client.get(reverse("dashboard"))
        with django_assert_num_queries(17):
            response = client.get(reverse("dashboard"))
        assert response.context["board"].total.households == Case.objects.filter(in_scope=True).count() >= size
        assert Decision.objects.count() == 0
