import os
import urllib.parse

import pytest
from django.db import connection

from tests.surveys.conftest import survey_a  # noqa: F401 - a fixture shared with the survey tests

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (serve.sh, pg_dump, pg_restore, createdb); `make test` runs it on its throwaway cluster",
)


def environment(**settings) -> dict[str, str]:
    """A process environment with only the machine's basics and `settings`: nothing the test run
    itself set (DEBUG, DJANGO_ALLOW_ASYNC_UNSAFE from the browser tests, ...) leaks into it."""
    basics = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}}
    return {**basics, **settings}


def database_url(name: str | None = None) -> str:
    """A libpq URL for the test database (or another database `name` on the same server)."""
    s = connection.settings_dict
    user = urllib.parse.quote(s["USER"] or "", safe="")
    password = ":" + urllib.parse.quote(s["PASSWORD"], safe="") if s["PASSWORD"] else ""
    host = urllib.parse.quote(s["HOST"] or "", safe="")  # a socket folder is percent-encoded
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{name or s['NAME']}"
