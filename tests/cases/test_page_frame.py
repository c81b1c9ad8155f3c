"""The frame of every page (base.html): its links are reversed once per process and script
prefix, and are the addresses {% url %} would give."""

from django.urls import reverse, set_script_prefix

from cases.context_processors import _Addresses, nav_urls

LINKS = ["household_list", "survey_coverage", "dashboard", "import_roll", "accounts", "password_change", "logout"]


def test_the_frames_links_are_the_reversed_addresses(client, town_office):
    client.force_login(town_office)
    page = client.get(reverse("household_list")).content.decode()
    for name in LINKS:
        assert f'href="{reverse(name)}"' in page or f'action="{reverse(name)}"' in page, name


def test_behind_a_script_prefix_the_links_carry_it():
    # the WSGI handler sets the prefix for each request (the test client does not)
    try:
        set_script_prefix("/dibao/")
        assert nav_urls()["household_list"] == "/dibao/households/"
    finally:
        set_script_prefix("/")
    assert nav_urls()["household_list"] == "/households/"  # each prefix has its own addresses


def test_a_namespaced_name_is_written_with_an_underscore():
    addresses = _Addresses()
    assert addresses["admin_index"] == reverse("admin:index") and "admin_index" in addresses
