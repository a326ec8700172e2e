#!/usr/bin/env bash
# make serve / make serve-stop: the SQL endpoints (jobs/serve.py) as a background
# service with a pid file.
#   scripts/serve.sh start PID_FILE [spark-submit.sh serve options...]
#   scripts/serve.sh stop PID_FILE
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
action=${1:-}; pid_file=${2:-}
[ -n "$action" ] && [ -n "$pid_file" ] || { echo "usage: $0 start|stop PID_FILE [options]" >&2; exit 2; }
shift 2
mkdir -p "$(dirname "$pid_file")"
output=${pid_file%.pid}.out

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

case "$action" in
  start)
    if [ -f "$pid_file" ] && alive "$(head -n 1 "$pid_file")"; then
      echo "serve: error: already running (pid $(head -n 1 "$pid_file"), $pid_file); make serve-stop first" >&2; exit 1
    fi
    rm -f "$pid_file"
    # Its own session: a Ctrl-C in this terminal later does not reach it.
    setsid "$here/spark-submit.sh" serve --pid-file "$pid_file" "$@" >"$output" 2>&1 </dev/null &
    launcher=$!
    for _ in $(seq 300); do  # the pid file appears when both endpoints listen
      if [ -f "$pid_file" ]; then grep '^serve: ' "$output"; exit 0; fi
      if ! alive "$launcher"; then
        grep -E '^serve: error: ' "$output" >&2 || tail -n 5 "$output" >&2
        exit 1
      fi
      sleep 1
    done
    echo "serve: error: not ready after 300 s; see $output" >&2; exit 1 ;;
  stop)
    [ -f "$pid_file" ] || { echo "serve: not running (no $pid_file)"; exit 0; }
    mapfile -t pids <"$pid_file"
    kill -TERM "${pids[0]}" 2>/dev/null || true
    for _ in $(seq 120); do  # the Python driver, then its JVM
      alive "${pids[0]}" || alive "${pids[1]:-}" || { rm -f "$pid_file"; echo "serve: stopped"; exit 0; }
      sleep 0.5
    done
    echo "serve: error: still running after 60 s (pids ${pids[*]}); kill -9 them" >&2; exit 1 ;;
  *) echo "usage: $0 start|stop PID_FILE [options]" >&2; exit 2 ;;
esac
