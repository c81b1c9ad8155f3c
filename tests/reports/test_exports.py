"""Batches: all forms of a village (or of the town sample) as one PDF, made by the background
worker, with progress, failure and retry, expiry, and downloads scoped to the requester."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from cases.idnumber import mask_id
from cases.models import AuditEvent, Campaign, Village
from reports import exports, pdf
from reports.models import Export
from surveys import services
from surveys.models import Survey

from .conftest import pdf_pages, pdf_text

pytestmark = pytest.mark.django_db

FORM_A = "无为县城乡居民最低生活保障对象复核入户调查表"
FORM_B = "无为县困难群众调查登记表（非低保户）"


@pytest.fixture
def village(verify_town):
    """The village of the phase-3 town with the most submitted surveys."""
    return max(
        Village.objects.filter(town=verify_town.town),
        key=lambda v: Survey.objects.filter(household__village=v, status="submitted").count(),
    )


@pytest.fixture
def village_cadre(village):
    from cases.models import Profile

    return Profile.objects.get(role="village", village=village).user


def submitted(village) -> list[Survey]:
    return list(Survey.objects.filter(household__village=village, status="submitted").select_related("household"))


def forms_in(content: bytes) -> int:
    """How many forms the file holds: each form's first page carries its title and 第1页."""
    return sum(1 for page in pdf_pages(content) if (FORM_A in page or FORM_B in page) and "第1页共" in page)


