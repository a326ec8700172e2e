#!/usr/bin/env bash
# Run one pipeline job with spark-submit and the Delta settings.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DELTA_PACKAGE=io.delta:delta-spark_4.2_2.13:4.4.0
POSTGRES_PACKAGE=org.postgresql:postgresql:42.7.14  # JDBC driver of the publish job
S3A_PACKAGE=org.apache.hadoop:hadoop-aws:3.5.0  # s3a://, at pyspark's Hadoop version
JOBS=$(awk '!/^#/ && NF {print $1}' "$here/conf/jobs.txt" | paste -sd' ')  # conf/jobs.txt: the one list

usage() {
  cat <<USAGE
Usage: spark-submit.sh <job> [--lake PATH] [--master URL] [--conf-env local|cluster] [job options]

Jobs:
$(awk '!/^#/ && NF {name = $1; $1 = $2 = ""; sub(/^ +/, ""); printf "  %-10s %s\n", name, $0}' "$here/conf/jobs.txt")

Options:
  --lake PATH        lake root: local folder or Hadoop URI (default: conf/<env>.toml)
  --master URL       Spark master (default: local[*]); e.g. spark://host:7077, yarn,
                     k8s://https://host:443 (client deploy mode: the driver runs here)
  --conf-env ENV     settings file conf/ENV.toml (default: local for local[*] masters,
                     cluster for any other master)
  -h, --help         this help; 'spark-submit.sh <job> --help' lists the job's own options

Jars: taken from .jars/ (fetched once by 'make setup'), and from .jars-s3/
('make setup-s3') when the lake is s3a://... or S3_JARS=1; when .jars/ is
missing (e.g. on a cluster edge node) Spark resolves them with --packages:
$DELTA_PACKAGE, $POSTGRES_PACKAGE
(and $S3A_PACKAGE).
Class archive: .cds/spark.jsa (made by 'make setup', scripts/class_archive.sh), when
present, shortens the driver JVM's start-up by several seconds.
S3: conf/s3.toml applies to s3a:// lakes; the endpoint and credentials come from
the environment (AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, ...; docs/operations.md).
Logs: a failed job prints one 'error:' line; Spark's log with stack traces and the
Python traceback go to <lake>/_meta/logs/<job>-<time>-<pid>.log (logs/ here when
the lake is not an existing local folder).
Ctrl-C: stops a job where it is with one line (exit 130; every table keeps its
last commit); a continuous run stops after its cycle (exit 0).
Environment: SPARK_SUBMIT (spark-submit to use; local jobs then start through
it too, not Python first), DRIVER_MEMORY (default 2g),
SPARK_SUBMIT_OPTS_EXTRA (more spark-submit options, word-split), S3_JARS=1
(load the S3 jars whatever the lake), PYSPARK_PYTHON (the executors' Python
on a cluster; default: the node's), PIPELINE_PACKAGED (set: ship
build/pipeline.zip as it is, as the container image does).
USAGE
}

[ $# -ge 1 ] || { usage >&2; exit 2; }
case "$1" in
  -h|--help) usage; exit 0 ;;
esac
job=$1; shift
# Ctrl-C before the job's own process takes over (it replaces this script):
# one line, as the job itself would say it.
trap 'echo "$job: interrupted before it started" >&2; exit 130' INT
if ! grep -qw -- "$job" <<<"$JOBS"; then
  echo "spark-submit.sh: error: unknown job '$job' (choose from: $JOBS)" >&2; exit 2
fi

master="local[*]"
conf_env_given=no
job_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --master) [ $# -ge 2 ] || { echo "spark-submit.sh: error: --master needs a URL" >&2; exit 2; }
              master=$2; shift 2 ;;
    --master=*) master=${1#--master=}; shift ;;
    --conf-env|--conf-env=*) conf_env_given=yes; job_args+=("$1"); shift ;;
    *) job_args+=("$1"); shift ;;
  esac
done

# The job's own parser checks its arguments in plain Python before any JVM
# starts (pipeline/runtime/check_args.py): --help and a bad option answer at once.
# 0: go on; 3: it answered (--help), nothing to run; else a usage error (2).
if [ -x "$here/.venv/bin/python" ]; then check_python=$here/.venv/bin/python; else check_python=${PYSPARK_DRIVER_PYTHON:-python3}; fi
checked=0
# Helpers run with SIGINT ignored: a Ctrl-C meanwhile is this script's to report, once they are done.
(trap '' INT; PIPELINE_HOME="$here" PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" \
  exec "$check_python" -m pipeline.runtime.check_args "$job" "${job_args[@]}") || checked=$?
case $checked in 0) ;; 3) exit 0 ;; *) exit "$checked" ;; esac

