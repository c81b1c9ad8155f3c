"""Every page and action of the departments' lists against every persona: the town office uploads
and clears, the county and the leadership group read, a village's cadre sees and works its own
village's flags and tasks, another village's cadre gets 404; and fixed query budgets."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import DepartmentList, HouseholdFlag, ScreeningTask
from tests.cases.test_access import PERSONAS, READ_ALL, WRITE_CAMPAIGN, WRITE_REGISTRY
from tests.conftest import new_id
from tests.surveys.test_department_import import import_rows, xlsx

SEES_A = READ_ALL | {"cadre_a", "group_leader_a"}
FULL_ID_READERS = {"cadre_a", "cadre_b", "town_office", "admin_user"}


@pytest.fixture
def objects(campaign, town_office, household_a):
    """A disability list naming 村A's head (a flag) and someone not in the registry (a task in 村A)."""
    head = household_a.head()
    rows = [(head.name, head.id_number, "湖滨村", "肢体", "二级"), ("孙桂香", new_id(), "湖滨村", "精神", "一级")]
    saved = import_rows(campaign, town_office, "disability", ["姓名", "身份证号", "村", "残疾类别", "残疾等级"], rows)
    return {"list": saved, "flag": HouseholdFlag.objects.get(), "task": ScreeningTask.objects.get()}


def _pages(objects):
    f, t, dl = objects["flag"].public_id, objects["task"].public_id, objects["list"].public_id
    return {
        "department_home": (reverse("department_home"), "read"),
        "department_import": (reverse("department_import"), "write_campaign"),
        "department_list": (reverse("department_list", args=[dl]), "whole_town"),
        "department_flags": (reverse("department_flags"), "read"),
        "department_flag": (reverse("department_flag", args=[f]), "read_a"),
        "department_tasks": (reverse("department_tasks"), "read"),
        "department_task": (reverse("department_task", args=[t]), "read_a"),
        "department_task_register": (reverse("department_task_register", args=[t]), "work_a"),
    }


def _expected(persona, kind):
    if kind == "read":
        return 200
    if kind == "whole_town":
        return 200 if persona in READ_ALL else 404
    if kind == "write_campaign":
        return 200 if persona in WRITE_CAMPAIGN else 403
    if persona not in SEES_A:
        return 404
    if kind == "read_a":
        return 200
    if kind == "work_a":
        return 200 if persona in WRITE_REGISTRY else 403
    raise AssertionError(kind)


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_answers_every_page_by_role_and_area(persona, request, client, objects):
    client.force_login(request.getfixturevalue(persona))
    for name, (url, kind) in _pages(objects).items():
        response = client.get(url)
        assert response.status_code == _expected(persona, kind), (persona, name, response.status_code)


def test_it_sends_anonymous_visitors_to_login(client, objects):
    for url, _kind in _pages(objects).values():
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def _writes(objects):
    f, t = objects["flag"].public_id, objects["task"].public_id
    return {
        # name: (url, data, who may, what shows it changed)
        "clear": (
            reverse("department_flag_clear", args=[f]),
            {"reason": "已核实"},
            WRITE_CAMPAIGN,
            lambda: HouseholdFlag.objects.get().status == "cleared",
        ),
        "close": (
            reverse("department_task_close", args=[t]),
            {"closure": "moved", "note": "已迁出"},
            WRITE_REGISTRY,
            lambda: ScreeningTask.objects.get().status == "closed",
        ),
        "register": (
            reverse("department_task_register", args=[t]),
            {"hukou_type": "rural", "is_other_hardship": "on"},
            WRITE_REGISTRY,
            lambda: ScreeningTask.objects.get().status == "registered",
        ),
        "link": (
            reverse("department_task_link", args=[t]),
            {},
            WRITE_REGISTRY,
            lambda: ScreeningTask.objects.get().status == "registered",
        ),
    }


