"""The public notice board: open without signing in; the policy, standards, how to apply and the
hotline from the campaign's settings; each village's 公示 list while it runs, with only the public
fields (the same rows as the staff notice page); no ID number, phone, address, bank account or
health detail, no link into the staff pages, no script; a QR code of its own address; a fixed
number of queries."""

import datetime as dt
import re
import types
from html.parser import HTMLParser

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import include, path, reverse
from django.utils import timezone

from cases import decisions
from cases.models import Campaign, Case, Household, Member, Village
from reports import board_views
from reports.board import qr_svg
from surveys import review, services
from tests.reports.test_home import texts
from tests.surveys.conftest import decide_rest, revisit_sample, verify_town  # noqa: F401 - the shared fixture


@pytest.fixture
def on_notice(verify_town, town_office):  # noqa: F811 - the shared fixture
    """Every household decided; three villages on notice from today, one whose notice ended two
    days ago, one that ended long ago, the rest not on notice. Some households carry a bank
    account and members a health condition and a disability certificate: none of it is public."""
    sample, _ = services.draw_sample(verify_town, level="town", actor=town_office)
    revisit_sample(sample, town_office)
    decide_rest(verify_town, town_office)
    Campaign.objects.filter(pk=verify_town.pk).update(hotline="0553-6712345", complaint_days=15)
    campaign = Campaign.objects.get(pk=verify_town.pk)
    today = timezone.localdate()
    villages = list(Village.objects.order_by("order"))
    for village in villages[:3]:
        decisions.open_notice(campaign, village, actor=town_office)
    decisions.open_notice(campaign, villages[3], actor=town_office, starts_on=today - dt.timedelta(days=8))
    decisions.open_notice(campaign, villages[4], actor=town_office, starts_on=today - dt.timedelta(days=30))
    Household.objects.update(bank_name="无为农商银行", bank_account="6229123456789012")
    Member.objects.filter(id__in=list(Member.objects.order_by("id").values_list("id", flat=True))[::3]).update(
        health=Member.Health.DISABLED, disability_type="limb", disability_grade=2, disability_certificate="3402251970"
    )
    return campaign


def board_page(client, name="board", *args, **query) -> str:
    response = client.get(reverse(name, args=args), query)
    assert response.status_code == 200
    return response.content.decode()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.targets: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if name in {"href", "src", "action"}:
                self.targets.append(value)


def links(page: str) -> _Links:
    parser = _Links()
    parser.feed(page)
    return parser


def personal_data() -> set[str]:
    """Every value of the households on the board that must never be public."""
    found = set()
    for h in Household.objects.prefetch_related("members"):
        found |= {h.phone, h.address, h.bank_account} - {""}
        for m in h.members.all():
            found.add(m.id_number)
            found.add(m.id_number[-8:])  # a birth date and sequence, as in a masked number
            if m.disability_certificate:
                found.add(m.disability_certificate)
    return found


HEALTH_WORDS = [str(label) for value, label in Member.Health.choices if value != Member.Health.HEALTHY]
HEALTH_WORDS += [str(label) for value, label in Member.Disability.choices if value]


def test_it_shows_the_policy_standards_and_hotline_without_sign_in(client, on_notice):
    page = board_page(client)
    assert "泥汊镇最低生活保障政策公开栏" in page
    standards = " ".join(texts(page)["board-standards"])
    assert f"城市低保标准 {on_notice.urban_standard} 元/人·月" in standards
    assert f"农村低保标准 {on_notice.rural_standard} 元/人·月" in standards
    assert on_notice.standards_note in page  # the demo's figures are labelled as examples
    hotline = " ".join(texts(page)["board-hotline"])
    assert "0553-6712345" in hotline and "15天内答复" in hotline
    assert f"公示{on_notice.notice_days}天" in page and "如何申请" in page


def test_it_lists_the_running_notices_and_only_the_period_of_those_just_ended(client, on_notice):
    page = board_page(client)
    villages = list(Village.objects.order_by("order"))
    for village in villages[:3]:
        assert f'href="/board/notices/{village.code}/"' in page
    assert " ".join(texts(page)["board-ended"]).count("公示期已满") == 1 and villages[3].name in page
    assert villages[4].name not in page and villages[5].name not in page
    # the numbers per section are the village list's
    first = review.notice_sections(on_notice, villages[0])
    summary = " ".join(texts(page)[f"board-notice-{villages[0].code}"])
    for label, rows in first:
        if rows:
            assert f"{label} {len(rows)}户" in summary


def test_a_villages_page_lists_the_staff_notices_rows_with_the_public_fields_only(client, on_notice):
    village = Village.objects.order_by("order").first()
    page = board_page(client, "board_village", village.code)
    tables = re.findall(r'<table[^>]*data-testid="board-section".*?</table>', page, re.S)
    shown = [re.findall(r"<tr><td[^>]*>(.*?)</td>", t) for t in tables]
    sections = review.notice_sections(on_notice, village)
    staff = [[h.name for c in rows for h in c.household.heads] for _, rows in sections if rows]
    assert shown == staff and sum(map(len, staff)) > 0
    # the five public columns, and an exit shows no amount
    headers = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th[^>]*>(.*?)</th>", tables[0])]
    assert headers == ["户主姓名", "保障人数", "类别", "月保障金（元）", "村（社区）"]
    period = " ".join(texts(page)["board-period"])
    assert timezone.localdate().strftime("%Y年%-m月%-d日") in period and "公示中" in period


