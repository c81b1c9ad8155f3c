from django.core.management.base import BaseCommand

from reports.exports import cleanup
from reports.list_exports import prune


class Command(BaseCommand):
    help = (
        "删除超过保存期限的导出文件（EXPORT_KEEP_DAYS），把后台进程已停止的生成任务标记为失败（可在其页面重新生成），"
        "并清理后台任务队列中已无用的记录（排队中、生成中的保留）。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interrupted",
            action="store_true",
            help="没有后台进程在运行时（如启动前）使用：所有“生成中”的任务都已中断。",
        )

    def handle(self, *args, interrupted, **options):
        deleted, stalled = cleanup(all_running=interrupted)
        pruned = prune(all_running=interrupted)
        self.stdout.write(f"已删除过期文件{deleted}个；标记中断的生成任务{stalled}个；清理后台任务记录{pruned}条。")
