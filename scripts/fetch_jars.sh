#!/usr/bin/env bash
# Fetch jars from Maven Central once so that runs and tests need no network
# afterwards:
#   fetch_jars.sh      Delta Lake's jars and the PostgreSQL JDBC driver into .jars/
#   fetch_jars.sh s3   hadoop-aws and the AWS SDK modules of s3a:// into .jars-s3/
#                      (only runs on an s3a:// lake put them on the class path)
# Jars that pyspark already ships (Hadoop, Parquet, Jackson, Netty, Scala, ...)
# or that .jars/ has are left out: Spark's own versions must win.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
case "${1:-delta}" in
  delta) pom=scripts/delta-jars.pom.xml; dest=.jars; others= ;;
  s3) pom=scripts/s3-jars.pom.xml; dest=.jars-s3; others=.jars ;;
  *) echo "usage: fetch_jars.sh [delta|s3]" >&2; exit 2 ;;
esac
spark_jars=$("$python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mvn -q -B -f "$pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1 || {
  cat "$tmp.log" >&2; echo "error: could not fetch the jars from Maven Central" >&2; exit 1; }

# jcl-over-slf4j and RoaringBitmap 1.x in Spark already cover these two.
shipped=$(ls "$spark_jars" ${others:+"$others"}; echo commons-logging-0; echo shims-0)
rm -rf "$dest" && mkdir -p "$dest"
for jar in "$tmp"/*.jar; do
  artifact=$(basename "$jar" .jar | sed -E 's/-[0-9][^-]*(-[0-9]+)?$//')
  if ! grep -qE "^${artifact}-[0-9]" <<<"$shipped"; then
    cp "$jar" "$dest/"
  fi
done
touch "$dest/.complete"
echo "Jars in $dest ($(du -sh "$dest" | cut -f1)): $(ls "$dest" | tr '\n' ' ')"
