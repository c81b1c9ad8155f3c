"""公示: opened for a village once every household is decided; an objection puts the household
on the full check and holds its decision until resolved with a written result."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import decisions
from cases.models import AuditEvent, Case, Decision, Member, Notice, Objection
from cases.services import DomainError
from surveys import review, services
from surveys.models import SampleEntry
from tests.surveys.conftest import revisit_sample


@pytest.fixture
def decided_village(verify_town, town_office, village_a):
    """The town's sample re-visited in 湖滨村 and every household of it decided as proposed."""
    sample, _ = services.draw_sample(verify_town, level="town", actor=town_office)
    revisit_sample(sample, town_office, entries=list(sample.entries.filter(village=village_a)))
    review.decide_all_as_proposed(verify_town, actor=town_office, village=village_a)
    for case in Case.objects.filter(campaign=verify_town, village=village_a, review="").select_related("household"):
        review.decide_case(case, actor=town_office, **_as_proposed(case), reason="逐户核定")
    assert not Case.objects.filter(campaign=verify_town, village=village_a, review="").exists()
    return sample


def _as_proposed(case):
    p = review.proposal_for(case)
    return {
        "outcome": p.outcome,
        "covered_persons": p.covered_persons,
        "monthly_amount": p.monthly_amount,
        "dibao_class": case.household.dibao_class,
    }


def test_a_village_with_undecided_households_cannot_open_its_notice(verify_town, town_office, village_b):
    with pytest.raises(DomainError, match=r"尚有\d+户未作出镇级决定"):
        decisions.open_notice(verify_town, village_b, actor=town_office)
    assert not Notice.objects.exists()


def test_the_notice_runs_its_days_and_is_opened_once(decided_village, verify_town, town_office, village_a):
    notice = decisions.open_notice(verify_town, village_a, actor=town_office)
    assert (notice.ends_on - notice.starts_on).days == verify_town.notice_days - 1 == 6
    cases = Case.objects.filter(campaign=verify_town, village=village_a, in_scope=True)
    assert set(cases.values_list("review", flat=True)) == {Case.Review.ON_NOTICE}
    with pytest.raises(DomainError, match="不能重复公示"):
        decisions.open_notice(verify_town, village_a, actor=town_office)
    assert AuditEvent.objects.filter(model="cases.Notice").count() == 1


def test_an_objection_sends_the_household_to_a_full_check_and_holds_its_decision(
    decided_village, verify_town, town_office, village_a
):
    notice = decisions.open_notice(verify_town, village_a, actor=town_office)
    case = (
        Case.objects.select_related("household", "campaign")
        .filter(campaign=verify_town, village=village_a, town_sampled=False)
        .first()
    )
    with pytest.raises(DomainError, match="请填写异议内容"):
        review.record_objection(notice, case, actor=town_office, channel="phone", content=" ")
    objection = review.record_objection(
        notice, case, actor=town_office, channel="phone", content="该户儿子在县城有门面房出租。"
    )
    case.refresh_from_db()
    assert case.full_check and case.town_sampled and not case.town_revisited
    entry = SampleEntry.objects.get(household=case.household, sample=decided_village)
    assert entry.reason == SampleEntry.Reason.FULL_CHECK and entry.note == "公示期间收到异议"

    with pytest.raises(DomainError, match="有未处理的公示异议"):
        review.decide_case(case, actor=town_office, outcome="exit", reason="x")
    with pytest.raises(DomainError, match="须先完成入户核查"):
        decisions.resolve_objection(objection, actor=town_office, result="经核实无门面房。")
    revisit_sample(decided_village, town_office, entries=[entry])
    with pytest.raises(DomainError, match="请写明核实处理结果"):
        decisions.resolve_objection(objection, actor=town_office, result="")
    decisions.resolve_objection(objection, actor=town_office, result="经核实无门面房，维持原决定。")
    objection.refresh_from_db()
    assert not objection.is_open and objection.resolved_by == town_office
    # the held decision may now be confirmed or changed
    case.refresh_from_db()
    review.decide_case(case, actor=town_office, **_as_proposed(case), reason="异议不成立")
    assert case.decisions.count() == 2


def test_objections_are_recorded_only_during_the_notice(decided_village, verify_town, town_office, village_a):
    notice = decisions.open_notice(
        verify_town, village_a, actor=town_office, starts_on=timezone.localdate() - dt.timedelta(days=10)
    )
    case = Case.objects.filter(campaign=verify_town, village=village_a).first()
    with pytest.raises(DomainError, match="期外不能登记异议"):
        review.record_objection(notice, case, actor=town_office, channel="visit", content="有异议")
    assert not Objection.objects.exists()


def test_the_notice_page_lists_no_personal_detail_beyond_name_and_amount(
    client, decided_village, verify_town, town_office, village_a
):
    decisions.open_notice(verify_town, village_a, actor=town_office)
    client.force_login(town_office)
    page = client.get(reverse("review_notice", args=[village_a.code])).content.decode()
    assert "公示期" in page and "登记异议" in page
    kept = Decision.objects.filter(case__village=village_a).exclude(monthly_amount=0).first()
    assert f"{kept.monthly_amount}" in page
    for m in Member.objects.filter(household__village=village_a)[:20]:
        assert m.id_number not in page and m.id_number[-4:] + "<" not in page
    for case in Case.objects.filter(village=village_a).select_related("household")[:20]:
        h = case.household
        assert (not h.phone or h.phone not in page) and (not h.address or h.address not in page)


@pytest.mark.parametrize("persona", ["leadership", "county_officer", "cadre_a"])
def test_others_cannot_open_a_notice_or_record_an_objection(
    client, request, persona, decided_village, verify_town, village_a
):
    client.force_login(request.getfixturevalue(persona))
    assert client.post(reverse("review_notice_open", args=[village_a.code])).status_code == 403
    assert client.post(reverse("review_objection_add", args=[village_a.code]), {"content": "x"}).status_code in (
        403,
        404,
    )
    assert not Notice.objects.exists() and not Objection.objects.exists()


def test_who_objected_is_shown_to_the_town_not_to_the_village(
    client, decided_village, verify_town, town_office, cadre_a, village_a
):
    notice = decisions.open_notice(verify_town, village_a, actor=town_office)
    case = Case.objects.filter(campaign=verify_town, village=village_a).select_related("household").first()
    review.record_objection(
        notice, case, actor=town_office, channel="phone", content="有出租门面", objector="李四", contact="13800001111"
    )
    url = reverse("review_notice", args=[village_a.code])
    client.force_login(cadre_a)
    page = client.get(url).content.decode()
    assert "有出租门面" in page and "实名" in page and "李四" not in page and "13800001111" not in page
    client.force_login(town_office)
    page = client.get(url).content.decode()
    assert "李四" in page and "13800001111" in page
