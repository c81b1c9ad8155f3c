import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from cases.models import AuditEvent, Campaign, Member
from surveys import services
from surveys.models import Survey, VillageReport
from tests.conftest import PASSWORD
from tests.surveys.conftest import COMPLETE, form_data


def _sign_both(client, survey, cadre, partner):
    client.post(reverse("survey_investigators", args=[survey.public_id]), {"investigators": [cadre.pk, partner.pk]})
    client.post(reverse("survey_sign", args=[survey.public_id]), {"investigator": cadre.pk})
    client.post(reverse("survey_sign", args=[survey.public_id]), {"investigator": partner.pk, "password": PASSWORD})


def _complete(client, survey, **extra):
    response = client.post(
        reverse("survey_edit", args=[survey.public_id]),
        form_data(survey, **{**COMPLETE, "m-0-inc_wage": "3600", **extra}),
    )
    assert response.status_code == 302, response.content.decode()[:3000]


def test_starting_a_survey_copies_every_registered_member(client, cadre_a, household_a, campaign):
    client.force_login(cadre_a)
    response = client.post(reverse("survey_start", args=[household_a.public_id]))
    survey = Survey.objects.get()
    assert response["Location"] == reverse("survey_edit", args=[survey.public_id])
    assert survey.form == "A" and survey.status == "draft"
    assert [m.name for m in survey.members.all()] == ["张建国", "李秀英"]
    page = client.get(reverse("survey_edit", args=[survey.public_id])).content.decode()
    assert "表A：城乡低保对象复核入户调查表" in page


def test_a_draft_saves_and_shows_the_figures(client, cadre_a, survey_a):
    client.force_login(cadre_a)
    # 6,000 wage + 1,200 crop = 7,200; 2 people: 7,200 / 12 / 2 = 300.00
    _complete(client, survey_a, **{"m-0-inc_wage": "6000", "m-1-inc_crop": "1200"})
    page = client.get(reverse("survey_edit", args=[survey_a.public_id])).content.decode()
    assert 'data-testid="per-capita">300.00<' in page
    assert "调整金额或类别" in page  # (505 − 300) × 2 = 410.00 ≠ current 505.00


def test_the_preview_reassesses_unsaved_input(client, cadre_a, survey_a):
    client.force_login(cadre_a)
    data = form_data(survey_a, **{"m-0-inc_wage": "12000", "m-1-inc_wage": "3000"})
    page = client.post(reverse("survey_preview", args=[survey_a.public_id]), data).content.decode()
    # 15,000 / 12 / 2 = 625.00 ≥ 505: exit
    assert 'data-testid="per-capita">625.00<' in page and "清退" in page
    assert not Survey.objects.get().members.filter(incomes__amount__gt=0).exists()  # nothing saved


