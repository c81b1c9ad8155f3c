"""Complaints (投诉举报): intake, investigation, result, the reply a real-name reporter is owed,
closing, the overdue flag, the full check of a household named, the 公示's objections listed
read-only, and the hotline on every page."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import complaints, services
from cases.models import AuditEvent, Campaign, Case, Complaint, Notice, Objection

TODAY = timezone.localdate()


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def listed_a(campaign, household_a):
    return services.ensure_case(campaign, household_a, Case.Source.DIBAO)


def _intake(client, household=None, **changes):
    data = {
        "channel": "phone",
        "received_on": TODAY.isoformat(),
        "reporter": "匿名不愿透露",
        "contact": "13900001111",
        "subject": "household" if household else "cadre",
        "subject_name": "" if household else "某村干部",
        "content": "该户家中有小轿车，儿子在城里开店，不符合低保条件。",
        "handler": "town",
        "due_on": "",
    }
    if household is not None:
        data["household"] = str(household.public_id)
    data.update(changes)
    return client.post(reverse("complaint_create"), data)


def make(campaign, actor, **changes) -> Complaint:
    fields = {
        "channel": "visit",
        "received_on": TODAY,
        "anonymous": True,
        "subject": Complaint.Subject.CADRE,
        "subject_name": "王某",
        "content": "优亲厚友",
        "handler": actor,
    }
    fields.update(changes)
    return complaints.record_complaint(campaign, actor=actor, **fields)


def test_the_lifecycle_of_a_real_name_complaint_about_a_household(client, campaign, town_office, household_a, listed_a):
    marked = []
    complaints.full_check_marked.connect(
        lambda sender, case, **kw: marked.append(case.pk), weak=False, dispatch_uid="t"
    )
    try:
        client.force_login(town_office)
        page = client.get(reverse("complaint_create"), {"q": "张建国"}).content.decode()
        assert f"household={household_a.public_id}" in page
        response = _intake(client, household_a)
    finally:
        complaints.full_check_marked.disconnect(dispatch_uid="t")
    complaint = Complaint.objects.get()
    detail = reverse("complaint_detail", args=[complaint.public_id])
    assert response.status_code == 302 and response["Location"] == detail
    # 15 days by default (the campaign's time limit)
    assert complaint.due_on == days(15) and complaint.village == household_a.village
    assert Case.objects.get(pk=listed_a.pk).full_check is True and marked == [listed_a.pk]
    # the village never learns of it from the household's timeline
    assert not AuditEvent.objects.filter(household=household_a, model__in=["cases.Complaint", "cases.Case"]).exists()

    close = reverse("complaint_close", args=[complaint.public_id])
    response = client.post(close)
    assert response.status_code == 400 and "请先写明核查结论和处理结果，才能办结。" in response.content.decode()
    response = client.post(
        reverse("complaint_result", args=[complaint.public_id]), {"result-finding": "true", "result-result": "x"}
    )
    assert "请先记录核查情况，再写结论。" in response.content.decode()
    client.post(reverse("complaint_note", args=[complaint.public_id]), {"note-text": "入户核实：确有小轿车一辆。"})
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.INVESTIGATING
    client.post(
        reverse("complaint_result", args=[complaint.public_id]),
        {"result-finding": "true", "result-result": "举报属实，建议清退。"},
    )
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CONCLUDED
    response = client.post(close)
    assert response.status_code == 400 and "实名举报须先答复举报人，才能办结。" in response.content.decode()
    response = client.post(
        reverse("complaint_reply", args=[complaint.public_id]),
        {"reply-replied_on": TODAY.isoformat(), "reply-reply_channel": "phone", "reply-reply": ""},
    )
    assert response.status_code == 400 and "请填写答复内容。" in response.content.decode()
    client.post(
        reverse("complaint_reply", args=[complaint.public_id]),
        {"reply-replied_on": TODAY.isoformat(), "reply-reply_channel": "phone", "reply-reply": "已电话告知核查结果。"},
    )
    assert client.post(close).status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLOSED and complaint.closed_by == town_office
    page = client.get(detail).content.decode()
    assert "已办结" in page and "已电话告知核查结果。" in page and "记录核查情况" not in page
    with pytest.raises(services.DomainError, match="已办结"):
        complaints.add_note(complaint, actor=town_office, text="再记")


def test_an_anonymous_complaint_closes_without_a_reply(campaign, town_office):
    complaint = make(campaign, town_office)
    complaints.add_note(complaint, actor=town_office, text="走访了解")
    complaints.conclude(complaint, actor=town_office, finding="false", result="经核实不属实。")
    with pytest.raises(services.DomainError, match="匿名举报没有答复对象"):
        complaints.record_reply(complaint, actor=town_office, replied_on=TODAY, reply_channel="phone", reply="x")
    assert complaints.close(complaint, actor=town_office).status == Complaint.Status.CLOSED


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"contact": ""}, "contact", "实名举报须留联系方式，以便答复举报人。"),
        ({"reporter": ""}, "reporter", "实名举报须填写举报人姓名；不愿留名的请勾选“匿名举报”。"),
        ({"content": ""}, "content", "请填写举报内容。"),
        ({"subject_name": ""}, "subject_name", "请填写被举报干部的姓名。"),
        ({"handler": "cadre02"}, "handler", "选择一个有效的选项"),
        ({"received_on": "2019-13-01"}, "received_on", "请填写正确的日期，如 2019-11-06。"),
        ({"due_on": days(-1).isoformat()}, "due_on", "办理期限不能早于受理日期。"),
    ],
)
def test_bad_input_gets_a_message_beside_the_field_and_changes_nothing(
    client, town_office, campaign, changes, field, message
):
    client.force_login(town_office)
    response = _intake(client, **changes)
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors[field]), response.context["form"].errors
    assert not Complaint.objects.exists()


def test_an_anonymous_complaint_needs_no_name(client, town_office, campaign):
    client.force_login(town_office)
    response = _intake(client, anonymous="on", reporter="", contact="")
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.anonymous and complaint.reporter == "" and complaint.village is None


def test_the_list_flags_overdue_complaints(client, campaign, town_office):
    late = make(campaign, town_office, received_on=days(-20), due_on=days(-1), subject_name="逾期的")
    make(campaign, town_office, subject_name="按期的")
    closed_late = make(campaign, town_office, received_on=days(-20), due_on=days(-5), subject_name="已办结的")
    complaints.add_note(closed_late, actor=town_office, text="核实")
    complaints.conclude(closed_late, actor=town_office, finding="false", result="不属实")
    complaints.close(closed_late, actor=town_office)
    closed_late.refresh_from_db()
    assert late.is_overdue() and not closed_late.is_overdue()
    client.force_login(town_office)
    page = client.get(reverse("complaint_list")).content.decode()
    assert "有 1 件投诉举报超过办理期限未办结" in page
    page = client.get(reverse("complaint_list"), {"status": "overdue"}).content.decode()
    assert "逾期的" in page and "按期的" not in page and "已办结的" not in page
    assert page.count('badge text-bg-danger">逾期') == 1
    page = client.get(reverse("complaint_detail", args=[late.public_id])).content.decode()
    assert f"逾期（期限 {days(-1):%Y-%m-%d}）" in page


def test_villages_neither_take_nor_see_complaints(client, campaign, town_office, cadre_a, group_leader_a, household_a):
    complaint = make(campaign, town_office, subject=Complaint.Subject.HOUSEHOLD, household=household_a)
    for persona in (cadre_a, group_leader_a):
        client.force_login(persona)
        assert client.get(reverse("complaint_list")).status_code == 403
        assert client.get(reverse("complaint_create")).status_code == 403
        assert client.get(reverse("complaint_detail", args=[complaint.public_id])).status_code == 404
        assert client.post(reverse("complaint_note", args=[complaint.public_id]), {"note-text": "x"}).status_code == 404
        assert "投诉举报</a>" not in client.get(reverse("household_list")).content.decode()
    assert not complaint.notes.exists()


def test_read_only_roles_see_and_change_nothing(client, campaign, town_office, leadership, county_officer):
    complaint = make(campaign, town_office, anonymous=False, reporter="李某", contact="139")
    for persona in (leadership, county_officer):
        client.force_login(persona)
        page = client.get(reverse("complaint_detail", args=[complaint.public_id])).content.decode()
        # the reporter for the county; the leadership group reads the complaint without them
        assert ("李某 · 139" in page) == (persona == county_officer) and "记录核查情况" not in page
        assert client.get(reverse("complaint_create")).status_code == 403
        for name in ("complaint_note", "complaint_result", "complaint_reply", "complaint_close"):
            assert client.post(reverse(name, args=[complaint.public_id]), {"note-text": "x"}).status_code == 403
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.OPEN


def test_objections_from_the_notice_are_listed_read_only(client, campaign, town_office, household_a, listed_a):
    notice = Notice.objects.create(
        campaign=campaign, village=household_a.village, starts_on=TODAY, ends_on=days(6), opened_by=town_office
    )
    Objection.objects.create(notice=notice, case=listed_a, channel="letter", content="有车", recorded_by=town_office)
    client.force_login(town_office)
    page = client.get(reverse("complaint_list"), {"kind": "objections"}).content.decode()
    assert "张建国" in page and "公示异议 · 信函 · 匿名" in page and "待处理" in page
    assert reverse("review_notice", args=[household_a.village.code]) in page
    page = client.get(reverse("complaint_list"), {"kind": "objections", "status": "closed"}).content.decode()
    assert "张建国" not in page


def test_the_hotline_is_on_every_page(client, campaign, town_office):
    Campaign.objects.filter(pk=campaign.pk).update(hotline="0553-6812345")
    page = client.get(reverse("login")).content.decode()  # a public page
    assert 'data-testid="hotline">0553-6812345<' in page
    client.force_login(town_office)
    for name in ("household_list", "green_list", "campaign_detail"):
        assert "投诉举报电话：" in client.get(reverse(name)).content.decode(), name


def test_the_town_sets_the_hotline_and_bad_numbers_are_refused(client, campaign, town_office):
    from tests.cases.test_campaign import _form

    client.force_login(town_office)
    page = client.get(reverse("household_list")).content.decode()
    assert "投诉举报电话尚未设置" in page
    response = client.post(reverse("campaign_edit"), _form(campaign, hotline="电话12345"))
    assert "投诉举报电话只能包含数字和“-”" in response.content.decode()
    client.post(reverse("campaign_edit"), _form(campaign, hotline="12345", reason="公开举报电话"))
    campaign.refresh_from_db()
    assert campaign.hotline == "12345"
    assert 'data-testid="hotline">12345<' in client.get(reverse("household_list")).content.decode()


def _list_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("complaint_list"), params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_list_has_a_fixed_query_budget(client, campaign, town_office, make_household, village_a):
    def add(n):
        for i in range(n):
            household = make_household(village_a, head=f"吴{i}", others=())
            make(campaign, town_office, subject=Complaint.Subject.HOUSEHOLD, household=household)

    add(2)
    client.force_login(town_office)
    client.get(reverse("complaint_list"))
    small = _list_queries(client)
    add(6)
    # session, account (user, profile, campaign: cases.auth), page count, the page's rows (with
    # village, household, handler and profile), their households' heads, the overdue count, the
    # village choices
    assert _list_queries(client) == small == 7


def test_the_objections_tab_has_a_fixed_query_budget(client, campaign, town_office, make_household, village_a):
    notice = Notice.objects.create(
        campaign=campaign, village=village_a, starts_on=TODAY, ends_on=days(6), opened_by=town_office
    )

    def add(n):
        for i in range(n):
            case = services.ensure_case(campaign, make_household(village_a, head=f"郑{i}", others=()), "dibao")
            Objection.objects.create(notice=notice, case=case, channel="phone", content="x", recorded_by=town_office)

    add(2)
    client.force_login(town_office)
    small = _list_queries(client, kind="objections")
    add(6)
    # session, account (user, profile, campaign), page count, the page's rows (with village and
    # household), their heads, the overdue complaints count, the village choices
    assert _list_queries(client, kind="objections") == small == 7


def test_the_reporter_is_shown_to_the_handlers_not_to_the_leadership(client, campaign, town_office, leadership):
    complaint = complaints.record_complaint(
        campaign,
        actor=town_office,
        channel="phone",
        received_on=timezone.localdate(),
        anonymous=False,
        reporter="赵举报",
        contact="13900002222",
        subject=Complaint.Subject.CADRE,
        subject_name="某村干部",
        content="优亲厚友。",
        handler=town_office,
    )
    url = reverse("complaint_detail", args=[complaint.public_id])
    client.force_login(leadership)
    page = client.get(url).content.decode()
    assert "优亲厚友" in page and "赵举报" not in page and "13900002222" not in page
    client.force_login(town_office)
    assert "赵举报" in client.get(url).content.decode()
