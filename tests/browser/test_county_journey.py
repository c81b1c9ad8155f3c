"""Phase 4 in the browser, on a phone and at a desk (issue #9): the county officer draws the
county's sample, spot-checks one household with a second officer and finds a difference, gives
its verdict and returns that household's decision to the town; approves the rest of the village
in bulk; the town answers the returned decision; the county approves the answer from a month it
chooses, and the household's registry page shows the new amount from that month. The town takes
a real-name complaint about a household (which joins the county's sample as a full check),
handles it and answers the reporter. The leadership group sees the county's pages and can change
nothing.

The browser does each step the issue names once; the data around it (phase 3 over, the other
sample households' spot-checks, the other villages' approvals) is prepared with the project's
services, each place commented.
"""

import math
from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cases import decisions
from cases.models import (
    AuditEvent,
    Campaign,
    Case,
    Complaint,
    ComplaintNote,
    CountyReview,
    Decision,
    Household,
    Member,
)
from surveys import review, services
from surveys.models import Difference, Revisit, RevisitSignature, Sample, SampleEntry, Survey
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_town_journey import _cells, _menu, _message, _record_findings, device  # noqa: F401 - fixture
from tests.conftest import PASSWORD
from tests.surveys.conftest import ready_town, revisit_sample, verify_town  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, device, name: str) -> None:  # noqa: F811 - `device` is the fixture's value here
    """A full-page screenshot; on the phone, the page must not scroll sideways."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"county-{device.name}-{name}.png"), full_page=True)
    if device.name == "phone":
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name}: the page is {width}px wide on a 390px phone"


def _menu_item(page, group: str, name: str) -> None:
    """Follow a link of one of the top menu's drop-downs (the menu folded behind 菜单 on a phone)."""
    toggler = page.get_by_role("button", name="菜单")
    if toggler.is_visible():
        toggler.click()
    nav = page.locator("#nav")
    nav.get_by_role("button", name=group).click()
    nav.get_by_role("link", name=name, exact=True).click()


def _write_forms(page) -> list[str]:
    """The actions of the forms of the page's main part that post, downloads aside (a PDF export
    posts too, but changes nothing)."""
    actions = page.get_by_role("main").locator("form[method='post']").evaluate_all("fs => fs.map(f => f.action)")
    return [a for a in actions if "/reports/" not in a]


def _written_rows() -> dict[str, list[dict]]:
    """Every row the phase-4 pages may write (sign-ins aside): equal before and after means nothing changed."""
    sign_in = [AuditEvent.Action.LOGIN, AuditEvent.Action.LOGIN_FAILED, AuditEvent.Action.LOGOUT]
    models = [Sample, SampleEntry, Revisit, RevisitSignature, Difference, Case, Decision, CountyReview, Household]
    models += [Complaint, ComplaintNote, AuditEvent]
    state = {}
    for model in models:
        rows = model.objects.order_by("pk")
        if model is AuditEvent:
            rows = rows.exclude(action__in=sign_in)
        state[model.__name__] = list(rows.values())
    return state


def _household_to_spot_check(sample) -> tuple[SampleEntry, Survey]:
    """The first household the county drew at random (by village) that is on dibao, whose town
    decision pays and whose village survey recorded an income: the draw's seed is new each run,
    so any village may hold it."""
    entries = (
        sample.entries.filter(
            reason=SampleEntry.Reason.DRAWN,
            household__dibao_status=Household.DibaoStatus.ACTIVE,
            household__cases__campaign=sample.campaign,
            household__cases__outcome__in=Decision.PAYING,
        )
        .select_related("household", "village")
        .order_by("village__order", "household_id")
    )
    for entry in entries:
        survey = (
            Survey.objects.filter(household=entry.household, status=Survey.Status.SUBMITTED)
            .prefetch_related("members__incomes", "vehicles")
            .get()
        )
        if any(m.incomes.all() for m in survey.members.all()):
            return entry, survey
    raise AssertionError("the county drew no household on dibao, paid by its decision, with an income")


