"""`make bench`: page timings at town size and at county size (80,000 households).

Runs on an empty, throwaway database (scripts/with_postgres.sh gives one). Prints
the median of repeated requests through Django's test client, the number of
queries of each page, and the ratio between the large and the small data set.
"""

from __future__ import annotations

import statistics
import time
import warnings

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from cases.demo import build_town, generate_households
from cases.models import Household, Member

FAST = {
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "STORAGES": {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    },
    "ALLOWED_HOSTS": ["testserver"],
}


class Command(BaseCommand):
    help = "基准测试：在1,000户和80,000户数据上测量花名册列表与搜索的耗时。"

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

    def scenarios(self, campaign, user_model):
        village = campaign.town.villages.order_by("order")[1]
        sample = Member.objects.filter(household__village=village, status="present").order_by("id").first()
        town = user_model.objects.get(username="town")
        cadre = user_model.objects.get(profile__village=village)
        # Every scenario shows a full page (or the same few rows) at both sizes,
        # so that the ratio measures growth with the data, not a fuller page.
        return [
            ("花名册（全镇第1页）", town, "/households/", {}),
            ("花名册（本村第1页）", cadre, "/households/", {}),
            ("搜索姓名（本村）", cadre, "/households/", {"q": sample.name}),
            ("搜索身份证后4位（全镇）", town, "/households/", {"q": sample.id_number[-4:]}),
            ("家庭详情", cadre, f"/households/{sample.household.public_id}/", {}),
        ]

    def run(self, sizes, repeat):
        campaign = build_town()
        user_model = get_user_model()
        results: dict[int, dict[str, tuple[float, int]]] = {}
        made = 0
        for size in sizes:
            started = time.perf_counter()
            generate_households(campaign, size - made, seed=size)
            made = size
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            members = Member.objects.count()
            self.stdout.write(f"{size:>6}户、{members}人：生成用时 {time.perf_counter() - started:.1f} 秒")
            results[size] = {}
            for label, user, url, params in self.scenarios(campaign, user_model):
                client = Client()
                client.force_login(user)
                client.get(url, params)  # warm-up
                timings = []
                for _ in range(repeat):
                    with CaptureQueriesContext(connection) as ctx:
                        t0 = time.perf_counter()
                        response = client.get(url, params)
                        timings.append((time.perf_counter() - t0) * 1000)
                    assert response.status_code == 200, (label, response.status_code)
                results[size][label] = (statistics.median(timings), len(ctx.captured_queries))
        return results

    def report(self, sizes, results):
        small, large = sizes[0], sizes[-1]
        self.stdout.write("")
        self.stdout.write(f"数据库：{connection.vendor}；每格为 {self.repeat} 次请求耗时的中位数（毫秒）")
        header = f"{'场景':<24}" + "".join(f"{f'{s}户':>12}" for s in sizes) + f"{'倍数':>8}{'查询数':>8}"
        self.stdout.write(header)
        for label in results[small]:
            row = f"{label:<24}"
            for s in sizes:
                row += f"{results[s][label][0]:>12.1f}"
            ratio = results[large][label][0] / results[small][label][0]
            queries = {results[s][label][1] for s in sizes}
            row += f"{ratio:>8.2f}{'/'.join(str(q) for q in sorted(queries)):>8}"
            self.stdout.write(row)
