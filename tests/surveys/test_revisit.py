"""The town's re-visit of a sampled household: recorded afresh, signed by two verifiers on
what they saw, compared field by field with the village survey; each difference gets a
verdict that counts against the village survey's investigators."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from cases.models import AuditEvent, Campaign
from surveys import revisits, services
from surveys.models import Difference, Revisit, Sample
from tests.surveys.conftest import submit_complete


@pytest.fixture
def sampled(client, campaign, cadre_a, group_leader_a, town_office, survey_a, village_a):
    """张建国's form-A survey (head's wage 3,600) submitted and reported; phase 3; the town's sample drawn."""
    client.force_login(cadre_a)
    submit_complete(client, survey_a, cadre_a, group_leader_a)
    services.report_village(campaign, village_a, actor=cadre_a)
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.VERIFY)
    sample, _ = services.draw_sample(Campaign.objects.get(pk=campaign.pk), level="town", actor=town_office)
    return sample.entries.get(household=survey_a.household)


@pytest.fixture
def verifiers(town_office):
    return [town_office, get_user_model().objects.get(username="group03")]


def _found(revisit, **header):
    """What the verifiers found: the head earns 9,600 a year, not 3,600; the rest as the village said."""
    members = [
        revisits.RevisitMemberInput(
            survey_member_id=m.survey_member_id,
            present=True,
            counted=True,
            incomes={"wage": Decimal("9600")} if i == 0 else {},
        )
        for i, m in enumerate(revisit.members.all())
    ]
    data = {"visit_date": None, "covered_persons": 2, "main_cause": "illness", "recommendation": "keep"}
    data.update(header)
    return revisits.RevisitInput(header=data, members=members)


def _sign_all(revisit, verifiers, actor):
    for user in verifiers:
        fresh = Revisit.objects.prefetch_related("members").get(pk=revisit.pk)
        revisits.sign_revisit(
            revisit, verifier=user, actor=actor, method="本人登录签字", shown_fingerprint=fresh.content_fingerprint()
        )


def test_a_revisit_finds_a_difference_and_the_verdict_counts_against_the_investigators(
    sampled, verifiers, town_office, cadre_a, group_leader_a, campaign
):
    import datetime as dt

    revisit = revisits.start_revisit(sampled, actor=town_office)
    assert revisit.members.count() == 2
    revisit = revisits.save_revisit(revisit, _found(revisit, visit_date=dt.date(2019, 11, 7)), actor=town_office)
    revisits.set_verifiers(revisit, verifiers, actor=town_office)
    _sign_all(revisit, verifiers, town_office)
    revisits.submit_revisit(revisit, actor=town_office)
    differences = {d.label: d for d in Difference.objects.filter(revisit=revisit)}
    wage = differences["张建国：工资性收入"]
    assert (wage.village_value, wage.revisit_value, wage.material) == ("3600.00", "9600.00", True)
    assert list(differences) == ["张建国：工资性收入"]  # nothing else differs

    with pytest.raises(services.DomainError, match="须写明依据"):
        revisits.judge_difference(wage, verdict="investigator", note=" ", actor=town_office)
    revisits.judge_difference(wage, verdict="recording", note="村干部漏记务工收入", actor=town_office)
    wage.refresh_from_db()
    assert wage.verdict == "recording" and wage.judged_by == town_office

    records = {r["user"].username: r for r in revisits.investigator_records(campaign)}
    for investigator in (cadre_a, group_leader_a):
        row = records[investigator.username]
        assert (row["surveys"], row["sampled"], row["revisited"], row["with_differences"]) == (1, 1, 1, 1)
        assert dict(row["by_verdict"])["村级记录错误"] == 1
    assert AuditEvent.objects.filter(model="surveys.Difference", actor=town_office).exists()


def test_a_revisit_is_not_submitted_without_two_signatures_on_its_current_content(sampled, verifiers, town_office):
    import datetime as dt

    revisit = revisits.start_revisit(sampled, actor=town_office)
    revisit = revisits.save_revisit(revisit, _found(revisit, visit_date=dt.date(2019, 11, 7)), actor=town_office)
    revisits.set_verifiers(revisit, verifiers, actor=town_office)
    _sign_all(revisit, verifiers, town_office)
    revisits.save_revisit(revisit, _found(revisit, visit_date=dt.date(2019, 11, 8)), actor=town_office)
    with pytest.raises(services.DomainError, match="尚未签字"):
        revisits.submit_revisit(revisit, actor=town_office)
    assert not Difference.objects.exists()
    assert Revisit.objects.get(pk=revisit.pk).status == Revisit.Status.DRAFT


def test_the_village_investigators_cannot_verify_their_own_survey(sampled, town_office, cadre_a, group_leader_a):
    revisit = revisits.start_revisit(sampled, actor=town_office)
    with pytest.raises(services.DomainError, match="村级调查的调查人不能核查"):
        revisits.set_verifiers(revisit, [town_office, group_leader_a], actor=town_office)
    assert not revisit.signatures.exists()


def test_a_stale_signature_is_refused(sampled, verifiers, town_office):
    revisit = revisits.start_revisit(sampled, actor=town_office)
    revisits.set_verifiers(revisit, verifiers, actor=town_office)
    shown = Revisit.objects.prefetch_related("members").get(pk=revisit.pk).content_fingerprint()
    revisits.save_revisit(revisit, _found(revisit), actor=town_office)
    with pytest.raises(services.DomainError, match="签字未生效"):
        revisits.sign_revisit(
            revisit, verifier=verifiers[0], actor=town_office, method="本人登录签字", shown_fingerprint=shown
        )


def test_revisits_belong_to_phase_3(sampled, town_office, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.SUPERVISE)
    sampled.sample.campaign.refresh_from_db()
    with pytest.raises(services.DomainError, match="只能在第三阶段"):
        revisits.start_revisit(sampled, actor=town_office)
    assert not Revisit.objects.exists()
    assert Sample.objects.count() == 1


def test_nothing_of_the_town_sample_changes_outside_phase_3(sampled, town_office, campaign, household_b):
    revisit = revisits.start_revisit(sampled, actor=town_office)
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.SUPERVISE)
    sampled.sample.campaign.refresh_from_db()
    with pytest.raises(services.DomainError, match="只能在第三阶段"):
        revisits.save_revisit(revisit, _found(revisit), actor=town_office)
    with pytest.raises(services.DomainError, match="只能在第三阶段"):
        services.add_to_sample(sampled.sample, household_b, actor=town_office, reason="补充")
    assert sampled.sample.entries.count() == 1
    assert Revisit.objects.get(pk=revisit.pk).covered_persons == 0
