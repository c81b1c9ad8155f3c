"""Screening tasks against omissions (防止漏保): people in a department's list who are not in the
registry but look eligible, for their village to visit with form B by a due date; closed by
registering the household (then on the form-B list) or with a written reason."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.idnumber import mask_id
from cases.models import AuditEvent, Case, Household, Member, ScreeningTask
from cases.services import DomainError
from surveys import departments
from surveys.departments import default_due_date, open_screening_tasks_by_village
from surveys.models import ScreeningEntry
from tests.conftest import new_id
from tests.surveys.test_department_import import import_rows

DISABILITY = ["姓名", "身份证号", "村", "残疾类别", "残疾等级"]


def test_it_makes_tasks_for_the_unregistered_who_look_eligible(campaign, town_office, village_a, village_b):
    severe, mild, poor, lifted = new_id(), new_id(), new_id(), new_id()
    due = timezone.localdate() + dt.timedelta(days=12)
    import_rows(
        campaign,
        town_office,
        "disability",
        DISABILITY,
        [("重残者", severe, "湖滨村", "精神", "二级"), ("轻残者", mild, "湖滨村", "肢体", "四级")],
        due_on=due,
    )
    import_rows(
        campaign,
        town_office,
        "poverty",
        ["姓名", "身份证号", "村", "脱贫状态"],
        [("未脱贫者", poor, "江岸村", "未脱贫"), ("已脱贫者", lifted, "江岸村", "已脱贫")],
    )
    tasks = {t.name: t for t in ScreeningTask.objects.select_related("record__department_list")}
    assert set(tasks) == {"重残者", "未脱贫者"}
    task = tasks["重残者"]
    assert (task.village, task.reason, task.due_on, task.status) == (village_a, "disability", due, "open")
    assert task.id_number == severe and task.record.department_list.department == "disability"
    assert (tasks["未脱贫者"].village, tasks["未脱贫者"].reason) == (village_b, "poverty")


def test_large_medical_spending_makes_a_task_only_without_income_in_another_list(campaign, town_office):
    paid, teacher, small = new_id(), new_id(), new_id()
    import_rows(
        campaign, town_office, "payroll", ["姓名", "身份证号", "工作单位"], [("教师", teacher, "泥汊镇中心小学")]
    )
    import_rows(
        campaign,
        town_office,
        "medical",
        ["姓名", "身份证号", "村", "个人自付"],
        [("病人", paid, "湖滨村", "36000"), ("教师", teacher, "湖滨村", "50000"), ("小病", small, "湖滨村", "3000")],
        medical_threshold=Decimal("20000"),
    )
    task = ScreeningTask.objects.get()
    assert (task.name, task.reason) == ("病人", "medical")


def test_it_lists_a_row_whose_village_it_cannot_tell_and_makes_no_task(client, campaign, town_office):
    saved = import_rows(
        campaign,
        town_office,
        "disability",
        DISABILITY,
        [("外镇人", new_id(), "红旗村", "视力", "一级"), ("无村名", new_id(), "", "视力", "一级")],
    )
    assert not ScreeningTask.objects.exists() and saved.tasks_created == 0
    client.force_login(town_office)
    page = client.get(reverse("department_list", args=[saved.public_id])).content.decode()
    assert page.count("疑似漏保，但村（社区）无法识别，未生成排查任务") == 2
    assert "红旗村" in page and "非本镇村名" in page


def test_the_default_due_date_is_the_village_report_deadline_with_at_least_a_week(campaign):
    early = campaign.village_report_deadline - dt.timedelta(days=20)
    assert default_due_date(campaign, early) == campaign.village_report_deadline
    late = campaign.village_report_deadline - dt.timedelta(days=2)
    assert default_due_date(campaign, late) == late + dt.timedelta(days=7)


@pytest.fixture
def task(campaign, town_office):
    import_rows(
        campaign,
        town_office,
        "poverty",
        ["姓名", "身份证号", "村", "脱贫状态"],
        [("孙桂香", new_id(), "湖滨村", "未脱贫")],
    )
    return ScreeningTask.objects.get()


def test_a_village_cadre_registers_the_household_and_it_goes_on_the_form_b_list(client, campaign, cadre_a, task):
    client.force_login(cadre_a)
    url = reverse("department_task_register", args=[task.public_id])
    page = client.get(url).content.decode()
    assert "孙桂香" in page and task.id_number not in page and mask_id(task.id_number) in page
    response = client.post(url, {"hukou_type": "rural", "poverty_status": "not_lifted", "address": "湖滨村3组"})
    assert response.status_code == 302, response.content.decode()[:3000]
    household = Household.objects.get()
    assert response["Location"] == reverse("household_detail", args=[household.public_id])
    head = household.head()
    assert (head.name, head.id_number, household.village, household.dibao_status) == (
        "孙桂香",
        task.id_number,
        task.village,
        "none",
    )
    entry = ScreeningEntry.objects.get(campaign=campaign, household=household)
    assert (entry.kind, entry.removed_at, entry.note) == ("poverty", None, "部门名单排查：未脱贫建档立卡户")
    assert Case.objects.get(campaign=campaign, household=household).source == "poverty"
    task.refresh_from_db()
    assert (task.status, task.household, task.closed_by) == ("registered", household, cadre_a)
    assert AuditEvent.objects.filter(model="cases.ScreeningTask", action="update", reason="排查任务登记入户").exists()
    page = client.get(reverse("department_task", args=[task.public_id])).content.decode()
    assert "已登记入户" in page and reverse("household_detail", args=[household.public_id]) in page


def test_registering_refuses_a_person_already_registered_and_saves_nothing(
    client, campaign, cadre_a, town_office, task, household_a
):
    services.add_member(
        household_a,
        actor=town_office,
        data={"name": "孙桂香", "id_number": task.id_number, "relationship": "99"},
        joined_on=dt.date(2019, 10, 1),
        reason="投亲",
    )
    households = Household.objects.count()
    client.force_login(cadre_a)
    response = client.post(reverse("department_task_register", args=[task.public_id]), {"hukou_type": "rural"})
    assert response.status_code == 400 and "一人只能属于一户" in response.content.decode()
    assert Household.objects.count() == households
    task.refresh_from_db()
    assert task.status == "open"
    # the person now lives in a household of the village: the task is closed by linking it
    page = client.get(reverse("department_task", args=[task.public_id])).content.decode()
    assert "关联该户并列入排查名单" in page
    response = client.post(reverse("department_task_link", args=[task.public_id]))
    assert response["Location"] == reverse("household_detail", args=[household_a.public_id])
    task.refresh_from_db()
    assert (task.status, task.household) == ("registered", household_a)
    # household_a is in dibao: surveyed on form A, so not put on the form-B list
    assert not ScreeningEntry.objects.filter(household=household_a).exists()


def test_a_task_is_closed_only_with_a_reason(client, cadre_a, task):
    with pytest.raises(DomainError, match="请写明走访核实的情况"):
        departments.close_task(task, actor=cadre_a, closure="moved", note=" ")
    client.force_login(cadre_a)
    url = reverse("department_task_close", args=[task.public_id])
    response = client.post(url, {"closure": "", "note": ""})
    page = response.content.decode()
    assert response.status_code == 400 and "请选择核销原因" in page and "请写明走访核实的情况" in page
    task.refresh_from_db()
    assert task.status == "open"
    response = client.post(url, {"closure": "moved", "note": "2019年8月随子女迁往芜湖市居住。"}, follow=True)
    assert "已核销孙桂香的排查任务" in response.content.decode()
    task.refresh_from_db()
    assert (task.status, task.closure, task.close_note) == ("closed", "moved", "2019年8月随子女迁往芜湖市居住。")
    with pytest.raises(DomainError, match="已办结"):
        departments.close_task(task, actor=cadre_a, closure="other", note="再次")


def test_the_task_page_masks_the_id_until_a_recorded_reveal(client, cadre_a, task):
    client.force_login(cadre_a)
    page = client.get(reverse("department_task", args=[task.public_id])).content.decode()
    assert task.id_number not in page and mask_id(task.id_number) in page
    response = client.post(reverse("department_task_reveal", args=[task.public_id]))
    assert task.id_number in response.content.decode()
    event = AuditEvent.objects.get(action="view_id", model="cases.ScreeningTask")
    assert event.actor == cadre_a and event.reason == "查看完整身份证号"
    assert task.id_number not in str(event.changes) + event.object_repr


def test_open_and_overdue_tasks_per_village_in_one_query(
    campaign, town_office, cadre_a, task, village_a, village_b, django_assert_num_queries
):
    ScreeningTask.objects.create(
        campaign=campaign,
        village=village_a,
        name="逾期者",
        id_number=new_id(),
        reason="disability",
        record=task.record,
        due_on=timezone.localdate() - dt.timedelta(days=1),
    )
    with django_assert_num_queries(1):
        counts = open_screening_tasks_by_village(campaign, [village_a.id, village_b.id])
    assert counts == {village_a.id: {"open": 2, "overdue": 1}, village_b.id: {"open": 0, "overdue": 0}}
    departments.close_task(task, actor=cadre_a, closure="not_eligible", note="家庭收入高于标准")
    assert open_screening_tasks_by_village(campaign, [village_a.id])[village_a.id] == {"open": 1, "overdue": 1}


def test_the_task_list_shows_a_village_its_own_tasks(client, campaign, town_office, cadre_a, cadre_b, task):
    client.force_login(cadre_a)
    page = client.get(reverse("department_tasks")).content.decode()
    assert "孙桂香" in page and "未脱贫建档立卡户" in page and "扶贫办" not in page
    assert task.id_number not in page
    client.force_login(cadre_b)
    assert "孙桂香" not in client.get(reverse("department_tasks")).content.decode()
    client.force_login(town_office)
    page = client.get(reverse("department_tasks")).content.decode()
    assert "孙桂香" in page and "来源：扶贫办：建档立卡（2019-10-20）" in page


def test_a_household_registered_from_a_disability_task_is_listed_as_other_hardship(
    client, campaign, cadre_a, town_office
):
    import_rows(campaign, town_office, "disability", DISABILITY, [("重残者", new_id(), "湖滨村", "精神", "一级")])
    task = ScreeningTask.objects.get()
    client.force_login(cadre_a)
    page = client.get(reverse("department_task_register", args=[task.public_id])).content.decode()
    assert 'name="is_other_hardship" class="checkboxinput form-check-input" id="id_is_other_hardship" checked' in page
    client.post(
        reverse("department_task_register", args=[task.public_id]), {"hukou_type": "rural", "is_other_hardship": "on"}
    )
    household = Household.objects.get()
    assert ScreeningEntry.objects.get(household=household).kind == "other"
    assert Member.objects.get(household=household).name == "重残者"
