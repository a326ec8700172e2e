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
exec /opt/pipeline/spark-submit.sh "$@"
