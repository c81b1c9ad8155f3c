"""The survey pages: the submitted survey shows every section of the form; the form keeps its fields and errors."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from surveys import services
from surveys.forms import SurveyForms
from tests.surveys.conftest import database_state, form_data, submit_complete

EVERY_SECTION = {
    "h-covered_persons": "2",
    "h-deposits": "12000",
    "h-livestock": "养猪5头",
    "h-major_build_on": "2012-03-01",
    "h-second_cause": "no_skill",
    "h-tag_serious_illness": "on",
    "h-knows_policy": "on",
    "h-findings": "住房为九十年代自建砖混房。",
    "h-recommendation_reason": "户主透析费用大，村民代表评议同意维持原保障。",
    "h-head_confirmation": "thumbprint",
    "h-committee_opinion": "经村两委会研究，同意继续享受低保。",
    "m-1-inc_family_planning": "960",
    "d-medical": "1200",
    "house-0-kind": "self_built",
    "house-0-count": "1",
    "house-0-area": "96.5",
    "house-0-fit_out": "简易装修",
    "house-0-owner": "户主",
    "vehicle-0-kind": "motorbike",
    "vehicle-0-count": "1",
    "vehicle-0-disability_vehicle": "on",
    "supporter-0-name": "王小兰",
    "supporter-0-relationship": "女儿",
    "supporter-0-age": "38",
    "supporter-0-occupation": "超市营业员",
    "supporter-0-annual_income": "28000",
    "supporter-0-household_size": "4",
}


def _section(page: str, number: int) -> str:
    """The HTML of one numbered section of the survey page."""
    return page.split(f'id="s{number}"', 1)[1].split("</section>", 1)[0]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_it_shows_every_section_of_a_submitted_survey(client, cadre_a, group_leader_a, survey_a):
    client.force_login(cadre_a)
    submit_complete(client, survey_a, cadre_a, group_leader_a, **EVERY_SECTION)
    page = client.get(reverse("survey_detail", args=[survey_a.public_id])).content.decode()
    sections = {n: _text(_section(page, n)) for n in range(1, 10)}
    assert "湖滨村" in sections[1] and "2019-10-25" in sections[1] and "拟保障人数 2人" in sections[1]
    assert "张建国：在户" in sections[2] and "李秀英：在户" in sections[2]
    # 3,600 wage for the head; the spouse's family-planning award is recorded but not counted
    assert "工资性收入 3600.00" in sections[3] and "计划生育奖励扶助金 不计入 960.00" in sections[3]
    assert "刚性支出：医疗 1200.00" in sections[3]
    assert "存款 12000.00 元" in sections[4] and "养猪5头" in sections[4] and "2012-03-01" in sections[4]
    assert "自建房" in sections[4] and "96.5" in sections[4] and "简易装修" in sections[4]
    assert "摩托车/电动车" in sections[4] and "是（不计入）" in sections[4]
    assert "王小兰" in sections[5] and "超市营业员" in sections[5] and "28000.00" in sections[5]
    assert "因病" in sections[6] and "缺技术" in sections[6] and "重病" in sections[6]
    assert "户主患大病，丧失劳动能力。" in sections[6]  # form A: why the household is in dibao
    assert "政策宣传单已送达" in sections[7] and "户主知晓低保政策" in sections[7]
    assert "住房为九十年代自建砖混房。" in sections[8] and "户主透析费用大，村民代表评议同意维持原保障。" in sections[8]
    assert "户主按手印" in sections[8] and "经村两委会研究，同意继续享受低保。" in sections[8]
    assert "人均月收入 100.00 元（标准 505.00 元）" in sections[8]  # (3,600 − 1,200) / 12 / 2
    assert "测算依据" in sections[8]
    assert "cadre02" in sections[9] and "group02" in sections[9] and "本人登录签字" in sections[9]


def test_it_never_shows_a_full_id_number(client, cadre_a, group_leader_a, survey_a, household_a, leadership):
    client.force_login(cadre_a)
    submit_complete(client, survey_a, cadre_a, group_leader_a)
    client.force_login(leadership)
    page = client.get(reverse("survey_detail", args=[survey_a.public_id])).content.decode()
    for member in household_a.members.all():
        assert member.id_number not in page
        assert member.masked_id in page


def test_the_submitted_page_costs_the_same_queries_for_1_and_3_rows_of_each_kind(
    client, cadre_a, group_leader_a, survey_a, campaign, make_household, village_a
):
    client.force_login(cadre_a)
    submit_complete(client, survey_a, cadre_a, group_leader_a, **EVERY_SECTION)
    small = _count_queries(client, reverse("survey_detail", args=[survey_a.public_id]))
    big_household = make_household(village_a, head="钱有福", others=("甲", "乙", "丙", "丁"))
    big = services.start_survey(big_household, campaign=campaign, actor=cadre_a)
    rows = {"house-TOTAL_FORMS": "3", "vehicle-TOTAL_FORMS": "3", "supporter-TOTAL_FORMS": "3"}
    for i in range(3):
        rows |= {
            f"house-{i}-kind": "self_built",
            f"house-{i}-count": "1",
            f"house-{i}-area": "50",
            f"vehicle-{i}-kind": "farm",
            f"vehicle-{i}-count": "1",
            f"supporter-{i}-name": f"义务人{i}",
            f"supporter-{i}-relationship": "子",
            f"supporter-{i}-age": "40",
            f"supporter-{i}-annual_income": "1000",
            f"supporter-{i}-household_size": "3",
        }
    incomes = {f"m-{i}-inc_crop": "1000" for i in range(5)}
    submit_complete(client, big, cadre_a, group_leader_a, **{**EVERY_SECTION, **rows, **incomes, "d-education": "100"})
    assert _count_queries(client, reverse("survey_detail", args=[big.public_id])) == small


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_form_shows_every_field_with_its_label_and_input_hints(client, cadre_a, survey_a):
    client.force_login(cadre_a)
    page = client.get(reverse("survey_edit", args=[survey_a.public_id])).content.decode()
    forms = SurveyForms(survey_a)
    for part in forms.parts:
        for form in getattr(part, "forms", [part]):
            for field in form:
                if field.name in {"name", "id_number"} and getattr(form, "registered_member", None):
                    continue  # a registered member's name and ID come from the registry, shown masked
                assert f'name="{field.html_name}"' in page, field.html_name
                label_class = "form-check-label" if field.widget_type == "checkbox" else "form-label"
                label = f'<label class="{label_class}" for="{field.auto_id}">{field.label}</label>'
                assert field.is_hidden or label in page, label
    for formset in forms.formsets:
        assert f'name="{formset.prefix}-TOTAL_FORMS"' in page
    assert f'name="edit_version" value="{survey_a.edit_version}"' in page  # a stale save is refused
    assert 'name="m-2-name"' in page and 'name="m-2-id_number"' in page  # the blank row for a new member
    assert re.search(r'<input type="number" [^>]*inputmode="decimal"[^>]* name="m-0-inc_wage"', page)
    assert re.search(r'<input type="number" [^>]*inputmode="decimal"[^>]* name="h-deposits"', page)
    assert '<option value="illness">因病</option>' in page


def test_it_shows_an_error_beside_the_field_and_saves_nothing(client, cadre_a, survey_a):
    client.force_login(cadre_a)
    before = database_state()
    response = client.post(
        reverse("survey_edit", args=[survey_a.public_id]), form_data(survey_a, **{"h-deposits": "-1"})
    )
    assert response.status_code == 400
    page = response.content.decode()
    field = re.search(r'<div class="mb-3"><label[^>]*for="id_h-deposits">存款（元）</label>(.*?)</div>', page).group(1)
    assert 'class="form-control is-invalid"' in field and 'aria-describedby="id_h-deposits_error"' in field
    assert '<div class="invalid-feedback" id="id_h-deposits_error">确保该值大于或等于0。' in field
    assert 'value="-1"' in field  # what was typed stays, to be corrected
    assert database_state() == before
