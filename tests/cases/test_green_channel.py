"""The green channel (重病/重残): 容缺受理 with missing documents, lapse, 先审批后评议."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import assistance, services
from cases.models import AuditEvent, Case, GreenChannel, Household

TODAY = timezone.localdate()


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def applicant(make_household, village_a, campaign):
    """A hardship household of 村A not in dibao, on the campaign's list."""
    household = make_household(village_a, head="赵春花", others=("钱小宝",), dibao=False)
    services.ensure_case(campaign, household, Case.Source.EDGE)
    return household


def accept(campaign, household, actor, **changes) -> GreenChannel:
    fields = {
        "member": household.head(),
        "ground": GreenChannel.Ground.ILLNESS,
        "accepted_on": TODAY,
        "commitment_on": TODAY,
        "consent_on": TODAY,
        "missing_documents": "",
        "documents_due": None,
    }
    fields.update(changes)
    return assistance.accept_green(campaign, household, actor=actor, **fields)


def _post_accept(client, household, **changes):
    data = {
        "household": str(household.public_id),
        "member": str(household.head().public_id),
        "ground": "disability",
        "accepted_on": TODAY.isoformat(),
        "commitment_on": TODAY.isoformat(),
        "consent_on": TODAY.isoformat(),
        "consent_note": "村委会研究同意",
        "missing_documents": "残疾证复印件\n住院病历",
        "documents_due": days(10).isoformat(),
    }
    data.update(changes)
    return client.post(reverse("green_create"), data)


def test_it_accepts_with_missing_documents_and_puts_the_household_on_the_full_check(
    client, cadre_a, campaign, applicant
):
    client.force_login(cadre_a)
    response = _post_accept(client, applicant)
    green = GreenChannel.objects.get(household=applicant)
    assert response.status_code == 302 and response["Location"] == reverse("green_detail", args=[green.public_id])
    assert green.status == GreenChannel.Status.DOCUMENTS
    assert green.missing_list() == ["残疾证复印件", "住院病历"] and green.documents_due == days(10)
    assert Case.objects.get(campaign=campaign, household=applicant).full_check is True
    page = client.get(response["Location"]).content.decode()
    assert "残疾证复印件；住院病历" in page and "容缺受理（待补材料）" in page
    event = AuditEvent.objects.get(model="cases.GreenChannel", action="create")
    assert event.household == applicant and event.reason == "绿色通道受理（容缺受理）"


def test_a_complete_application_waits_for_approval_only(campaign, cadre_a, applicant):
    green = accept(campaign, applicant, cadre_a)
    assert green.status == GreenChannel.Status.COMPLETE and green.documents_due is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"commitment_on": ""}, "commitment_on", "请填写承诺书签署日期。"),
        ({"consent_on": days(1).isoformat()}, "consent_on", "村委会须在受理当日或之前同意。"),
        ({"documents_due": ""}, "documents_due", "请填写容缺材料的补交期限。"),
        ({"documents_due": days(-1).isoformat()}, "documents_due", "补交期限不能早于受理日期。"),
        ({"accepted_on": days(1).isoformat()}, "accepted_on", "受理日期不能晚于今天。"),
        ({"member": ""}, "member", "请选择重病或重残的成员。"),
    ],
)
def test_bad_input_gets_a_message_beside_the_field_and_changes_nothing(
    client, cadre_a, applicant, changes, field, message
):
    client.force_login(cadre_a)
    response = _post_accept(client, applicant, **changes)
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    assert message in response.content.decode()
    assert not GreenChannel.objects.exists()
    assert not Case.objects.get(household=applicant).full_check


def test_a_household_in_dibao_or_with_an_application_under_way_is_refused(campaign, cadre_a, applicant, household_a):
    with pytest.raises(services.DomainError, match="该户已在保"):
        accept(campaign, household_a, cadre_a)
    accept(campaign, applicant, cadre_a)
    with pytest.raises(services.DomainError, match="不能重复受理"):
        accept(campaign, applicant, cadre_a)


def test_another_village_cannot_take_it_in(client, cadre_b, applicant):
    client.force_login(cadre_b)
    assert _post_accept(client, applicant).status_code == 404
    assert not GreenChannel.objects.exists()