@pytest.mark.parametrize("persona", ["leadership", "county_officer", "group_leader_a", "cadre_a", "cadre_b"])
def test_it_refuses_writes_outside_the_role_or_area_and_changes_nothing(persona, request, client, objects):
    client.force_login(request.getfixturevalue(persona))
    for name, (url, data, allowed, changed) in _writes(objects).items():
        if persona in allowed and persona in SEES_A:
            continue
        response = client.post(url, data)
        expected = 404 if persona not in SEES_A else 403
        assert response.status_code == expected, (persona, name, response.status_code)
        assert not changed(), (persona, name)
    response = client.post(reverse("department_import"), {"department": "poverty"})
    assert response.status_code == (403 if persona not in WRITE_CAMPAIGN else 400)
    assert DepartmentList.objects.count() == 1


@pytest.mark.parametrize(
    ("persona", "names"), [("town_office", ["clear", "close"]), ("cadre_a", ["close"]), ("admin_user", ["register"])]
)
def test_the_right_role_may_write(persona, names, request, client, objects):
    client.force_login(request.getfixturevalue(persona))
    writes = _writes(objects)
    for name in names:
        url, data, _allowed, changed = writes[name]
        response = client.post(url, data)
        assert response.status_code == 302 and changed(), (persona, name)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("cadre_a", 200),
        ("town_office", 200),
        ("admin_user", 200),
        ("cadre_b", 404),
        ("group_leader_a", 403),
        ("leadership", 403),
        ("county_officer", 403),
    ],
)
def test_only_roles_that_read_full_ids_reveal_a_tasks_id(persona, expected, request, client, objects):
    client.force_login(request.getfixturevalue(persona))
    task = objects["task"]
    response = client.post(reverse("department_task_reveal", args=[task.public_id]))
    assert response.status_code == expected
    assert (task.id_number in response.content.decode()) == (expected == 200)


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _more(campaign, town_office, make_household, village_a, village_b, n):
    rows = []
    for i in range(n):
        h = make_household(village_a if i % 2 else village_b, head=f"户主{i}", others=())
        rows.append((h.head().name, h.head().id_number, "湖滨村", "肢体", "一级"))
        rows.append((f"未登记{i}", new_id(), "江岸村" if i % 2 else "湖滨村", "智力", "二级"))
    return import_rows(campaign, town_office, "disability", ["姓名", "身份证号", "村", "残疾类别", "残疾等级"], rows)


@pytest.mark.parametrize("persona", ["town_office", "cadre_a"])
def test_the_lists_keep_a_fixed_query_budget(
    persona, request, client, campaign, town_office, objects, make_household, village_a, village_b
):
    client.force_login(request.getfixturevalue(persona))
    urls = [reverse("department_home"), reverse("department_flags"), reverse("department_tasks")]
    small = {url: _count(client, url) for url in urls}
    bigger = _more(campaign, town_office, make_household, village_a, village_b, 12)
    large = {url: _count(client, url) for url in urls}
    assert large == small
    if persona == "town_office":
        # session, account (user, profile, the footer's campaign), the list, its rows counted, its page
        # of rows, their tasks
        one = reverse("department_list", args=[objects["list"].public_id]) + "?show=all"
        assert _count(client, one) == 6
        assert _count(client, reverse("department_list", args=[bigger.public_id]) + "?show=all") == 6
    # session, account (user, profile, campaign), villages, tasks per village, flags per village,
    # the lists
    assert small[reverse("department_home")] == (6 if persona == "town_office" else 5)
    page = client.get(reverse("department_tasks")).content.decode()
    assert "未登记11" in page if persona == "town_office" else "未登记11" not in page


def test_the_upload_page_keeps_the_file_out_of_the_mapping_step(client, town_office, objects):
    """The mapping page carries the list's details but never the file (nor its ID numbers)."""
    client.force_login(town_office)
    secret = new_id()
    response = client.post(
        reverse("department_import"),
        {
            "department": "poverty",
            "source": "县扶贫办",
            "as_of": "2019-10-20",
            "due_on": "2099-01-01",
            "file": xlsx(["人员", "号码", "状态"], [("某人", secret, "未脱贫")]),
        },
    )
    page = response.content.decode()
    assert 'name="source" value="县扶贫办"' in page and 'name="department" value="poverty"' in page
    assert secret not in page
