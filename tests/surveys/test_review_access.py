"""Every page of the town's review (decisions, 公示, the report) against every persona:
villages and work groups read their own area, the whole-town roles everything; only the
town office (and the administrator) writes; anonymous visitors go to the login page."""

import pytest
from django.urls import reverse

from cases.models import Case, CountyReview, Decision, ExitNotice, Notice, Objection
from surveys.models import TownReport

PERSONAS = ["cadre_a", "cadre_b", "group_leader_a", "town_office", "leadership", "county_officer", "admin_user"]
SEES_A = {"cadre_a", "group_leader_a", "town_office", "leadership", "county_officer", "admin_user"}
WHOLE_TOWN = {"town_office", "leadership", "county_officer", "admin_user"}
WRITES = {"town_office", "admin_user"}


@pytest.fixture
def case_a(verify_town, village_a):
    return Case.objects.filter(campaign=verify_town, village=village_a).select_related("household").first()


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_answers_every_review_page_by_role_and_area(persona, request, client, case_a, village_a):
    client.force_login(request.getfixturevalue(persona))
    sees = persona in SEES_A
    expected = {
        reverse("review_decisions"): 200,
        reverse("review_decisions") + f"?village={village_a.code}": 200 if sees else 404,
        reverse("review_decide", args=[case_a.household.public_id]): 200 if sees else 404,
        reverse("review_notices"): 200,
        reverse("review_notice", args=[village_a.code]): 200 if sees else 404,
        reverse("review_town_report"): 200 if persona in WHOLE_TOWN else 403,
        reverse("review_county"): 200,
        reverse("review_county") + f"?village={village_a.code}": 200 if sees else 404,
        reverse("dashboard"): 200,
    }
    for url, status in expected.items():
        response = client.get(url)
        assert response.status_code == status, (persona, url)
        if status == 200 and "village=" in url:
            assert village_a.name in response.content.decode()


@pytest.mark.parametrize("persona", sorted(set(PERSONAS) - WRITES))
def test_it_refuses_every_review_write_by_others_and_changes_nothing(persona, request, client, case_a, village_a):
    client.force_login(request.getfixturevalue(persona))
    writes = [
        (reverse("review_decide", args=[case_a.household.public_id]), {"outcome": "exit", "reason": "x"}),
        (reverse("review_decide_bulk"), {"village": village_a.code}),
        (reverse("review_notice_open", args=[village_a.code]), {}),
        (reverse("review_objection_add", args=[village_a.code]), {"household": str(case_a.household.public_id)}),
        (reverse("review_objection_resolve", args=["00000000-0000-0000-0000-000000000001"]), {"result": "x"}),
        (reverse("review_town_report_send"), {"late_reason": "x"}),
        (reverse("review_county_answer", args=[case_a.household.public_id]), {"verdict": "approve"}),
        (reverse("review_county_bulk"), {"village": village_a.code}),
        (reverse("review_exit_notice", args=[case_a.household.public_id]), {"recipient": "x"}),
    ]
    county_writes = {"/county/", "/county/bulk/", "/exit-notice/"}
    for url, data in writes:
        response = client.post(url, data, follow=True)
        if persona == "county_officer" and any(url.endswith(w) for w in county_writes):
            # the county's own writes: refused with a message (nothing was sent to it yet)
            assert response.status_code == 200 and 'class="alert alert-danger"' in response.content.decode(), url
        else:
            assert response.status_code in (403, 404), (persona, url)
    assert not Decision.objects.exists() and not Notice.objects.exists()
    assert not Objection.objects.exists() and not TownReport.objects.exists()
    assert not CountyReview.objects.exists() and not ExitNotice.objects.exists()


def test_anonymous_visitors_are_sent_to_login(client, case_a, village_a):
    pages = [
        reverse("review_decisions"),
        reverse("review_decide", args=[case_a.household.public_id]),
        reverse("review_notices"),
        reverse("review_notice", args=[village_a.code]),
        reverse("review_town_report"),
        reverse("review_county"),
        reverse("dashboard"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    writes = ["review_decide_bulk", "review_town_report_send", "review_county_bulk"]
    for url in [reverse(name) for name in writes] + [
        reverse("review_county_answer", args=[case_a.household.public_id]),
        reverse("review_exit_notice", args=[case_a.household.public_id]),
    ]:
        assert client.post(url)["Location"].startswith(reverse("login"))


def test_a_malformed_household_or_objection_id_is_not_found(client, town_office, verify_town):
    client.force_login(town_office)
    assert client.get(reverse("review_decide", args=["not-a-uuid"])).status_code == 404
    assert client.post(reverse("review_objection_resolve", args=["nope"]), {"result": "x"}).status_code == 404
