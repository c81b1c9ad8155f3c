from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cases.demo import DEMO_PASSWORD, build_town, demo_logins, generate_households
from cases.models import Campaign, Household
from surveys.demo import generate_surveys
from surveys.models import Survey


class Command(BaseCommand):
    help = "生成演示用的泥汊镇（虚构人员与村名），停在第二阶段中途。只在 DEBUG 开启时可用。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--households",
            type=int,
            default=1600,
            help="家庭户总数（低保户与非低保困难户约3:1），默认1600；基准测试用80000。",
        )
        parser.add_argument("--seed", type=int, default=2019)
        parser.add_argument("--logins", action="store_true", help="只打印演示账号。")

    def handle(self, *args, households, seed, logins, **options):
        if not settings.DEBUG:
            raise CommandError("演示数据只能在 DEBUG 开启时生成，以免写入正式库。")
        campaign = Campaign.objects.current()
        if not logins:
            if campaign is None:
                campaign = build_town()
                self.stdout.write("已生成泥汊镇、复核行动、领导组、工作组和演示账号。")
            existing = Household.objects.count()
            if existing >= households:
                self.stdout.write(f"已有{existing}户，不再生成。")
            else:
                made = generate_households(campaign, households - existing, seed=seed + existing)
                self.stdout.write(f"已生成{made}户演示家庭。")
            if not Survey.objects.filter(campaign=campaign).exists():
                made = generate_surveys(campaign, seed=seed)
                self.stdout.write(f"已生成{made}份入户调查（第二阶段进行中：1–5村已完成并上报）。")
        if campaign is not None:
            self.print_logins(campaign)

    def print_logins(self, campaign):
        self.stdout.write(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
        for login in demo_logins(campaign):
            self.stdout.write(f"  {login.username:<9} {login.role:<12} {login.scope}")
