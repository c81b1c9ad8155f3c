"""送政策: the town office records its training sessions (atomic, audited); every role reads the
sessions of its area; read-only roles get 403 on the writes and change nothing."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import AuditEvent, Campaign, Town, Village
from cases.services import DomainError
from reports import outreach
from reports.models import TrainingAttendance, TrainingSession
from tests.reports.test_home import texts

HELD = dt.date(2019, 10, 16)


@pytest.fixture
def session(campaign, town_office, village_a, village_b):
    return outreach.record_training(
        campaign,
        actor=town_office,
        held_on=HELD,
        place="镇政府三楼会议室",
        topic="低保政策与入户调查培训",
        attendance={village_a: 3, village_b: 2},
        town_attendees=6,
    )


def _state():
    """What a training write could change: sessions, attendance and their audit rows."""
    return (
        list(TrainingSession.objects.order_by("pk").values()),
        list(TrainingAttendance.objects.order_by("pk").values()),
        AuditEvent.objects.filter(model="reports.TrainingSession").count(),
    )


def _post_data(villages: dict, **fields) -> dict:
    data = {"held_on": "2019-10-18", "place": "泥汊社区服务中心", "topic": "调查表填写", "town_attendees": ""}
    data.update({f"village_{v.code}": str(n) for v, n in villages.items()})
    return data | fields


def test_it_records_a_session_with_each_villages_attendees_and_an_audit_row(session, village_a, village_b):
    assert {(a.village, a.attendees) for a in session.attendance.all()} == {(village_a, 3), (village_b, 2)}
    event = AuditEvent.objects.get(model="reports.TrainingSession", object_id=str(session.public_id))
    assert event.action == AuditEvent.Action.CREATE and event.reason == "登记政策培训"
    assert event.changes["place"] == [None, "镇政府三楼会议室"]
    assert event.changes[f"参加人数·{village_a.name}"] == [None, 3]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"held_on": None}, "请填写培训日期"),
        ({"place": "  "}, "请填写培训地点"),
        ({"topic": ""}, "请填写培训内容"),
        ({"attendance": {}, "town_attendees": 0}, "请至少填写一个村（社区）或镇机关的参加人数"),
        ({"held_on": "tomorrow"}, "培训日期不能晚于今天"),
    ],
)
def test_it_refuses_an_incomplete_session_and_saves_nothing(campaign, town_office, village_a, changes, message):
    if changes.get("held_on") == "tomorrow":
        changes["held_on"] = timezone.localdate() + dt.timedelta(days=1)
    data = {"held_on": HELD, "place": "镇政府", "topic": "培训", "attendance": {village_a: 2}} | changes
    before = _state()
    with pytest.raises(DomainError, match=message):
        outreach.record_training(campaign, actor=town_office, **data)
    assert _state() == before


def test_it_refuses_a_village_of_another_town(campaign, town_office, village_a):
    town = Town.objects.create(code="340225999", name="外镇", county="无为县")
    other = Village.objects.create(town=town, code="340225999001", name="外村", kind=Village.Kind.RURAL)
    with pytest.raises(DomainError, match="须属于本镇"):
        outreach.record_training(
            campaign, actor=town_office, held_on=HELD, place="镇政府", topic="培训", attendance={other: 2}
        )
    assert not TrainingSession.objects.exists()


def test_it_refuses_a_session_once_the_campaign_is_closed(campaign, town_office, village_a):
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.CLOSED)
    with pytest.raises(DomainError, match="行动已结束"):
        outreach.record_training(
            Campaign.objects.get(pk=campaign.pk),
            actor=town_office,
            held_on=HELD,
            place="镇政府",
            topic="培训",
            attendance={village_a: 2},
        )


def test_it_corrects_a_session_and_records_what_changed(session, town_office, village_a, village_b):
    outreach.correct_training(
        session,
        actor=town_office,
        held_on=HELD,
        place="镇政府三楼会议室",
        topic="低保政策与入户调查培训",
        attendance={village_a: 4},
        town_attendees=6,
    )
    assert {(a.village, a.attendees) for a in session.attendance.all()} == {(village_a, 4)}
    event = AuditEvent.objects.filter(model="reports.TrainingSession").latest("at")
    assert event.action == AuditEvent.Action.UPDATE and event.reason == "更正政策培训记录"
    assert event.changes == {f"参加人数·{village_a.name}": [3, 4], f"参加人数·{village_b.name}": [2, None]}


# --- the pages ---------------------------------------------------------------------------------


def test_the_town_office_records_a_session_through_the_form(client, town_office, village_a, village_b):
    client.force_login(town_office)
    form = client.get(reverse("training_create")).content.decode()
    assert 'name="village_' + village_a.code + '"' in form and "镇机关参加人数" in form
    response = client.post(reverse("training_create"), _post_data({village_a: 5, village_b: 0}, town_attendees="2"))
    assert response.status_code == 302 and response["Location"] == reverse("training_list")
    session = TrainingSession.objects.get()
    assert (session.place, session.town_attendees, session.recorded_by) == ("泥汊社区服务中心", 2, town_office)
    assert [(a.village, a.attendees) for a in session.attendance.all()] == [(village_a, 5)]
    listed = client.get(reverse("training_list")).content.decode()
    assert "调查表填写" in listed and f"{village_a.name} 5人" in listed and "镇机关 2人" in listed


def test_it_shows_what_is_wrong_and_saves_nothing(client, town_office, campaign):
    client.force_login(town_office)
    response = client.post(reverse("training_create"), _post_data({}, place=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "请填写培训地点。" in page
    response = client.post(reverse("training_create"), _post_data({}))
    assert response.status_code == 400 and "请至少填写一个村（社区）或镇机关的参加人数。" in response.content.decode()
    assert not TrainingSession.objects.exists()


def test_the_town_office_corrects_a_session(client, town_office, session, village_a, village_b):
    client.force_login(town_office)
    url = reverse("training_edit", args=[session.public_id])
    form = client.get(url).content.decode()
    assert 'value="镇政府三楼会议室"' in form and f'name="village_{village_a.code}" value="3"' in form
    data = _post_data({village_a: 3, village_b: 7}, held_on="2019-10-16", place="镇政府三楼会议室", town_attendees="6")
    response = client.post(url, data | {"topic": "低保政策与入户调查培训"})
    assert response.status_code == 302
    assert TrainingAttendance.objects.get(village=village_b).attendees == 7


@pytest.mark.parametrize("persona", ["leadership", "county_officer", "group_leader_a", "cadre_a"])
def test_a_role_that_may_only_read_gets_403_on_every_training_write(request, client, persona, session, village_a):
    client.force_login(request.getfixturevalue(persona))
    before = _state()
    for url in (reverse("training_create"), reverse("training_edit", args=[session.public_id])):
        assert client.get(url).status_code == 403, url
        response = client.post(url, _post_data({village_a: 9}))
        assert response.status_code == 403 and "没有权限" in response.content.decode(), url
    assert _state() == before


def test_the_leadership_and_the_county_read_every_session(client, leadership, county_officer, session, village_b):
    for user in (leadership, county_officer):
        client.force_login(user)
        page = client.get(reverse("training_list")).content.decode()
        assert "低保政策与入户调查培训" in page and f"{village_b.name} 2人" in page and "镇机关 6人" in page
        assert reverse("training_create") not in page and "更正" not in page


def test_a_village_cadre_sees_their_villages_sessions_and_count_only(
    client, cadre_a, cadre_b, campaign, town_office, session, village_a, village_b
):
    outreach.record_training(
        campaign, actor=town_office, held_on=HELD, place="江岸村部", topic="江岸村专场", attendance={village_b: 4}
    )
    client.force_login(cadre_a)
    page = client.get(reverse("training_list")).content.decode()
    attendance = texts(page)["attendance"]
    assert "低保政策与入户调查培训" in page and "江岸村专场" not in page
    assert attendance == [f"{village_a.name} 3人"]  # not the other village's count, nor the town's
    # the other village's list is not theirs: 404, as for anything outside their area
    assert client.get(reverse("training_list"), {"village": village_b.code}).status_code == 404
    client.force_login(cadre_b)
    page = client.get(reverse("training_list"), {"village": village_b.code}).content.decode()
    assert "江岸村专场" in page and "低保政策与入户调查培训" in page


def test_it_sends_anonymous_visitors_to_sign_in(client, session):
    urls = [reverse("training_list"), reverse("training_create"), reverse("training_edit", args=[session.public_id])]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_the_list_costs_the_same_queries_with_more_sessions(
    client, leadership, campaign, town_office, django_assert_num_queries
):
    client.force_login(leadership)
    villages = list(Village.objects.all())

    def add(n):
        for i in range(n):
            outreach.record_training(
                campaign,
                actor=town_office,
                held_on=HELD,
                place="镇政府",
                topic=f"第{i}期",
                attendance=dict.fromkeys(villages, 2),
            )

    for n in (1, 20):
        add(n)
        # session, account (user, profile, campaign: cases.auth), count, sessions with their
        # recorders, attendance
        with django_assert_num_queries(5):
            client.get(reverse("training_list"))
