# Sourced by scripts/serve.sh (production) and scripts/run.sh (development): run the site's
# processes side by side, as one unit.
#
#   start COMMAND...   start a process, leading a process group of its own, so that stopping it
#                      reaches its children too (gunicorn's or runserver's workers);
#   supervise NAME     wait: Ctrl-C or SIGTERM stops them all (exit 0); if any one of them
#                      ends, the others are stopped and NAME exits non-zero, so that a service
#                      manager (systemd Restart=on-failure) can start the set again.
#
# Stopping is graceful: SIGTERM, then STOP_GRACE seconds (default 35: gunicorn's own graceful
# timeout is 30) for requests and the worker's current job to finish; what still runs is told
# again, which ends the worker's job (marked interrupted, to be started again from its page).
# A second Ctrl-C stops everything at once.
pids=()
start() {
  setsid "$@" &
  pids+=("$!")
}
signal_all() {
  for pid in "${pids[@]}"; do
    kill "-$1" -- "-$pid" 2>/dev/null || true
  done
}
running() {
  for pid in "${pids[@]}"; do
    kill -0 -- "-$pid" 2>/dev/null && return 0
  done
  return 1
}
stop() {
  trap 'signal_all KILL; exit 1' INT TERM
  signal_all TERM
  local waited=0
  while running && [ "$waited" -lt "${STOP_GRACE:-35}" ]; do
    sleep 1
    waited=$((waited + 1))
  done
  running && signal_all TERM
  wait || true
}
supervise() {
  local status=0
  wait -n || status=$?
  echo "$1: a process ended (status $status); stopping the others" >&2
  stop
  exit $((status == 0 ? 1 : status))
}
# Ctrl-C reaches the script (not the processes, each in a session of its own): it stops them.
trap 'echo "==> stopping"; stop; exit 0' INT TERM