def test_two_investigators_sign_and_the_survey_is_submitted_and_locked(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    _complete(
        client, survey_a, **{"m-1-presence": "died", "m-1-change_date": "2019-10-01", "m-1-change_reason": "病故"}
    )
    _sign_both(client, survey_a, cadre_a, group_leader_a)
    response = client.post(reverse("survey_submit", args=[survey_a.public_id]))
    assert response["Location"] == reverse("survey_detail", args=[survey_a.public_id])
    survey_a.refresh_from_db()
    assert survey_a.status == "submitted" and survey_a.submitted_by == cadre_a
    # only 张建国 counts now: 3,600 / 12 / 1 = 300.00; (505 − 300) × covered 2 = 410.00
    assert survey_a.per_capita_income == Decimal("300.00")
    assert survey_a.suggested_amount == Decimal("410.00") and survey_a.suggested_outcome == "adjust"
    signatures = list(survey_a.signatures.order_by("order"))
    assert [s.method for s in signatures] == ["本人登录签字", "同一设备输入密码签字"]
    assert all(s.signed_at for s in signatures)
    spouse = Member.objects.get(name="李秀英")
    assert spouse.status == "died" and spouse.status_changed_on == dt.date(2019, 10, 1)
    # locked: the edit page now shows the read-only survey, and a POST changes nothing
    client.post(reverse("survey_edit", args=[survey_a.public_id]), form_data(survey_a, **{"h-findings": "改"}))
    survey_a.refresh_from_db()
    assert survey_a.findings == ""
    with pytest.raises(services.DomainError, match="锁定"):
        services.save_survey(survey_a, services.input_from(survey_a), actor=cadre_a)


def test_submission_is_refused_until_complete_and_signed(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    response = client.post(reverse("survey_submit", args=[survey_a.public_id]), follow=True)
    page = response.content.decode()
    for text in ["请填写入户调查日期", "表A须说明享受低保的原因", "至少需要两名调查人", "请选择主要致困原因"]:
        assert text in page
    assert Survey.objects.get().status == "draft"


def test_a_change_after_signing_voids_the_signatures(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    _complete(client, survey_a)
    _sign_both(client, survey_a, cadre_a, group_leader_a)
    _complete(client, survey_a, **{"m-0-inc_wage": "4800"})
    assert not survey_a.signatures.exclude(signed_at=None).exists()
    client.post(reverse("survey_submit", args=[survey_a.public_id]))
    assert Survey.objects.get().status == "draft"


def test_a_wrong_password_does_not_sign(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    client.post(
        reverse("survey_investigators", args=[survey_a.public_id]), {"investigators": [cadre_a.pk, group_leader_a.pk]}
    )
    response = client.post(
        reverse("survey_sign", args=[survey_a.public_id]),
        {"investigator": group_leader_a.pk, "password": "wrong"},
        follow=True,
    )
    assert "密码不正确" in response.content.decode()
    assert not survey_a.signatures.exclude(signed_at=None).exists()


def test_a_correction_is_a_new_version_with_a_reason_and_differences(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    _complete(client, survey_a)
    _sign_both(client, survey_a, cadre_a, group_leader_a)
    client.post(reverse("survey_submit", args=[survey_a.public_id]))
    response = client.post(reverse("survey_correct", args=[survey_a.public_id]), {"reason": ""}, follow=True)
    assert "请填写更正原因" in response.content.decode()
    client.post(reverse("survey_correct", args=[survey_a.public_id]), {"reason": "工资收入登记错误"})
    v2 = Survey.objects.get(version=2)
    assert v2.status == "draft" and v2.supersedes == survey_a and v2.correction_reason == "工资收入登记错误"
    _complete(client, v2, **{"m-0-inc_wage": "4800"})
    _sign_both(client, v2, cadre_a, group_leader_a)
    client.post(reverse("survey_submit", args=[v2.public_id]))
    survey_a.refresh_from_db()
    v2.refresh_from_db()
    assert (survey_a.status, v2.status) == ("superseded", "submitted")
    page = client.get(reverse("survey_detail", args=[v2.public_id])).content.decode()
    assert "与第1版相比的变化" in page
    assert "张建国：工资性收入" in page and "<del>3600.00</del>" in page and "4800.00" in page
    old = client.get(reverse("survey_detail", args=[survey_a.public_id])).content.decode()
    assert "已被更正" in old and "3600.00" in old


def test_the_phase_gate(client, cadre_a, town_office, household_a, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.VERIFY)
    campaign.refresh_from_db()
    with pytest.raises(services.DomainError, match="第二阶段"):
        services.start_survey(household_a, campaign=campaign, actor=cadre_a)
    with pytest.raises(services.DomainError, match="填写原因"):
        services.start_survey(household_a, campaign=campaign, actor=town_office)
    survey = services.start_survey(household_a, campaign=campaign, actor=town_office, late_reason="补调查")
    assert survey.late_reason == "补调查"
    assert AuditEvent.objects.filter(object_id=str(survey.public_id), reason="补调查").exists()
    client.force_login(cadre_a)
    response = client.post(reverse("survey_submit", args=[survey.public_id]), follow=True)
    assert "第二阶段" in response.content.decode()


def test_the_village_report_is_refused_below_100_percent(
    client, cadre_a, group_leader_a, household_a, make_household, village_a
):
    other = make_household(village_a, head="钱有福")
    client.force_login(cadre_a)
    code = village_a.code
    page = client.get(reverse("survey_village", args=[code])).content.decode()
    assert 'data-testid="unaccounted">4<' in page  # 2 households × 2 members
    assert "张建国、李秀英" in page  # every member of a household still to visit is named
    response = client.post(reverse("survey_report", args=[code]), follow=True)
    page = response.content.decode()
    assert "尚有2户未完成入户调查（涉及4名成员未核实）" in page and "张建国" in page and "钱有福" in page
    assert not VillageReport.objects.exists()
    for household in (household_a, other):
        client.post(reverse("survey_start", args=[household.public_id]))
        survey = Survey.objects.get(household=household)
        _complete(client, survey)
        _sign_both(client, survey, cadre_a, group_leader_a)
        client.post(reverse("survey_submit", args=[survey.public_id]))
    response = client.post(reverse("survey_report", args=[code]), follow=True)
    assert "复核结果已上报" in response.content.decode()
    report = VillageReport.objects.get()
    assert report.households == 2 and report.reported_by == cadre_a
    coverage = client.get(reverse("survey_coverage")).content.decode()
    assert "逾期" in coverage  # reported in 2026, after the 2019 deadline


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"m-0-inc_wage": "-5"}, "确保该值大于或等于0"),
        ({"h-visit_date": "2099-01-01"}, "日期不能晚于今天"),
        ({"m-1-presence": "unknown"}, "选择一个有效的选项"),
        ({"m-1-presence": "died"}, "请填写变动日期"),
    ],
)
def test_bad_input_gets_a_message_and_saves_nothing(client, cadre_a, survey_a, overrides, message):
    client.force_login(cadre_a)
    response = client.post(reverse("survey_edit", args=[survey_a.public_id]), form_data(survey_a, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    survey_a.refresh_from_db()
    assert survey_a.visit_date is None
    assert not survey_a.members.filter(incomes__isnull=False).exists()


def test_a_member_of_another_household_is_refused(client, cadre_a, survey_a, household_b):
    client.force_login(cadre_a)
    stranger = household_b.head()
    response = client.post(
        reverse("survey_edit", args=[survey_a.public_id]),
        form_data(survey_a, **{"m-1-member": str(stranger.pk), "h-visit_date": "2019-10-25"}),
    )
    assert "该成员不属于本户" in response.content.decode()
    survey_a.refresh_from_db()
    assert survey_a.visit_date is None
    assert stranger.id_number not in set(survey_a.members.values_list("id_number", flat=True))


def test_the_same_person_twice_as_investigator_is_refused(survey_a, cadre_a):
    with pytest.raises(services.DomainError, match="不能重复"):
        services.set_investigators(survey_a, [cadre_a, cadre_a], actor=cadre_a)
    with pytest.raises(services.DomainError, match="至少需要两名"):
        services.set_investigators(survey_a, [cadre_a], actor=cadre_a)


def test_an_investigator_from_another_village_is_refused(survey_a, cadre_a, cadre_b):
    with pytest.raises(services.DomainError, match="调查人必须是"):
        services.set_investigators(survey_a, [cadre_a, cadre_b], actor=cadre_a)


def test_an_unknown_income_category_is_refused(survey_a, cadre_a):
    data = services.input_from(survey_a)
    data.members[0].incomes = {"lottery": Decimal("100")}
    with pytest.raises(services.DomainError, match="未知的收入类别"):
        services.save_survey(survey_a, data, actor=cadre_a)


def test_a_new_member_reaches_the_registry_only_on_submission(client, cadre_a, group_leader_a, survey_a):
    from tests.conftest import new_id

    client.force_login(cadre_a)
    number = new_id(dt.date(2019, 5, 1), "F")
    _complete(
        client,
        survey_a,
        **{
            "m-2-name": "张小红",
            "m-2-id_number": number,
            "m-2-relationship": "30",
            "m-2-presence": "new",
            "m-2-change_date": "2019-05-02",
            "m-2-change_reason": "出生",
            "m-2-co_resident": "on",
        },
    )
    assert not Member.objects.filter(id_number=number).exists()
    _sign_both(client, survey_a, cadre_a, group_leader_a)
    client.post(reverse("survey_submit", args=[survey_a.public_id]))
    member = Member.objects.get(id_number=number)
    assert member.household == survey_a.household and member.is_live


def test_another_village_cadre_gets_404(client, cadre_b, survey_a):
    client.force_login(cadre_b)
    for name in ["survey_edit", "survey_detail"]:
        assert client.get(reverse(name, args=[survey_a.public_id])).status_code == 404
    for name in ["survey_preview", "survey_submit", "survey_sign", "survey_investigators", "survey_correct"]:
        assert client.post(reverse(name, args=[survey_a.public_id])).status_code == 404


@pytest.mark.parametrize("persona", ["leadership", "county_officer"])
def test_read_only_roles_get_403_on_writes(request, client, persona, survey_a, household_a, village_a):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("survey_detail", args=[survey_a.public_id])).status_code == 200
    for name in ["survey_edit", "survey_submit", "survey_sign", "survey_investigators", "survey_correct"]:
        assert client.post(reverse(name, args=[survey_a.public_id]), {"investigator": 1}).status_code == 403, name
    assert client.post(reverse("survey_start", args=[household_a.public_id])).status_code == 403
    assert client.post(reverse("survey_report", args=[village_a.code])).status_code == 403


def test_screening_puts_a_non_dibao_household_on_form_b(
    client, town_office, cadre_a, make_household, village_a, campaign
):
    edge = make_household(village_a, head="孙长林", others=(), dibao=False)
    with pytest.raises(services.DomainError, match="排查名单"):
        services.start_survey(edge, campaign=campaign, actor=cadre_a)
    client.force_login(town_office)
    client.post(reverse("survey_screening_add", args=[edge.public_id]), {"kind": "edge"})
    page = client.get(reverse("survey_screening")).content.decode()
    assert "孙长林" in page and "低保边缘户" in page
    survey = services.start_survey(edge, campaign=campaign, actor=cadre_a)
    assert survey.form == "B"
    client.force_login(cadre_a)
    assert client.post(reverse("survey_screening_add", args=[edge.public_id]), {"kind": "edge"}).status_code == 403


def test_a_submitted_survey_can_be_recomputed_under_new_standards(client, cadre_a, group_leader_a, survey_a, campaign):
    client.force_login(cadre_a)
    _complete(client, survey_a)
    _sign_both(client, survey_a, cadre_a, group_leader_a)
    client.post(reverse("survey_submit", args=[survey_a.public_id]))
    page = client.get(reverse("survey_detail", args=[survey_a.public_id])).content.decode()
    assert 'data-testid="recomputed"' not in page
    Campaign.objects.filter(pk=campaign.pk).update(rural_standard=Decimal("600"))
    page = client.get(reverse("survey_detail", args=[survey_a.public_id])).content.decode()
    # stored: 3,600 / 12 / 2 = 150.00 against 505; recomputed against 600: (600 − 150) × 2 = 900.00
    assert "人均月收入 <strong>150.00</strong> 元（标准 505.00 元）" in page
    assert "按当前标准重新测算：人均月收入 150.00 元（标准 600.00 元），建议调整金额或类别，月补差 900.00 元" in page


def test_password_guesses_for_a_second_investigator_are_limited(client, cadre_a, group_leader_a, survey_a):
    from django.core.cache import cache

    cache.clear()
    client.force_login(cadre_a)
    client.post(
        reverse("survey_investigators", args=[survey_a.public_id]), {"investigators": [cadre_a.pk, group_leader_a.pk]}
    )
    url = reverse("survey_sign", args=[survey_a.public_id])
    for _ in range(5):
        client.post(url, {"investigator": group_leader_a.pk, "password": "guess"})
    response = client.post(url, {"investigator": group_leader_a.pk, "password": PASSWORD}, follow=True)
    assert "错误次数过多" in response.content.decode()
    assert not survey_a.signatures.exclude(signed_at=None).exists()
    cache.clear()


def test_when_the_head_dies_the_survey_names_the_new_head_and_the_registry_follows(
    client, cadre_a, group_leader_a, survey_a
):
    client.force_login(cadre_a)
    died = {"m-0-presence": "died", "m-0-change_date": "2019-09-01", "m-0-change_reason": "病故"}
    _complete(client, survey_a, **died)
    problems = client.get(reverse("survey_edit", args=[survey_a.public_id])).content.decode()
    assert "在户成员中应有且只有一名户主" in problems
    _complete(client, survey_a, **died, **{"m-1-relationship": "02"})
    _sign_both(client, survey_a, cadre_a, group_leader_a)
    response = client.post(reverse("survey_submit", args=[survey_a.public_id]), follow=True)
    assert "调查已提交并锁定" in response.content.decode()
    head = Member.objects.get(name="张建国")
    spouse = Member.objects.get(name="李秀英")
    assert head.status == "died" and head.status_changed_on == dt.date(2019, 9, 1)
    assert spouse.relationship == "02" and spouse.is_live
    assert survey_a.household.head() == spouse


def test_the_household_page_leads_to_its_survey(client, cadre_a, cadre_b, household_a, make_household, village_a):
    client.force_login(cadre_a)
    detail = client.get(reverse("household_detail", args=[household_a.public_id])).content.decode()
    url = reverse("survey_household", args=[household_a.public_id])
    assert url in detail
    page = client.get(url).content.decode()
    assert "在保家庭，使用表A复核" in page and reverse("survey_start", args=[household_a.public_id]) in page
    client.post(reverse("survey_start", args=[household_a.public_id]))
    survey = Survey.objects.get()
    response = client.get(url)
    assert response["Location"] == reverse("survey_detail", args=[survey.public_id])
    other = make_household(village_a, head="孙长林", others=(), dibao=False)
    page = client.get(reverse("survey_household", args=[other.public_id])).content.decode()
    assert "不在排查名单中" in page and "加入排查名单" not in page  # only the town office adds
    client.force_login(cadre_b)
    assert client.get(url).status_code == 404