submit=${SPARK_SUBMIT:-}
if [ -z "$submit" ]; then
  if [ -x "$here/.venv/bin/spark-submit" ]; then
    # pip's spark-submit finds SPARK_HOME and Python through the venv. The driver
    # runs here; on a cluster the executors use their node's Python (they run no
    # Python code: the pipeline has no UDFs).
    export PATH="$here/.venv/bin:$PATH"
    export PYSPARK_DRIVER_PYTHON="${PYSPARK_DRIVER_PYTHON:-$here/.venv/bin/python}"
    case "$master" in local*) export PYSPARK_PYTHON="${PYSPARK_PYTHON:-$here/.venv/bin/python}" ;; esac
    submit="$here/.venv/bin/spark-submit"
  else
    submit=spark-submit
  fi
fi
command -v "$submit" >/dev/null || { echo "spark-submit.sh: error: spark-submit not found (run 'make setup')" >&2; exit 1; }

# build/pipeline.zip, shipped with --py-files: rebuilt for every run from the
# code here, except in the container image, which made it at build time.
if [ -z "${PIPELINE_PACKAGED:-}" ] || [ ! -f "$here/build/pipeline.zip" ]; then
  (trap '' INT; exec "$here/scripts/package.sh")
fi

export PIPELINE_HOME="$here"  # where jobs find conf/ and resolve a relative lake

