"""Flags on households (四、2): where a department's list says otherwise than the household's
submitted survey (or, before it, the registry); shown on the survey, re-visit and decision pages;
cleared only with a reason."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from cases import roles, services
from cases.models import AuditEvent, HouseholdFlag, Member
from cases.services import DomainError
from surveys import departments
from surveys.models import Survey, SurveyDeduction, SurveyIncome, SurveyMember, SurveyVehicle
from tests.surveys.test_department_import import import_rows

DISABILITY = ["姓名", "身份证号", "残疾类别", "残疾等级"]
SOCIAL = ["姓名", "身份证号", "月养老金", "养老保险类型", "就业状态", "失业保险金"]


def submitted_survey(household, campaign, actor, *, incomes=None, vehicles=(), business="", medical=0):
    """A submitted survey of the household's live members (built with the ORM): `incomes` by
    member name, {category: yuan}."""
    survey = Survey.objects.create(
        campaign=campaign,
        household=household,
        form="A" if household.is_dibao else "B",
        status=Survey.Status.SUBMITTED,
        business=business,
        created_by=actor,
        submitted_by=actor,
        submitted_at=timezone.now(),
    )
    for order, member in enumerate(household.members.filter(status=Member.Status.PRESENT)):
        row = SurveyMember.objects.create(
            survey=survey,
            member=member,
            name=member.name,
            id_number=member.id_number,
            relationship=member.relationship,
            order=order,
        )
        for category, amount in (incomes or {}).get(member.name, {}).items():
            SurveyIncome.objects.create(survey_member=row, category=category, amount=Decimal(amount))
    for kind in vehicles:
        SurveyVehicle.objects.create(survey=survey, kind=kind)
    if medical:
        SurveyDeduction.objects.create(survey=survey, kind="medical", amount=Decimal(medical))
    return survey


def members(household):
    head = household.head()
    other = household.members.exclude(pk=head.pk).get()
    return head, other


def flags():
    return {(f.member.name, f.kind): f for f in HouseholdFlag.objects.select_related("member")}


def test_it_flags_a_disability_grade_the_survey_records_as_healthy(campaign, town_office, household_a):
    head, spouse = members(household_a)
    Member.objects.filter(pk=spouse.pk).update(health="disabled", disability_type="limb", disability_grade=2)
    submitted_survey(household_a, campaign, town_office)
    rows = [(head.name, head.id_number, "肢体", "二级"), (spouse.name, spouse.id_number, "肢体", "二级")]
    saved = import_rows(campaign, town_office, "disability", DISABILITY, rows)
    flag = HouseholdFlag.objects.get()
    assert (flag.member, flag.kind, flag.basis, flag.status) == (head, "disability", "survey", "open")
    assert flag.detail == "残联名单：肢体残疾二级；入户调查记录为健康"
    assert (flag.household, flag.village, flag.record.department_list) == (household_a, household_a.village, saved)


def test_it_flags_a_different_grade_against_the_registry_before_the_survey(campaign, town_office, household_a):
    head, _ = members(household_a)
    Member.objects.filter(pk=head.pk).update(health="disabled", disability_type="limb", disability_grade=3)
    import_rows(campaign, town_office, "disability", DISABILITY, [(head.name, head.id_number, "肢体", "一级")])
    flag = HouseholdFlag.objects.get()
    assert (flag.basis, flag.detail) == ("registry", "残联名单：肢体残疾一级；花名册记录为肢体残疾三级")


def test_it_flags_undeclared_pensions_and_work_against_the_survey(campaign, town_office, household_a):
    head, spouse = members(household_a)
    submitted_survey(household_a, campaign, town_office, incomes={head.name: {"pension": "21600"}})
    rows = [
        # declared on the survey: nothing to flag
        (head.name, head.id_number, "1800", "企业职工基本养老保险", "", ""),
        # 城乡居民基础养老金 is not counted income: no pension flag; the work is undeclared
        (spouse.name, spouse.id_number, "120", "城乡居民基本养老保险", "灵活就业", "900"),
    ]
    import_rows(campaign, town_office, "social", SOCIAL, rows)
    found = flags()
    assert set(found) == {(spouse.name, "employment"), (spouse.name, "unemployment")}
    assert found[(spouse.name, "employment")].detail == (
        "人社名单：月养老金120.00元（城乡居民基本养老保险）；灵活就业；月失业保险金900.00元；入户调查未申报工资性收入"
    )
    assert found[(spouse.name, "unemployment")].detail.endswith("入户调查未申报失业保险金")


def test_it_flags_a_pension_against_the_registry_before_the_survey(
    campaign, town_office, household_a, make_household, village_b
):
    head, _ = members(household_a)
    retired = make_household(village_b, head="退休者", others=())
    Member.objects.filter(pk=retired.head().pk).update(employment="retired")
    rows = [(head.name, head.id_number, "1800", "", "", ""), ("退休者", retired.head().id_number, "2100", "", "", "")]
    import_rows(campaign, town_office, "social", SOCIAL, rows)
    flag = HouseholdFlag.objects.get()
    assert (flag.member, flag.kind, flag.basis) == (head, "pension", "registry")
    assert flag.detail == "人社名单：月养老金1,800.00元；花名册从业状况为未填"


def test_it_flags_a_registered_car_the_survey_does_not_record(
    campaign, town_office, household_a, household_b, make_household, village_a
):
    submitted_survey(household_a, campaign, town_office, vehicles=["motorbike"])
    submitted_survey(household_b, campaign, town_office, vehicles=["car"])
    sold = make_household(village_a, head="卖车人", others=())
    headers = ["所有人", "身份证明号码", "号牌号码", "车辆类型", "机动车状态"]
    rows = [
        (household_a.head().name, household_a.head().id_number, "皖B12345", "小型轿车", "正常"),
        (household_b.head().name, household_b.head().id_number, "皖B22222", "小型轿车", "正常"),
        ("卖车人", sold.head().id_number, "皖B33333", "小型轿车", "注销"),
    ]
    import_rows(campaign, town_office, "vehicle", headers, rows)
    flag = HouseholdFlag.objects.get()
    assert (flag.household, flag.kind) == (household_a, "vehicle")
    assert flag.detail == "车辆登记：小型轿车 皖B12345；入户调查未记录该类车辆"


def test_it_flags_a_business_and_a_public_salary(campaign, town_office, household_a, household_b):
    head, _ = members(household_a)
    submitted_survey(household_a, campaign, town_office)
    other = household_b.head()
    Member.objects.filter(pk=other.pk).update(is_public_payroll=True)
    submitted_survey(household_b, campaign, town_office, incomes={other.name: {"wage": "50400"}})
    import_rows(
        campaign,
        town_office,
        "business",
        ["经营者姓名", "证件号码", "主体类型", "名称"],
        [(head.name, head.id_number, "个体工商户", "建国小卖部")],
    )
    payroll = [
        (head.name, head.id_number, "泥汊镇中心小学", "4200"),
        (other.name, other.id_number, "泥汊镇卫生院", "4200"),
    ]
    import_rows(campaign, town_office, "payroll", ["姓名", "身份证号", "工作单位", "月工资"], payroll)
    found = flags()
    assert set(found) == {(head.name, "business"), (head.name, "payroll")}
    assert found[(head.name, "business")].detail == "工商登记：个体工商户 建国小卖部；入户调查未记录工商登记"
    assert found[(head.name, "payroll")].detail == (
        "财政供养人员名单：泥汊镇中心小学 月工资4,200.00元；花名册未标注财政供养人员，入户调查未申报工资性收入"
    )


def test_it_flags_the_poverty_status_once_per_household(campaign, town_office, household_a, household_b):
    head, spouse = members(household_a)
    services.update_household(household_b, actor=town_office, data={"poverty_status": "not_lifted"})
    other = household_b.head()
    rows = [
        (head.name, head.id_number, "未脱贫"),
        (spouse.name, spouse.id_number, "未脱贫"),
        (other.name, other.id_number, "未脱贫"),
    ]
    import_rows(campaign, town_office, "poverty", ["姓名", "身份证号", "脱贫状态"], rows)
    flag = HouseholdFlag.objects.get()
    assert (flag.household, flag.kind, flag.detail) == (
        household_a,
        "poverty",
        "扶贫办名单：未脱贫；花名册：非建档立卡户",
    )


def test_it_flags_large_medical_spending_the_survey_does_not_record(
    campaign, town_office, household_a, household_b, make_household, village_a
):
    head, spouse = members(household_a)
    submitted_survey(household_a, campaign, town_office)
    submitted_survey(household_b, campaign, town_office, medical="20000")
    unsurveyed = make_household(village_a, head="未调查", others=())
    rows = [
        (head.name, head.id_number, "23000"),
        (spouse.name, spouse.id_number, "5000"),  # below the standard
        (household_b.head().name, household_b.head().id_number, "30000"),  # recorded on the survey
        ("未调查", unsurveyed.head().id_number, "25000"),  # healthy in the registry
    ]
    import_rows(
        campaign, town_office, "medical", ["姓名", "身份证号", "个人自付"], rows, medical_threshold=Decimal("20000")
    )
    found = flags()
    assert set(found) == {(head.name, "medical"), ("未调查", "medical")}
    assert found[(head.name, "medical")].detail == "医保名单：个人自付医疗费用23,000.00元；入户调查未记录医疗刚性支出"
    assert found[("未调查", "medical")].detail == "医保名单：个人自付医疗费用25,000.00元；花名册健康状况为健康"


@pytest.fixture
def flag(campaign, town_office, household_a):
    head = household_a.head()
    import_rows(campaign, town_office, "disability", DISABILITY, [(head.name, head.id_number, "肢体", "二级")])
    return HouseholdFlag.objects.get()


def test_it_clears_a_flag_only_with_a_reason(client, town_office, flag):
    with pytest.raises(DomainError, match="请填写核销理由"):
        departments.clear_flag(flag, actor=town_office, reason="   ")
    client.force_login(town_office)
    url = reverse("department_flag_clear", args=[flag.public_id])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400 and "请填写核销理由" in response.content.decode()
    flag.refresh_from_db()
    assert flag.status == "open" and not flag.cleared_reason
    response = client.post(url, {"reason": "经核实，残疾证已于2019年9月注销，有残联证明。"}, follow=True)
    assert "已核销张建国的标记：残疾情况不一致" in response.content.decode()
    flag.refresh_from_db()
    assert (flag.status, flag.cleared_by) == ("cleared", town_office)
    assert flag.cleared_reason == "经核实，残疾证已于2019年9月注销，有残联证明。"
    event = AuditEvent.objects.get(model="cases.HouseholdFlag", action="update")
    assert event.reason == "核销部门比对标记" and event.changes["status"] == ["open", "cleared"]
    assert event.household is None  # the village reads the household's timeline
    with pytest.raises(DomainError, match="已核销"):
        departments.clear_flag(flag, actor=town_office, reason="再次")


def test_a_cleared_flag_comes_back_only_when_the_list_says_something_new(campaign, town_office, household_a, flag):
    departments.clear_flag(flag, actor=town_office, reason="已核实")
    head = household_a.head()
    again = import_rows(campaign, town_office, "disability", DISABILITY, [(head.name, head.id_number, "肢体", "二级")])
    assert again.flags_raised == 0
    changed = import_rows(
        campaign, town_office, "disability", DISABILITY, [(head.name, head.id_number, "肢体", "一级")]
    )
    assert changed.flags_raised == 1
    assert HouseholdFlag.objects.get(status="open").detail == "残联名单：肢体残疾一级；花名册记录为健康"


def test_the_survey_page_shows_the_town_the_department_and_the_village_only_the_kind(
    client, campaign, town_office, cadre_a, household_a, flag
):
    survey = submitted_survey(household_a, campaign, town_office)
    client.force_login(town_office)
    page = client.get(reverse("survey_detail", args=[survey.public_id])).content.decode()
    assert 'data-testid="department-flags"' in page
    assert "残疾情况不一致——残联名单：肢体残疾二级；花名册记录为健康" in page
    assert "残联：残疾人，2019-10-20" in page and "核实核销" in page
    client.force_login(cadre_a)
    page = client.get(reverse("survey_detail", args=[survey.public_id])).content.decode()
    assert "<strong>张建国</strong>：残疾情况不一致，请当面核实并如实记录" in page
    assert "残联名单" not in page and "肢体残疾二级" not in page and "2019-10-20" not in page
    page = client.get(reverse("department_flag", args=[flag.public_id])).content.decode()
    assert "残疾情况不一致" in page and "残联名单" not in page and "核销标记" not in page


def test_the_page_before_the_survey_shows_the_flags_and_a_cleared_flag_is_gone(
    client, town_office, cadre_a, household_a, flag
):
    client.force_login(cadre_a)
    url = reverse("survey_household", args=[household_a.public_id])
    assert "残疾情况不一致" in client.get(url).content.decode()
    departments.clear_flag(flag, actor=town_office, reason="已核实")
    assert 'data-testid="department-flags"' not in client.get(url).content.decode()


def test_the_flags_tag_reads_one_query(town_office, household_a, flag, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = town_office
    roles.role_of(town_office)  # the profile, read once per request by the page's own access check
    template = Template("{% load department_flags %}{% household_flags household %}")
    with django_assert_num_queries(1):
        html = template.render(Context({"request": request, "household": household_a}))
    assert "残联名单：肢体残疾二级" in html


@pytest.mark.parametrize("page", ["detail", "household", "revisit", "decide"])
def test_the_survey_revisit_and_decision_pages_carry_the_flags(page):
    source = Path(settings.BASE_DIR, "templates", "surveys", f"{page}.html").read_text()
    assert "{% load department_flags %}{% household_flags household %}" in source


def test_the_flag_list_shows_a_village_its_own_flags_without_the_departments_figures(
    client, campaign, town_office, cadre_a, cadre_b, household_a, household_b
):
    rows = [(h.head().name, h.head().id_number, "肢体", "二级") for h in (household_a, household_b)]
    import_rows(campaign, town_office, "disability", DISABILITY, rows)
    client.force_login(cadre_a)
    page = client.get(reverse("department_flags")).content.decode()
    assert "张建国" in page and "王德华" not in page
    assert "残疾情况不一致" in page and "残联名单" not in page
    client.force_login(town_office)
    page = client.get(reverse("department_flags")).content.decode()
    assert "张建国" in page and "王德华" in page and "残联名单：肢体残疾二级" in page
    cleared = HouseholdFlag.objects.get(member__name="王德华")
    departments.clear_flag(cleared, actor=town_office, reason="已核实")
    page = client.get(reverse("department_flags")).content.decode()
    assert "王德华" not in page
    assert "王德华" in client.get(reverse("department_flags") + "?status=cleared").content.decode()
    assert "王德华" not in client.get(reverse("department_flags") + "?kind=pension&status=all").content.decode()


def test_flag_events_stay_off_the_households_timeline(campaign, town_office, flag, household_a):
    events = AuditEvent.objects.filter(model="cases.HouseholdFlag")
    assert events.count() == 1 and events.get().household is None and events.get().campaign == campaign
    assert not AuditEvent.objects.filter(household=household_a, model__startswith="cases.Department").exists()


def test_it_refuses_a_list_in_a_closed_campaign(campaign, town_office, household_a):
    campaign.current_phase = campaign.PhaseNumber.CLOSED
    campaign.save()
    head = household_a.head()
    with pytest.raises(DomainError, match="本次行动已结束"):
        import_rows(campaign, town_office, "disability", DISABILITY, [(head.name, head.id_number, "肢体", "二级")])
    assert not HouseholdFlag.objects.exists()


def test_it_compares_with_the_valid_submission_only(campaign, town_office, household_a):
    head, _ = members(household_a)
    submitted_survey(household_a, campaign, town_office, incomes={head.name: {"pension": "21600"}})
    Survey.objects.update(status=Survey.Status.SUPERSEDED)  # a corrected version is not the latest
    import_rows(campaign, town_office, "social", SOCIAL, [(head.name, head.id_number, "1800", "", "", "")])
    assert HouseholdFlag.objects.get().basis == "registry"
