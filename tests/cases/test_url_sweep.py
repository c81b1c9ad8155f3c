"""A sweep of every URL that takes no argument, for every persona and an anonymous visitor:
no page fails, and no page shows a full ID number of the registry (those appear only after a
recorded reveal, on the household's own page). The per-feature access tests hold the exact
answer for each role; this catches a page that none of them lists."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from cases.models import Member
from tests.cases.test_access import PERSONAS

# Answers a page may give a persona: shown, sent on (login, a list), refused, not theirs, or
# "use POST" / a file only as a download.
FINE = {200, 302, 403, 404, 405}


def _plain_urls(patterns=None, prefix=""):
    """Every route without a converter, as a path (the admin's own pages left to Django)."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if "<" in route or route.startswith("admin/"):
            continue
        if isinstance(entry, URLResolver):
            yield from _plain_urls(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield "/" + route.lstrip("^").rstrip("$")


@pytest.mark.parametrize("persona", [*PERSONAS, None])
def test_it_answers_every_plain_url_without_failing_or_showing_an_id(persona, request, client, household_a):
    if persona:
        client.force_login(request.getfixturevalue(persona))
    numbers = list(Member.objects.values_list("id_number", flat=True))
    assert numbers
    urls = sorted(set(_plain_urls()))
    assert "/dashboard/" in urls and "/board/" in urls and "/departments/" in urls
    for url in urls:
        response = client.get(url)
        assert response.status_code in FINE, (persona, url, response.status_code)
        if response.status_code == 200 and not response.streaming and "html" in response.get("Content-Type", ""):
            page = response.content.decode()
            assert not any(n in page for n in numbers), (persona, url)