def _complained_about(campaign, spot_village) -> Case:
    """A household of another village, waiting for the county outside its sample, whose head's
    name is the only one of its kind (so that the name search finds it alone)."""
    counts = Counter(Member.objects.filter(status=Member.Status.PRESENT).values_list("name", flat=True))
    cases = (
        Case.objects.filter(campaign=campaign, review=Case.Review.SENT, county_sampled=False, full_check=False)
        .exclude(village=spot_village)
        .select_related("household", "village")
        .order_by("village__order", "household_id")
    )
    for case in cases:
        head = case.household.head()
        if head is not None and counts[head.name] == 1:
            return case
    raise AssertionError("no household with a head's name of its own waits outside the county's sample")


def test_the_county_spot_checks_returns_and_approves_and_a_complaint_is_answered(
    device,  # noqa: F811 - the fixture imported above
    ready_town,  # noqa: F811 - the fixture imported above
    town_office,
    county_officer,
):
    # Prepared: phase 3 is over — the town's report is sent and the campaign moves on to
    # phase 4, 督查落实 (services, as the town journey ends).
    review.send_town_report(ready_town, actor=town_office, late_reason="系统上线晚于报县截止日")
    campaign = services.advance_phase(Campaign.objects.get(pk=ready_town.pk), actor=town_office)
    assert campaign.current_phase == Campaign.PhaseNumber.SUPERVISE
    county = device("county")

    # --- nothing is approved before the draw; the county draws its sample ---------------
    _menu(county, "县级审批")
    assert county.locator("[data-testid^='approve-']").count() == 0  # no village's sample is drawn yet
    county.get_by_role("link", name="县级抽查样本与核查").click()
    county.get_by_role("button", name="抽取样本").click()
    _message(county, "已抽样，种子")
    assert not county.get_by_role("button", name="抽取样本").is_visible()  # drawn once, never again
    sample = Sample.objects.get(campaign=campaign, level=Sample.Level.COUNTY)
    entry, survey = _household_to_spot_check(sample)
    household, village = entry.household, entry.village
    head = household.head().name
    reported = Case.objects.filter(campaign=campaign, village=village, stage=Case.Stage.REPORTED).count()
    drawn = math.ceil(reported * 10 / 100)
    row = county.get_by_test_id("sample-villages").locator("tr", has_text=village.name)
    assert _cells(row)[1:4] == [str(reported), str(drawn), str(drawn)]  # n, ⌈10% × n⌉ to draw, drawn
    _shot(county, device, "01-sample")

    # --- a household drawn is approved only after its spot-check --------------------------
    _menu(county, "县级审批")
    county.get_by_test_id("county-villages").get_by_role("link", name=village.name).click()
    county.get_by_test_id("county-rows").get_by_role("link").filter(has_text=head).click()
    assert "县级抽查（待核查）" in county.get_by_role("main").inner_text()
    county.get_by_role("button", name="批准（county）").click()
    _message(county, "该户在县级抽查样本中，须先完成县级入户核查并签字提交，才能审批")
    assert not CountyReview.objects.exists()

    # --- two county officers spot-check the household and sign ----------------------------
    county.get_by_role("link", name=f"← {village.name}的县级审批").click()
    county.get_by_role("link", name="县级抽查样本与核查").click()
    county.get_by_test_id("sample-villages").get_by_role("link", name=village.name).click()
    assert "随机抽取" in county.get_by_test_id("sample-entries").inner_text()
    _shot(county, device, "02-sample-village")
    county.get_by_test_id("sample-entries").get_by_role("button", name=head).click()
    county.get_by_role("heading", name=f"县级抽查：{head}户").wait_for()
    member, income = _record_findings(county, survey)
    county.get_by_role("button", name="保存核查").click()
    _message(county, "核查已保存")
    differing = county.get_by_test_id("comparison").locator("tr[data-differs]")
    assert differing.count() == 1 and f"{member}：{income}" in differing.inner_text()
    _shot(county, device, "03-spot-check-findings")
    county.get_by_label("（county）").check()
    county.get_by_label("（county2）").check()
    county.get_by_role("button", name="确定核查人").click()
    _message(county, "核查人已确定")
    county.get_by_role("button", name="本人签字").click()
    _message(county, "county已签字")
    # the second officer signs on the same device with their own password
    county.get_by_label("county2 的密码").fill(PASSWORD)
    county.get_by_role("button", name="在本设备签字").click()
    _message(county, "county2已签字")
    assert county.get_by_test_id("revisit-signatures").get_by_text("已签字").count() == 2
    _shot(county, device, "04-spot-check-signed")
    county.get_by_role("button", name="提交核查").click()
    _message(county, "核查已提交")
    revisit = Revisit.objects.get(entry=entry)
    assert revisit.status == Revisit.Status.SUBMITTED
    assert {(s.verifier.username, s.method) for s in revisit.signatures.select_related("verifier")} == {
        ("county", "本人登录签字"),
        ("county2", "同一设备输入密码签字"),
    }

    # --- the difference gets its verdict ---------------------------------------------------
    difference = county.get_by_test_id("difference")
    assert difference.count() == 1 and f"{member}：{income}" in difference.inner_text()
    difference.get_by_label("认定").select_option(label="村级记录错误")
    difference.get_by_label("说明").fill("村里把务工收入多记了一成")
    difference.get_by_role("button", name="认定").click()
    _message(county, f"已认定：{member}：{income}")
    assert "认定：村级记录错误（村里把务工收入多记了一成）" in county.get_by_test_id("difference").inner_text()
    _shot(county, device, "05-verdict")
    county.get_by_role("link", name="县级抽查样本", exact=True).click()
    row = county.get_by_test_id("sample-villages").locator("tr", has_text=village.name)
    assert _cells(row)[5:7] == ["1", "1"]  # re-visited 1, with a difference 1

    # --- the county returns the decision to the town -----------------------------------------
    _menu(county, "县级审批")
    county.get_by_test_id("county-villages").get_by_role("link", name=village.name).click()
    county.get_by_test_id("county-rows").get_by_role("link").filter(has_text=head).click()
    assert "县级抽查（已核查）" in county.get_by_role("main").inner_text()
    returned_for = "县级抽查核实家庭收入比村里记录的少一成，请按核查结果重新核定月保障金。"
    county.get_by_label("退回理由").fill(returned_for)
    county.get_by_role("button", name="退回镇里").click()
    _message(county, "已退回镇里，待镇里答复")
    reviews = county.get_by_test_id("county-reviews").inner_text()
    assert "退回" in reviews and returned_for in reviews
    assert not county.get_by_test_id("county-form").is_visible()  # nothing to answer until the town has
    _shot(county, device, "06-returned")
    case = Case.objects.select_related("decision").get(campaign=campaign, household=household)
    assert case.review == Case.Review.RETURNED

    # --- the rest of the village in bulk -------------------------------------------------------
    # Prepared: the rest of the county's sample is spot-checked as found (services; the browser did one).
    revisit_sample(sample, county_officer, entries=list(sample.entries.exclude(pk=entry.pk)))
    # full-check households (cadres' relatives) are approved one by one, never in bulk
    relatives = Member.objects.filter(status=Member.Status.PRESENT, is_cadre_relative=True).values("household")
    held = (
        Case.objects.filter(campaign=campaign, village=village)
        .filter(Q(full_check=True) | Q(household__in=relatives))
        .exclude(household=household)
        .count()
    )
    bulk = reported - 1 - held
    county.get_by_role("link", name=f"← {village.name}的县级审批").click()
    county.get_by_test_id(f"approve-{village.code}").click()
    month = decisions.first_of_next_month(timezone.localdate())
    _message(county, f"已批准{bulk}户的决定，自{month:%Y年%m月}起执行")
    row = county.get_by_test_id("county-villages").locator("tr", has_text=village.name)
    assert _cells(row)[1:4] == [str(held), "1", str(bulk)]  # waiting, returned, approved
    _shot(county, device, "07-bulk")
    approved = CountyReview.objects.filter(verdict=CountyReview.Verdict.APPROVE, decision__case__village=village)
    assert approved.count() == bulk and all(r.as_bulk and r.effective_from == month for r in approved)

    # --- the town answers the returned decision -------------------------------------------------
    town = device("town")
    _menu(town, "审核决定")
    town.get_by_role("link", name="县级退回待答复").click()
    rows = town.get_by_test_id("decision-rows").get_by_role("link")
    assert rows.count() == 1 and "县级退回" in rows.inner_text()
    rows.filter(has_text=head).click()
    assert returned_for in town.get_by_test_id("county-reviews").inner_text()
    proposal = review.proposal_for(case)
    persons = proposal.covered_persons or min(household.covered_persons, proposal.max_persons)
    amount = case.decision.monthly_amount + Decimal("60.00")
    form = town.get_by_test_id("decide-form")
    form.get_by_label("决定", exact=True).select_option(value=Decision.Outcome.ADJUST)
    form.get_by_label("保障人数").fill(str(persons))
    form.get_by_label("月保障金（元）").fill(str(amount))
    form.get_by_role("button", name="签署决定（town）").click()
    assert "须写明理由" in town.get_by_test_id("decide-form").locator(".invalid-feedback").inner_text()
    answer = "按县级抽查核实的收入重新核定，月保障金比原决定增加60元。"
    town.get_by_test_id("decide-form").get_by_label("理由").fill(answer)
    town.get_by_test_id("decide-form").get_by_role("button", name="签署决定（town）").click()
    _message(town, "已作出决定")
    assert answer in town.get_by_test_id("history").inner_text()
    assert not town.get_by_test_id("decide-form").is_visible()  # answered: back with the county
    _shot(town, device, "08-town-answer")
    case.refresh_from_db()
    assert case.review == Case.Review.SENT and case.decision.reason == answer

    # --- the county approves the answer, from the month after next -------------------------------
    later = decisions.first_of_next_month(month)
    county.reload()  # the village's list, where the answer now waits
    county.get_by_test_id("county-rows").get_by_role("link").filter(has_text=head).click()
    assert answer in county.get_by_test_id("history").inner_text()
    county.get_by_label("执行起始月").fill(f"{later:%Y-%m}")
    county.get_by_role("button", name="批准（county）").click()
    _message(county, "已批准，决定生效")
    reviews = county.get_by_test_id("county-reviews").inner_text()
    assert f"批准 调整 · {later.year}年{later.month}月起执行" in reviews and "退回" in reviews
    _shot(county, device, "09-approved")

    # --- the household's registry page shows the new amount from that month ----------------------
    county.get_by_role("link", name="家庭档案与时间线").click()
    assert county.get_by_test_id("amount").inner_text() == f"{amount}元（{later.year}年{later.month}月起）"
    assert f"县级批准的调整决定生效（{later:%Y年%m月}起）" in county.get_by_role("main").inner_text()
    _shot(county, device, "10-registry")
    registered = Household.objects.get(pk=household.pk)
    assert (registered.monthly_amount, registered.covered_persons, registered.amount_since) == (amount, persons, later)

    # --- the town takes a real-name complaint about another household ------------------------------
    complained = _complained_about(campaign, village)
    other = complained.household.head().name
    _menu_item(town, "救助与投诉", "投诉举报")
    town.get_by_role("link", name="受理投诉举报").click()
    town.get_by_text("举报的是某个家庭？先查找家庭").click()
    town.get_by_label("查找家庭（成员姓名）").fill(other)
    town.get_by_role("button", name="查找").click()
    town.get_by_test_id("picker-results").get_by_role("link").filter(has_text=complained.village.name).click()
    assert f"被举报家庭：{other}" in town.get_by_role("main").inner_text()
    form = town.get_by_test_id("complaint-form")
    form.get_by_label("受理渠道").select_option(label="电话")
    form.get_by_label("举报人", exact=True).fill("王秀兰")
    form.get_by_label("联系方式").fill("13905550123")
    form.get_by_label("举报内容").fill("反映该户儿子在县城开店，收入没有如实申报。")
    form.get_by_role("button", name="受理").click()
    _message(town, "已受理投诉举报")
    _message(town, "该户列入镇、县全面核查")
    assert "镇县全面核查" in town.get_by_test_id("complaint-status").inner_text()
    _shot(town, device, "11-complaint")
    complaint = Complaint.objects.get()
    assert complaint.household_id == complained.household_id and complaint.handler == town_office
    # the household joins the county's running sample as a full check
    full_check = SampleEntry.objects.get(sample=sample, household=complained.household_id)
    assert full_check.reason == SampleEntry.Reason.FULL_CHECK

    # --- the leadership group sees the county's pages and can change nothing ----------------------
    # Checked now, while the county and the town still have something to do on each page.
    leader = device("leader")
    pages = {  # url: (what it shows, who has work there now)
        reverse("survey_sample", args=["county"]) + f"?village={village.code}": (head, county),
        reverse("survey_revisit", args=[revisit.public_id]): ("认定：村级记录错误", county),
        reverse("review_county") + f"?village={complained.village.code}": (other, county),
        reverse("review_decide", args=[complained.household.public_id]): ("县级抽查（待核查）", county),
        reverse("review_decide", args=[household.public_id]): (returned_for, None),
        reverse("complaint_list"): (other, None),
        reverse("complaint_detail", args=[complaint.public_id]): ("收入没有如实申报", town),
    }
    for url, (shown, worker) in pages.items():
        leader.goto(url)
        assert shown in leader.get_by_role("main").inner_text(), url
        assert _write_forms(leader) == [], url
        if worker is not None:
            worker.goto(url)
            assert _write_forms(worker), url
    leader.goto(reverse("review_county"))
    _shot(leader, device, "12-leader-county")

    token = next(c["value"] for c in leader.context.cookies() if c["name"] == "csrftoken")
    complained_id = str(complained.household.public_id)
    writes = [
        (reverse("survey_sample_draw", args=["county"]), {}),
        (reverse("survey_sample_add", args=["county"]), {"household": complained_id, "reason": "领导小组加户"}),
        (reverse("survey_revisit_start", args=["county", complained_id]), {}),
        (reverse("survey_revisit_judge", args=[revisit.public_id]), {"key": "x", "verdict": "changed"}),
        (reverse("review_county_bulk"), {"village": complained.village.code}),
        (reverse("review_county_answer", args=[complained_id]), {"verdict": "approve"}),
        (reverse("review_county_answer", args=[complained_id]), {"verdict": "return", "note": "领导小组退回"}),
        (reverse("complaint_create"), {"channel": "phone", "anonymous": "on", "content": "x"}),
        (reverse("complaint_note", args=[complaint.public_id]), {"note-text": "领导小组核查"}),
        (reverse("complaint_close", args=[complaint.public_id]), {}),
    ]
    before = _written_rows()
    for url, data in writes:
        response = leader.request.post(url, form=data, headers={"X-CSRFToken": token}, max_redirects=0)
        assert response.status == 403 and "没有权限" in response.text(), url
    assert _written_rows() == before

    # --- the complaint is handled and the reporter answered ----------------------------------------
    town.goto(reverse("complaint_detail", args=[complaint.public_id]))
    town.get_by_label("核查情况").fill("入户核实：其子在县城经营小吃店，月收入约2000元，未申报。")
    town.get_by_role("button", name="记录", exact=True).click()
    _message(town, "已记录核查情况")
    town.get_by_label("部分属实").check()
    town.get_by_label("处理结果").fill("其子已分户另过，不计入本户；已请县级全面核查时一并核实。")
    town.get_by_role("button", name="保存结论").click()
    _message(town, "已记录核查结论和处理结果")
    town.get_by_role("button", name="办结").click()
    _message(town, "实名举报须先答复举报人，才能办结")
    town.get_by_label("答复方式").select_option(label="电话")
    town.get_by_label("答复内容").fill("已电话告知举报人核查结论和处理结果，举报人表示认可。")
    town.get_by_role("button", name="记录答复").click()
    _message(town, "已记录答复")
    town.get_by_role("button", name="办结").click()
    _message(town, "投诉举报已办结")
    assert "已办结" in town.get_by_test_id("complaint-status").inner_text()
    assert "举报人表示认可" in town.get_by_test_id("reply").inner_text()
    _shot(town, device, "13-complaint-closed")
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLOSED and complaint.replied_on == timezone.localdate()

    # --- and in the end nothing waits for the county --------------------------------------------
    # Prepared: the county's full check of the complained-about household, then every other
    # village in bulk and the full-check households one by one (services; the browser did one of each).
    revisit_sample(sample, county_officer, entries=[full_check])
    review.approve_all(campaign, actor=county_officer)
    for left in Case.objects.filter(campaign=campaign, review=Case.Review.SENT):
        decisions.approve(left, actor=county_officer)
    county.goto(reverse("review_county"))
    waiting = [_cells(r)[1] for r in county.get_by_test_id("county-villages").locator("tbody tr").all()]
    assert set(waiting) == {"0"}
    assert set(Case.objects.filter(campaign=campaign, in_scope=True).values_list("review", flat=True)) == {
        Case.Review.APPROVED
    }
    _shot(county, device, "14-all-approved")
