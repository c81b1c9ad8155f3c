"""The demo town at each stage a newcomer may want to see: mid phase 2, the start of phase 3,
the start of phase 4 (made through the same services as real work)."""

from django.core.management import call_command

from cases.models import Campaign, Case, Complaint, Decision, GreenChannel, Notice, TemporaryAid
from surveys.models import Revisit, Sample, TownReport, VillageReport


def _demo(settings, stage):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("demo_town", households=150, stage=stage)
    return Campaign.objects.current()


def test_the_demo_starts_phase_3_with_every_village_reported(db, settings):
    campaign = _demo(settings, "phase3")
    assert campaign.current_phase == Campaign.PhaseNumber.VERIFY
    assert VillageReport.objects.count() == campaign.town.villages.count()
    assert not Sample.objects.exists() and not Decision.objects.exists()


def test_the_demo_starts_phase_4_with_the_towns_work_done(db, settings):
    campaign = _demo(settings, "phase4")
    assert campaign.current_phase == Campaign.PhaseNumber.SUPERVISE
    sample = Sample.objects.get(level="town")
    assert sample.entries.count() == Revisit.objects.filter(entry__sample=sample, status="submitted").count() > 0
    assert set(Case.objects.filter(in_scope=True).values_list("review", flat=True)) == {"sent"}
    assert Notice.objects.count() == campaign.town.villages.count()
    report = TownReport.objects.get()
    assert report.figures["totals"][1] == 150
    assert not Sample.objects.filter(level="county").exists()
    # help that cannot wait, and complaints, in several states
    assert GreenChannel.objects.values("status").distinct().count() >= 3
    assert TemporaryAid.objects.exists() and Complaint.objects.values("status").distinct().count() >= 3
