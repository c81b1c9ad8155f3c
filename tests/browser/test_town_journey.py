"""Phase 3 in the browser, on a phone and at a desk (issue #8): the town draws the sample, two
verifiers re-visit a household and sign, one difference gets its verdict, the investigator's
record shows it, the town decides (one by hand, the rest in bulk), opens a notice, records and
resolves an objection and sends the report; the leadership group sees it all and can change nothing.

The browser does each step the issue names once; the bulk of the data around it (the other
sample households' re-visits, the other villages' notices, time passing) is prepared with the
project's services and the ORM, each place commented.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import decisions
from cases.models import AuditEvent, Case, Decision, Notice, Objection, Village
from surveys.eligibility import INCOME_CATEGORIES, REFUSING_VEHICLES
from surveys.models import (
    Difference,
    Revisit,
    RevisitMember,
    RevisitSignature,
    Sample,
    SampleEntry,
    Survey,
    TownReport,
)
from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD
from tests.surveys.conftest import decide_rest, revisit_sample, verify_town  # noqa: F401 - verify_town is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEVICES = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
    "desk": {"viewport": {"width": 1366, "height": 900}},
}
VISIT_DATE = "2019-11-07"


@pytest.fixture(params=list(DEVICES))
def device(request, browser, live_server):
    """A way to open a logged-in page on this device: open(username) -> page."""
    contexts = []

    def open_as(username):
        context = browser.new_context(**DEVICES[request.param], locale="zh-CN", base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/accounts/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/")
        return page

    open_as.name = request.param
    yield open_as
    for context in contexts:
        context.close()


def _shot(page, device, name: str) -> None:
    """A full-page screenshot; on the phone, the page must not scroll sideways."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"town-{device.name}-{name}.png"), full_page=True)
    if device.name == "phone":
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name}: the page is {width}px wide on a 390px phone"


def _menu(page, name: str) -> None:
    """Follow a link of the top menu (folded behind 菜单 on a phone)."""
    toggler = page.get_by_role("button", name="菜单")
    if toggler.is_visible():
        toggler.click()
    page.locator("#nav").get_by_role("link", name=name, exact=True).click()


def _message(page, text: str) -> None:
    """Wait for the message of the last step (and say what the page said instead)."""
    from playwright.sync_api import TimeoutError

    try:
        page.get_by_role("alert").filter(has_text=text).wait_for(timeout=5_000)
    except TimeoutError:
        said = page.get_by_role("alert").all_inner_texts()
        raise AssertionError(f"expected “{text}”, the page says: {said}") from None


def _cells(row) -> list[str]:
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def _written_rows() -> dict[str, list[dict]]:
    """Every row the phase-3 pages may write (sign-ins aside): equal before and after means nothing changed."""
    sign_in = [AuditEvent.Action.LOGIN, AuditEvent.Action.LOGIN_FAILED, AuditEvent.Action.LOGOUT]
    models = [Sample, SampleEntry, Revisit, RevisitMember, RevisitSignature, Difference]
    models += [Case, Decision, Notice, Objection, TownReport, AuditEvent]
    state = {}
    for model in models:
        rows = model.objects.order_by("pk")
        if model is AuditEvent:
            rows = rows.exclude(action__in=sign_in)
        state[model.__name__] = list(rows.values())
    return state


def _household_to_revisit(sample, village) -> tuple[SampleEntry, Survey]:
    """The first household of the village's sample whose village survey recorded an income."""
    for entry in sample.entries.filter(village=village).select_related("household").order_by("household_id"):
        survey = (
            Survey.objects.filter(household=entry.household, status=Survey.Status.SUBMITTED)
            .prefetch_related("members__incomes", "vehicles")
            .get()
        )
        if any(m.incomes.all() for m in survey.members.all()):
            return entry, survey
    raise AssertionError(f"no household of {village.name}'s sample has an income")


