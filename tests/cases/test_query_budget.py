"""The household list costs the same number of queries for 100 and 10,000 households."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.demo import generate_households

# session, account (user, profile, the footer's campaign: cases.auth), how many households (the
# registry's tallies, or a count when filtered), the village choices, the page of households
# (with village and group), their live members.
LIST_QUERIES = 6


def _list_queries(client, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("household_list"), params)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


@pytest.mark.slow
def test_the_household_list_has_a_fixed_query_budget(client, town_office, cadre_a, campaign):
    generate_households(campaign, 100, seed=1)
    client.force_login(town_office)
    small, page = _list_queries(client)
    assert "共 100 户" in page
    small_search, _ = _list_queries(client, q="张", category="rural_dibao")
    generate_households(campaign, 9900, seed=2)
    large, page = _list_queries(client)
    assert "共 10000 户" in page
    large_search, _ = _list_queries(client, q="张", category="rural_dibao")
    assert small == large == LIST_QUERIES
    assert small_search == large_search
    client.force_login(cadre_a)
    cadre, page = _list_queries(client, page=3)
    assert cadre == LIST_QUERIES - 1  # one village: no village choices to load


def test_the_household_page_has_a_fixed_query_budget(client, town_office, household_a, django_assert_num_queries):
    client.force_login(town_office)
    # session, account (user, profile, the footer's campaign), household (+village, group),
    # members, timeline (+actor, profile)
    with django_assert_num_queries(5):
        client.get(reverse("household_detail", args=[household_a.public_id]))