def test_it_makes_one_pdf_with_every_household_of_the_village(
    client_for, immediate_tasks, village, village_cadre, settings
):
    settings.EXPORT_CHUNK_SIZE = 3  # several chunks joined into one file
    surveys = submitted(village)
    assert len(surveys) >= 5
    client = client_for(village_cadre)
    response = client.post(reverse("export_village", args=[village.code]))
    export = Export.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("export_detail", args=[export.public_id])
    assert (export.status, export.done, export.total, export.requested_by) == (
        "done",
        len(surveys),
        len(surveys),
        village_cadre,
    )
    assert export.expires_at - export.finished_at == dt.timedelta(days=7)

    page = client.get(reverse("export_detail", args=[export.public_id])).content.decode()
    assert "已完成" in page and reverse("export_download", args=[export.public_id]) in page
    download = client.get(reverse("export_download", args=[export.public_id]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    content = b"".join(download.streaming_content)
    assert forms_in(content) == len(surveys)
    text = pdf_text(content)
    assert f"{village.name}入户调查表" in text and f"{len(surveys)}户" in text  # the cover
    for survey in surveys:
        head = survey.household.members.get(relationship="02")
        assert head.name in text and mask_id(head.id_number) in text and head.id_number not in text
    assert PdfReader(io.BytesIO(content)).metadata.title == f"{village.name}入户调查表"


def test_it_shows_progress_while_the_worker_has_not_finished(client_for, queued_tasks, village, village_cadre):
    client = client_for(village_cadre)
    client.post(reverse("export_village", args=[village.code]))
    export = Export.objects.get()
    page = client.get(reverse("export_detail", args=[export.public_id])).content.decode()
    assert "排队中" in page and f'id="export-done">0</strong> / <span id="export-total">{export.total}' in page
    assert "js/export.js" in page
    Export.objects.filter(pk=export.pk).update(status="running", done=2, heartbeat_at=timezone.now())
    status = client.get(reverse("export_status", args=[export.public_id])).json()
    assert status == {"status": "running", "label": "生成中", "done": 2, "total": export.total, "pending": True}
    assert client.get(reverse("export_download", args=[export.public_id])).status_code == 404
    # asking again while it waits gives the same job, not a second one
    client.post(reverse("export_village", args=[village.code]))
    assert Export.objects.count() == 1


def test_the_job_is_on_the_database_queue_for_the_worker(client_for, queued_tasks, village, village_cadre):
    from django_tasks_db.models import DBTaskResult

    client_for(village_cadre).post(reverse("export_village", args=[village.code]))
    export = Export.objects.get()
    task = DBTaskResult.objects.get()
    assert task.task_path == "reports.tasks.build_export" and task.status == "READY"
    assert task.args_kwargs == {"args": [export.pk, 1], "kwargs": {}}


def test_a_failed_job_says_why_and_can_be_retried(client_for, immediate_tasks, village, village_cadre, monkeypatch):
    real = pdf.render_survey

    def broken(*args, **kwargs):
        raise RuntimeError("font missing")

    monkeypatch.setattr(pdf, "render_survey", broken)
    client = client_for(village_cadre)
    client.post(reverse("export_village", args=[village.code]))
    export = Export.objects.get()
    assert export.status == "failed" and not export.file
    page = client.get(reverse("export_detail", args=[export.public_id])).content.decode()
    assert "生成失败：系统内部错误" in page and "font missing" not in page and "重新生成" in page

    monkeypatch.setattr(pdf, "render_survey", real)
    response = client.post(reverse("export_retry", args=[export.public_id]))
    assert response.status_code == 302
    export.refresh_from_db()
    assert (export.status, export.attempt, export.error) == ("done", 2, "")
    assert export.done == export.total and export.file


def test_a_job_whose_worker_died_is_shown_interrupted_and_can_be_retried(
    client_for, queued_tasks, village, village_cadre, settings
):
    client = client_for(village_cadre)
    client.post(reverse("export_village", args=[village.code]))
    export = Export.objects.get()
    silent = timezone.now() - dt.timedelta(minutes=settings.EXPORT_STALL_MINUTES + 1)
    Export.objects.filter(pk=export.pk).update(status="running", done=3, started_at=silent, heartbeat_at=silent)
    page = client.get(reverse("export_detail", args=[export.public_id])).content.decode()
    assert "生成中断" in page and "重新生成" in page
    assert exports.cleanup() == (0, 1)
    export.refresh_from_db()
    assert export.status == "failed" and "生成中断" in export.error
    client.post(reverse("export_retry", args=[export.public_id]))
    export.refresh_from_db()
    assert (export.status, export.done, export.attempt) == ("queued", 0, 2)


def test_a_job_started_again_leaves_the_older_attempt_without_effect(immediate_tasks, village, village_cadre):
    export = exports.request_export(actor=village_cadre, campaign=Campaign.objects.current(), village=village)
    Export.objects.filter(pk=export.pk).update(status="queued", attempt=2, file="", done=0)
    exports.build(export.pk, 1)  # the first attempt's task, run late
    export.refresh_from_db()
    assert (export.status, export.done) == ("queued", 0)


def test_files_are_deleted_after_the_keep_period(client_for, immediate_tasks, village, village_cadre):
    client = client_for(village_cadre)
    client.post(reverse("export_village", args=[village.code]))
    export = Export.objects.get()
    path = export.file.path
    with open(path, "rb") as stored:
        assert stored.read(5) == b"%PDF-"
    assert exports.cleanup(now=export.expires_at - dt.timedelta(minutes=1)) == (0, 0)
    assert exports.cleanup(now=export.expires_at + dt.timedelta(minutes=1)) == (1, 0)
    export.refresh_from_db()
    assert export.status == "expired" and not export.file
    import os

    assert not os.path.exists(path)
    assert client.get(reverse("export_download", args=[export.public_id])).status_code == 404
    assert "已过期删除" in client.get(reverse("export_detail", args=[export.public_id])).content.decode()


def test_the_cleanup_command_runs_the_same_cleanup(immediate_tasks, village, village_cadre):
    from django.core.management import call_command

    export = exports.request_export(actor=village_cadre, campaign=Campaign.objects.current(), village=village)
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    out = io.StringIO()
    call_command("cleanup_exports", stdout=out)
    assert "已删除过期文件1个" in out.getvalue()
    assert Export.objects.get().status == "expired"


def test_downloads_are_for_the_requester_within_their_scope(
    client_for, immediate_tasks, village, village_cadre, request
):
    client = client_for(village_cadre)
    client.post(reverse("export_village", args=[village.code]))
    export = Export.objects.get()
    urls = [reverse(name, args=[export.public_id]) for name in ("export_detail", "export_status", "export_download")]
    for persona in ("cadre_b", "town_office", "leadership", "group_leader_a"):
        other = client_for(request.getfixturevalue(persona))
        for url in urls:
            assert other.get(url).status_code == 404, (persona, url)
        assert other.post(reverse("export_retry", args=[export.public_id])).status_code == 404
    # the requester moved to another village: the file is no longer theirs to read
    client = client_for(village_cadre)
    profile = village_cadre.profile
    profile.village = Village.objects.exclude(pk=village.pk).first()
    profile.save()
    assert client.get(urls[2]).status_code == 404


def test_another_villages_cadre_cannot_ask_for_the_village(client_for, immediate_tasks, village, cadre_a, cadre_b):
    other = cadre_b if cadre_b.profile.village_id != village.pk else cadre_a
    assert client_for(other).post(reverse("export_village", args=[village.code])).status_code == 404
    assert not Export.objects.exists()


def test_a_village_without_submitted_surveys_is_refused_with_a_message(client_for, immediate_tasks, campaign, cadre_a):
    response = client_for(cadre_a).post(reverse("export_village", args=[cadre_a.profile.village.code]), follow=True)
    assert "还没有已提交的入户调查" in response.content.decode()
    assert not Export.objects.exists()


def test_full_ids_in_a_batch_are_for_roles_that_may_reveal_them_and_recorded_per_household(
    client_for, immediate_tasks, village, village_cadre, group_leader_a, leadership
):
    assert (
        client_for(leadership).post(reverse("export_village", args=[village.code]), {"full_ids": "1"}).status_code
        == 403
    )
    client_for(village_cadre).post(reverse("export_village", args=[village.code]), {"full_ids": "1"})
    export = Export.objects.get()
    assert export.full_ids and export.status == "done"
    events = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW_ID)
    assert sorted(e.household_id for e in events) == sorted(s.household_id for s in submitted(village))
    assert {(e.actor_id, e.batch) for e in events} == {(village_cadre.pk, export.public_id)}
    content = b"".join(
        client_for(village_cadre).get(reverse("export_download", args=[export.public_id])).streaming_content
    )
    head = submitted(village)[0].household.members.get(relationship="02")
    assert head.id_number in pdf_text(content)


def test_the_village_page_offers_the_batch(client_for, village, village_cadre, leadership):
    page = client_for(village_cadre).get(reverse("survey_village", args=[village.code])).content.decode()
    assert reverse("export_village", args=[village.code]) in page and "下载本村全部调查表（PDF）" in page
    assert 'name="full_ids"' in page
    page = client_for(leadership).get(reverse("survey_village", args=[village.code])).content.decode()
    assert "下载本村全部调查表（PDF）" in page and 'name="full_ids"' not in page


# --- the town sample --------------------------------------------------------------------------


@pytest.fixture
def sample(verify_town, town_office):
    from tests.surveys.conftest import revisit_sample

    drawn, _ = services.draw_sample(verify_town, level="town", actor=town_office)
    revisit_sample(drawn, town_office, entries=list(drawn.entries.select_related("household", "sample__campaign"))[:2])
    return drawn


def test_it_makes_the_town_samples_forms_with_their_revisit_records(client_for, immediate_tasks, sample, town_office):
    client = client_for(town_office)
    page = client.get(reverse("survey_sample", args=["town"])).content.decode()
    assert reverse("export_sample", args=["town"]) in page
    client.post(reverse("export_sample", args=["town"]))
    export = Export.objects.get()
    entries = sample.entries.count()
    assert (export.status, export.total, export.done, export.sample) == ("done", entries, entries, sample)
    content = b"".join(client.get(reverse("export_download", args=[export.public_id])).streaming_content)
    assert forms_in(content) == entries
    records = [p for p in pdf_pages(content) if "入户核查记录" in p and "第1页共" in p]
    assert len(records) == 2


def test_village_cadres_cannot_ask_for_the_sample(client_for, immediate_tasks, sample, village_cadre_of_sample):
    assert client_for(village_cadre_of_sample).post(reverse("export_sample", args=["town"])).status_code == 403
    assert not Export.objects.exists()


@pytest.fixture
def village_cadre_of_sample(sample):
    from cases.models import Profile

    return Profile.objects.get(role="village", village=sample.entries.first().village).user


# --- queries ----------------------------------------------------------------------------------


def test_a_village_chunk_reads_a_fixed_number_of_queries(
    queued_tasks, village, village_cadre, django_assert_num_queries
):
    """The first chunk: the batch's ids (1); the surveys with their place and users (1); members,
    incomes, deductions, houses, vehicles, supporters (6); signatures with their signers (1)."""
    export = exports.request_export(actor=village_cadre, campaign=Campaign.objects.current(), village=village)
    for size in (2, 5):
        with django_assert_num_queries(9):
            chunk = next(exports.chunks(export, size=size))
        assert len(chunk.documents) == size
    # every later chunk: the same without the ids
    later = exports.chunks(export, size=2)
    next(later)
    with django_assert_num_queries(8):
        next(later)


def test_a_sample_chunk_reads_a_fixed_number_of_queries(queued_tasks, sample, town_office, django_assert_num_queries):
    """ids (1); entries (1); surveys for print (8); re-visits with members, signatures, differences (4)."""
    export = exports.request_export(actor=town_office, campaign=sample.campaign, sample=sample)
    for size in (2, 6):
        with django_assert_num_queries(14):
            chunk = next(exports.chunks(export, size=size))
        assert len(chunk.households) == size