def _record_findings(page, survey) -> tuple[str, str]:
    """Fill in the re-visit as the verifiers find the household: as the village recorded it,
    except that the first income they check is 10% lower. Returns (member, income label)."""
    page.get_by_label("核查日期").fill(VISIT_DATE)
    page.get_by_label("拟保障人数").fill(str(survey.covered_persons))
    changed = None
    for member in survey.members.all():
        incomes = list(member.incomes.all())
        if not incomes:
            continue
        block = page.get_by_test_id("revisit-member").filter(has_text=member.name)
        block.locator("summary").click()
        for income in incomes:
            amount = income.amount
            if changed is None:
                amount = (amount * Decimal("0.9")).quantize(Decimal("0.01"))
                changed = (member.name, INCOME_CATEGORIES[income.category])
            block.get_by_label(INCOME_CATEGORIES[income.category], exact=True).fill(str(amount))
    assets = survey.deposits + survey.securities + survey.commercial_insurance + survey.money_owed
    page.get_by_label("金融资产合计（元）").fill(str(assets))
    page.get_by_label("经营性门面（处）").fill(str(survey.shop_fronts))
    refusing = any(v.kind in REFUSING_VEHICLES and not v.disability_vehicle for v in survey.vehicles.all())
    page.get_by_label("有小汽车、船舶或大型农机具（非残疾人代步车）").set_checked(refusing)
    page.get_by_label("登记经营企业或个体户").set_checked(bool(survey.business))
    page.get_by_label("雇佣他人").set_checked(survey.employs_others)
    page.get_by_label("主要致困原因").select_option(value=survey.main_cause)
    page.get_by_label("核查结论").select_option(value=survey.recommendation)
    page.get_by_label("核查情况").fill(f"户主在家，逐项核对收入：{changed[0]}的“{changed[1]}”比村里记录的少一成。")
    return changed