def test_it_lapses_with_its_reason_when_the_documents_never_come(client, campaign, cadre_a, town_office, applicant):
    green = accept(
        campaign, applicant, cadre_a, accepted_on=days(-30), commitment_on=days(-30), consent_on=days(-31),
        missing_documents="住院病历", documents_due=days(-2),
    )  # fmt: skip
    client.force_login(cadre_a)
    # the village may not drop an application: the town ends it
    assert client.post(reverse("green_lapse", args=[green.public_id]), {"lapse-reason": "x"}).status_code == 403
    client.force_login(town_office)
    page = client.get(reverse("green_list")).content.decode()
    assert "材料逾期" in page and "有 1 件逾期" in page
    response = client.post(reverse("green_lapse", args=[green.public_id]), {"lapse-reason": ""})
    assert response.status_code == 400 and "请填写终止原因。" in response.content.decode()
    response = client.post(
        reverse("green_lapse", args=[green.public_id]), {"lapse-reason": "逾期未补交住院病历，已电话告知本人"}
    )
    assert response.status_code == 302
    green.refresh_from_db()
    assert green.status == GreenChannel.Status.LAPSED and green.lapsed_on == TODAY
    page = client.get(reverse("green_detail", args=[green.public_id])).content.decode()
    assert "逾期未补交住院病历，已电话告知本人" in page and "已终止" in page
    assert "有 1 件逾期" not in client.get(reverse("green_list")).content.decode()
    # a lapsed application may be followed by a new one
    assert accept(campaign, applicant, cadre_a).status == GreenChannel.Status.COMPLETE


def test_it_does_not_lapse_before_the_due_date(client, campaign, cadre_a, town_office, applicant):
    green = accept(campaign, applicant, cadre_a, missing_documents="住院病历", documents_due=days(3))
    with pytest.raises(services.DomainError, match="期限未过不能终止"):
        assistance.lapse_green(green, actor=town_office, reason="未补交")
    green.refresh_from_db()
    assert green.status == GreenChannel.Status.DOCUMENTS


def test_approval_waits_for_the_documents(client, campaign, cadre_a, county_officer, applicant):
    green = accept(campaign, applicant, cadre_a, missing_documents="住院病历", documents_due=days(3))
    client.force_login(county_officer)
    response = client.post(
        reverse("green_approve", args=[green.public_id]),
        {"approve-approved_on": TODAY.isoformat(), "approve-covered_persons": "2", "approve-monthly_amount": "300"},
    )
    assert response.status_code == 400
    assert "容缺材料尚未补齐（住院病历），补齐后才能审批。" in response.content.decode()
    assert Household.objects.get(pk=applicant.pk).dibao_status == Household.DibaoStatus.NONE
    client.force_login(cadre_a)
    client.post(reverse("green_documents", args=[green.public_id]), {"documents-received_on": TODAY.isoformat()})
    green.refresh_from_db()
    assert green.status == GreenChannel.Status.COMPLETE and green.documents_received_on == TODAY