def test_it_holds_no_id_number_phone_address_bank_account_or_health_detail(client, on_notice):
    pages = [board_page(client), board_page(client, "board_poster")]
    pages += [board_page(client, "board_village", v.code) for v in Village.objects.order_by("order")[:5]]
    secrets = personal_data()
    assert len(secrets) > 100
    for page in pages:
        assert not [s for s in secrets if s in page]
        assert not [w for w in HEALTH_WORDS if w in page]
        assert "6229" not in page and "身份证" not in page


def test_it_links_nowhere_into_the_staff_pages_and_runs_no_script(client, on_notice):
    flyer = board_views._flyer_url(RequestFactory().get("/board/"), on_notice)
    if flyer:
        response = client.get(flyer)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    village = Village.objects.order_by("order").first()
    pages = [board_page(client), board_page(client, "board_poster"), board_page(client, "board_village", village.code)]
    for page in pages:
        found = links(page)
        staff = [t for t in found.targets if not re.match(r"(/board/|/static/|tel:|#|\?)", t)]
        # the policy flyer, where the site offers it, is served to anyone
        assert staff in ([], [flyer])
        assert "script" not in found.tags and "style" not in found.tags
        # no staff menu, no sign-in or sign-out, nothing posted
        assert "进度看板" not in page and "退出" not in page and 'method="post"' not in page


def test_it_answers_under_the_content_security_policy_and_needs_nothing_from_outside(client, on_notice):
    response = client.get(reverse("board"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    page = response.content.decode()
    assert not [t for t in links(page).targets if t.startswith(("http:", "https:", "//"))]


def test_it_draws_a_qr_code_of_its_own_address(client, on_notice):
    page = board_page(client)
    assert str(qr_svg("http://testserver/board/")) in page and "http://testserver/board/" in page
    village = Village.objects.order_by("order").first()
    poster = board_page(client, "board_poster", village=village.code)
    url = f"http://testserver/board/notices/{village.code}/"
    assert str(qr_svg(url)) in poster and url in poster
    # a different address is a different code
    assert str(qr_svg("http://testserver/board/")) != str(qr_svg(url))
    assert client.get(reverse("board_poster"), {"village": "nowhere"}).status_code == 404


def test_a_village_page_after_the_period_shows_no_names(client, on_notice):
    ended = Village.objects.order_by("order")[3]
    page = board_page(client, "board_village", ended.code)
    assert "公示期" in " ".join(texts(page)["board-ended"]) and "名单不再公开" in page
    names = Member.objects.filter(household__village=ended, relationship="02").values_list("name", flat=True)
    assert names and not [n for n in names if n in page]
    none = Village.objects.order_by("order")[6]
    assert "目前没有公示" in board_page(client, "board_village", none.code)
    assert client.get(reverse("board_village", args=["nowhere"])).status_code == 404


def _flyer(request):
    return HttpResponse(b"%PDF")


def _urlconf(name: str, patterns: list) -> types.ModuleType:
    module = types.ModuleType(name)
    module.urlpatterns = patterns
    return module


WITH_FLYER = _urlconf(
    "with_flyer", [path("board/", include("reports.board_urls")), path("flyer.pdf", _flyer, name="document_flyer")]
)
WITHOUT_FLYER = _urlconf("without_flyer", [path("board/", include("reports.board_urls"))])


def test_it_links_the_policy_flyer_where_the_site_offers_it(client, settings, on_notice):
    settings.ROOT_URLCONF = WITH_FLYER
    assert 'href="/flyer.pdf"' in board_page(client)
    settings.ROOT_URLCONF = WITHOUT_FLYER
    assert "宣传单" not in board_page(client)


def test_it_costs_the_same_queries_however_many_villages_and_households(
    client, on_notice, town_office, django_assert_num_queries
):
    villages = list(Village.objects.order_by("order"))
    # campaign (with its town), notices, the running villages' tallies
    with django_assert_num_queries(3):
        client.get(reverse("board"))
    for village in villages[6:]:
        decisions.open_notice(on_notice, village, actor=town_office)
    with django_assert_num_queries(3):
        page = client.get(reverse("board")).content.decode()
    assert page.count("公示中") == 3 + len(villages[6:])
    # campaign, village, notice, its list: the same with eight times the households on the list
    village = villages[0]
    with django_assert_num_queries(4):
        before = client.get(reverse("board_village", args=[village.code])).content.decode().count("<tr>")
    others = Case.objects.filter(village__in=villages[7:])
    Household.objects.filter(cases__in=others).update(village=village)
    others.update(village=village)
    with django_assert_num_queries(4):
        after = client.get(reverse("board_village", args=[village.code])).content.decode().count("<tr>")
    assert after > 4 * before
