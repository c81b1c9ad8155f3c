"""Temporary assistance (临时救助): help given first within a level's limit, the spending procedure
approved by level (the county above the town's limit), instalments never above the approved amount,
and the record carrying out a town decision 临时救助."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import assistance, services
from cases.models import AidApproval, AidPayment, AuditEvent, Case, Decision, TemporaryAid

TODAY = timezone.localdate()
# The demo campaign's limits (campaign settings): village 500, town 3,000, county 20,000 yuan.


def _emergency(client, village, **changes):
    data = {
        "kind": "emergency",
        "person": "吴大勇",
        "village": village.code,
        "reason": "房屋失火，衣物被褥烧毁",
        "amount": "400",
        "handler": "湖滨村经办人",
        "helped_on": TODAY.isoformat(),
        "referral": "",
    }
    data.update(changes)
    return client.post(reverse("aid_create"), data)


def _apply(campaign, actor, village, amount) -> TemporaryAid:
    return assistance.apply_aid(
        campaign,
        actor=actor,
        person="周桂兰",
        reason="突发重病，住院自付费用高",
        amount=Decimal(amount),
        village=village,
    )


def test_help_given_first_within_the_village_limit_is_recorded_approved_and_paid(client, cadre_a, village_a):
    client.force_login(cadre_a)
    response = _emergency(client, village_a)
    aid = TemporaryAid.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("aid_detail", args=[aid.public_id])
    assert aid.status == TemporaryAid.Status.APPROVED
    assert aid.approved_amount == aid.paid_total == Decimal("400")
    approval = AidApproval.objects.get(aid=aid)
    assert (approval.level, approval.verdict, approval.by) == ("village", "approve", cadre_a)
    assert AidPayment.objects.get(aid=aid).paid_on == TODAY
    page = client.get(response["Location"]).content.decode()
    assert (
        "房屋失火" in page and "湖滨村经办人" in page and "村级 · 湖滨村经办人：<strong>批准</strong> 400.00 元" in page
    )


def test_help_given_first_above_the_level_limit_is_refused_beside_the_amount(client, cadre_a, town_office, village_a):
    client.force_login(cadre_a)
    response = _emergency(client, village_a, amount="800")
    assert response.status_code == 400
    message = "先行救助金额超过村级限额（500.00元）；超出部分请按支出型程序申请，由上级审批。"
    assert response.context["form"].errors["amount"] == [message]
    assert message in response.content.decode()
    assert not TemporaryAid.objects.exists()
    client.force_login(town_office)  # the town's limit is higher
    assert _emergency(client, village_a, amount="800").status_code == 302


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"handler": ""}, "handler", "急难型先行救助须填写经办人。"),
        ({"helped_on": ""}, "helped_on", "急难型先行救助须填写救助日期。"),
        ({"amount": "0"}, "amount", "金额须大于0元。"),
        ({"amount": "12.345"}, "amount", "金额最多两位小数。"),
        ({"reason": ""}, "reason", "请填写救助事由。"),
        ({"helped_on": (TODAY + dt.timedelta(days=1)).isoformat()}, "helped_on", "先行救助日期不能晚于今天。"),
    ],
)
def test_bad_input_gets_a_message_beside_the_field_and_changes_nothing(
    client, cadre_a, village_a, changes, field, message
):
    client.force_login(cadre_a)
    response = _emergency(client, village_a, **changes)
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    assert not TemporaryAid.objects.exists()


def test_a_village_cadre_records_help_only_in_their_village(client, cadre_a, village_b):
    client.force_login(cadre_a)
    response = _emergency(client, village_b)
    assert response.status_code == 400 and "village" in response.context["form"].errors
    assert not TemporaryAid.objects.exists()


def test_within_the_towns_limit_the_town_approves_and_pays_in_instalments(
    client, campaign, cadre_a, town_office, county_officer, village_a
):
    aid = _apply(campaign, cadre_a, village_a, "2000")
    assert aid.status == TemporaryAid.Status.VILLAGE
    client.force_login(town_office)
    detail = reverse("aid_detail", args=[aid.public_id])
    # the village reviews first
    response = client.post(
        reverse("aid_decide", args=[aid.public_id]), {"decide-approve": "1", "decide-amount": "2000"}
    )
    assert response.status_code == 400 and "该申请待村级审核，不在审批环节。" in response.content.decode()
    client.force_login(cadre_a)
    response = client.post(reverse("aid_village_review", args=[aid.public_id]), {"village-agree": "0"})
    assert response.status_code == 400 and "不同意的，请写明理由。" in response.content.decode()
    client.post(reverse("aid_village_review", args=[aid.public_id]), {"village-agree": "1", "village-note": "情况属实"})
    aid.refresh_from_db()
    assert aid.status == TemporaryAid.Status.TOWN
    # the county may not approve what the town has not
    with pytest.raises(services.DomainError, match="该申请待镇级审批，县级不能审批。"):
        assistance.decide_aid(aid, actor=county_officer, approve=True, amount=Decimal("2000"))
    client.force_login(town_office)
    response = client.post(
        reverse("aid_decide", args=[aid.public_id]), {"decide-approve": "1", "decide-amount": "2500"}
    )
    assert "批准金额不能超过申请金额（2000.00元）。" in response.content.decode()
    client.post(reverse("aid_decide", args=[aid.public_id]), {"decide-approve": "1", "decide-amount": "1800"})
    aid.refresh_from_db()
    assert (aid.status, aid.approved_amount) == (TemporaryAid.Status.APPROVED, Decimal("1800"))
    pay = reverse("aid_pay", args=[aid.public_id])
    client.post(pay, {"pay-paid_on": TODAY.isoformat(), "pay-amount": "1000"})
    response = client.post(pay, {"pay-paid_on": TODAY.isoformat(), "pay-amount": "900"})
    assert response.status_code == 400
    assert "累计发放不能超过批准金额（1800.00元）；本次最多可发放800.00元。" in response.content.decode()
    client.post(pay, {"pay-paid_on": TODAY.isoformat(), "pay-amount": "800"})
    aid.refresh_from_db()
    assert aid.paid_total == Decimal("1800") and aid.payments.count() == 2
    page = client.get(detail).content.decode()
    assert "1800.00 元（尚可发放 0.00 元）" in page and "登记发放（可分次）" not in page
    levels = list(aid.approvals.values_list("level", "verdict"))
    assert levels == [("village", "forward"), ("town", "approve")]


def test_above_the_towns_limit_the_county_approves(client, campaign, cadre_a, town_office, county_officer, village_a):
    aid = _apply(campaign, cadre_a, village_a, "5000")
    assistance.review_in_village(aid, actor=cadre_a, agree=True)
    client.force_login(town_office)
    response = client.post(
        reverse("aid_decide", args=[aid.public_id]), {"decide-approve": "1", "decide-amount": "5000"}, follow=True
    )
    assert "金额超过镇级审批限额，已报县民政局审批。" in response.content.decode()
    aid.refresh_from_db()
    assert (aid.status, aid.approved_amount) == (TemporaryAid.Status.COUNTY, Decimal("0"))
    # nothing is paid before the county approves
    with pytest.raises(services.DomainError, match="批准后才能发放"):
        assistance.pay_aid(aid, actor=town_office, paid_on=TODAY, amount=Decimal("100"))
    client.force_login(county_officer)
    page = client.get(reverse("aid_detail", args=[aid.public_id])).content.decode()
    assert "县级审批" in page
    client.post(reverse("aid_decide", args=[aid.public_id]), {"decide-approve": "1", "decide-amount": "4500"})
    aid.refresh_from_db()
    assert (aid.status, aid.approved_amount) == (TemporaryAid.Status.APPROVED, Decimal("4500"))
    assert list(aid.approvals.values_list("level", "verdict", "amount", "by__username")) == [
        ("village", "forward", Decimal("5000.00"), "cadre02"),
        ("town", "forward", Decimal("5000.00"), "town"),
        ("county", "approve", Decimal("4500.00"), "county"),
    ]


def test_above_the_countys_limit_nobody_approves(campaign, cadre_a, village_a):
    with pytest.raises(services.DomainError, match=r"县级审批限额20000\.00元"):
        _apply(campaign, cadre_a, village_a, "25000")
    assert not TemporaryAid.objects.exists()


def test_a_refusal_needs_its_reason(client, campaign, cadre_a, town_office, village_a):
    aid = _apply(campaign, cadre_a, village_a, "1000")
    assistance.review_in_village(aid, actor=cadre_a, agree=True)
    client.force_login(town_office)
    response = client.post(reverse("aid_decide", args=[aid.public_id]), {"decide-approve": "0"})
    assert response.status_code == 400 and "不予救助须写明理由（将告知申请人）。" in response.content.decode()
    client.post(reverse("aid_decide", args=[aid.public_id]), {"decide-approve": "0", "decide-note": "已纳入医疗救助"})
    aid.refresh_from_db()
    assert aid.status == TemporaryAid.Status.REFUSED


def test_read_only_roles_and_other_villages(client, campaign, cadre_a, cadre_b, leadership, group_leader_a, village_a):
    aid = _apply(campaign, cadre_a, village_a, "1000")
    client.force_login(cadre_b)
    assert client.get(reverse("aid_detail", args=[aid.public_id])).status_code == 404
    assert client.post(reverse("aid_village_review", args=[aid.public_id]), {"village-agree": "1"}).status_code == 404
    for persona in (leadership, group_leader_a):
        client.force_login(persona)
        assert client.get(reverse("aid_detail", args=[aid.public_id])).status_code == 200
        for name in ("aid_village_review", "aid_decide", "aid_pay"):
            assert client.post(reverse(name, args=[aid.public_id]), {"village-agree": "1"}).status_code == 403
    aid.refresh_from_db()
    assert aid.status == TemporaryAid.Status.VILLAGE


@pytest.fixture
def temporary_decision(campaign, town_office, make_household, village_a):
    household = make_household(village_a, head="冯来福", others=(), dibao=False)
    case = services.ensure_case(campaign, household, Case.Source.EDGE)
    decision = Decision.objects.create(
        case=case,
        outcome=Decision.Outcome.TEMPORARY,
        basis=Decision.Basis.SURVEY,
        decided_by=town_office,
        reason="因灾",
    )
    Case.objects.filter(pk=case.pk).update(decision=decision, outcome=decision.outcome)
    return decision


def test_a_town_decision_for_temporary_aid_is_offered_and_carried_out(client, town_office, temporary_decision):
    client.force_login(town_office)
    page = client.get(reverse("aid_list")).content.decode()
    link = f"{reverse('aid_create')}?decision={temporary_decision.public_id}"
    assert "冯来福" in page and link in page
    page = client.get(link).content.decode()
    assert "依据镇级决定（临时救助" in page and 'value="冯来福"' in page
    response = client.post(
        reverse("aid_create"),
        {
            "decision": str(temporary_decision.public_id),
            "kind": "spending",
            "person": "冯来福",
            "reason": "洪水冲毁房屋",
            "amount": "1500",
            "referral": "住房救助",
        },
    )
    aid = TemporaryAid.objects.get()
    assert response.status_code == 302
    assert aid.decision == temporary_decision and aid.household == temporary_decision.case.household
    assert aid.village == temporary_decision.case.village and aid.referral == "住房救助"
    assert link not in client.get(reverse("aid_list")).content.decode()
    with pytest.raises(services.DomainError, match="该决定已登记临时救助。"):
        assistance.apply_aid(
            temporary_decision.case.campaign,
            actor=town_office,
            person="冯来福",
            reason="再次",
            amount=Decimal("100"),
            household=temporary_decision.case.household,
            decision=temporary_decision,
        )
    assert AuditEvent.objects.filter(model="cases.TemporaryAid", household=aid.household).exists()


def test_only_the_town_carries_out_its_decisions(client, cadre_a, temporary_decision):
    client.force_login(cadre_a)
    assert client.get(f"{reverse('aid_create')}?decision={temporary_decision.public_id}").status_code == 403


def test_the_campaign_form_keeps_the_limits_rising_by_level(client, town_office, campaign):
    from tests.cases.test_campaign import _form

    client.force_login(town_office)
    response = client.post(reverse("campaign_edit"), _form(campaign, aid_town_limit="30000"))
    assert response.status_code == 200
    assert "镇级审批限额不能高于县级审批限额。" in response.context["form"].errors["aid_town_limit"]
    campaign.refresh_from_db()
    assert campaign.aid_town_limit == Decimal("3000")


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("aid_list"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_list_has_a_fixed_query_budget(client, campaign, cadre_a, town_office, village_a, temporary_decision):
    for _ in range(2):
        _apply(campaign, cadre_a, village_a, "300")
    client.force_login(town_office)
    client.get(reverse("aid_list"))
    small = _list_queries(client)
    for _ in range(8):
        _apply(campaign, cadre_a, village_a, "300")
    # session, account (user, profile, campaign: cases.auth), page count, the page's rows (with
    # village and group), the decisions awaiting a record (with household and village), their
    # heads, the village choices
    assert _list_queries(client) == small == 7