def test_approved_first_the_democratic_review_owed_then_recorded(
    client, campaign, cadre_a, town_office, county_officer, applicant
):
    green = accept(campaign, applicant, cadre_a, accepted_on=days(-45), commitment_on=days(-45), consent_on=days(-45))
    client.force_login(town_office)
    approve_url = reverse("green_approve", args=[green.public_id])
    form = {
        "approve-approved_on": days(-40).isoformat(),
        "approve-covered_persons": "2",
        "approve-monthly_amount": "600",
    }
    assert client.post(approve_url, form).status_code == 403  # the county approves (三、3)
    client.force_login(county_officer)
    # above the standard for the persons covered: 505 × 1 = 505.00
    response = client.post(approve_url, {**form, "approve-covered_persons": "1"})
    assert (
        response.status_code == 400 and "月保障金不能超过低保标准×保障人数（505.00元）。" in response.content.decode()
    )
    response = client.post(approve_url, form)
    assert response.status_code == 302
    green.refresh_from_db()
    # 先审批: the review is owed, due green_review_days (30) after the approval, so 10 days overdue
    assert green.status == GreenChannel.Status.APPROVED and green.review_due == days(-10)
    assert green.review_overdue()
    household = Household.objects.get(pk=applicant.pk)
    assert household.dibao_status == Household.DibaoStatus.ACTIVE
    assert (household.covered_persons, household.monthly_amount) == (2, Decimal("600.00"))
    assert (
        household.dibao_since
        == green.effective_from
        == (days(-40).replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    )
    assert AuditEvent.objects.filter(
        household=applicant, model="cases.Household", reason__startswith="绿色通道审批"
    ).exists()

    client.force_login(town_office)
    page = client.get(reverse("green_list"), {"status": "overdue"}).content.decode()
    assert "评议逾期" in page and "赵春花" in page
    page = client.get(reverse("green_detail", args=[green.public_id])).content.decode()
    assert f"待补评议，期限 {days(-10):%Y-%m-%d}" in page

    client.force_login(cadre_a)
    review_url = reverse("green_review", args=[green.public_id])
    response = client.post(
        review_url, {"review-review_on": TODAY.isoformat(), "review-attendance": "0", "review-result": "passed"}
    )
    assert response.status_code == 400 and "人数至少为1。" in response.content.decode()
    response = client.post(
        review_url, {"review-review_on": days(-50).isoformat(), "review-attendance": "23", "review-result": "passed"}
    )
    assert "先审批后评议：评议日期不能早于审批日期。" in response.content.decode()
    response = client.post(
        review_url, {"review-review_on": TODAY.isoformat(), "review-attendance": "23", "review-result": "passed"}
    )
    assert response.status_code == 302
    green.refresh_from_db()
    assert green.status == GreenChannel.Status.REVIEWED and green.review_attendance == 23
    assert not green.review_overdue()
    page = client.get(reverse("green_detail", args=[green.public_id])).content.decode()
    assert "23人参加 · 评议通过" in page
    page = client.get(reverse("green_list")).content.decode()
    assert "评议逾期" not in page and 'data-testid="green-overdue"' not in page


def test_a_failed_review_needs_its_account(campaign, cadre_a, county_officer, applicant):
    green = accept(campaign, applicant, cadre_a)
    assistance.approve_green(
        green, actor=county_officer, approved_on=TODAY, covered_persons=1, monthly_amount=Decimal("300")
    )
    with pytest.raises(services.DomainError, match="评议未通过，须写明评议情况"):
        assistance.record_green_review(green, actor=cadre_a, review_on=TODAY, attendance=15, result="failed")


def test_read_only_roles_get_403_on_every_step(client, campaign, cadre_a, leadership, group_leader_a, applicant):
    green = accept(campaign, applicant, cadre_a, missing_documents="病历", documents_due=days(3))
    for persona in (leadership, group_leader_a):
        client.force_login(persona)
        assert client.get(reverse("green_detail", args=[green.public_id])).status_code == 200
        for name in ("green_documents", "green_lapse", "green_approve", "green_review"):
            assert client.post(reverse(name, args=[green.public_id]), {}).status_code == 403, name
    green.refresh_from_db()
    assert green.status == GreenChannel.Status.DOCUMENTS


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("green_list"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_list_has_a_fixed_query_budget(client, campaign, town_office, cadre_a, make_household, village_a):
    def add(n):
        for i in range(n):
            household = make_household(village_a, head=f"孙{i}", others=(), dibao=False)
            accepted = days(-10)
            due = days(-1 if i % 2 else 5)
            accept(
                campaign, household, cadre_a, accepted_on=accepted, commitment_on=accepted, consent_on=accepted,
                missing_documents="病历", documents_due=due,
            )  # fmt: skip

    add(2)
    client.force_login(town_office)
    client.get(reverse("green_list"))
    small = _list_queries(client)
    add(6)
    # session, account (user, profile, campaign: cases.auth), overdue count, page count, the page's
    # rows (with village, member and group), the village choices (the filter)
    assert _list_queries(client) == small == 6


def test_the_demo_holds_every_state(campaign):
    from cases.demo import generate_assistance, generate_households
    from cases.models import Complaint, TemporaryAid

    generate_households(campaign, 400, seed=7)
    made = generate_assistance(campaign)
    assert made == {"green": 7, "aid": 8, "complaints": 6}
    assert set(GreenChannel.objects.values_list("status", flat=True)) == set(GreenChannel.Status.values)
    assert GreenChannel.objects.filter(assistance.green_overdue_q()).count() == 2
    assert set(TemporaryAid.objects.values_list("status", flat=True)) == set(TemporaryAid.Status.values)
    assert set(Complaint.objects.values_list("status", flat=True)) == set(Complaint.Status.values)
    assert Complaint.objects.filter(due_on__lt=TODAY).exclude(status="closed").exists()
    # run again: new records, the households already in the green channel left out
    assert generate_assistance(campaign, seed=8)["green"] == 7
