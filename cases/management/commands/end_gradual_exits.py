from django.core.management.base import BaseCommand

from cases.decisions import end_gradual_exits


class Command(BaseCommand):
    help = "渐退期满的家庭停发低保（每日运行一次；每户的变动记入时间线）。"

    def handle(self, *args, **options):
        ended = end_gradual_exits()
        self.stdout.write(f"渐退期满停发：{ended}户。")
