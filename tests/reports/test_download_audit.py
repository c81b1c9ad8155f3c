"""Every file the system sends is recorded (audit action 下载): who, which file, with which filters
and how many rows; a search by ID number is kept as "按身份证号查找", never its digits."""

import json

import pytest
from django.urls import reverse

from cases.models import AuditEvent, Member, Profile, Village
from reports.models import Export
from surveys import services
from surveys.models import Revisit, Survey
from tests.surveys.conftest import revisit_sample

from .conftest import pdf_text

pytestmark = pytest.mark.django_db


def downloads():
    return AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD)


def the_download(actor) -> AuditEvent:
    """The one download row, with nothing of an ID number anywhere in it."""
    (event,) = downloads()
    assert event.actor == actor
    return event


def shows_no_digits_of(event: AuditEvent, number: str) -> None:
    stored = json.dumps([event.changes, event.reason, event.object_repr, event.object_id], ensure_ascii=False)
    assert number not in stored and number[-4:] not in stored and number[::-1][:4] not in stored


def test_it_records_a_list_export_with_its_filters_and_rows(client_for, make_household, village_a, cadre_a):
    for _ in range(3):
        make_household(village_a)
    client = client_for(cadre_a)
    response = client.get(reverse("list_export", args=["households"]), {"status": "active", "page": "2"})
    assert response.status_code == 200
    event = the_download(cadre_a)
    assert event.changes == {
        "文件": [None, "家庭花名册（Excel）"],
        "筛选": [None, "status=active"],
        "行数": [None, 3],
    }
    # of the campaign's roll (a village when the list is narrowed to one)
    assert (event.model, event.campaign_id, event.reason) == (
        "cases.Campaign",
        village_a.town.campaigns.get().pk,
        "下载家庭花名册（Excel）",
    )


def test_an_id_number_search_is_recorded_without_the_number(client_for, make_household, village_a, cadre_a):
    household = make_household(village_a, head="张建国")
    number = Member.objects.get(household=household, relationship="02").id_number
    client = client_for(cadre_a)
    for searched in (number, number[-4:]):
        response = client.get(reverse("list_export", args=["households"]), {"q": searched})
        assert response.status_code == 200
    events = list(downloads().order_by("id"))
    assert len(events) == 2
    for event in events:
        assert event.changes["筛选"] == [None, "q=按身份证号查找"] and event.changes["行数"] == [None, 1]
        shows_no_digits_of(event, number)


def test_it_records_a_survey_pdf(client_for, verify_town):
    survey = Survey.objects.filter(status="submitted").select_related("household__village").first()
    cadre = Profile.objects.get(role="village", village=survey.household.village).user
    number = survey.household.members.get(relationship="02").id_number
    response = client_for(cadre).get(reverse("survey_pdf", args=[survey.public_id]), {"q": number})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    event = the_download(cadre)
    assert event.changes["文件"] == [None, f"入户调查表（表{survey.form}）（PDF）"]
    assert event.changes["筛选"] == [None, "q=按身份证号查找"]
    assert (event.model, event.object_id, event.household_id) == (
        "surveys.Survey",
        str(survey.public_id),
        survey.household_id,
    )
    shows_no_digits_of(event, number)


def test_it_records_a_revisit_pdf_off_the_households_timeline(client_for, verify_town, town_office):
    sample, _ = services.draw_sample(verify_town, level="town", actor=town_office)
    entry = sample.entries.select_related("household", "sample__campaign").first()
    revisit_sample(sample, town_office, entries=[entry])
    revisit = Revisit.objects.get(entry=entry)
    response = client_for(town_office).post(reverse("revisit_pdf", args=[revisit.public_id]), {"full_ids": "1"})
    assert response.status_code == 200 and "入户核查" in pdf_text(response.content)
    event = the_download(town_office)
    assert event.changes["文件"] == [None, "入户核查记录（PDF，含完整身份证号）"] and "筛选" not in event.changes
    # the village does not see the higher levels' checks on its households' timelines
    assert (event.model, event.household_id, event.campaign_id) == ("surveys.Revisit", None, verify_town.pk)


def test_it_records_a_batch_download_with_its_forms(client_for, immediate_tasks, verify_town):
    village = Village.objects.filter(town=verify_town.town).order_by("order").first()
    cadre = Profile.objects.get(role="village", village=village).user
    client = client_for(cadre)
    client.post(reverse("export_village", args=[village.code]))
    export = Export.objects.get()
    assert not downloads().exists()  # asking for a batch is not a download
    response = client.get(reverse("export_download", args=[export.public_id]))
    assert response.status_code == 200
    b"".join(response.streaming_content)
    event = the_download(cadre)
    assert event.changes["文件"] == [None, f"{village.name}入户调查表（批量）（PDF）"]
    assert event.changes["行数"] == [None, export.done] and export.done > 0
    assert (event.model, event.object_id) == ("reports.Export", str(export.public_id))


def test_a_refused_download_is_not_recorded(client_for, verify_town, cadre_b):
    survey = Survey.objects.filter(status="submitted").exclude(household__village__name="江岸村").first()
    assert client_for(cadre_b).get(reverse("survey_pdf", args=[survey.public_id])).status_code == 404
    assert client_for(cadre_b).get(reverse("list_export", args=["complaints"])).status_code == 403
    assert not downloads().exists()
