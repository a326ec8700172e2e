#!/usr/bin/env bash
# Beeline (from the pyspark wheel) on the JDBC endpoint of `make serve`:
#   scripts/beeline.sh [PORT] [beeline options, e.g. -e "SELECT ..." or -f file.sql]
# The Thrift server sends each error with its stack trace; this prints one line
# per error instead (the whole text is in the server's log). A server started with
# a password (serve --auth FILE, or PIPELINE_SERVE_PASSWORD): `set -a; . FILE; set +a`
# first; the password goes to beeline in a file of this user's, not on its command line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
port=10000
case "${1:-}" in [0-9]*) port=$1; shift ;; esac
export PATH="$here/.venv/bin:$PATH"
export SPARK_HOME=${SPARK_HOME:-$("$here/.venv/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')}
# Each error ends with "(state=...,code=...)"; its first line says what is wrong.
one_line_errors() {
  awk '
    skipping { if ($0 ~ /\(state=[^)]*,code=-?[0-9]+\)$/) skipping = 0; next }
    /^Error: / {
      line = $0
      sub(/^Error: (org\.apache\.hive\.service\.cli\.HiveSQLException: )?(Error running query: )?/, "", line)
      sub(/^\[[A-Z_.]+\] [a-zA-Z.$]+(Exception|Violation|Refusal): /, "", line)  # the condition, said twice
      print "Error: " line; fflush()
      skipping = ($0 !~ /\(state=[^)]*,code=-?[0-9]+\)$/); next
    }
    { print; fflush() }'
}
login=()
if [ -n "${PIPELINE_SERVE_PASSWORD:-}" ]; then
  password_file=$(mktemp)
  trap 'rm -f "$password_file"' EXIT
  printf '%s' "$PIPELINE_SERVE_PASSWORD" >"$password_file"
  login=(-n "${USER:-pipeline}" -w "$password_file")
fi
status=0
beeline -u "jdbc:hive2://127.0.0.1:$port" "${login[@]}" --showHeader=true --outputformat=table "$@" 2> >(one_line_errors >&2) || status=$?
wait "${!:-}" 2>/dev/null || true  # the filter's last lines
exit $status
