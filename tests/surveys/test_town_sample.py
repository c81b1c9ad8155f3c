"""The town's ≥20% sample: exact sizes per village, reproducible from its seed, full-check
households on top, never redrawn or shrunk, refused outside phase 3."""

import io
import math

import pytest
from django.core.management import CommandError, call_command
from django.db.models import ProtectedError
from django.urls import reverse

from cases.demo import generate_households
from cases.models import AuditEvent, Campaign, Case, Member
from surveys import services
from surveys.models import Sample, SampleEntry, VillageReport


@pytest.fixture
def reported_town(campaign, town_office, cadre_a):
    """Every household listed and reported by its village, the campaign in phase 3."""
    generate_households(campaign, 300, seed=11)
    services.list_from_registry(campaign, actor=town_office)
    for village in campaign.town.villages.all()[:10]:
        VillageReport.objects.create(campaign=campaign, village=village, reported_by=cadre_a, households=0)
        # surveys written in bulk elsewhere; here only the stage matters
        Case.objects.filter(campaign=campaign, village=village).update(stage=Case.Stage.REPORTED)
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.VERIFY)
    return Campaign.objects.get(pk=campaign.pk)


def test_each_village_draws_exactly_the_ceiling_of_the_ratio(reported_town, town_office):
    sample, waiting = services.draw_sample(reported_town, level="town", actor=town_office)
    assert len(waiting) == 5  # five villages have not reported
    total = 0
    for village in reported_town.town.villages.all():
        n = Case.objects.filter(campaign=reported_town, village=village, stage=Case.Stage.REPORTED).count()
        total += n
        drawn = sample.entries.filter(village=village, reason=SampleEntry.Reason.DRAWN).count()
        assert drawn == math.ceil(n * 20 / 100), village.name
    assert total > 100
    assert Case.objects.filter(town_sampled=True).count() == sample.entries.count()
    event = AuditEvent.objects.get(model="surveys.Sample")
    assert event.actor == town_office and sample.seed not in str(event.changes)


def test_the_same_seed_gives_the_same_list_and_another_seed_another(reported_town, town_office):
    sample, _ = services.draw_sample(reported_town, level="town", actor=town_office, seed="a" * 32)
    assert services.sample_discrepancies(sample) == []
    first = set(sample.entries.values_list("household_id", flat=True))
    sample.seed = "b" * 32
    assert services.sample_discrepancies(sample)  # the recorded list is not the one seed b gives
    sample.seed = "a" * 32
    out = io.StringIO()
    call_command("verify_sample", "--level", "town", stdout=out)
    assert "复算结果与记录一致" in out.getvalue()
    assert set(sample.entries.values_list("household_id", flat=True)) == first


def test_the_command_reports_a_mismatch_when_a_row_is_altered(reported_town, town_office):
    sample, _ = services.draw_sample(reported_town, level="town", actor=town_office)
    entry = sample.entries.filter(reason=SampleEntry.Reason.DRAWN).first()
    other = Case.objects.filter(campaign=reported_town, village=entry.village, town_sampled=False).first()
    SampleEntry.objects.filter(pk=entry.pk).update(household=other.household)
    with pytest.raises(CommandError, match="不一致"):
        call_command("verify_sample", "--level", "town", stdout=io.StringIO())


def test_full_check_households_are_added_on_top(reported_town, town_office, village_a):
    # every household of 村A has a cadre's relative: all are checked, k of them drawn at random
    Member.objects.filter(household__village=village_a, status="present").update(is_cadre_relative=True)
    sample, _ = services.draw_sample(reported_town, level="town", actor=town_office)
    n = Case.objects.filter(campaign=reported_town, village=village_a, stage=Case.Stage.REPORTED).count()
    entries = sample.entries.filter(village=village_a)
    assert entries.filter(reason=SampleEntry.Reason.DRAWN).count() == math.ceil(n * 0.2)
    assert entries.filter(reason=SampleEntry.Reason.FULL_CHECK).count() == n - math.ceil(n * 0.2)
    assert entries.count() == n > 0


def test_a_drawn_sample_is_never_redrawn_and_late_villages_use_its_seed(reported_town, town_office, cadre_a):
    sample, waiting = services.draw_sample(reported_town, level="town", actor=town_office)
    before = list(sample.entries.values_list("household_id", "reason", "rank"))
    with pytest.raises(services.DomainError, match="均已抽样"):
        services.draw_sample(reported_town, level="town", actor=town_office)
    late = waiting[0]
    VillageReport.objects.create(campaign=reported_town, village=late, reported_by=cadre_a, households=0)
    Case.objects.filter(campaign=reported_town, village=late).update(stage=Case.Stage.REPORTED)
    again, _ = services.draw_sample(reported_town, level="town", actor=town_office, seed="ignored")
    assert again.pk == sample.pk and again.seed == sample.seed
    assert list(sample.entries.exclude(village=late).values_list("household_id", "reason", "rank")) == before
    assert sample.entries.filter(village=late).exists()
    assert services.sample_discrepancies(again) == []


def test_the_town_adds_with_a_reason_and_nothing_is_removed(reported_town, town_office):
    sample, _ = services.draw_sample(reported_town, level="town", actor=town_office)
    extra = Case.objects.filter(campaign=reported_town, town_sampled=False).first().household
    with pytest.raises(services.DomainError, match="原因"):
        services.add_to_sample(sample, extra, actor=town_office, reason=" ")
    services.add_to_sample(sample, extra, actor=town_office, reason="拟清退，须入户核实")
    assert sample.entries.get(household=extra).reason == SampleEntry.Reason.ADDED
    with pytest.raises(ProtectedError):  # entries are protected rows: no deletion path exists
        sample.delete()
    assert SampleEntry.objects.filter(sample=sample).count() > 0


def test_it_refuses_to_draw_outside_phase_3(campaign, town_office):
    with pytest.raises(services.DomainError, match="只能在第三阶段"):
        services.draw_sample(campaign, level="town", actor=town_office)
    assert not Sample.objects.exists()


def test_the_sample_page_shows_the_seed_and_the_method(client, reported_town, town_office):
    sample, _ = services.draw_sample(reported_town, level="town", actor=town_office)
    client.force_login(town_office)
    page = client.get(reverse("survey_sample", args=["town"])).content.decode()
    assert sample.seed in page and "SHA-256" in page and "verify_sample" in page


@pytest.mark.parametrize("persona", ["cadre_a", "group_leader_a"])
def test_villages_cannot_see_the_sample_in_advance(client, request, persona, reported_town, town_office):
    services.draw_sample(reported_town, level="town", actor=town_office)
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("survey_sample", args=["town"])).status_code == 403


@pytest.mark.parametrize("persona", ["leadership", "county_officer"])
def test_read_only_roles_see_the_sample_and_cannot_draw(client, request, persona, reported_town):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("survey_sample", args=["town"])).status_code == 200
    response = client.post(reverse("survey_sample_draw", args=["town"]))
    assert response.status_code == 403 and not Sample.objects.exists()
