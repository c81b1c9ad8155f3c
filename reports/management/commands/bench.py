"""`make bench`: page timings at town size and at county size (80,000 households).

Runs on an empty, throwaway database (scripts/with_postgres.sh gives one). Builds
the demo town with its phase-2 surveys at each size and prints, per scenario,
the median of repeated requests through Django's test client, the number of
queries, and the ratio between the large and the small data set.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
import warnings

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from cases.demo import build_town, generate_households
from cases.models import (
    Campaign,
    Case,
    CountyReview,
    Decision,
    Household,
    Member,
    Notice,
    Objection,
    Profile,
)
from cases.services import retally
from reports import bench as reports_bench
from surveys import review, services
from surveys.demo import generate_surveys, revisit_as_found
from surveys.models import (
    Difference,
    Revisit,
    RevisitMember,
    RevisitSignature,
    Sample,
    SampleEntry,
    ScreeningEntry,
    Survey,
    TownReport,
    VillageReport,
)
from surveys.revisits import eligible_verifiers

FAST = {
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "STORAGES": {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    },
    "ALLOWED_HOSTS": ["testserver"],
}


class Command(BaseCommand):
    help = (
        "基准测试：在1,000户和80,000户数据上测量花名册、搜索、入户调查与进度页面，以及镇级抽样、决定、县级审批的耗时。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--sizes", default="1000,80000", help="逗号分隔的户数，默认 1000,80000")
        parser.add_argument("--repeat", type=int, default=21)

    def handle(self, *args, sizes, repeat, **options):
        if Household.objects.exists():
            raise CommandError("基准测试需要一个空数据库（make bench 会自动创建临时数据库）。")
        sizes = sorted(int(s) for s in sizes.split(","))
        self.repeat = repeat
        # collectstatic has not run on a throwaway checkout; pages need no static files here.
        warnings.filterwarnings("ignore", message="No directory at")
        with override_settings(**FAST):
            results = self.run(sizes, repeat)
        self.report(sizes, results)

    def page_scenarios(self, campaign):
        user_model = get_user_model()
        village = campaign.town.villages.order_by("order")[1]
        busy = campaign.town.villages.order_by("order")[10]  # a village still visiting households
        sample = Member.objects.filter(household__village=village, status="present").order_by("id").first()
        draft = (
            Survey.objects.filter(campaign=campaign, status=Survey.Status.DRAFT, household__village=busy)
            .order_by("id")
            .first()
        )
        town = user_model.objects.get(username="town")
        cadre = user_model.objects.get(profile__village=village, profile__role=Profile.Role.VILLAGE)
        busy_cadre = user_model.objects.get(profile__village=busy, profile__role=Profile.Role.VILLAGE)
        # Every scenario shows a full page (or the same few rows) at both sizes,
        # so that the ratio measures growth with the data, not a fuller page.
        return [
            ("花名册（全镇第1页）", town, "/households/", {}),
            ("花名册（本村第1页）", cadre, "/households/", {}),
            ("搜索姓名（本村）", cadre, "/households/", {"q": sample.name}),
            ("搜索名字不含姓（全镇）", town, "/households/", {"q": sample.name[1:]}),
            ("搜索身份证后4位（全镇）", town, "/households/", {"q": sample.id_number[-4:]}),
            ("家庭详情", cadre, f"/households/{sample.household.public_id}/", {}),
            ("调查进度（全镇）", town, "/surveys/", {}),
            ("本村调查名单（全部）", busy_cadre, f"/surveys/villages/{busy.code}/", {}),
            ("本村调查名单（未走访）", busy_cadre, f"/surveys/villages/{busy.code}/", {"status": "not_visited"}),
            ("调查表（草稿）", busy_cadre, f"/surveys/{draft.public_id}/edit/", {}),
            ("进度看板（全镇）", user_model.objects.get(username="leader"), "/dashboard/", {}),
        ]

    def ready_drafts(self, campaign, count):
        """Complete, signed drafts in a village still at work, made through the services."""
        busy = campaign.town.villages.order_by("order")[10]
        user_model = get_user_model()
        cadre = user_model.objects.get(profile__village=busy, profile__role=Profile.Role.VILLAGE)
        partner = user_model.objects.get(profile__work_group__villages=busy, profile__role=Profile.Role.WORK_GROUP)
        households = (
            services.survey_universe(campaign)
            .filter(village=busy)
            .exclude(surveys__campaign=campaign)
            .order_by("id")[:count]
        )
        drafts = []
        for household in households:
            survey = services.start_survey(household, campaign=campaign, actor=cadre)
            data = services.input_from(survey.with_rows())
            data.header.update(
                visit_date=dt.date(2019, 10, 25),
                main_cause="illness",
                recommendation="keep",
                recommendation_reason="基准测试：结论由调查人确定。",
                covered_persons=len(data.members),
                dibao_reason="因病致贫。",
                head_confirmation="signed",
            )
            data.members[0].incomes = {"wage": 3000}
            survey = services.save_survey(survey, data, actor=cadre)
            services.set_investigators(survey, [cadre, partner], actor=cadre)
            for user in (cadre, partner):
                services.sign_survey(
                    survey,
                    investigator=user,
                    actor=cadre,
                    method="基准测试",
                    shown_fingerprint=survey.with_rows().content_fingerprint(),
                )
            drafts.append(survey)
        return cadre, drafts

    def timed(self, client, method, url, params):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = getattr(client, method)(url, params)
            elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code in (200, 302), (url, response.status_code)
        return elapsed, len(ctx.captured_queries)

    def run(self, sizes, repeat):
        campaign = build_town()
        results: dict[int, dict[str, tuple[float, set[int]]]] = {}
        made = 0
        for size in sizes:
            started = time.perf_counter()
            generate_households(campaign, size - made, seed=size)
            made = size
            # Phase 2 as the demo leaves it, laid anew over all the households of this size.
            VillageReport.objects.all().delete()
            Survey.objects.all().delete()
            ScreeningEntry.objects.all().delete()
            Case.objects.all().delete()
            generate_surveys(campaign, seed=size)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # what autovacuum does on a live server: statistics, and the visibility map
                    # that lets counts read the index alone
                    cursor.execute("VACUUM ANALYZE")
            self.stdout.write(
                f"{size:>6}户、{Member.objects.count()}人、{Survey.objects.count()}份调查："
                f"生成用时 {time.perf_counter() - started:.1f} 秒"
            )
            results[size] = {}
            self.pages(results[size], self.page_scenarios(campaign))
            cadre, drafts = self.ready_drafts(campaign, repeat + 1)
            client = Client()
            client.force_login(cadre)
            runs = [self.timed(client, "post", f"/surveys/{d.public_id}/submit/", {}) for d in drafts]
            assert Survey.objects.filter(pk__in=[d.pk for d in drafts], status="submitted").count() == len(drafts)
            runs = runs[1:]  # the first one warms up
            results[size]["提交调查"] = (statistics.median(t for t, _ in runs), {q for _, q in runs})
            self.phases_3_and_4(campaign, size, results[size])
            results[size].update(reports_bench.run(campaign, size, out=self.stdout, repeat=self.repeat))
        return results

    def once(self, label, results, action):
        """A step that can run only once (a draw, a bulk decision): one timing, its queries."""
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            action()
            elapsed = (time.perf_counter() - t0) * 1000
        results[label] = (elapsed, {len(ctx.captured_queries)})

    def pages(self, results, scenarios):
        """Each scenario's median over `repeat` requests. The requests take turns, one of every
        scenario per round, so that a host that slows down for a minute slows every page alike
        and the ratios between pages (the survey form against the household page) stay fair."""
        clients = []
        for _label, user, url, params in scenarios:
            client = Client()
            client.force_login(user)
            client.get(url, params)  # warm-up
            clients.append(client)
        runs = [[] for _ in scenarios]
        for _ in range(self.repeat):
            for (_label, _user, url, params), client, timings in zip(scenarios, clients, runs, strict=True):
                timings.append(self.timed(client, "get", url, params))
        for (label, *_), timings in zip(scenarios, runs, strict=True):
            results[label] = (statistics.median(t for t, _ in timings), {q for _, q in timings})

    def phases_3_and_4(self, campaign, size, results):
        """The town's and the county's work at this size, through the services: the rest of the
        town surveyed and reported; the draw; a few re-visits; one village decided in bulk; the
        lists. Then everything decided, on notice and sent; the county's draw and its list."""
        user_model = get_user_model()
        town = user_model.objects.get(username="town")
        county = user_model.objects.get(username="county")
        generate_surveys(campaign, seed=size, complete=True)
        Case.objects.filter(campaign=campaign, stage=Case.Stage.DRAFT).update(in_scope=False)  # the bench's drafts
        Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.VERIFY)
        campaign.refresh_from_db()
        self.vacuum()
        self.once("镇级抽样（全镇，一次）", results, lambda: services.draw_sample(campaign, level="town", actor=town))
        sample = Sample.objects.get(campaign=campaign, level="town")
        village = campaign.town.villages.order_by("order")[1]
        for entry in sample.entries.filter(village=village).select_related("household", "sample__campaign")[:5]:
            verifiers = eligible_verifiers(entry)[:2]
            revisit_as_found(entry, verifiers=verifiers, actor=town, visit_date=dt.date(2019, 11, 7))
        other = campaign.town.villages.order_by("order")[2]
        self.once(
            "按建议批量决定（一村，一次）",
            results,
            lambda: review.decide_all_as_proposed(campaign, actor=town, village=other),
        )
        case = Case.objects.filter(campaign=campaign, village=village, town_sampled=False, in_scope=True).first()
        self.vacuum()
        self.pages(
            results,
            [
                ("镇级样本（全镇）", town, "/surveys/sample/town/", {}),
                ("镇级样本（一村）", town, "/surveys/sample/town/", {"village": village.code}),
                ("镇级决定（全镇待决定）", town, "/surveys/review/", {}),
                ("镇级决定（一村）", town, "/surveys/review/", {"village": village.code, "status": "left"}),
                ("镇级决定（全镇第20页）", town, "/surveys/review/", {"status": "", "page": 20}),
                ("可按建议批量决定（一村）", town, "/surveys/review/", {"village": other.code, "status": "bulk"}),
                ("决定页", town, f"/surveys/review/{case.household.public_id}/", {}),
                ("报县页（核对与汇总）", town, "/surveys/town-report/", {}),
            ],
        )
        # The rest of phase 3 is not what is measured here: the bench marks every household sent
        # (the report's refusals and the decisions are tested elsewhere) and opens phase 4.
        Case.objects.in_scope().filter(campaign=campaign).update(review=Case.Review.SENT)
        retally(campaign, campaign.town.villages.values_list("id", flat=True))
        TownReport.objects.create(campaign=campaign, sent_by=town, late_reason="基准测试")
        Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.SUPERVISE)
        campaign.refresh_from_db()
        self.vacuum()
        self.once(
            "县级抽样（全镇，一次）", results, lambda: services.draw_sample(campaign, level="county", actor=county)
        )
        self.pages(
            results,
            [
                ("县级审批（全部待审批）", county, "/surveys/county/", {}),
                ("县级审批（一村）", county, "/surveys/county/", {"village": village.code}),
                ("可批量批准（一村）", county, "/surveys/county/", {"village": village.code, "status": "bulk"}),
            ],
        )
        self.clear_phases_3_and_4(campaign)

    def vacuum(self):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

    def clear_phases_3_and_4(self, campaign):
        """Back to phase 2 for the next size (the audit trail keeps its rows)."""
        CountyReview.objects.all().delete()
        Objection.objects.all().delete()
        Notice.objects.all().delete()
        TownReport.objects.all().delete()
        Case.objects.update(decision=None)
        Decision.objects.all().delete()
        Difference.objects.all().delete()
        RevisitSignature.objects.all().delete()
        RevisitMember.objects.all().delete()
        Revisit.objects.all().delete()
        SampleEntry.objects.all().delete()
        Sample.objects.all().delete()
        Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.REVIEW)
        campaign.refresh_from_db()

    def report(self, sizes, results):
        small, large = sizes[0], sizes[-1]
        self.stdout.write("")
        self.stdout.write(f"数据库：{connection.vendor}；每格为 {self.repeat} 次请求耗时的中位数（毫秒）")
        header = f"{'场景':<22}" + "".join(f"{f'{s}户':>11}" for s in sizes) + f"{'倍数':>8}  查询数"
        self.stdout.write(header)
        for label in results[small]:
            row = f"{label:<22}"
            for s in sizes:
                row += f"{results[s][label][0]:>11.1f}"
            ratio = results[large][label][0] / results[small][label][0]
            queries = sorted(set().union(*(results[s][label][1] for s in sizes)))
            row += f"{ratio:>8.2f}  {'/'.join(str(q) for q in queries)}"
            self.stdout.write(row)
        form, page = "调查表（草稿）", "家庭详情"
        if form in results[small] and page in results[small]:
            row = f"{'调查表÷家庭详情':<22}"
            for s in sizes:
                row += f"{results[s][form][0] / results[s][page][0]:>10.2f}×"
            self.stdout.write(row)
