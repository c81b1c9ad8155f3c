"""gunicorn settings for the production profile (scripts/serve.sh passes this file with -c).

Environment: BIND (default 127.0.0.1:8001, loopback only: the HTTPS proxy is in front),
WEB_CONCURRENCY (worker processes), GUNICORN_TIMEOUT (seconds), FORWARDED_ALLOW_IPS
(the proxy's address when it is not on this machine), GUNICORN_ACCESS_LOG ("-" for stdout,
a file, or "" for none).
"""

import os


def default_workers() -> int:
    """2 × cores + 1, the usual figure for sync workers, at most 8.

    Each worker is a full copy of the site (about 150 MB with the PDF renderer) holding one
    PostgreSQL connection; 8 keeps a small server's memory and PostgreSQL's 100 connections
    far from their limits. On the town's 2-core server this gives 5.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(2 * cores + 1, 8)


wsgi_app = "dibao.wsgi:application"
bind = os.environ.get("BIND", "127.0.0.1:8001").split(",")
workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers())
# Sync workers: each request has a process to itself; slow clients are the proxy's business
# (nginx buffers requests and responses).
worker_class = "sync"
# A county-wide PDF or Excel export may take a while; a worker silent for longer is killed
# and replaced by the master.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Replace each worker now and then, so that a slow leak cannot grow without end.
max_requests = 2000
max_requests_jitter = 200
# Load the site once in the master, then fork: a worker killed or recycled is replaced at once,
# and a site that cannot start (no SECRET_KEY, bad settings) stops the master with the reason.
# (New code therefore needs a restart, not a HUP.)
preload_app = True
# The heartbeat file in memory, not on a disk that may stall under a backup.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - gunicorn's own advice

# Request limits before Django sees anything (the body is capped in dibao/wsgi.py).
limit_request_line = 4094  # the longest URL: the household list with every filter set is far shorter
limit_request_fields = 100
limit_request_field_size = 8190

# X-Forwarded-Proto is believed from these addresses only (the proxy on this machine).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# No runtime control socket: it would sit in the home directory, shared by every instance.
control_socket_disable = True

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
# Client address (from the proxy), path without the query string (it may hold a searched name or
# ID number), status, size and the response time in microseconds.
access_log_format = '%({x-forwarded-for}i)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(D)sus'
proc_name = "dibao"
