"""`make serve`: gunicorn with several workers, whitenoise's hashed static files, the database cache."""

import http.client
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from .conftest import database_url, environment, on_postgresql

pytestmark = [on_postgresql, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, **headers) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.text = response.read().decode("utf-8", "replace")
    return response


def children(pid: int) -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == pid]


def _parent(process: Path) -> int | None:
    try:
        return int((process / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


@pytest.fixture
def served(tmp_path):
    port = free_port()
    env = environment(
        DATABASE_URL=database_url(),
        SECRET_KEY=secrets.token_urlsafe(50),
        PROXY_COUNT="1",
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        GUNICORN_ACCESS_LOG="",
    )
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - our own script, no shell
        [str(settings.BASE_DIR / "scripts" / "serve.sh")], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if get(port, "/healthz").status == 200:
                break
        except OSError:
            time.sleep(0.5)
    yield process, port, tmp_path / "serve.log"
    if process.poll() is None:
        process.kill()
        process.wait()


def test_it_serves_the_production_profile_and_stops_on_sigterm(served):
    process, port, log = served
    assert process.poll() is None, log.read_text()
    masters = [p for p in children(process.pid) if b"gunicorn" in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert len(masters) == 1 and len(children(masters[0])) == 2  # WEB_CONCURRENCY workers
    # the background worker (batch PDFs) is a process of its own beside gunicorn
    workers = [p for p in children(process.pid) if b"db_worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert len(workers) == 1

    assert get(port, "/healthz").status == 200  # the proxy's health check needs no HTTPS
    plain = get(port, "/accounts/login/")
    assert plain.status == 301 and plain.getheader("Location").startswith("https://")
    page = get(port, "/accounts/login/", **{"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.1.2.3"})
    assert page.status == 200 and "登录" in page.text
    assert "script-src 'self'" in page.getheader("Content-Security-Policy")
    assert page.getheader("Strict-Transport-Security").startswith("max-age=31536000")
    assert "Secure" in page.getheader("Set-Cookie")
    stylesheet = next(part.split('"')[1] for part in page.text.split("href=")[1:] if "/css/app." in part)
    assert stylesheet != "/static/css/app.css"  # collectstatic's hashed name
    css = get(port, stylesheet, **{"X-Forwarded-Proto": "https"})
    assert css.status == 200 and "immutable" in css.getheader("Cache-Control")
    assert "dibao_cache" in connection.introspection.table_names()  # createcachetable ran

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=45) == 0
    assert not Path(f"/proc/{masters[0]}").exists()
    assert not Path(f"/proc/{workers[0]}").exists()
