"""The form-B list is drawn from the registry: no hardship household is skipped because nobody added it."""

import pytest
from django.urls import reverse

from cases import services as registry
from cases.models import AuditEvent, Case, Household
from surveys import services
from surveys.models import ScreeningEntry
from tests.conftest import new_id


@pytest.fixture
def hardship(village_a, town_office):
    """One non-dibao household of each screening source, one lifted out of poverty, one plain."""

    def make(head, **flags):
        data = {"village": village_a, "hukou_type": Household.HukouType.RURAL, **flags}
        return registry.create_household(actor=town_office, data=data, head={"name": head, "id_number": new_id()})

    return {
        "poverty": make("甲贫困", poverty_status=Household.PovertyStatus.NOT_LIFTED),
        "edge": make("乙边缘", is_edge=True),
        "other": make("丙困难", is_other_hardship=True),
        "lifted": make("丁脱贫", poverty_status=Household.PovertyStatus.LIFTED),
        "plain": make("戊普通"),
    }


def test_it_lists_every_hardship_household_of_the_registry_with_its_source(
    client, town_office, campaign, hardship, household_a
):
    client.force_login(town_office)
    page = client.get(reverse("survey_screening")).content.decode()
    assert "尚未列入本次复核名单" in page and "名单共 0 户" in page
    response = client.post(reverse("survey_screening_from_registry"), follow=True)
    assert "排查对象（表B）3户" in response.content.decode()
    entries = {e.household_id: e for e in ScreeningEntry.objects.filter(campaign=campaign)}
    assert {entries[hardship[k].pk].kind for k in ("poverty", "edge", "other")} == {"poverty", "edge", "other"}
    assert all(e.from_registry and e.added_by == town_office for e in entries.values())
    assert hardship["lifted"].pk not in entries and hardship["plain"].pk not in entries
    cases = {c.household_id: c for c in Case.objects.filter(campaign=campaign)}
    assert cases[hardship["edge"].pk].form == "B" and cases[hardship["edge"].pk].source == Case.Source.EDGE
    assert cases[household_a.pk].form == "A"
    page = client.get(reverse("survey_screening")).content.decode()
    listed = page[page.index('data-testid="screening"') : page.index("可另行加入的非低保家庭")]
    assert "名单共 3 户" in page and "花名册自动列入" in page
    assert "甲贫困" in listed and "乙边缘" in listed and "丙困难" in listed
    assert "尚未列入本次复核名单" not in page
    assert AuditEvent.objects.filter(reason="由花名册列入本次复核名单", household=hardship["poverty"]).count() == 1


def test_running_it_again_adds_only_what_is_new(campaign, town_office, hardship, make_household, village_a):
    services.list_from_registry(campaign, actor=town_office)
    assert services.list_from_registry(campaign, actor=town_office) == {"dibao": 0, "screening": 0}
    make_household(village_a, head="己新边缘", others=(), dibao=False)  # is_edge
    assert services.list_from_registry(campaign, actor=town_office) == {"dibao": 0, "screening": 1}


def test_a_village_with_a_listed_household_unvisited_cannot_report(
    client, cadre_a, campaign, town_office, hardship, village_a
):
    services.list_from_registry(campaign, actor=town_office)
    assert services.unsubmitted(campaign, village_a).filter(pk=hardship["other"].pk).exists()
    client.force_login(cadre_a)
    response = client.post(reverse("survey_report", args=[village_a.code]), follow=True)
    page = response.content.decode()
    assert "尚有" in page and "不能上报" in page and "丙困难" in page
    assert not campaign.village_reports.exists()
    coverage = services.coverage_by_village(campaign, [village_a])[0]
    assert coverage["total"] == 3 and coverage["not_visited"] == 3 and not coverage["complete"]


def test_the_town_removes_a_household_with_a_reason_and_it_stays_off(
    client, town_office, campaign, hardship, village_a
):
    services.list_from_registry(campaign, actor=town_office)
    client.force_login(town_office)
    url = reverse("survey_screening_remove", args=[hardship["other"].public_id])
    response = client.post(url, {"reason": "  "}, follow=True)
    assert "请填写移出排查名单的原因" in response.content.decode()
    assert Case.objects.get(household=hardship["other"]).in_scope
    client.post(url, {"reason": "经核实已有稳定收入"})
    entry = ScreeningEntry.objects.get(household=hardship["other"])
    assert entry.removed_reason == "经核实已有稳定收入" and entry.removed_by == town_office
    assert not Case.objects.get(household=hardship["other"]).in_scope
    assert services.list_from_registry(campaign, actor=town_office) == {"dibao": 0, "screening": 0}
    assert services.coverage_by_village(campaign, [village_a])[0]["total"] == 2
    assert AuditEvent.objects.filter(household=hardship["other"], reason__startswith="移出排查名单").exists()
    # added back by hand, it is listed again
    client.post(reverse("survey_screening_add", args=[hardship["other"].public_id]), {"kind": "other"})
    assert Case.objects.get(household=hardship["other"]).in_scope
    assert ScreeningEntry.objects.get(household=hardship["other"]).removed_at is None


def test_a_household_whose_survey_has_started_cannot_be_removed(campaign, town_office, cadre_a, hardship):
    services.list_from_registry(campaign, actor=town_office)
    services.start_survey(hardship["edge"], campaign=campaign, actor=cadre_a)
    with pytest.raises(registry.DomainError, match="已开始入户调查"):
        services.remove_from_screening(campaign, hardship["edge"], actor=town_office, reason="误列")
    assert Case.objects.get(household=hardship["edge"]).in_scope


@pytest.mark.parametrize("persona", ["cadre_a", "leadership", "county_officer", "group_leader_a"])
def test_only_the_town_office_draws_or_changes_the_list(client, request, persona, campaign, hardship, town_office):
    client.force_login(request.getfixturevalue(persona))
    assert client.post(reverse("survey_screening_from_registry")).status_code == 403
    services.list_from_registry(campaign, actor=town_office)
    url = reverse("survey_screening_remove", args=[hardship["edge"].public_id])
    assert client.post(url, {"reason": "x"}).status_code in (403, 404)
    assert ScreeningEntry.objects.filter(removed_at__isnull=False).count() == 0
    assert Case.objects.filter(campaign=campaign, in_scope=True).count() == 3


def test_a_household_entering_dibao_while_visits_go_on_is_listed_at_once(campaign, make_household, village_a):
    household = make_household(village_a, head="庚新保")
    case = Case.objects.get(campaign=campaign, household=household)
    assert case.source == Case.Source.DIBAO and case.in_scope and case.stage == Case.Stage.PENDING
