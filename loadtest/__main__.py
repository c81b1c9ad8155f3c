"""`make load`: 50 village cadres at once against the production profile, then the same with faults.

Run inside scripts/with_postgres.sh (it provides DATABASE_URL: a throwaway cluster):

    scripts/with_postgres.sh .venv/bin/python -m loadtest

1. Builds the demo town and four extra cadres per village (villages 6–15), so 50 cadres.
2. Starts scripts/serve.sh (gunicorn, DEBUG off, database cache, whitenoise) on a free
   loopback port; the client plays the HTTPS proxy (X-Forwarded-Proto/-For).
3. Normal run: every cadre signs in, opens the village list, fills in, saves, signs and
   submits surveys; in each village a cadre and the work-group member edit one draft at
   the same time, each their own field.
4. Fault run: the same on other households, while one gunicorn worker is killed (SIGKILL)
   and PostgreSQL is restarted (pg_ctl restart -m fast).
5. After each run: lost writes (a save confirmed by a redirect whose value is not in the
   database), half-saved surveys, error pages shown, and whether the site recovered.

Only 127.0.0.1 is contacted. Each run stops taking new surveys after RUN_SECONDS and ends
within RUN_SECONDS + 30 s or MAX_REQUESTS requests; the whole command stops itself after
TOTAL_SECONDS. Exit status 0 only if nothing was lost, nothing half-saved, no traceback
shown, the normal run had no errors and the site recovered after the faults.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RUN_SECONDS = int(os.environ.get("LOAD_RUN_SECONDS", "45"))
MAX_REQUESTS = int(os.environ.get("LOAD_MAX_REQUESTS", "8000"))
TOTAL_SECONDS = 420
KILL_WORKER_AT, RESTART_DB_AT = 12.0, 24.0
ROOT = Path(__file__).resolve().parent.parent


class TimeUp(Exception):
    pass


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("The load test needs PostgreSQL: `make load` (scripts/with_postgres.sh .venv/bin/python -m loadtest).")
        return 2

    def time_up(*_):
        raise TimeUp(f"the load test ran past its {TOTAL_SECONDS} s limit")

    signal.signal(signal.SIGALRM, time_up)
    signal.alarm(TOTAL_SECONDS)
    began = time.monotonic()

    print("==> demo town (migrate, demo_town)")
    dev = {**os.environ, "DEBUG": "1"}
    python = str(ROOT / ".venv" / "bin" / "python")
    for command in (["migrate", "--no-input", "-v", "0"], ["demo_town"]):
        # Our own manage.py with fixed arguments, no shell.
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=dev, check=True, stdout=subprocess.DEVNULL)  # noqa: S603

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dibao.settings")
    os.environ.pop("DEBUG", None)
    os.environ.setdefault("SECRET_KEY", "load-test-orchestrator-only")
    import django

    django.setup()
    from cases.models import Campaign

    from . import checks
    from .server import Server, free_port, restart_postgres
    from .setup import make_accounts, plan_runs

    campaign = Campaign.objects.current()
    people = make_accounts(campaign)
    plans = plan_runs(campaign, people, runs=2)
    print(f"    {time.monotonic() - began:.0f} s: {plans[0].users} users per run ({len(plans[0].cadres)} cadres)")

    log = Path(tempfile.mkdtemp(prefix="dibao-load.")) / "serve.log"
    server = Server(free_port(), log)
    print(f"==> production profile: scripts/serve.sh on {server.base} (log {log})")
    results = []
    try:
        server.start()
        print(f"    up after {time.monotonic() - began:.0f} s; workers: {len(server.workers())}")
        results.append(run("normal run", server, plans[0], faults=None, checks=checks))
        faults = [
            (KILL_WORKER_AT, server.kill_a_worker),
            (RESTART_DB_AT, lambda: restart_postgres(os.environ["DATABASE_URL"])),
        ]
        results.append(run("fault run", server, plans[1], faults=faults, checks=checks))
        after = server.healthy()
        print(f"==> after the runs: /healthz {'200' if after else 'NOT answering'}; workers: {len(server.workers())}")
    except TimeUp as exc:
        print(f"!!! {exc}")
        return 1
    finally:
        status = server.stop()
        print(f"==> scripts/serve.sh stopped (status {status}) after {time.monotonic() - began:.0f} s in all")
        signal.alarm(0)
    ok = after and all(r["ok"] for r in results)
    if ok:
        shutil.rmtree(log.parent)
        print("==> PASSED")
    else:
        print(f"==> FAILED (the server's log is kept: {log})")
    return 0 if ok else 1


def run(name: str, server, plan, *, faults, checks) -> dict:
    from . import report
    from .browser import Recorder
    from .scenario import Ledger, User, run_cadre, run_partner

    recorder = Recorder(name, max_requests=MAX_REQUESTS)
    ledger = Ledger()
    soft = recorder.started + RUN_SECONDS
    hard = soft + 30
    threads = []
    for account, tasks in plan.cadres:
        user = User(server.base, account, recorder=recorder, ledger=ledger, hard_deadline=hard)
        threads.append(threading.Thread(target=run_cadre, args=(user, tasks, soft), daemon=True))
    for account, task in plan.partners:
        user = User(server.base, account, recorder=recorder, ledger=ledger, hard_deadline=hard)
        threads.append(threading.Thread(target=run_partner, args=(user, task), daemon=True))
    print(f"\n==> {name}: {len(plan.cadres)} village cadres + {len(plan.partners)} work-group members at once")
    log_start, cpu_start, machine_start = server.log_offset(), time.process_time(), busy_cores()
    for thread in threads:
        thread.start()
    events = []
    for at, fault in faults or []:
        time.sleep(max(0.0, recorder.started + at - time.monotonic()))
        started = time.monotonic() - recorder.started
        what = fault()
        events.append((started, time.monotonic() - recorder.started, what))
        print(f"    t={started:5.1f} s  {what}")
    for thread in threads:
        thread.join(timeout=max(1.0, hard + 5 - time.monotonic()))
    seconds = time.monotonic() - recorder.started
    samples = list(recorder.samples)
    client_cores = (time.process_time() - cpu_start) / seconds
    machine_cores = (busy_cores() - machine_start) / seconds
    served = server.served_ms(log_start, server.log_offset())

    figures = report.figures(samples, seconds)
    lost = checks.lost_writes(ledger)
    broken = checks.half_saved(ledger)
    pages = report.error_pages(samples)
    print(
        f"    {seconds:.0f} s, {figures['requests']} requests ({figures['per_second']:.1f}/s), "
        f"errors {figures['errors']}, p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f} ms, "
        f"p99 {figures['p99']:.0f} ms, max {figures['max']:.0f} ms"
    )
    print(
        f"    server's own time (gunicorn access log, {len(served)} requests): "
        f"p50 {report.percentile(served, 0.5):.0f} ms, p95 {report.percentile(served, 0.95):.0f} ms; "
        f"the rest is queueing for a worker"
    )
    print(
        f"    CPU: {machine_cores:.1f} of the machine's {len(os.sched_getaffinity(0))} cores busy, "
        f"{client_cores:.1f} of them this load generator"
    )
    print(report.table(samples))
    for what, n in sorted(ledger.counts.items()):
        print(f"    {what}: {n}")
    print(f"    surveys submitted (database): {checks.submitted(ledger)} of {len(ledger.touched)} touched")
    for note, n in ledger.notes.most_common(5):
        print(f"      ({n}×) {note}")
    if figures["errors"]:
        print(f"    errors by kind: {dict(report.error_kinds(samples))}")
    print(f"    lost writes: {len(lost)} (of {len(ledger.confirmed)} confirmed values)")
    for line in lost[:10]:
        print(f"      {line}")
    print(f"    half-saved surveys: {len(broken)} (of {len(ledger.touched)} touched)")
    for line in broken[:10]:
        print(f"      {line}")
    ok = not lost and not broken and not pages.get("traceback/other")
    if faults is None:
        ok = ok and figures["errors"] == 0
    else:
        print(f"    5xx pages shown: {dict(pages) or 'none'} (clear = the site's own 系统出现错误 page)")
        for started, ended, what in events:
            after = report.window(samples, started, 10)
            bad = [s for s in after if s.error]
            first_ok = min(
                (report.done_at(s) for s in samples if s.at >= ended and not s.error and s.status), default=None
            )
            back = f"{first_ok - ended:.1f} s after it" if first_ok is not None else "never"
            print(f"    after “{what}”: {len(bad)} errors in the next 10 s; first success {back}")
        settled = max(ended for _, ended, _ in events) + 15
        late = [s for s in samples if report.done_at(s) >= settled]
        probe = probe_user(server, plan, recorder)
        recovered = server.healthy() and probe and not any(s.error for s in late)
        print(
            f"    from 15 s after the last fault on: {len(late)} requests, {sum(1 for s in late if s.error)} errors; "
            f"a fresh sign-in and village list afterwards: {'ok' if probe else 'FAILED'}"
        )
        print(f"    recovered by itself: {'yes' if recovered else 'NO'}")
        ok = ok and recovered
    return {"name": name, "ok": ok, **figures, "lost": len(lost), "half_saved": len(broken)}


def busy_cores() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def probe_user(server, plan, recorder) -> bool:
    """After the faults, someone new signs in and opens their village list: the site works again."""
    from .browser import ServerError
    from .scenario import Ledger, User

    account = plan.cadres[-1][0]
    user = User(server.base, account, recorder=recorder, ledger=Ledger(), hard_deadline=time.monotonic() + 30)
    try:
        page_ok = user.sign_in()
        user.village_list()
    except ServerError:
        return False
    return page_ok


if __name__ == "__main__":
    sys.exit(main())
