"""The county's forms as PDF: every field of a submitted survey on the printed form, ID numbers
masked unless revealed (and the reveal recorded), scoped like the survey page; the town's
re-visit record with its differences and verdicts."""

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.idnumber import mask_id
from cases.models import AuditEvent
from reports import pdf
from surveys import revisits, services
from surveys.models import HEADER_FIELDS, Difference, Survey, SurveyHouse, SurveySupporter, SurveyVehicle

from .conftest import pdf_pages, pdf_text

pytestmark = pytest.mark.django_db


def local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d%H:%M}"


# What the printed form shows for each field the investigators fill in (white space removed).
# A field added to the survey fails the completeness test below until it is printed here.
EXPECTED_HEADER = {
    "visit_date": "入户调查日期2019年10月25日",
    "covered_persons": "拟保障人数1人",
    "deposits": "存款1234.56",
    "securities": "有价证券200.00",
    "commercial_insurance": "商业保险现金价值300.00",
    "money_owed": "债权400.00",
    "business": "☑个体工商户",
    "employs_others": "雇佣他人☑是☐否",
    "shop_fronts": "经营性门面1处",
    "livestock": "养殖规模生猪5头",
    "flat_purchased_on": "购买商品房日期2015年3月1日",
    "major_build_on": "2016年4月2日",
    "main_cause": "☑因病（主要）",
    "second_cause": "☑因残（次要）",
    "third_cause": "☑因学（次要）",
    "tag_serious_illness": "☑重病",
    "tag_severe_disability": "☐重残",
    "tag_lonely_elderly": "☐孤寡老人",
    "tag_single_parent": "☐单亲",
    "tag_orphan": "☑孤儿",
    "tag_disaster": "☐受灾",
    "dibao_reason": "享受低保原因户主患大病，丧失劳动能力。",
    "flyer_delivered": "☑政策宣传单已送达",
    "knows_policy": "☑知晓低保政策",
    "findings": "调查情况入户查看住房与收入，邻居佐证。",
    "recommendation": "☑调整金额或类别",
    "recommendation_reason": "户主病情加重，建议调整档次。",
    "head_confirmation": "☑户主按手印",
    "head_refusal_reason": "",  # only with 拒绝签字: see test_it_prints_a_refusal_to_sign
    "committee_opinion": "村委会意见经村民代表评议，同意调整。",
}
EXPECTED_ROWS = {
    SurveyHouse: ["自建房", "85.5", "简单装修", "张建国"],
    SurveyVehicle: ["摩托车/电动车", "是（不计入）"],
    SurveySupporter: ["张小明", "儿子", "35", "良好", "建筑工", "36000.00", "4人"],
}


def test_it_names_every_field_of_the_survey_form():
    assert set(EXPECTED_HEADER) == set(HEADER_FIELDS)
    for model, fields in [(SurveyHouse, SurveyHouse.FIELDS), (SurveyVehicle, SurveyVehicle.FIELDS)]:
        assert len(EXPECTED_ROWS[model]) >= len(fields) - 1  # the count is checked with its row
    assert len(EXPECTED_ROWS[SurveySupporter]) == len(SurveySupporter.FIELDS)


