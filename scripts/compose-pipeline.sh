#!/usr/bin/env bash
# The one-shot `pipeline` service of compose.yaml: the landing files mounted at
# /landing that the lake has not seen are copied into it, bronze..kpis run on the
# standalone master ($MASTER, settings conf/$CONF_ENV.toml), and the gold tables
# go to PostgreSQL (PG* variables).
set -euo pipefail
mkdir -p /lake/landing /lake/_meta/spark-events
cp -rn /landing/. /lake/landing/
# PostgreSQL opens its port once it is ready: wait for that (2 minutes at most).
for _ in $(seq 120); do
  (exec 3<>"/dev/tcp/$PGHOST/$PGPORT") 2>/dev/null && break
  sleep 1
done
/opt/pipeline/scripts/container-entrypoint.sh all --lake /lake --master "$MASTER" --conf-env "$CONF_ENV"
exec /opt/pipeline/scripts/container-entrypoint.sh publish --lake /lake --master "$MASTER" --conf-env "$CONF_ENV"
