#!/usr/bin/env bash
# The container image's entrypoint: spark-submit.sh with the arguments given
# (`docker run IMAGE all --lake /lake`).
# Run as a uid the image does not know (`docker run --user "$(id -u):$(id -g)"`,
# so that the files written in a mounted lake are the host user's), the JVM
# finds no user name or home (Hadoop's login and Spark's Ivy path need both):
# nss_wrapper gives that uid a passwd entry for this process and its children
# only. podman adds such an entry itself; docker does not.
set -euo pipefail
if ! whoami >/dev/null 2>&1; then
  wrapper=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -n 1)
  if [ -n "$wrapper" ]; then
    NSS_WRAPPER_PASSWD=$(mktemp) NSS_WRAPPER_GROUP=$(mktemp)
    echo "pipeline:x:$(id -u):$(id -g):pipeline:/tmp:/bin/bash" >"$NSS_WRAPPER_PASSWD"
    echo "pipeline:x:$(id -g):" >"$NSS_WRAPPER_GROUP"
    export LD_PRELOAD=$wrapper NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP HOME=/tmp
  fi
fi
# Spark on Kubernetes starts executor pods from the same image with the argument
# `executor` and their settings in SPARK_* variables: start the executor backend
# as the official Spark image's entrypoint does (the executors run no Python).
if [ "${1:-}" = executor ]; then
  spark_home=$(echo /opt/pipeline/.venv/lib/python3*/site-packages/pyspark)
  mapfile -t java_options < <(env | grep '^SPARK_JAVA_OPT_' | sort -t_ -k4 -n | sed 's/^[^=]*=//')
  exec java "${java_options[@]}" -Xms"$SPARK_EXECUTOR_MEMORY" -Xmx"$SPARK_EXECUTOR_MEMORY" \
    -cp "${SPARK_CLASSPATH:+$SPARK_CLASSPATH:}$spark_home/jars/*:/opt/pipeline/.jars/*" \
    org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend \
    --driver-url "$SPARK_DRIVER_URL" --executor-id "$SPARK_EXECUTOR_ID" --cores "$SPARK_EXECUTOR_CORES" \
    --app-id "$SPARK_APPLICATION_ID" --hostname "$SPARK_EXECUTOR_POD_IP" \
    --resourceProfileId "$SPARK_RESOURCE_PROFILE_ID" --podName "$SPARK_EXECUTOR_POD_NAME"
fi
exec /opt/pipeline/spark-submit.sh "$@"
