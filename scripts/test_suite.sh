#!/usr/bin/env bash
# `make test`: the whole suite as two halves side by side, about as long as each other:
#   - the e2e tier (pipeline subprocesses), then Airflow's DAG tests: their output
#     kept in a log and shown at the end;
#   - the unit, spark and system tiers, on the terminal.
# On 2 cores the halves slow each other down, yet the run is about 15% shorter
# than one after the other (docs/architecture.md, "Tiers"). The last lines
# repeat both halves' seconds per tier.
# Every test picks free ports and works below its own tmp_path, so the halves
# share nothing but the machine. Exit status: non-zero if either half failed.
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
e2e_log=$(mktemp -t e2e-tier.XXXXXX.log)
others_log=$(mktemp -t other-tiers.XXXXXX.log)

(
  "$python" -m pytest -m e2e --durations=15 "$@"
  e2e=$?
  make --no-print-directory airflow-test
  airflow=$?
  echo "test: e2e exit $e2e, airflow exit $airflow"
  [ "$e2e" -eq 0 ] && [ "$airflow" -eq 0 ]
) >"$e2e_log" 2>&1 &
e2e_pid=$!
trap 'pkill -TERM -P "$e2e_pid"; kill "$e2e_pid" 2>/dev/null; wait "$e2e_pid"; exit 130' INT TERM

echo "test: the e2e tier and Airflow's tests run alongside, their log in $e2e_log (shown when they end)"
"$python" -m pytest -m "not e2e" --durations=15 "$@" 2>&1 | tee "$others_log"
others=${PIPESTATUS[0]}

wait "$e2e_pid"
alongside=$?
trap - INT TERM
echo
echo "==================== the e2e tier and Airflow's tests, run alongside ($e2e_log) ===================="
cat "$e2e_log"
echo
grep -h "^time per tier" "$others_log" "$e2e_log"
rm -f "$others_log"
echo "test: unit/spark/system exit $others, e2e and airflow exit $alongside"
[ "$others" -eq 0 ] && [ "$alongside" -eq 0 ]
