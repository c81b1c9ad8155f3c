from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cases.demo import DEMO_PASSWORD, build_town, demo_logins, generate_assistance, generate_households
from cases.models import Campaign, Household
from surveys.demo import complete_phase3, generate_surveys
from surveys.models import Survey


class Command(BaseCommand):
    help = "生成演示用的泥汊镇（虚构人员与村名），停在第二阶段中途、第三阶段或第四阶段开始。只在 DEBUG 开启时可用。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--households",
            type=int,
            default=1600,
            help="家庭户总数（低保户与非低保困难户约3:1），默认1600；基准测试用80000。",
        )
        parser.add_argument("--seed", type=int, default=2019)
        parser.add_argument(
            "--stage",
            choices=["phase2", "phase3", "phase4"],
            default="phase2",
            help="phase2：停在第二阶段中途（默认）；phase3：各村已全部走访并上报，刚进入第三阶段（尚未抽样）；"
            "phase4：镇级抽样核查、决定、公示均已完成并已报县，刚进入第四阶段（县级尚未抽查）。",
        )
        parser.add_argument("--logins", action="store_true", help="只打印演示账号。")

    def handle(self, *args, households, seed, logins, stage, **options):
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
                complete = stage in ("phase3", "phase4")
                made = generate_surveys(campaign, seed=seed, complete=complete)
                if complete:
                    # demo data only: the phase a town reaches once every village has reported
                    Campaign.objects.filter(pk=campaign.pk).update(current_phase=Campaign.PhaseNumber.VERIFY)
                    self.stdout.write(f"已生成{made}份入户调查：各村均已上报，现处第三阶段（汇总核实），尚未抽样。")
                    if stage == "phase4":
                        complete_phase3(Campaign.objects.get(pk=campaign.pk), seed=seed)
                        made = generate_assistance(Campaign.objects.get(pk=campaign.pk), seed=seed)
                        self.stdout.write(
                            "已完成镇级抽样核查、决定和公示并报县，现处第四阶段（督查落实），县级尚未抽查；"
                            f"另有绿色通道{made['green']}件、临时救助{made['aid']}件、投诉举报{made['complaints']}件。"
                        )
                else:
                    self.stdout.write(f"已生成{made}份入户调查（第二阶段进行中：1–5村已完成并上报）。")
        if campaign is not None:
            self.print_logins(campaign)

    def print_logins(self, campaign):
        self.stdout.write(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
        for login in demo_logins(campaign):
            self.stdout.write(f"  {login.username:<9} {login.role:<12} {login.scope}")