def test_it_prints_every_field_of_a_submitted_survey(client_for, rich_survey, cadre_a, household_a):
    response = client_for(cadre_a).get(reverse("survey_pdf", args=[rich_survey.public_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    text = pdf_text(response.content)

    # header block
    assert "附表1" in text and "无为县城乡居民最低生活保障对象复核入户调查表" in text
    for expected in ["无为县", "泥汊镇", "湖滨村", "户主姓名张建国", "☑农村", "☑在保", "月保障金额：505.00元"]:
        assert expected in text, expected
    for expected in EXPECTED_HEADER.values():
        assert expected in text, expected
    # members, each accounted for, with their income by group and in detail
    members = list(rich_survey.members.all())
    for m in members:
        assert m.name in text and mask_id(m.id_number) in text
    assert "否（不共同生活）" in text and "长期在外务工" in text
    assert "工资性收入3600.00计入" in text
    assert "经营净收入：种植1200.00计入" in text
    assert "转移净收入：养老金/离退休金2400.00该成员不计入家庭人口" in text
    assert "城乡居民基础养老金1260.00按规定不计入家庭收入" in text
    assert "刚性支出：医疗800.00" in text and "就业成本300.00" in text
    # rows
    for values in EXPECTED_ROWS.values():
        for value in values:
            assert value in text, value
    # the engine's figures and the village's conclusion
    rich_survey.refresh_from_db()
    assert f"家庭人均月收入{rich_survey.per_capita_income}" in text
    assert f"系统建议：{rich_survey.get_suggested_outcome_display()}" in text
    for reason in rich_survey.result["reasons"]:
        assert "".join(reason.split()) in text
    # signatures with their times, the head's confirmation, the version and the page numbers
    signatures = list(rich_survey.signatures.select_related("investigator"))
    assert len(signatures) == 2
    for s in signatures:
        assert s.investigator.username in text and f"{s.method}{local(s.signed_at)}" in text
    assert "户主签字（手印）" in text and "负责人签字" in text
    assert "第1版" in text and "第1页共2页" in text and "第2页共2页" in text


def test_it_masks_id_numbers_unless_revealed(client_for, rich_survey, cadre_a, household_a):
    head = household_a.members.get(relationship="02")
    text = pdf_text(client_for(cadre_a).get(reverse("survey_pdf", args=[rich_survey.public_id])).content)
    assert mask_id(head.id_number) in text and head.id_number not in text
    assert "身份证号已遮蔽" in text
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW_ID).exists()


def test_it_prints_full_ids_for_a_role_that_may_reveal_them_and_records_it(
    client_for, rich_survey, cadre_a, household_a
):
    head = household_a.members.get(relationship="02")
    response = client_for(cadre_a).post(reverse("survey_pdf", args=[rich_survey.public_id]), {"full_ids": "1"})
    text = pdf_text(response.content)
    assert head.id_number in text and "含完整身份证号，本次打印已记录" in text
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW_ID)
    assert (event.actor, event.household_id, event.campaign_id) == (cadre_a, household_a.pk, rich_survey.campaign_id)
    assert event.reason == "打印调查表，显示完整身份证号"
    assert head.id_number not in str(event.changes)


@pytest.mark.parametrize("persona", ["group_leader_a", "leadership", "county_officer"])
def test_it_refuses_full_ids_to_the_other_roles(client_for, rich_survey, persona, request):
    client = client_for(request.getfixturevalue(persona))
    assert client.post(reverse("survey_pdf", args=[rich_survey.public_id]), {"full_ids": "1"}).status_code == 403
    masked = client.get(reverse("survey_pdf", args=[rich_survey.public_id]))
    assert masked.status_code == 200 and "身份证号已遮蔽" in pdf_text(masked.content)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW_ID).exists()


def test_it_is_scoped_like_the_survey_page(client, client_for, rich_survey, cadre_b, survey_a):
    url = reverse("survey_pdf", args=[rich_survey.public_id])
    assert client_for(cadre_b).get(url).status_code == 404
    assert client_for(cadre_b).post(url, {"full_ids": "1"}).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the sign-in page


def test_it_does_not_print_a_draft(client_for, survey_a, cadre_a, town_office):
    url = reverse("survey_pdf", args=[survey_a.public_id])
    assert client_for(town_office).get(url).status_code == 404


def test_it_offers_the_pdf_on_the_survey_page(client_for, rich_survey, cadre_a, group_leader_a):
    page = client_for(cadre_a).get(reverse("survey_detail", args=[rich_survey.public_id])).content.decode()
    assert reverse("survey_pdf", args=[rich_survey.public_id]) in page and "打印/下载 PDF" in page
    assert "含完整身份证号，留痕" in page
    page = client_for(group_leader_a).get(reverse("survey_detail", args=[rich_survey.public_id])).content.decode()
    assert "打印/下载 PDF" in page and "含完整身份证号，留痕" not in page


def test_it_prints_form_b_with_its_own_title_and_without_the_dibao_reason(rich_survey):
    Survey.objects.filter(pk=rich_survey.pk).update(form=Survey.Form.B)
    survey = pdf.surveys_for_print(Survey.objects.filter(pk=rich_survey.pk)).get()
    text = pdf_text(pdf.write_pdf([pdf.render_survey(survey)]))
    assert "附表2" in text and "无为县困难群众调查登记表（非低保户）" in text
    assert "享受低保原因" not in text