# Spark's stack traces and a failed job's Python traceback go to one log file
# per run: under <lake>/_meta/logs/ for an existing local lake, else logs/ here.
lake_arg=
conf_env=local
case "$master" in local*) ;; *) conf_env=cluster ;; esac
for ((i = 0; i < ${#job_args[@]}; i++)); do
  case "${job_args[i]}" in
    --lake) lake_arg=${job_args[i + 1]:-} ;;
    --lake=*) lake_arg=${job_args[i]#--lake=} ;;
    --conf-env) conf_env=${job_args[i + 1]:-} ;;
    --conf-env=*) conf_env=${job_args[i]#--conf-env=} ;;
  esac
done
# No --lake: the lake of the settings file (the job itself reports a missing or bad one).
[ -n "$lake_arg" ] || lake_arg=$(sed -n 's/^lake *= *"\(.*\)".*/\1/p' "$here/conf/$conf_env.toml" 2>/dev/null | head -n 1 || true)
case "$lake_arg" in
  file:*) lake_dir=${lake_arg#file:} ;;
  *:*|"") lake_dir= ;;
  /*) lake_dir=$lake_arg ;;
  *) lake_dir=$here/$lake_arg ;;
esac
if [ -n "$lake_dir" ] && [ -d "$lake_dir" ] && [ -w "$lake_dir" ]; then log_dir=$lake_dir/_meta/logs; else log_dir=$here/logs; fi

# s3a:// needs hadoop-aws and the AWS SDK ('make setup-s3' puts them in
# .jars-s3/). Only runs on an s3a:// lake, or with S3_JARS=1, load them: local
# runs keep their class path and start-up time.
with_s3=${S3_JARS:-0}
case "$lake_arg" in s3a://*) with_s3=1 ;; esac
if [ -f "$here/.jars/.complete" ]; then
  jars=$(ls "$here"/.jars/*.jar | paste -sd, -)
  if [ "$with_s3" = 1 ]; then
    [ -f "$here/.jars-s3/.complete" ] || {
      echo "spark-submit.sh: error: an s3a:// lake needs the S3 jars: run 'make setup-s3' first" >&2; exit 1; }
    jars+=,$(ls "$here"/.jars-s3/*.jar | paste -sd, -)
  fi
  delta=(--jars "$jars")
else
  packages=$DELTA_PACKAGE,$POSTGRES_PACKAGE
  [ "$with_s3" = 1 ] && packages+=,$S3A_PACKAGE
  delta=(--packages "$packages")
fi
mkdir -p "$log_dir"
export PIPELINE_LOG_FILE="$log_dir/$job-$(date -u +%Y%m%dT%H%M%SZ)-$$.log"
case "$master" in
  local*) export SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1} ;;
  *) [ "$conf_env_given" = yes ] || job_args+=(--conf-env cluster) ;;
esac

# spark-submit shows Spark's console progress bar only for shells; show it for
# jobs too when a person watches (stderr is a terminal), not in Airflow or cron logs.
# Spark's own log lines reach the terminal from level ERROR (all with --verbose).
progress=false
console_level=error
if printf '%s\n' "${job_args[@]}" | grep -qx -- --verbose; then console_level=all; elif [ -t 2 ]; then progress=true; fi
log_conf="-Dlog4j2.configurationFile=file:$here/conf/log4j2.properties -Dpipeline.log.file=$PIPELINE_LOG_FILE"
log_conf+=" -Dpipeline.console.level=$console_level"
# Spark's generated code for silver's parsing is one method above HotSpot's 8 kB
# JIT limit; without this flag it runs interpreted, about twice as slow.
jvm_flags="-XX:-DontCompileHugeMethods"
# The driver maps the classes of the class archive (scripts/class_archive.sh,
# made by 'make setup') instead of loading and verifying each: ~6 s less start-up.
# The JVM silently ignores an archive of another Java or class path.
if [ -n "${CLASS_ARCHIVE_DUMP:-}" ]; then
  jvm_flags+=" -XX:ArchiveClassesAtExit=$CLASS_ARCHIVE_DUMP"
elif [ -f "$here/.cds/spark.jsa" ]; then
  jvm_flags+=" -XX:SharedArchiveFile=$here/.cds/spark.jsa -Xlog:cds=off -Xlog:cds+dynamic=off"
fi
# shellcheck disable=SC2206
options=(
  --master "$master"
  --name "customer-care-$job"
  --driver-memory "${DRIVER_MEMORY:-2g}"
  "${delta[@]}"
  --py-files "$here/build/pipeline.zip"
  --files "$here/conf/log4j2.properties"
  --conf "spark.driver.extraJavaOptions=$log_conf $jvm_flags"
  --conf "spark.executor.extraJavaOptions=-Dlog4j2.configurationFile=log4j2.properties -XX:-DontCompileHugeMethods"
  --conf "spark.ui.showConsoleProgress=$progress"
  ${SPARK_SUBMIT_OPTS_EXTRA:-}
)

# Spark's launcher always adds --add-modules=jdk.incubator.vector, and the JVM
# then prints a notice about it on every start: keep it off the terminal. The
# filter ignores Ctrl-C, so that it outlives the JVM's last line. Not for an
# interactive spark-sql shell, whose line editing wants the terminal itself.
if [ "$job" != sql ] || [ ! -t 0 ]; then
  exec 2> >(trap '' INT TERM; exec grep -v --line-buffered -x -F 'WARNING: Using incubator modules: jdk.incubator.vector' >&2)
fi
# Local jobs start Python first, and pyspark starts the JVM from these options
# with SIGINT ignored: Ctrl-C in a terminal, which reaches the whole process
# group, then stops only the driver, which says so in one line and ends the JVM
# itself (pipeline/runtime/interrupts.py); under spark-submit the JVM would
# stop Spark under the driver's feet. The driver's errors reach stderr as they
# are (spark-submit merges them into stdout). Cluster masters go through
# spark-submit, which ships the job file to them.
python_first() {
  export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
  export PYSPARK_SUBMIT_ARGS="$(printf '%q ' "${options[@]}")pyspark-shell"
  # Inherited by Python until launch.py puts its own handler in place, at once: a
  # Ctrl-C in between (some 6 ms; 20 ms more with the site packages, which -S
  # leaves to launch.py) is lost.
  trap '' INT
  exec "${PYSPARK_DRIVER_PYTHON:-python3}" -S "$here/pipeline/runtime/launch.py" "$here/jobs/$job.py" "${job_args[@]}"
}
case "$job" in
  sql)  # jobs/sql.py registers the lake's tables, then becomes spark-sql with these options
    export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
    export PIPELINE_SUBMIT="$(printf '%q ' "$submit" "${options[@]}")"
    exec "${PYSPARK_DRIVER_PYTHON:-python3}" "$here/jobs/sql.py" "${job_args[@]}" ;;
  serve)  # the Thrift server loads Delta's catalog from the driver's own class path
    "$here/scripts/build_sql_guard.sh"
    class_path=("$here"/.jars/*.jar "$here/build/sql-guard.jar")
    [ "$with_s3" = 1 ] && class_path+=("$here"/.jars-s3/*.jar)
    options+=(--driver-class-path "$(ls "${class_path[@]}" 2>/dev/null | paste -sd:)")
    [ -f "$here/.jars/.complete" ] || options+=(--jars "$here/build/sql-guard.jar") ;;
  status) python_first ;;  # plain Python on a local lake (the Delta logs read directly); Spark for another
  *)
    case "$master" in local*) [ -z "${SPARK_SUBMIT:-}" ] && python_first ;; esac
    # A continuous run stops on Ctrl-C after its cycle, on any master.
    if [ "$job" = all ] && printf '%s\n' "${job_args[@]}" | grep -qx -- --continuous; then python_first; fi ;;
esac
exec "$submit" "${options[@]}" "$here/jobs/$job.py" "${job_args[@]}"
