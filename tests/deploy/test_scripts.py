"""The production scripts refuse to run without what they need, and say why."""

import subprocess

import pytest
from django.conf import settings

from .conftest import environment


def script(name: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own script, no shell
        [str(settings.BASE_DIR / "scripts" / name)],
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "postgres://dibao@localhost/dibao"}, "SECRET_KEY 未设置"),
        ({"SECRET_KEY": "k" * 50}, "DATABASE_URL 未设置"),
        ({"SECRET_KEY": "k" * 50, "DATABASE_URL": "sqlite:///db.sqlite3"}, "生产环境使用 PostgreSQL"),
        ({"SECRET_KEY": "k" * 50, "DATABASE_URL": "postgres://dibao@localhost/dibao", "DEBUG": "1"}, "不能开启调试"),
    ],
)
def test_it_refuses_to_serve_without_its_settings(env, message):
    result = script("serve.sh", **env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "migrate" not in result.stdout  # stopped before touching anything


def test_it_refuses_to_back_up_or_restore_without_a_database():
    backup = script("backup.sh")
    assert backup.returncode == 2 and "DATABASE_URL 未设置" in backup.stderr
    restore = script("restore.sh")
    assert restore.returncode == 2 and "usage: scripts/restore.sh BACKUP_FILE TARGET_DATABASE_URL" in restore.stderr