def test_it_prints_a_refusal_to_sign_and_a_correction(rich_survey):
    Survey.objects.filter(pk=rich_survey.pk).update(
        head_confirmation="refused", head_refusal_reason="对结论有异议", version=2, correction_reason="收入录错"
    )
    survey = pdf.surveys_for_print(Survey.objects.filter(pk=rich_survey.pk)).get()
    text = pdf_text(pdf.write_pdf([pdf.render_survey(survey)]))
    assert "☑户主拒绝签字" in text and "拒签原因：对结论有异议" in text
    assert "第2版" in text and "更正（替代第1版）原因：收入录错" in text


def test_it_keeps_a_page_count_per_form_in_a_joined_file(rich_survey):
    survey = pdf.surveys_for_print(Survey.objects.filter(pk=rich_survey.pk)).get()
    pages = pdf_pages(pdf.write_pdf([pdf.render_survey(survey), pdf.render_survey(survey)]))
    assert len(pages) == 4
    assert ["第1页共2页" in p for p in pages] == [True, False, True, False]


# --- the town's re-visit record ----------------------------------------------------------------


@pytest.fixture
def judged_revisit(verify_town, town_office):
    """A town re-visit that found other financial assets than the village, judged."""
    from tests.surveys.conftest import revisit_sample

    sample, _ = services.draw_sample(verify_town, level="town", actor=town_office)
    entry = sample.entries.select_related("household", "sample__campaign").first()
    revisit_sample(sample, town_office, entries=[entry], financial_assets=98765, findings="存款未申报。")
    difference = Difference.objects.get(revisit__entry=entry, key="financial_assets")
    revisits.judge_difference(difference, verdict="household", note="银行流水显示大额存款", actor=town_office)
    return entry.revisit


def test_it_prints_the_revisit_with_its_differences_and_verdicts(client_for, judged_revisit, town_office):
    response = client_for(town_office).get(reverse("revisit_pdf", args=[judged_revisit.public_id]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "入户核查记录" in text and "镇级入户核实" in text
    assert "核查日期2019年11月7日" in text and "存款未申报。" in text
    assert "金融资产合计（元）*" in text and "98765.00" in text
    assert "疑似家庭虚报" in text and "银行流水显示大额存款" in text
    for s in judged_revisit.signatures.select_related("verifier"):
        assert s.verifier.username in text and local(s.signed_at) in text
    for m in judged_revisit.survey.members.all():
        assert m.name in text and mask_id(m.id_number) in text and m.id_number not in text
    assert "第1页共" in text


def test_it_prints_the_revisit_with_full_ids_for_the_town_office_and_records_it(
    client_for, judged_revisit, town_office
):
    url = reverse("revisit_pdf", args=[judged_revisit.public_id])
    text = pdf_text(client_for(town_office).post(url, {"full_ids": "1"}).content)
    member = judged_revisit.survey.members.first()
    assert member.id_number in text
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW_ID)
    assert event.household_id == judged_revisit.entry.household_id and event.actor == town_office


def test_village_cadres_never_see_a_revisit(client_for, judged_revisit, cadre_a, leadership):
    url = reverse("revisit_pdf", args=[judged_revisit.public_id])
    village = judged_revisit.entry.household.village
    from cases.models import Profile

    cadre = Profile.objects.get(role="village", village=village).user
    assert client_for(cadre).get(url).status_code == 403
    assert client_for(leadership).get(url).status_code == 200  # the whole town, read-only
    assert client_for(leadership).post(url, {"full_ids": "1"}).status_code == 403


def test_it_offers_the_pdf_on_the_revisit_page(client_for, judged_revisit, town_office):
    page = client_for(town_office).get(reverse("survey_revisit", args=[judged_revisit.public_id])).content.decode()
    assert reverse("revisit_pdf", args=[judged_revisit.public_id]) in page


def test_the_forms_name_the_town_they_were_made_in(client_for, rich_survey, judged_revisit, cadre_a, town_office):
    from cases.models import Town

    Town.objects.filter(pk=rich_survey.household.village.town_id).update(name="蜀山镇")
    text = pdf_text(client_for(cadre_a).get(reverse("survey_pdf", args=[rich_survey.public_id])).content)
    assert "本表由蜀山镇低保复核系统生成" in text and "泥汊镇低保复核系统" not in text
    text = pdf_text(client_for(town_office).get(reverse("revisit_pdf", args=[judged_revisit.public_id])).content)
    assert "本记录由蜀山镇低保复核系统生成" in text
