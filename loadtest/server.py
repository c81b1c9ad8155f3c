"""The production profile under test (scripts/serve.sh on a free loopback port) and the faults."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(port: int) -> dict[str, str]:
    """The environment of a production server behind the HTTPS proxy, on this machine's loopback."""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "CACHE_BACKEND", "WEB_CONCURRENCY"}}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        PROXY_COUNT="1",
        BIND=f"127.0.0.1:{port}",
        GUNICORN_ACCESS_LOG="-",  # into the log file: the server's own time per request
    )
    return env


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name (in brackets) may hold spaces: the parent pid is the 2nd field after it.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


class Server:
    def __init__(self, port: int, log: Path):
        self.port, self.log = port, log
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> None:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own script, no shell
                [str(ROOT / "scripts" / "serve.sh")],
                cwd=ROOT,
                env=production_env(self.port),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"scripts/serve.sh stopped (status {self.process.returncode}):\n{self.tail()}")
            if self.healthy():
                return
            time.sleep(0.5)
        raise RuntimeError(f"the site did not answer within {timeout:.0f} s:\n{self.tail()}")

    def healthy(self) -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def log_offset(self) -> int:
        return self.log.stat().st_size

    def served_ms(self, start: int, end: int) -> list[float]:
        """The server's own time (gunicorn's access log, %(D)s) for the requests logged between two offsets."""
        with self.log.open("rb") as f:
            f.seek(start)
            text = f.read(end - start).decode(errors="replace")
        return [int(m) / 1000 for m in re.findall(r'" \d{3} \S+ (\d+)us$', text, re.M)]

    def workers(self) -> list[int]:
        masters = [p for p in children(self.process.pid) if b"gunicorn" in Path(f"/proc/{p}/cmdline").read_bytes()]
        return [w for m in masters for w in children(m)]

    def kill_a_worker(self) -> str:
        workers = self.workers()
        if not workers:
            return "no gunicorn worker found to kill"
        os.kill(workers[0], signal.SIGKILL)
        return f"SIGKILL to gunicorn worker {workers[0]} (of {len(workers)})"

    def stop(self, timeout: float = 45) -> int | None:
        """SIGTERM to scripts/serve.sh, which stops gunicorn gracefully; then nothing of it may remain."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()


def restart_postgres(database_url: str) -> str:
    """pg_ctl restart on the throwaway cluster of scripts/with_postgres.sh (its socket folder holds data/)."""
    netloc = urllib.parse.urlsplit(database_url).netloc
    folder = Path(urllib.parse.unquote(netloc.rpartition("@")[2].rpartition(":")[0]))
    data = Path(os.environ.get("LOAD_PGDATA") or folder / "data")
    if not (data / "PG_VERSION").exists():
        return f"PostgreSQL not restarted: no cluster at {data} (set LOAD_PGDATA)"
    pg_ctl = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))[-1]
    owner = ["runuser", "-u", data.owner(), "--"] if os.geteuid() == 0 and data.owner() != "root" else []
    started = time.monotonic()
    # -m fast: open transactions are rolled back and every connection is cut, as in a real restart.
    subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [*owner, str(pg_ctl), "-D", str(data), "-l", str(data.parent / "server.log"), "-m", "fast", "-w", "restart"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return f"pg_ctl restart -m fast ({time.monotonic() - started:.1f} s)"
