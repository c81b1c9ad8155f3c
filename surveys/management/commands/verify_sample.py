"""`manage.py verify_sample`: re-derive a re-verification sample from its recorded seed."""

from django.core.management.base import BaseCommand, CommandError

from cases.models import Campaign
from surveys.models import Sample
from surveys.services import sample_discrepancies


class Command(BaseCommand):
    help = "用记录的随机种子复算抽查名单，核对与系统中的名单是否一致。"

    def add_arguments(self, parser):
        parser.add_argument("--level", choices=Sample.Level.values, default=Sample.Level.TOWN)
        parser.add_argument("--campaign", type=int, help="复核行动编号，默认当前行动")

    def handle(self, *args, level, campaign=None, **options):
        target = Campaign.objects.filter(pk=campaign).first() if campaign else Campaign.objects.current()
        sample = Sample.objects.filter(campaign=target, level=level).first() if target else None
        if sample is None:
            raise CommandError("没有找到该抽查样本。")
        problems = sample_discrepancies(sample)
        drawn = sample.entries.filter(reason="drawn").count()
        self.stdout.write(f"{sample}：种子 {sample.seed}，比例 {sample.ratio}%，随机抽取 {drawn} 户。")
        if problems:
            for line in problems:
                self.stdout.write(f"  不一致：{line}")
            raise CommandError(f"复算结果与记录不一致（{len(problems)}处）。")
        self.stdout.write(self.style.SUCCESS("复算结果与记录一致。"))
