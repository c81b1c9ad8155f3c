"""防止漏保 on the dashboard: the departments' screening tasks still open, and those past due, per
village and in all, equal the task list's own counts."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from cases.models import ScreeningTask
from tests.conftest import new_id
from tests.surveys.test_department_import import import_rows

DISABILITY = ["姓名", "身份证号", "村", "残疾类别", "残疾等级"]


def test_it_counts_the_open_and_overdue_screening_tasks(client, campaign, town_office, leadership, village_a):
    import_rows(
        campaign,
        town_office,
        "disability",
        DISABILITY,
        [("重残甲", new_id(), "湖滨村", "精神", "一级"), ("重残乙", new_id(), "湖滨村", "肢体", "二级")],
    )
    late = ScreeningTask.objects.filter(village=village_a).order_by("id").first()
    ScreeningTask.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    client.force_login(leadership)
    response = client.get(reverse("dashboard"))
    board = response.context["board"]
    row = next(r for r in board.villages if r.village == village_a)
    open_tasks = ScreeningTask.objects.filter(campaign=campaign, status="open")
    assert (row.tasks_open, row.tasks_overdue) == (2, 1)
    assert board.total.tasks_open == open_tasks.count() == 2
    assert board.total.tasks_overdue == open_tasks.filter(due_on__lt=timezone.localdate()).count() == 1
    page = response.content.decode()
    assert 'data-testid="total-tasks">2<' in page and "漏保排查待走访" in page


def test_it_keeps_the_amount_paid_before_the_review_and_follows_the_one_after(verify_town, town_office):
    """复核前: as the registry paid the household when it was listed, whatever the registry pays
    since; 复核后: the decision's amount, and until a decision what the registry pays now."""
    from decimal import Decimal

    from cases import decisions
    from cases.models import Case, Household

    case = (
        Case.objects.filter(campaign=verify_town, household__dibao_status="active").select_related("household").first()
    )
    listed = case.household.monthly_amount
    assert (case.amount_before, case.amount_after) == (listed, listed)
    household = Household.objects.get(pk=case.household_id)
    decisions.register_paid(
        household,
        covered_persons=household.covered_persons,
        monthly_amount=listed + Decimal("100"),
        dibao_class=household.dibao_class,
        effective_from=dt.date(2019, 12, 1),
        enrol=False,
    )
    case.refresh_from_db()
    assert (case.amount_before, case.amount_after) == (listed, listed + Decimal("100"))
