"""cases.prepared: on PostgreSQL a page's reads outside a transaction run as prepared statements,
with the same answers; what the server cannot prepare, a server-side cursor, a transaction and
the setting's "off" all run as text."""

import re

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import prepared
from cases.models import Household, Member

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL only")


def _sql(action):
    with CaptureQueriesContext(connection) as ctx:
        result = action()
    return result, [q["sql"] for q in ctx.captured_queries]


def _reads(sql: list[str]) -> list[str]:
    return [s for s in sql if not s.startswith(("SAVEPOINT", "RELEASE", "UPDATE", "INSERT"))]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("who", "page", "shown"),
    [
        ("town_office", "household_list", "共 1 户"),
        ("town_office", "household_list?village={village}", "共 1 户"),
        ("cadre_a", "household_list", "共 1 户"),
        ("cadre_a", "survey_village", "张建国"),
        ("cadre_a", "survey_village?status=not_visited", "张建国"),
    ],
)
def test_a_page_read_twice_runs_its_reads_prepared_and_shows_the_same(client, who, page, shown, household_a, request):
    client.force_login(request.getfixturevalue(who))
    name, _, query = page.partition("?")
    url = reverse(name, args=[household_a.village.code] if name == "survey_village" else [])
    url = f"{url}?{query.format(village=household_a.village.code)}" if query else url
    client.get(url)  # the connection prepares the page's statements
    first, sql = _sql(lambda: client.get(url).content)
    second, again = _sql(lambda: client.get(url).content)
    token = re.compile(rb'(name="csrfmiddlewaretoken" value="|data-csrf=")[^"]+"')  # masked anew for each page
    assert token.sub(b"", first) == token.sub(b"", second) and shown in second.decode()
    assert again and all(s.startswith("EXECUTE dibao_") for s in _reads(again)), again
    assert len(again) == len(sql)


@pytest.mark.django_db(transaction=True)
def test_a_read_the_server_cannot_prepare_runs_as_text_and_is_not_tried_again():
    sql = "SELECT %s IS NULL"  # the server cannot tell the parameter's type

    def read():
        with connection.cursor() as cursor:
            cursor.execute(sql, [None])
            return cursor.fetchone()[0]

    with connection.execute_wrapper(prepared.PrepareReads()):
        for _ in range(2):
            answer, ran = _sql(read)
            assert answer is True
        assert ran == ["SELECT NULL IS NULL"]  # the second time straight as text


@pytest.mark.django_db(transaction=True)
def test_server_side_cursors_and_transactions_run_as_text(household_a):
    wrapper = prepared.PrepareReads()
    with connection.execute_wrapper(wrapper):
        ids, sql = _sql(lambda: list(Member.objects.values_list("id", flat=True).iterator(chunk_size=1)))
        assert len(ids) == Member.objects.count() and not any("PREPARE" in s for s in sql)
        with transaction.atomic():
            _, sql = _sql(lambda: list(Household.objects.all()))
        assert sql[-1].startswith('SELECT "cases_household"')


@pytest.mark.django_db(transaction=True)
def test_a_connection_keeps_at_most_the_limit_of_statements(monkeypatch, household_a):
    monkeypatch.setattr(prepared, "LIMIT", 2)
    wrapper = connections["default"]
    wrapper.__dict__.pop("_dibao_statements", None)
    reads = [
        lambda: list(Household.objects.values_list("id", flat=True)),
        lambda: list(Member.objects.values_list("id", flat=True)),
        lambda: list(Member.objects.values_list("name", flat=True)),
    ]
    with connection.execute_wrapper(prepared.PrepareReads()):
        answers = [_sql(read) for read in reads]
        assert answers[2][1][0].startswith("DEALLOCATE dibao_")  # the least recently used goes
        assert [a for a, _ in answers] == [read() for read in reads]
        _, sql = _sql(reads[0])
        assert sql[0].startswith("DEALLOCATE dibao_") and "PREPARE" in sql[0]  # prepared anew
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'dibao_%%'")
        assert cursor.fetchone()[0] <= 2 + len(wrapper.__dict__["_dibao_statements"].refused)


@pytest.mark.django_db(transaction=True)
def test_the_setting_off_sends_every_read_as_text(settings, client, town_office):
    settings.PREPARED_STATEMENTS = False
    client.force_login(town_office)
    client.get(reverse("household_list"))
    _, sql = _sql(lambda: client.get(reverse("household_list")))
    assert not any(s.startswith(("PREPARE", "EXECUTE")) for s in sql)
