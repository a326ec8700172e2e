#!/usr/bin/env bash
# Fetch Delta Lake's jars and the PostgreSQL JDBC driver from Maven Central once
# into .jars/ so that runs and tests need no network afterwards. Jars that
# pyspark already ships (Hadoop, Parquet, Jackson, Scala, ...) are left out:
# Spark's own versions must win.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
dest=.jars
spark_jars=$("$python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mvn -q -B -f scripts/delta-jars.pom.xml dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1 || {
  cat "$tmp.log" >&2; echo "error: could not fetch the jars from Maven Central" >&2; exit 1; }

# jcl-over-slf4j and RoaringBitmap 1.x in Spark already cover these two.
shipped=$(ls "$spark_jars"; echo commons-logging-0; echo shims-0)
rm -rf "$dest" && mkdir -p "$dest"
for jar in "$tmp"/*.jar; do
  artifact=$(basename "$jar" .jar | sed -E 's/-[0-9][^-]*(-[0-9]+)?$//')
  if ! grep -qE "^${artifact}-[0-9]" <<<"$shipped"; then
    cp "$jar" "$dest/"
  fi
done
touch "$dest/.complete"
echo "Jars in $dest: $(ls "$dest" | tr '\n' ' ')"
