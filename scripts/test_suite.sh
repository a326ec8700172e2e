#!/usr/bin/env bash
# `make test`: the whole suite as two pytest processes side by side.
#   - the e2e tier (pipeline subprocesses), its output kept in a log and shown at the end;
#   - the unit, spark and system tiers, then Airflow's DAG tests, on the terminal.
# A serial run leaves the two cores half idle: JVMs starting, containers building,
# servers and cycles waited for (see docs/architecture.md, "Test tiers").
# Every test picks free ports and works under its own tmp_path, so the two
# processes share nothing but the machine. Exit status: non-zero if either failed.
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
e2e_log=$(mktemp -t e2e-tier.XXXXXX.log)

"$python" -m pytest -m e2e --durations=15 "$@" >"$e2e_log" 2>&1 &
e2e_pid=$!
trap 'kill "$e2e_pid" 2>/dev/null; wait "$e2e_pid"; exit 130' INT TERM

echo "test: the e2e tier runs alongside, its log in $e2e_log (shown when it ends)"
"$python" -m pytest -m "not e2e" --durations=15 "$@"
others=$?
make --no-print-directory airflow-test
airflow=$?

wait "$e2e_pid"
e2e=$?
trap - INT TERM
echo
echo "==================== the e2e tier, run alongside ($e2e_log) ===================="
cat "$e2e_log"
echo
echo "test: unit/spark/system exit $others, e2e exit $e2e, airflow exit $airflow"
[ "$others" -eq 0 ] && [ "$e2e" -eq 0 ] && [ "$airflow" -eq 0 ]