def test_the_town_reviews_decides_publishes_and_reports(
    device,
    verify_town,  # noqa: F811 - the fixture imported above
    town_office,
    village_a,
    village_b,
):
    campaign = verify_town
    town = device("town")

    # --- the town office draws the sample ------------------------------------------------
    _menu(town, "入户调查")
    town.get_by_role("link", name="镇级样本与核查").click()
    town.get_by_role("button", name="抽取样本").click()
    _message(town, "已抽样，种子")
    sample = Sample.objects.get(campaign=campaign, level="town")
    row = town.get_by_test_id("sample-villages").locator("tr", has_text=village_a.name)
    assert _cells(row)[1:4] == ["8", "2", "2"]  # 8 reported, ⌈20% × 8⌉ = 2 to draw, 2 drawn
    assert not town.get_by_role("button", name="抽取样本").is_visible()  # drawn once, never again
    _shot(town, device, "01-sample")

    # --- two verifiers re-visit one household of 湖滨村 and sign -------------------------
    entry, survey = _household_to_revisit(sample, village_a)
    household = entry.household
    head = household.head().name
    row.get_by_role("link", name=village_a.name).click()
    town.get_by_test_id("sample-entries").get_by_role("button", name=head).click()
    town.get_by_role("heading", name=f"镇级入户核实：{head}户").wait_for()
    member, income = _record_findings(town, survey)
    town.get_by_role("button", name="保存核查").click()
    _message(town, "核查已保存")
    differing = town.get_by_test_id("comparison").locator("tr[data-differs]")
    assert differing.count() == 1 and f"{member}：{income}" in differing.inner_text()
    _shot(town, device, "02-revisit-findings")

    # the village's own investigators (cadre02, group02) may not check their own household
    town.get_by_label("（town）").check()
    town.get_by_label("（group02）").check()
    town.get_by_role("button", name="确定核查人").click()
    _message(town, "村级调查的调查人不能核查自己调查的户")
    # (the refused choice is not kept: both are ticked again)
    town.get_by_label("（town）").check()
    town.get_by_label("（group03）").check()
    town.get_by_role("button", name="确定核查人").click()
    _message(town, "核查人已确定")
    assert town.get_by_role("button", name="提交核查").is_disabled()  # nobody has signed yet
    town.get_by_role("button", name="本人签字").click()
    _message(town, "town已签字")
    # the second verifier signs on the same device with their own password
    town.get_by_label("group03 的密码").fill(PASSWORD)
    town.get_by_role("button", name="在本设备签字").click()
    _message(town, "group03已签字")
    assert town.get_by_test_id("revisit-signatures").get_by_text("已签字").count() == 2
    _shot(town, device, "03-revisit-signed")
    town.get_by_role("button", name="提交核查").click()
    _message(town, "核查已提交")
    assert town.get_by_test_id("revisit-status").inner_text() == "已提交"
    revisit = Revisit.objects.get(entry=entry)
    assert {s.method for s in revisit.signatures.all()} == {"本人登录签字", "同一设备输入密码签字"}

    # --- the one difference gets its verdict ---------------------------------------------
    difference = town.get_by_test_id("difference")
    assert difference.count() == 1 and f"{member}：{income}" in difference.inner_text()
    difference.get_by_label("认定").select_option(label="村级记录错误")
    difference.get_by_label("说明").fill("村里登记时把月收入折算错了")
    difference.get_by_role("button", name="认定").click()
    _message(town, f"已认定：{member}：{income}")
    assert "认定：村级记录错误（村里登记时把月收入折算错了）" in town.get_by_test_id("difference").inner_text()
    _shot(town, device, "04-verdict")

    # --- the investigator's record shows it ----------------------------------------------
    town.get_by_role("link", name="镇级入户核实样本").click()
    town.get_by_role("link", name="调查人记录").click()
    table = town.get_by_test_id("investigators")
    headers = [h.strip() for h in table.locator("th").all_inner_texts()]
    for investigator in ("cadre02", "group02"):  # both signed the village survey
        cells = _cells(table.locator("tr", has_text=f"（{investigator}）"))
        assert cells[headers.index("被抽中")] == "2" and cells[headers.index("已核查")] == "1"
        assert cells[headers.index("有差异")] == "1" and cells[headers.index("村级记录错误")] == "1"
    assert _cells(table.locator("tr", has_text="（cadre03）"))[headers.index("村级记录错误")] == "0"
    _shot(town, device, "05-investigators")

    # --- the town decides this household by hand -----------------------------------------
    _menu(town, "审核决定")
    town.get_by_test_id("decision-villages").get_by_role("link", name=village_a.name).click()
    town.get_by_test_id("decision-rows").get_by_role("link").filter(has_text=head).click()
    proposal = town.get_by_test_id("proposal")
    assert "镇级入户核查" in proposal.inner_text()
    assert f"{member}：{income}" in proposal.inner_text() and "（村级记录错误）" in proposal.inner_text()
    _shot(town, device, "06-decide")
    town.get_by_label("理由").fill("核查发现村级收入记录有误，按核查结果决定。")
    town.get_by_role("button", name="签署决定").click()
    _message(town, "已作出决定")
    history = town.get_by_test_id("history").inner_text()
    assert "依据镇级入户核查" in history and "核查发现村级收入记录有误" in history
    decision = Case.objects.get(campaign=campaign, household=household).decision
    assert decision.decided_by == town_office and decision.basis == "revisit" and not decision.as_proposed

    # --- the rest in bulk ------------------------------------------------------------------
    # Prepared: the other sample households are re-visited as found (services; the browser did one).
    revisit_sample(sample, town_office, entries=list(sample.entries.exclude(pk=entry.pk)))
    town.get_by_role("link", name=f"← {village_a.name}的决定").click()
    town.get_by_test_id(f"bulk-{village_a.code}").click()
    _message(town, "已按建议决定7户；全部决定完毕")
    _shot(town, device, "07-bulk")
    # every other village, from its own list (the button decides what its rules allow)
    for other in Village.objects.filter(town=campaign.town).exclude(pk=village_a.pk).order_by("order"):
        town.goto(f"/surveys/review/?village={other.code}")
        town.get_by_test_id(f"bulk-{other.code}").click()
        town.wait_for_url(f"**?village={other.code}")
        _message(town, "已按建议决定")
    # Prepared: what may not be decided in bulk is decided one by one (services; the browser
    # did one by hand): exits, whose reason is told to the household, and the full checks of
    # cadres' relatives.
    assert 0 < Case.objects.filter(campaign=campaign, in_scope=True, review="").count() < 15
    decide_rest(campaign, town_office)
    town.reload()
    assert town.get_by_test_id("total-left").inner_text() == "0"

    # --- the notice of 湖滨村 opens --------------------------------------------------------
    _menu(town, "公示")
    _shot(town, device, "08-notices")
    town.get_by_test_id(f"open-{village_a.code}").click()
    _message(town, f"{village_a.name}开始公示")
    assert "（公示中）" in town.get_by_test_id("notice-period").inner_text()
    assert head in town.get_by_role("main").inner_text()
    _shot(town, device, "09-notice")

    # --- an objection is recorded ------------------------------------------------------------
    objected = (
        Case.objects.filter(campaign=campaign, village=village_a, town_sampled=False)
        .select_related("household")
        .order_by("household_id")
        .first()
    )
    form = town.get_by_test_id("objection-form")
    form.get_by_label("被异议户").select_option(value=str(objected.household.public_id))
    form.get_by_label("渠道").select_option(label="电话")
    form.get_by_label("异议内容").fill("反映该户儿子在外地务工，收入没有如实申报。")
    form.get_by_role("button", name="登记异议").click()
    _message(town, "已登记异议")
    objection = town.get_by_test_id("objections").locator(".list-group-item")
    assert "反映该户儿子在外地务工" in objection.inner_text() and "电话 · 匿名" in objection.inner_text()
    full_check = SampleEntry.objects.get(sample=sample, household=objected.household)
    assert full_check.reason == "full_check"  # the household joins the town's re-visits
    _shot(town, device, "10-objection")

    # --- the leadership group sees every page and can change nothing -----------------------
    # Checked now, while the town still has something to do on each page (after the report is
    # sent there is little left to refuse).
    leader = device("leader")
    # each page, what it shows, and whether the town has something to do there now
    pages = {
        f"/surveys/sample/town/?village={village_a.code}": head,
        f"/surveys/revisits/{revisit.public_id}/": "认定：村级记录错误",
        "/surveys/investigators/": "村级记录错误",
        f"/surveys/review/?village={village_a.code}&status=decided": head,
        f"/surveys/review/{household.public_id}/": "核查发现村级收入记录有误",
        "/surveys/notices/": "公示中",
        "/surveys/town-report/": "暂不能报县",
        f"/surveys/notices/{village_a.code}/": "反映该户儿子在外地务工",
    }
    for url, shown in pages.items():
        leader.goto(url)
        main = leader.get_by_role("main")
        assert shown in main.inner_text(), url
        # a PDF download (a form posting under /reports/) changes nothing; anything else would
        writes = (
            "form:not([action^='/reports/']), :is(button, input, select, textarea):not(form[action^='/reports/'] *)"
        )
        assert main.locator(writes).count() == 0, url
        if "investigators" not in url and "review/?" not in url:  # the town has work there now
            town.goto(url)
            assert town.get_by_role("main").locator("form").count() > 0, url
    _shot(leader, device, "11-leader-notice")

    token = next(c["value"] for c in leader.context.cookies() if c["name"] == "csrftoken")
    held = Objection.objects.get()
    writes = {
        "/surveys/sample/town/draw/": {},
        "/surveys/sample/town/add/": {"household": str(objected.household.public_id), "reason": "拟清退"},
        f"/surveys/sample/town/revisit/{objected.household.public_id}/": {},
        f"/surveys/revisits/{revisit.public_id}/": {"visit_date": VISIT_DATE},
        f"/surveys/revisits/{revisit.public_id}/verifiers/": {"verifiers": str(town_office.pk)},
        f"/surveys/revisits/{revisit.public_id}/sign/": {"verifier": str(town_office.pk)},
        f"/surveys/revisits/{revisit.public_id}/submit/": {},
        f"/surveys/revisits/{revisit.public_id}/judge/": {"key": revisit.differences.get().key, "verdict": "changed"},
        "/surveys/review/bulk/": {"village": village_b.code},
        f"/surveys/review/{household.public_id}/": {"outcome": "exit", "reason": "领导小组改决定"},
        f"/surveys/notices/{village_b.code}/open/": {},
        f"/surveys/notices/{village_a.code}/objections/": {
            "household": str(household.public_id),
            "channel": "visit",
            "content": "x",
        },
        f"/surveys/objections/{held.public_id}/resolve/": {"result": "领导小组关闭异议"},
        "/surveys/town-report/send/": {"late_reason": "领导小组报县"},
    }
    before = _written_rows()
    for url, data in writes.items():
        response = leader.request.post(url, form=data, headers={"X-CSRFToken": token}, max_redirects=0)
        assert response.status == 403 and "没有权限" in response.text(), url
    assert _written_rows() == before

    # --- the objection is resolved, once the household has been re-visited -------------------
    town.goto(f"/surveys/notices/{village_a.code}/")
    town.get_by_label("核实处理结果").fill("经入户核查，其子务工收入已计入，维持原决定。")
    town.get_by_role("button", name="写明结果并关闭").click()
    _message(town, "须先完成入户核查（全面核查）并签字提交")
    # Prepared: the full check of the household is re-visited (services; the browser did one).
    revisit_sample(sample, town_office, entries=[full_check])
    town.get_by_label("核实处理结果").fill("经入户核查，其子务工收入已计入，维持原决定。")
    town.get_by_role("button", name="写明结果并关闭").click()
    _message(town, "异议已处理")
    assert "处理结果：经入户核查，其子务工收入已计入" in town.get_by_test_id("objections").inner_text()
    _shot(town, device, "12-objection-resolved")
    # the household was decided before its full check: the town decides again on the re-visit
    town.goto(f"/surveys/review/{full_check.household.public_id}/")
    assert "镇级入户核查" in town.get_by_test_id("proposal").inner_text()
    town.get_by_label("理由").fill("异议经全面核查已处理，按核查结果决定。")
    town.get_by_role("button", name="签署决定").click()
    _message(town, "已作出决定")

    # --- the report goes to the county -------------------------------------------------------
    # Prepared: time passes. 湖滨村's notice is moved back so that its 7 days are over; the
    # other villages' notices are opened, already over (services).
    today = timezone.localdate()
    start = today - dt.timedelta(days=campaign.notice_days)
    Notice.objects.filter(campaign=campaign, village=village_a).update(
        starts_on=start, ends_on=today - dt.timedelta(days=1)
    )
    for village in Village.objects.filter(town=campaign.town).exclude(pk=village_a.pk):
        decisions.open_notice(campaign, village, actor=town_office, starts_on=start)
    _menu(town, "审核决定")
    town.get_by_role("link", name="报县").click()
    assert not town.get_by_test_id("report-problems").is_visible()
    send = town.get_by_test_id("send-form")
    send.get_by_role("button", name="报县并锁定镇级决定").click()
    _message(town, "请写明逾期原因")  # the demo campaign's deadline (2019) is long past
    send.get_by_label("逾期原因").fill("系统上线晚于报县截止日")
    send.get_by_role("button", name="报县并锁定镇级决定").click()
    _message(town, "镇级报告已报县；镇级决定已锁定")
    assert "逾期，原因：系统上线晚于报县截止日" in town.get_by_test_id("report-sent").inner_text()
    table = town.get_by_test_id("report-villages")
    headers = [h.strip() for h in table.locator("th").all_inner_texts()]
    cells = dict(zip(headers, _cells(table.locator("tr", has_text=village_a.name)), strict=True))
    # 8 households, 2 drawn and 1 added by the objection, each in its own column
    assert [cells[k] for k in ("复核户数", "已上报", "镇级核查户", "已核查")] == ["8", "8", "3", "3"]
    assert sum(int(cells[str(label)]) for label in Decision.Outcome.labels) == 8
    _shot(town, device, "13-report-sent")
    report = TownReport.objects.get()
    assert report.sent_by == town_office and report.late_reason == "系统上线晚于报县截止日"
    assert set(Case.objects.filter(campaign=campaign, in_scope=True).values_list("review", flat=True)) == {"sent"}

    # --- and the leadership group sees the report sent ---------------------------------------
    leader.goto("/surveys/town-report/")
    assert "逾期，原因：系统上线晚于报县截止日" in leader.get_by_test_id("report-sent").inner_text()
    leader.goto(f"/surveys/review/{household.public_id}/")
    assert "已报县" in leader.get_by_role("main").inner_text()
    _shot(leader, device, "14-leader-decision")
