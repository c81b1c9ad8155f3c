"""`manage.py check --deploy` with the production environment finds nothing to warn about."""

import secrets
import subprocess
import sys

from django.conf import settings

from .conftest import environment

# What the README's production table asks for, behind the town's HTTPS proxy.
PRODUCTION_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "dibao.nicha.gov.cn",
    "PROXY_COUNT": "1",
    "CACHE_BACKEND": "database",
}


def check_deploy(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=settings.BASE_DIR,
        env=environment(**{**PRODUCTION_ENV, **env}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deployment_checks_with_production_settings():
    result = check_deploy()
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr, result.stderr


def test_it_warns_when_the_site_is_served_without_https_redirect():
    # The same check can fail: without the proxy (PROXY_COUNT=0) nothing redirects to HTTPS.
    result = check_deploy(PROXY_COUNT="0")
    assert "security.W008" in result.stderr
